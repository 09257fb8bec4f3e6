package transact_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/transact"
)

// startDummyHost runs transact alone over the fixture contracts, with the
// TST020 dummy files (which HandStack does not ship as fixtures) written
// where CommandType R reads them. The routing table only names graphclient,
// a module ack does not have, so D transactions find no route.
func startDummyHost(t *testing.T) *acktest.Host {
	t.Helper()
	contracts := acktest.Shared(t, "fixtures/handstack/home/contracts/transact")
	home := t.TempDir()
	dir := filepath.Join(home, "tmp", "HDS", "dummyfile", "HDS", "TST", "TST020")
	acktest.WriteFile(t, filepath.Join(dir, "GD01.dat"), `[{"id":"FormData0","value":{"CompanyNo":"1","CompanyName":"HandStack"}}]`)
	acktest.WriteFile(t, filepath.Join(dir, "LD01.dat"), `[{"id":"GridData0","value":[{"No":1},{"No":2},{"No":3}]}]`)
	acktest.WriteFile(t, filepath.Join(dir, "AD01.dat"), `[{"id":"FormData0","value":{"A":1}},{"id":"GridData1","value":[{"B":2},{"B":3}]}]`)
	acktest.WriteFile(t, filepath.Join(dir, "DD01.dat"), `[]`)
	return acktest.Start(t, acktest.Options{
		Home:    home,
		Modules: []module.Info{transact.Info()},
		Settings: func(s *config.Settings) {
			acktest.SetModuleConfig(t, s, "transact", "RoutingCommandUri", map[string]string{"HDS|*|G|D": "http://127.0.0.1:1/graphclient/api/query"})
			acktest.SetModuleConfig(t, s, "transact", "ContractBasePath", []string{contracts})
		},
	})
}

func TestDummyServices(t *testing.T) {
	h := startDummyHost(t)
	row := []item{{"CompanyNo", "1"}}
	tests := []struct {
		name     string
		body     map[string]any
		ack      int
		ids      []string
		counts   []int
		code     string
		textHas  string
		modifier func(map[string]any)
	}{
		{name: "form", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), ack: 1, ids: []string{"FormData0"}, counts: []int{1}},
		{name: "grid", body: request("HDS", "TST", "TST020", "LD01", "Row|Grid", row), ack: 1, ids: []string{"GridData0"}, counts: []int{3}},
		{name: "form and grid", body: request("HDS", "TST", "TST020", "AD01", "Row|Form,Grid", row), ack: 1, ids: []string{"FormData0", "GridData1"}, counts: []int{1, 2}},
		{name: "no outputs", body: request("HDS", "TST", "TST020", "DD01", "Row|", row), ack: 1, ids: []string{}},
		{name: "synthesised output count mismatch", body: request("HDS", "TST", "TST020", "DD01", "Row|Form", row), code: "TX_OUTPUT", textHas: "계약 건수 - '1', 응답 건수 - '0'"},
		{name: "unknown service", body: request("HDS", "TST", "TST020", "XX99", "Row|Form", row), code: "TX_SERVICE_NOT_FOUND", textHas: "FunctionID 'XX99' 거래 매핑 정보 확인 필요"},
		{name: "unknown contract", body: request("HDS", "TST", "TST999", "GD01", "Row|Form", row), code: "TX_CONTRACT_NOT_FOUND", textHas: "TransactionID 'TST999'"},
		{name: "row input without rows", body: request("HDS", "TST", "TST020", "GD01", "Row|Form"), code: "TX_INPUT", textHas: "거래 입력 항목이 계약과 동일한지 확인 필요"},
		{name: "row input with two rows", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row, row), code: "TX_INPUT", textHas: "거래 입력 항목이 계약과 동일한지 확인 필요"},
		{name: "environment not allowed", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), code: "TX_ENVIRONMENT", textHas: "'Q' 환경정보 구분코드 허용 안됨",
			modifier: func(b map[string]any) { b["environment"] = "Q" }},
		{name: "counts do not add up", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), code: "TX_INPUT",
			modifier: func(b map[string]any) { b["payLoad"].(map[string]any)["dataMapCount"] = []int{3} }},
		{name: "data format T", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), code: "TX_DATA_FORMAT",
			modifier: func(b map[string]any) { b["transaction"].(map[string]any)["dataFormat"] = "T" }},
		{name: "too many rows", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", slices.Repeat([][]item{row}, 257)...), code: "TX_LIMIT", textHas: "257 > 256"},
		{name: "empty routes get a hop", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), ack: 1, ids: []string{"FormData0"}, counts: []int{1},
			modifier: func(b map[string]any) { b["system"].(map[string]any)["routes"] = []any{} }},
		{name: "lenient primitives", body: request("HDS", "TST", "TST020", "GD01", "Row|Form", row), ack: 1, ids: []string{"FormData0"}, counts: []int{1},
			modifier: func(b map[string]any) {
				b["interface"].(map[string]any)["sourcePort"] = "8080"
				b["version"] = 1
				b["payLoad"].(map[string]any)["dataMapCount"] = []string{"1"}
				b["loadOptions"].(map[string]any)["dynamic"] = true
			}},
		{name: "no route for D", body: request("HDS", "BOD", "BOD010", "LD01", "Row|Grid", row), code: "TX_ROUTE_NOT_FOUND", textHas: "routeSegmentID: HDS|BOD|D|D 환경변수 확인"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.modifier != nil {
				tc.modifier(tc.body)
			}
			r := execute(t, h, tc.body)
			if tc.code != "" {
				if *r.Acknowledge != 0 || r.ErrorCode != tc.code || r.ExceptionText == "" {
					t.Fatalf("ack %d code %q text %q, want 0 %q", *r.Acknowledge, r.ErrorCode, r.ExceptionText, tc.code)
				}
				if !strings.Contains(r.ExceptionText, tc.textHas) {
					t.Errorf("exceptionText %q does not contain %q", r.ExceptionText, tc.textHas)
				}
				if len(r.Result.DataSet) != 0 || r.ResponseID != "" || r.Message.MainCode != "" {
					t.Errorf("failure carries a result: %+v", r)
				}
				if strings.Contains(r.ExceptionText, "127.0.0.1") {
					t.Errorf("exceptionText leaks an address: %q", r.ExceptionText)
				}
				return
			}
			if *r.Acknowledge != tc.ack || r.ExceptionText != "" || r.ErrorCode != "" {
				t.Fatalf("ack %d text %q code %q", *r.Acknowledge, r.ExceptionText, r.ErrorCode)
			}
			if !slices.Equal(r.ids(), tc.ids) {
				t.Errorf("dataSet ids %v, want %v", r.ids(), tc.ids)
			}
			if tc.counts != nil && !slices.Equal(r.Result.DataMapCount, tc.counts) {
				t.Errorf("dataMapCount %v, want %v", r.Result.DataMapCount, tc.counts)
			}
			if len(r.Result.DataSetMeta) != len(tc.ids) {
				t.Errorf("dataSetMeta %v for %d items", r.Result.DataSetMeta, len(tc.ids))
			}
			if r.Message.MainCode != "T200" || r.Result.ResponseType != "0" || !strings.HasPrefix(r.ResponseID, "HANDSTACK") {
				t.Errorf("envelope: mainCode %q responseType %q responseID %q", r.Message.MainCode, r.Result.ResponseType, r.ResponseID)
			}
			last := r.System.Routes[len(r.System.Routes)-1]
			if last.SystemID != "HANDSTACK" || last.AcceptTick == 0 || last.ResponseTick < last.AcceptTick {
				t.Errorf("last route %+v", last)
			}
			if r.System.PathName != "/transact/api/transaction/execute" || r.Transaction.CommandType != "R" {
				t.Errorf("pathName %q commandType %q", r.System.PathName, r.Transaction.CommandType)
			}
		})
	}
}

