package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// logRows asks the logger module for the records of a GlobalID.
func logRows(base, globalID string) []map[string]any {
	resp, err := http.Get(base + "/logger/api/log/list?applicationID=ack&globalID=" + globalID + "&withMessage=true")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var rows []map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rows) != nil {
		return nil
	}
	return rows
}

// In the monolith the transaction's access-log line reaches the logger module
// in process; in the split layout it goes over HTTP to the logger process.
func TestTransactionLogsReachTheLogger(t *testing.T) {
	t.Run("monolith", func(t *testing.T) {
		home, _, _ := newHome(t)
		p := acktest.StartProcess(t, acktest.ProcessOptions{Home: home})
		if got := version(t, p.URL); got != "v1" {
			t.Fatalf("answer %q", got)
		}
		acktest.Eventually(t, 10*time.Second, "the transaction's record in the logger", func() bool {
			rows := logRows(p.URL, "G-TST010GD01")
			return len(rows) > 0 && rows[0]["ModuleID"] == "transact"
		})
	})
	t.Run("split", func(t *testing.T) {
		home, _, _ := newHome(t)
		logger := acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Args: []string{"--modules=logger"},
			Env: []string{"ACK_DATA_DIR=" + t.TempDir()}})
		app := acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Args: []string{"--modules=transact,dbclient"},
			Env: []string{"ACK_PEER_LOGGER=" + logger.URL}})
		if got := version(t, app.URL); got != "v1" {
			t.Fatalf("answer %q", got)
		}
		acktest.Eventually(t, 10*time.Second, "the transaction's record in the logger process", func() bool {
			return len(logRows(logger.URL, "G-TST010GD01")) > 0
		})
	})
}

// countShipped counts the logger's transaction records whose GlobalID has prefix.
func countShipped(base, prefix string) (int, map[string]int) {
	seen := map[string]int{}
	before := ""
	for {
		url := base + "/logger/api/log/list?applicationID=ack&module=transact&limit=1000" + before
		resp, err := http.Get(url)
		if err != nil {
			return -1, nil
		}
		var rows []map[string]any
		err = json.NewDecoder(resp.Body).Decode(&rows)
		resp.Body.Close()
		if err != nil {
			return -1, nil
		}
		for _, r := range rows {
			if id, _ := r["GlobalID"].(string); strings.HasPrefix(id, prefix) {
				seen[id]++
			}
		}
		if len(rows) < 1000 {
			break
		}
		before = fmt.Sprintf("&before=%v", rows[len(rows)-1]["LogNo"])
	}
	return len(seen), seen
}

// Stopping the logger process under load loses no record: the app spills
// them and replays them once the logger is back.
func TestNoLogRecordLostAcrossLoggerRestart(t *testing.T) {
	home, _, _ := newHome(t)
	port := acktest.FreePort(t)
	loggerData := t.TempDir()
	startLogger := func() *acktest.Process {
		return acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Args: []string{"--modules=logger", "--port=" + port},
			Env: []string{"ACK_DATA_DIR=" + loggerData}})
	}
	logger := startLogger()
	app := acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Args: []string{"--modules=transact,dbclient"},
		Env: []string{"ACK_PEER_LOGGER=" + logger.URL}})

	sent := 0
	send := func(n int) {
		for range n {
			body := acktest.Transaction("E2E", "TST", "TST010", "GD01", nil)
			body["transaction"].(map[string]any)["globalID"] = fmt.Sprintf("Z-%05d", sent)
			resp := app.Post(t, "/transact/api/transaction/execute", body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("transaction %d: status %d", sent, resp.StatusCode)
			}
			sent++
		}
	}
	send(200)
	logger.Stop(t) // SIGTERM: the logger drains and exits
	send(300)      // logged while the logger is down
	logger = startLogger()
	send(200)
	acktest.Eventually(t, 30*time.Second, "every record to reach the logger", func() bool {
		n, _ := countShipped(logger.URL, "Z-")
		return n == sent
	})
	_, seen := countShipped(logger.URL, "Z-")
	for id, n := range seen {
		if n != 1 {
			t.Errorf("record %s stored %d times", id, n)
		}
	}
}
