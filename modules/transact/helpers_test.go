package transact_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
)

// item is one field of an input row.
type item struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// request builds a TransactionRequest the way syn.js does (reference §3.8).
func request(app, project, tx, fn, iface string, rows ...[]item) map[string]any {
	set := make([][]item, 0, len(rows))
	counts := []int{}
	for _, r := range rows {
		if r == nil {
			r = []item{}
		}
		set = append(set, r)
	}
	if len(rows) > 0 {
		counts = append(counts, len(rows))
	}
	return map[string]any{
		"accessToken": "", "action": "SYN", "kind": "BIZ", "clientTag": "HANDSTACK|WebClient|ack|D",
		"loadOptions": map[string]any{"encryptionType": "P", "encryptionKey": "G", "platform": "Win32"},
		"requestID":   "R-" + fn, "version": "001", "environment": "D",
		"system": map[string]any{
			"programID": app, "moduleID": "wwwroot", "version": "1.0.0",
			"routes":   []any{map[string]any{"systemID": "HANDSTACK", "requestTick": 1741750512000}},
			"localeID": "ko-KR", "hostName": "localhost", "pathName": "/view/x.html",
		},
		"interface": map[string]any{"devicePlatform": "browser", "interfaceID": "WEB", "sourceIP": "10.0.0.7", "sourcePort": 0, "timeout": 180000},
		"transaction": map[string]any{
			"globalID": "G-" + tx + fn, "businessID": project, "transactionID": tx, "functionID": fn,
			"commandType": "D", "simulationType": "P", "terminalGroupID": "|", "operatorID": "",
			"screenID": tx, "startTraceID": "", "dataFormat": "J", "compressionYN": "N",
		},
		"payLoad": map[string]any{"property": map[string]any{}, "dataMapInterface": iface, "dataMapCount": counts, "dataMapSet": set, "dataMapSetRaw": []any{}},
	}
}

// response is the part of a TransactionResponse the tests look at.
type response struct {
	Acknowledge   *int   `json:"acknowledge"`
	ExceptionText string `json:"exceptionText"`
	ErrorCode     string `json:"errorCode"`
	CorrelationID string `json:"correlationID"`
	ResponseID    string `json:"responseID"`
	System        struct {
		PathName string `json:"pathName"`
		Routes   []struct {
			SystemID     string `json:"systemID"`
			AcceptTick   int64  `json:"acceptTick"`
			ResponseTick int64  `json:"responseTick"`
		} `json:"routes"`
	} `json:"system"`
	Transaction struct {
		GlobalID    string `json:"globalID"`
		CommandType string `json:"commandType"`
	} `json:"transaction"`
	Message struct {
		MainCode  string `json:"mainCode"`
		Additions []any  `json:"additions"`
	} `json:"message"`
	Result struct {
		ResponseType string   `json:"responseType"`
		DataSetMeta  []string `json:"dataSetMeta"`
		DataMapCount []int    `json:"dataMapCount"`
		DataSet      []struct {
			ID    string          `json:"id"`
			Value json.RawMessage `json:"value"`
		} `json:"dataSet"`
	} `json:"result"`
}

func (r *response) ids() []string {
	out := []string{}
	for _, it := range r.Result.DataSet {
		out = append(out, it.ID)
	}
	return out
}

// execute posts body to the execute endpoint and decodes the envelope.
func execute(t *testing.T, h *acktest.Host, body any) *response {
	t.Helper()
	resp := h.Post(t, "/transact/api/transaction/execute", body)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if r.Acknowledge == nil {
		t.Fatalf("no acknowledge in %s", data)
	}
	return &r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setModuleConfig overlays one ModuleConfig key of module id.
func setModuleConfig(t testing.TB, s *config.Settings, id, key string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if s.ModuleConfig == nil {
		s.ModuleConfig = map[string]map[string]json.RawMessage{}
	}
	if s.ModuleConfig[id] == nil {
		s.ModuleConfig[id] = map[string]json.RawMessage{}
	}
	s.ModuleConfig[id][key] = raw
}
