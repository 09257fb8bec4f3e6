package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// TestSplitLayoutFromOneSettingsFile runs the example board app as six
// processes of one home and one ack.json (the seed's layout, with the edge as
// the single origin) and uses it through the edge as a browser would.
func TestSplitLayoutFromOneSettingsFile(t *testing.T) {
	home := filepath.Join(t.TempDir(), "board")
	if err := os.CopyFS(home, os.DirFS(filepath.Join(acktest.RepoRoot(t), "examples", "board"))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(home, "data")); err != nil {
		t.Fatal(err)
	}
	port := map[string]string{}
	for _, p := range []string{"edge", "wwwroot", "repository", "logger", "core", "function"} {
		port[p] = acktest.FreePort(t)
	}
	url := func(p string) string { return "http://127.0.0.1:" + port[p] }
	// One settings file for every process: each finds the modules it does
	// not run through peers; modules it runs itself are called in process.
	acktest.WriteFile(t, filepath.Join(home, "ack.json"), fmt.Sprintf(`{
  "peers": {
    "transact":   [%q],
    "dbclient":   [%q],
    "function":   [%q, %q],
    "repository": [%q],
    "logger":     [%q]
  }
}`, url("core"), url("core"), url("core"), url("function"), url("repository"), url("logger")))
	acktest.WriteFile(t, filepath.Join(home, "contracts", "edge", "routes.json"), fmt.Sprintf(`{
  "routes": [
    {"prefix": "/", "pool": "wwwroot"},
    {"prefix": "/transact/", "pool": "core"},
    {"prefix": "/function/", "pool": "function"},
    {"prefix": "/repository/", "pool": "repository"},
    {"prefix": "/logger/", "pool": "logger"}
  ],
  "pools": {
    "wwwroot":    {"upstreams": [{"url": %q, "weight": 1}]},
    "core":       {"upstreams": [{"url": %q, "weight": 1}]},
    "function":   {"upstreams": [{"url": %q, "weight": 1}]},
    "repository": {"upstreams": [{"url": %q, "weight": 1}]},
    "logger":     {"upstreams": [{"url": %q, "weight": 1}]}
  }
}`, url("wwwroot"), url("core"), url("function"), url("repository"), url("logger")))

	layout := []struct{ name, modules string }{
		{"logger", "logger"}, {"repository", "repository"}, {"core", "transact,dbclient,function"},
		{"function", "function"}, {"wwwroot", "wwwroot"}, {"edge", "edge"},
	}
	for _, p := range layout {
		acktest.StartProcess(t, acktest.ProcessOptions{Home: home, Args: []string{"--modules=" + p.modules, "--port=" + port[p.name]},
			Env: []string{"ACK_DATA_DIR=" + filepath.Join(home, "data", p.name)}})
	}
	edge := url("edge")

	resp, err := http.Get(edge + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := acktest.ReadBody(t, resp); resp.StatusCode != 200 || !strings.Contains(page, "ack example") {
		t.Fatalf("GET / through the edge: %d %.200s", resp.StatusCode, page)
	}

	call := func(fn, outputs string, row []acktest.Field) acktest.TransactionResponse {
		t.Helper()
		body := acktest.Transaction("EXA", "BOD", "BOD010", fn, row)
		body["payLoad"].(map[string]any)["dataMapInterface"] = "Row|" + outputs
		body["transaction"].(map[string]any)["globalID"] = "SPLIT-" + fn
		data, _ := json.Marshal(body)
		resp, err := http.Post(edge+"/transact/api/transaction/execute", "application/json", strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		var out acktest.TransactionResponse
		acktest.ReadJSON(t, resp, &out)
		if out.Acknowledge != 1 {
			t.Fatalf("%s through the edge: %s (%s)", fn, out.ExceptionText, out.ErrorCode)
		}
		return out
	}
	call("ZD01", "", []acktest.Field{})
	list := call("LD01", "Grid", []acktest.Field{{ID: "Category", Value: ""}, {ID: "Keyword", Value: ""}})
	if len(list.Result.DataSet) != 1 {
		t.Fatalf("LD01: %d outputs", len(list.Result.DataSet))
	}
	rows, ok := list.Result.DataSet[0].Value.([]any)
	if !ok || len(rows) == 0 {
		t.Fatalf("LD01 rows: %v", list.Result.DataSet[0].Value)
	}

	// The core process shipped the transaction's log line to the logger process.
	acktest.Eventually(t, 15*time.Second, "the transaction's log record in the logger process", func() bool {
		return len(logRows(url("logger"), "SPLIT-LD01")) > 0
	})

	// The core process's readiness shows the peers it calls, endpoint by endpoint.
	resp, err = http.Get(url("core") + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if ready := acktest.ReadBody(t, resp); resp.StatusCode != 200 || !strings.Contains(ready, `"target":"logger"`) ||
		!strings.Contains(ready, `"breaker":"closed"`) {
		t.Fatalf("core /readyz: %d %s", resp.StatusCode, ready)
	}
}
