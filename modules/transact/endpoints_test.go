package transact_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/transact"
)

const rawContract = `{
  "ApplicationID": "APP", "ProjectID": "PRJ", "TransactionID": "RAW010",
  "Services": [
    {"ServiceID": "SC01", "CommandType": "R", "ReturnType": "Scalar", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "NQ01", "CommandType": "R", "ReturnType": "NonQuery", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "XM01", "CommandType": "R", "ReturnType": "Xml", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "DJ01", "CommandType": "R", "ReturnType": "DynamicJson", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "CH01", "CommandType": "R", "ReturnType": "CodeHelp", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "MS01", "CommandType": "R", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "FN01", "CommandType": "F", "Inputs": [{"Type": "Row"}]},
    {"ServiceID": "ST01", "CommandType": "R", "AccessScreenID": null, "Inputs": [{"Type": "Row"}]}
  ]
}`

// capture is a test module that calls transact in-process, as function does.
type capture struct {
	h  module.Host
	tx interface {
		Transact(context.Context, *wire.TransactionRequest) (*wire.TransactionResponse, error)
	}
}

func (c *capture) Provision(ctx context.Context, h module.Host) error { c.h = h; return nil }
func (c *capture) Start(ctx context.Context) error {
	m, ok := c.h.Peers().Local(module.Transact)
	if !ok {
		return nil
	}
	c.tx, _ = m.(interface {
		Transact(context.Context, *wire.TransactionRequest) (*wire.TransactionResponse, error)
	})
	return nil
}
func (c *capture) Routes() []module.Route         { return nil }
func (c *capture) Stop(ctx context.Context) error { return nil }

func startRawHost(t *testing.T, settings func(*config.Settings)) (*acktest.Host, *capture) {
	t.Helper()
	home := t.TempDir()
	acktest.WriteFile(t, filepath.Join(home, "contracts", "transact", "APP", "PRJ", "RAW010.json"), rawContract)
	dir := filepath.Join(home, "tmp", "HDS", "dummyfile", "APP", "PRJ", "RAW010")
	acktest.WriteFile(t, filepath.Join(dir, "SC01.dat"), "hello")
	acktest.WriteFile(t, filepath.Join(dir, "NQ01.dat"), "42\n")
	acktest.WriteFile(t, filepath.Join(dir, "XM01.dat"), "<a>1</a>")
	acktest.WriteFile(t, filepath.Join(dir, "DJ01.dat"), `{"free":["form"]}`)
	acktest.WriteFile(t, filepath.Join(dir, "CH01.dat"), `{"CodeColumnID":"C","DataSource":[]}`)
	acktest.WriteFile(t, filepath.Join(dir, "ST01.dat"), `[]`)
	c := &capture{}
	h := acktest.Start(t, acktest.Options{
		Home: home,
		Modules: []module.Info{transact.Info(), {
			ID: "capture", Calls: []module.ID{module.Transact}, New: func() module.Module { return c },
		}},
		Settings: func(s *config.Settings) {
			acktest.SetModuleConfig(t, s, "transact", "RoutingCommandUri", map[string]string{"APP|*|G|D": "http://127.0.0.1:1/graphclient/api/query"})
			if settings != nil {
				settings(s)
			}
		},
	})
	return h, c
}

