package transact_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
)

// item is one field of an input row (acktest.Field, short to write).
type item struct {
	ID    string
	Value any
}

// request builds a TransactionRequest the way syn.js does (reference §3.8),
// with the input's dataMapInterface ("Row|Form").
func request(app, project, tx, fn, iface string, rows ...[]item) map[string]any {
	fields := make([][]acktest.Field, len(rows))
	for i, row := range rows {
		for _, it := range row {
			fields[i] = append(fields[i], acktest.Field(it))
		}
	}
	r := acktest.Transaction(app, project, tx, fn, fields...)
	r["payLoad"].(map[string]any)["dataMapInterface"] = iface
	return r
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
