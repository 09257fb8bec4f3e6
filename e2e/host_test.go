// Package e2e runs the real ack binary as a process and checks what a user
// and an operator see: readiness, live contract edits, drain on SIGTERM.
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// sqlContract serves version from GD01, and SL01 is a slow query.
func sqlContract(version string) string {
	return acktest.SQLContract("E2E", "TST", "TST010", "DB01",
		acktest.Statement{ID: "GD01", SQL: fmt.Sprintf("SELECT '%s' AS Version", version)},
		acktest.Statement{ID: "SL01", SQL: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x &lt; 2000000) SELECT count(*) AS N FROM c"})
}

const txContract = `{
    "ApplicationID": "E2E", "ProjectID": "TST", "TransactionID": "TST010",
    // comments and trailing commas are allowed, as in HandStack
    "Services": [
        %s
    ],
}`

func service(id string) string {
	return fmt.Sprintf(`{"ServiceID": "%s", "Authorize": false, "ReturnType": "Json", "CommandType": "D",
        "TransactionScope": false,
        "Inputs": [{"ModelID": "Dynamic", "Fields": [], "Type": "Row", "ParameterHandling": "Rejected"}],
        "Outputs": [{"ModelID": "Dynamic", "Fields": [], "Type": "Form"}]}`, id)
}

func newHome(t *testing.T) (home, sqlPath, txPath string) {
	home = t.TempDir()
	sqlPath = filepath.Join(home, "contracts", "dbclient", "E2E", "TST", "TST010.xml")
	txPath = filepath.Join(home, "contracts", "transact", "E2E", "TST", "TST010.json")
	acktest.ReplaceFile(t, sqlPath, sqlContract("v1"))
	acktest.ReplaceFile(t, txPath, fmt.Sprintf(txContract, service("GD01")+",\n"+service("SL01")))
	return home, sqlPath, txPath
}

// call runs a service and returns the answer.
func call(t *testing.T, c *http.Client, base, fn string) (acktest.TransactionResponse, error) {
	body, err := json.Marshal(acktest.Transaction("E2E", "TST", "TST010", fn, nil))
	if err != nil {
		return acktest.TransactionResponse{}, err
	}
	resp, err := c.Post(base+"/transact/api/transaction/execute", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return acktest.TransactionResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return acktest.TransactionResponse{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return acktest.TransactionResponse{}, fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var out acktest.TransactionResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("decode %q: %w", data, err)
	}
	return out, nil
}

// version returns the Version the GD01 service answers, or the failure text.
func version(t *testing.T, base string) string {
	r, err := call(t, http.DefaultClient, base, "GD01")
	if err != nil {
		return "error: " + err.Error()
	}
	return r.FormField("Version")
}

func TestLiveContracts(t *testing.T) {
	home, sqlPath, txPath := newHome(t)
	p := acktest.StartProcess(t, acktest.ProcessOptions{Home: home})

	if got := version(t, p.URL); got != "v1" {
		t.Fatalf("first answer = %q, want v1", got)
	}
	// One access-log line per request, carrying the transaction's GlobalID.
	acktest.Eventually(t, 5*time.Second, "the access-log line with the GlobalID", func() bool {
		for _, line := range strings.Split(p.Output(), "\n") {
			if strings.Contains(line, "msg=request") && strings.Contains(line, "path=/transact/api/transaction/execute") &&
				strings.Contains(line, "status=200") && strings.Contains(line, "global_id=G-TST010GD01") {
				return true
			}
		}
		return false
	})

	// An edit is served without a restart.
	acktest.ReplaceFile(t, sqlPath, sqlContract("v2"))
	acktest.Eventually(t, 10*time.Second, "the edited SQL to be served", func() bool { return version(t, p.URL) == "v2" })

	// A broken file keeps the last good version serving and is reported.
	acktest.ReplaceFile(t, sqlPath, "<mapper><header>broken")
	acktest.ReplaceFile(t, filepath.Join(filepath.Dir(sqlPath), "marker.xml"), strings.ReplaceAll(sqlContract("m"), "TST010", "TST011"))
	acktest.Eventually(t, 10*time.Second, "the broken file to be reported", func() bool {
		resp, err := http.Get(p.URL + "/ack/contracts")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "TST010.xml")
	})
	if got := version(t, p.URL); got != "v2" {
		t.Fatalf("after a broken write = %q, want the last good v2", got)
	}

	// Deleting the service's transaction contract unloads it.
	if err := os.Remove(txPath); err != nil {
		t.Fatal(err)
	}
	acktest.Eventually(t, 10*time.Second, "the deleted contract to be gone", func() bool {
		return strings.HasPrefix(version(t, p.URL), "acknowledge 0")
	})

	// Writing it back serves it again.
	acktest.ReplaceFile(t, txPath, fmt.Sprintf(txContract, service("GD01")))
	acktest.ReplaceFile(t, sqlPath, sqlContract("v3"))
	acktest.Eventually(t, 10*time.Second, "the restored contract", func() bool { return version(t, p.URL) == "v3" })
}

func TestSIGTERMFinishesRequestsInFlight(t *testing.T) {
	home, _, _ := newHome(t)
	p := acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Env: []string{"ACK_DRAIN_DELAY=300ms"}})

	const n = 6
	type result struct {
		resp acktest.TransactionResponse
		err  error
	}
	results := make(chan result, n)
	var started sync.WaitGroup
	for range n {
		started.Add(1)
		go func() {
			started.Done()
			r, err := call(t, &http.Client{Timeout: time.Minute}, p.URL, "SL01")
			results <- result{r, err}
		}()
	}
	started.Wait()
	acktest.Eventually(t, 20*time.Second, "the slow requests to be in flight", func() bool {
		resp, err := http.Get(p.URL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), fmt.Sprintf("ack_http_in_flight_requests %d", n+1))
	})
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Readiness turns false at once while the listener still answers.
	acktest.Eventually(t, 5*time.Second, "readiness to turn false", func() bool {
		resp, err := http.Get(p.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	for range n {
		r := <-results
		if r.err != nil || r.resp.Acknowledge != 1 {
			t.Errorf("request in flight at SIGTERM: err %v, answer %+v", r.err, r.resp)
		}
	}
	if code := p.ExitCode(t, 60*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if _, err := http.Get(p.URL + "/livez"); err == nil {
		t.Fatal("the listener is still open after exit")
	}
}
