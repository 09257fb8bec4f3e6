package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestTransactionResponseMarshalJSON(t *testing.T) {
	r := &TransactionResponse{
		System:         ResponseSystem{ProgramID: "HDS", Routes: []ResponseRoute{{SystemID: "S", AcceptTick: 2}}},
		Transaction:    ResponseTransaction{GlobalID: "G<1>", DataFormat: "J"},
		Message:        Message{MainCode: "T200", Additions: []Addition{}},
		Result:         Result{ResponseType: "0", DataSetMeta: []string{"a:number;"}, DataMapCount: []int{2}, DataSet: []DataSetItem{{ID: "GridData0", Value: json.RawMessage(`[{"a":1},{"a":"<&>"}]`)}}},
		AcceptDateTime: "2026-01-01T00:00:00+09:00",
		Acknowledge:    1,
		LoadOptions:    map[string]string{},
		ErrorCode:      "",
		Raw:            []byte("never"),
	}
	got, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// The same value through encoding/json, without the method.
	type plain TransactionResponse
	want, err := json.Marshal((*plain)(r))
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	order := []string{`"system"`, `"transaction"`, `"message"`, `"result"`, `"acceptDateTime"`, `"acknowledge"`, `"correlationID"`, `"exceptionText"`, `"rowsAffected"`, `"responseID"`, `"loadOptions"`, `"version"`, `"environment"`}
	last := -1
	for _, k := range order {
		i := strings.LastIndex(string(got), k)
		if i <= last {
			t.Errorf("%s out of order in %s", k, got)
		}
		last = i
	}
	if strings.Contains(string(got), "errorCode") || strings.Contains(string(got), "never") {
		t.Errorf("empty errorCode or Raw written: %s", got)
	}
	r.ErrorCode, r.Result = "TX_X", Result{}
	got, _ = r.MarshalJSON()
	if !strings.HasSuffix(string(got), `"errorCode":"TX_X"}`) || !strings.Contains(string(got), `"dataSet":[]`) || !strings.Contains(string(got), `"property":null`) {
		t.Errorf("failure shape: %s", got)
	}
}

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int64{`1`: 1, `"2"`: 2, `" 3 "`: 3, `4.0`: 4, `null`: 0, `""`: 0, `-5`: -5} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err != nil || int64(n) != want {
			t.Errorf("%s: %d %v", in, n, err)
		}
	}
	for _, in := range []string{`1.5`, `"x"`, `true`, `{}`, `[]`} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("%s accepted as %d", in, n)
		}
	}
}
