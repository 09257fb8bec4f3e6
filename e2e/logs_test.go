package e2e

import (
	"encoding/json"
	"net/http"
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