func TestRawReturnTypes(t *testing.T) {
	h, _ := startRawHost(t, nil)
	row := []item{{"CodeHelpID", "CHP001"}}
	for _, tc := range []struct{ fn, body, ctype string }{
		{"SC01", "hello", "text/html"},
		{"NQ01", "42", "text/html"},
		{"XM01", "<a>1</a>", "application/xml"},
		{"DJ01", `{"free":["form"]}`, "application/json"},
	} {
		resp := h.Post(t, "/transact/api/transaction/execute", request("APP", "PRJ", "RAW010", tc.fn, "Row|", row))
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(data) != tc.body || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s: %d %q %q", tc.fn, resp.StatusCode, resp.Header.Get("Content-Type"), data)
		}
	}
	r := execute(t, h, request("APP", "PRJ", "RAW010", "CH01", "Row|", row))
	if *r.Acknowledge != 1 || r.Result.ResponseType != "5" || len(r.Result.DataSet) != 1 || r.Result.DataSet[0].ID != "CHP001" {
		t.Errorf("CodeHelp: %+v", r)
	}
	r = execute(t, h, request("APP", "PRJ", "RAW010", "MS01", "Row|Form", row))
	if r.ErrorCode != "TX_DUMMY_FILE" || r.ExceptionText != "DummyFile: APP/PRJ/RAW010/MS01.dat 확인 필요" {
		t.Errorf("missing dummy file: %q %q", r.ErrorCode, r.ExceptionText)
	}
	r = execute(t, h, request("APP", "PRJ", "RAW010", "FN01", "Row|Form", row))
	if r.ErrorCode != "TX_ROUTE_NOT_FOUND" {
		t.Errorf("F without a route: %q %q", r.ErrorCode, r.ExceptionText)
	}
	// AccessScreenID null: only the transaction's own screen.
	b := request("APP", "PRJ", "RAW010", "ST01", "Row|", row)
	if r := execute(t, h, b); *r.Acknowledge != 1 {
		t.Errorf("own screen: %q", r.ExceptionText)
	}
	b["transaction"].(map[string]any)["screenID"] = "OTHER"
	if r := execute(t, h, b); r.ErrorCode != "TX_SCREEN_DENIED" {
		t.Errorf("other screen: %q", r.ErrorCode)
	}
}

func TestInProcessTransact(t *testing.T) {
	_, c := startRawHost(t, nil)
	if c.tx == nil {
		t.Fatal("transact is not reachable in-process with a Transact method")
	}
	var req wire.TransactionRequest
	body, _ := json.Marshal(request("APP", "PRJ", "RAW010", "ST01", "Row|", []item{{"a", "1"}}))
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	resp, err := c.tx.Transact(t.Context(), &req)
	if err != nil || resp.Acknowledge != 1 || resp.System.PathName != "event" {
		t.Fatalf("%+v %v", resp, err)
	}
	req.Transaction.FunctionID = "SC01"
	resp, err = c.tx.Transact(t.Context(), &req)
	if err != nil || resp.Acknowledge != 1 || string(resp.Raw) != "hello" || !strings.HasPrefix(resp.RawType, "text/html") {
		t.Fatalf("raw: %+v %v", resp, err)
	}
}

var pushed = regexp.MustCompile(`(?m)^ack_transact_transactions_total\{command_type="R",[^}]*result="ok"\} 2$`)

func TestPush(t *testing.T) {
	h, _ := startRawHost(t, nil)
	b := request("APP", "PRJ", "RAW010", "ST01", "Row|", []item{{"a", "1"}})
	b["action"] = "PSH"
	if r := execute(t, h, b); *r.Acknowledge != 1 || r.ExceptionText != "" {
		t.Fatalf("PSH: %d %q", *r.Acknowledge, r.ExceptionText)
	}
	// The answer counts once, the worker's run after it once more.
	acktest.Eventually(t, 5*time.Second, "the pushed transaction to run", func() bool {
		resp := h.Get(t, "/metrics")
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return pushed.Match(data)
	})
}

