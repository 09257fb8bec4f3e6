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

// TestTransactionResponseAppendJSONExact checks every field, byte for byte,
// against encoding/json (so a field added to the types but not to
// AppendJSON fails here).
func TestTransactionResponseAppendJSONExact(t *testing.T) {
	s := func(name string) string { return name + ` <&> "q" 한 ` + "\u2028\x01" }
	r := &TransactionResponse{
		System: ResponseSystem{ProgramID: s("p"), ModuleID: s("m"), Version: s("v"), LocaleID: s("l"), HostName: s("h"), PathName: s("pa"), DeviceID: s("d"),
			Routes: []ResponseRoute{{SystemID: s("s"), HostName: s("h"), Environment: "D", RequestTick: -1, AcceptTick: 2, ResponseTick: 1 << 60}, {}}},
		Transaction: ResponseTransaction{GlobalID: s("g"), BusinessID: s("b"), TransactionID: s("t"), FunctionID: s("f"), CommandType: "D", SimulationType: "x",
			TerminalGroupID: s("tg"), OperatorID: s("o"), ScreenID: s("sc"), StartTraceID: s("st"), DataFormat: "J", CompressionYN: "N", TransactionToken: s("tt")},
		Message: Message{ResponseStatus: "N", MainCode: "T200", MainText: s("mt"), Additions: []Addition{{Type: "A", Code: s("c"), Text: s("t")}, {}}},
		Result: Result{Property: json.RawMessage(`{"a":[1,2]}`), OutputAction: json.RawMessage(`"x"`), ResponseType: "0",
			DataSetMeta: []string{s("meta"), ""}, DataMapCount: []int{2, -1, 0},
			DataSet: []DataSetItem{{ID: s("GridData0"), Value: json.RawMessage(`[{"a":1},{"a":"\u003c"}]`)}, {ID: "FormData1", Value: json.RawMessage(`{}`)}}},
		AcceptDateTime: s("at"), Acknowledge: 1, CorrelationID: s("c"), ExceptionText: s("e"), RowsAffected: 7, ResponseID: s("r"),
		LoadOptions: map[string]string{"z": s("1"), "a": "2", "한": "3", "<": ""}, Version: s("v"), Environment: s("env"), ErrorCode: s("ec"),
	}
	type plain TransactionResponse
	for _, tc := range []*TransactionResponse{r, {LoadOptions: map[string]string{}, Message: Message{Additions: []Addition{}}, System: ResponseSystem{Routes: []ResponseRoute{}}, Result: Result{DataSetMeta: []string{}, DataMapCount: []int{}, DataSet: []DataSetItem{}}}} {
		got, err := tc.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal((*plain)(tc))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// FuzzFlexString checks the unescaped fast path against encoding/json.
func FuzzFlexString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b"`, `"\u00e9"`, `"한글"`, "\"\xff\"", `""`, `"`, `12`, `null`, "\"tab\there\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		var got FlexString
		gerr := json.Unmarshal([]byte(in), &got)
		if werr == nil && len(in) > 0 && in[0] == '"' {
			if gerr != nil || string(got) != want {
				t.Errorf("%q: got %q (%v), want %q", in, got, gerr, want)
			}
		}
		if s, ok := plainString([]byte(in)); ok && (werr != nil || s != want) {
			t.Errorf("plainString(%q) = %q, encoding/json %q (%v)", in, s, want, werr)
		}
	})
}

// TestDynamicResponseAppendJSON checks every field, byte for byte, against
// encoding/json.
func TestDynamicResponseAppendJSON(t *testing.T) {
	type plain DynamicResponse
	for _, r := range []*DynamicResponse{
		{Acknowledge: 1, CorrelationID: "g<1>", ExceptionText: "e\n\"", Informations: []string{"i", "한"}, Version: "v", ResponseID: "r", Environment: "D",
			RowsAffected: -3, ResultMeta: []string{"ID:number;"}, ResultJSON: json.RawMessage(`[{"id":"GridData0","value":[{"a":"\u003c"}]}]`),
			ResultObject: json.Number("12.50"), ResultInteger: 1 << 62, ErrorCode: "X"},
		{ResultObject: "text <&>"},
		{Informations: []string{}, ResultMeta: []string{}, ResultObject: map[string]any{"b": 1, "a": []int{2}}},
		Fail("g", "code", "message"),
	} {
		got, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal((*plain)(r))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