func TestDummyFormValue(t *testing.T) {
	h := startDummyHost(t)
	r := execute(t, h, request("HDS", "TST", "TST020", "GD01", "Row|Form", []item{{"CompanyNo", "1"}}))
	var v map[string]string
	if err := json.Unmarshal(r.Result.DataSet[0].Value, &v); err != nil || v["CompanyName"] != "HandStack" {
		t.Fatalf("FormData0 = %s (%v)", r.Result.DataSet[0].Value, err)
	}
	if r.CorrelationID != "R-TST020GD01" || r.Transaction.GlobalID != "G-TST020GD01" {
		t.Errorf("echo: correlationID %q globalID %q", r.CorrelationID, r.Transaction.GlobalID)
	}
}

func TestBadRequests(t *testing.T) {
	h := startDummyHost(t)
	tests := []struct {
		name, body string
		status     int
		has        string
	}{
		{"malformed JSON", `{"system": `, 400, "malformed JSON"},
		{"not an object", `[1,2]`, 400, "object"},
		{"object for a string", `{"transaction": {"functionID": {"a": 1}}}`, 400, "expected a string or number"},
		{"string for rows", `{"payLoad": {"dataMapSet": "x"}}`, 400, "payLoad.dataMapSet"},
		{"non-numeric count", `{"payLoad": {"dataMapCount": ["x"]}}`, 400, "integer"},
		{"object in loadOptions", `{"loadOptions": {"a": {"b": 1}}}`, 400, "loadOptions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.Post(t, "/transact/api/transaction/execute", tc.body)
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.has) || !strings.Contains(string(data), "TX_BAD_REQUEST") {
				t.Errorf("status %d body %s; want %d containing %q", resp.StatusCode, data, tc.status, tc.has)
			}
			if strings.Contains(string(data), "wire.") || strings.Contains(string(data), "goroutine") {
				t.Errorf("body shows Go internals: %s", data)
			}
		})
	}
	t.Run("empty object is an in-band failure", func(t *testing.T) {
		r := execute(t, h, `{}`)
		if *r.Acknowledge != 0 || r.ErrorCode != "TX_ENVIRONMENT" {
			t.Errorf("ack %d code %q", *r.Acknowledge, r.ErrorCode)
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		resp, err := h.Client.Post(h.URL+"/transact/api/transaction/execute", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestUnreachableModule(t *testing.T) {
	contracts := acktest.Shared(t, "fixtures/handstack/home/contracts/transact")
	h := acktest.Start(t, acktest.Options{
		Modules: []module.Info{transact.Info()},
		Settings: func(s *config.Settings) {
			s.Peers = map[string][]string{"dbclient": {"http://127.0.0.1:1"}}
			acktest.SetModuleConfig(t, s, "transact", "ContractBasePath", []string{contracts})
		},
	})
	r := execute(t, h, request("HDS", "BOD", "BOD010", "LD01", "Row|Grid", []item{{"Title", ""}}))
	if *r.Acknowledge != 0 || r.ErrorCode != "TX_TRANSPORT" || !strings.HasPrefix(r.ExceptionText, "AP X-Requested Transfort Error") {
		t.Fatalf("ack %d code %q text %q", *r.Acknowledge, r.ErrorCode, r.ExceptionText)
	}
	if strings.Contains(r.ExceptionText, "127.0.0.1") || strings.Contains(r.ExceptionText, "refused") {
		t.Errorf("exceptionText leaks connection detail: %q", r.ExceptionText)
	}
}