func TestMetadataEndpoints(t *testing.T) {
	h, _ := startRawHost(t, nil)
	get := func(path string) (int, string) {
		resp := h.Get(t, path)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	if code, body := get("/transact/api/transaction/has?applicationID=APP&projectID=PRJ&transactionID=RAW010"); code != 200 || body != "1" {
		t.Errorf("has: %d %s", code, body)
	}
	if code, body := get("/transact/api/transaction/has?applicationID=APP&projectID=PRJ&transactionID=NOPE"); code != 200 || body != "0" {
		t.Errorf("has missing: %d %s", code, body)
	}
	if code, body := get("/transact/api/transaction/meta"); code != 200 || body != `["APP|PRJ|RAW010"]` {
		t.Errorf("meta: %d %s", code, body)
	}
	if code, body := get("/transact/api/transaction/retrieve?applicationID=APP"); code != 200 || !strings.Contains(body, `"ServiceID":"SC01"`) {
		t.Errorf("retrieve: %d %s", code, body)
	}
	id := base64.StdEncoding.EncodeToString([]byte(`{"ApplicationID":"APP","ProjectID":"PRJ","TransactionID":"RAW010"}`))
	if code, body := get("/transact/api/transaction/get?base64Json=" + id); code != 200 || !strings.Contains(body, `"TransactionID":"RAW010"`) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, _ := get("/transact/api/transaction/get?base64Json=!!"); code != 400 {
		t.Errorf("get bad: %d", code)
	}

	// Hot reload through refresh: a new service appears.
	acktest.WriteFile(t, filepath.Join(h.Home, "contracts", "transact", "APP", "PRJ", "RAW010.json"),
		strings.Replace(rawContract, `"ServiceID": "SC01"`, `"ServiceID": "SC02"`, 1))
	acktest.WriteFile(t, filepath.Join(h.Home, "tmp", "HDS", "dummyfile", "APP", "PRJ", "RAW010", "SC02.dat"), "new")
	if code, body := get("/transact/api/transaction/refresh?changeType=Changed&filePath=APP/PRJ/RAW010.json"); code != 200 || body != "true" {
		t.Errorf("refresh: %d %s", code, body)
	}
	resp := h.Post(t, "/transact/api/transaction/execute", request("APP", "PRJ", "RAW010", "SC02", "Row|", []item{{"a", "1"}}))
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(data) != "new" {
		t.Errorf("after refresh: %s", data)
	}
	if code, _ := get("/transact/api/transaction/refresh?changeType=Bogus&filePath=x"); code != 400 {
		t.Errorf("refresh bad changeType: %d", code)
	}
}

// HandStack (ASP.NET model binding) matches query parameter names without
// regard to case; operators' scripts use several spellings.
func TestMetadataQueryNamesIgnoreCase(t *testing.T) {
	h, _ := startRawHost(t, nil)
	get := func(path string) (int, string) {
		resp := h.Get(t, path)
		return resp.StatusCode, acktest.ReadBody(t, resp)
	}
	if code, body := get("/transact/api/transaction/has?ApplicationID=APP&PROJECTID=PRJ&transactionid=RAW010"); code != 200 || body != "1" {
		t.Errorf("has: %d %s, want 1", code, body)
	}
	if code, body := get("/transact/api/transaction/retrieve?APPLICATIONID=APP&ProjectId=PRJ&TransactionID=RAW010"); code != 200 || !strings.Contains(body, `"TransactionID":"RAW010"`) {
		t.Errorf("retrieve: %d %s", code, body)
	}
	if code, body := get("/transact/api/transaction/retrieve?applicationid=APP&projectid=NOPE"); code != 200 || body != "[]" {
		t.Errorf("retrieve filtered by projectid: %d %s, want []", code, body)
	}
	// Base64 with a '+' sent unescaped arrives as a space.
	id := base64.StdEncoding.EncodeToString([]byte(`{"ApplicationID":"APP","ProjectID":"PRJ","TransactionID":"RAW010","X":">>"}`))
	if !strings.Contains(id, "+") {
		t.Fatalf("test id %s has no '+'", id)
	}
	if code, body := get("/transact/api/transaction/get?Base64JSON=" + id); code != 200 || !strings.Contains(body, `"TransactionID":"RAW010"`) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, body := get("/transact/api/transaction/refresh?ChangeType=Changed&FILEPATH=APP/PRJ/RAW010.json"); code != 200 || body != "true" {
		t.Errorf("refresh: %d %s", code, body)
	}
}

func TestMetadataLockedDown(t *testing.T) {
	h, _ := startRawHost(t, func(s *config.Settings) {
		acktest.SetModuleConfig(t, s, "transact", "AllowClientIP", []string{})
		acktest.SetModuleConfig(t, s, "transact", "AuthorizationKey", "secret-key")
	})
	resp := h.Get(t, "/transact/api/transaction/meta")
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("without key: %d", resp.StatusCode)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", h.URL+"/transact/api/transaction/meta", nil)
	req.Header.Set("AuthorizationKey", "secret-key")
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with key: %d", resp.StatusCode)
	}
}
