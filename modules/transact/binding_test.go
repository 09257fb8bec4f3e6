package transact

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

func TestBindInputs(t *testing.T) {
	c, err := parseContract("A/P/T.json", []byte(`{
  "Models": [{"Name": "M", "Columns": [
    {"Name": "ID", "DataType": "Int32"}, {"Name": "Name", "DataType": "String"},
    {"Name": "Qty", "DataType": "Int32", "Require": true, "Default": 7}]}],
  "Services": [
    {"ServiceID": "DY01", "CommandType": "D"},
    {"ServiceID": "RW01", "CommandType": "D", "Inputs": [{"Type": "Row"}, {"Type": "List", "ParameterHandling": "ByPassing"}]},
    {"ServiceID": "MD01", "CommandType": "D", "Inputs": [{"ModelID": "M", "Fields": ["ID", "Name", "Qty"], "Type": "List"}]},
    {"ServiceID": "DV01", "CommandType": "D", "Inputs": [{"Type": "Row", "ParameterHandling": "DefaultValue", "Fields": ["A", "B"], "DefaultValues": ["x", 2]}, {"Type": "Row"}]}
  ]}`))
	if err != nil {
		t.Fatal(err)
	}
	payload := func(iface string, counts []int, rows string) *wire.PayLoad {
		var p wire.PayLoad
		p.DataMapInterface = wire.FlexString(iface)
		for _, n := range counts {
			p.DataMapCount = append(p.DataMapCount, wire.FlexInt(n))
		}
		if err := json.Unmarshal([]byte(rows), &p.DataMapSet); err != nil {
			t.Fatal(err)
		}
		return &p
	}
	values := func(b *bound) [][]map[string]any {
		out := [][]map[string]any{}
		for _, g := range b.groups {
			rows := []map[string]any{}
			for _, r := range g {
				m := map[string]any{}
				for _, p := range r {
					m[p.ParameterName+":"+p.DbType] = p.Value
				}
				rows = append(rows, m)
			}
			out = append(out, rows)
		}
		return out
	}
	tests := []struct {
		name, svc string
		p         *wire.PayLoad
		want      [][]map[string]any
		outputs   int
		errHas    string
	}{
		{name: "synthesised from the interface", svc: "DY01", p: payload("Row|Form,Grid", []int{1}, `[[{"id":"a","value":"1"},{"id":"n","value":5},{"id":"z","value":null}]]`),
			want: [][]map[string]any{{{"a:String": "1", "n:String": json.Number("5"), "z:String": nil}}}, outputs: 2},
		{name: "row then empty list", svc: "RW01", p: payload("", []int{1, 0}, `[[{"id":"a","value":"[DbNull]"}]]`),
			want: [][]map[string]any{{{"a:String": nil}}, {}}},
		{name: "row then two list rows", svc: "RW01", p: payload("", []int{1, 2}, `[[{"id":"a","value":""}],[{"id":"b","value":"1"}],[{"id":"b","value":"2"}]]`),
			want: [][]map[string]any{{{"a:String": ""}}, {{"b:String": "1"}, {"b:String": "2"}}}},
		{name: "model types, empty non-text is null, required default, Flag", svc: "MD01", p: payload("", []int{1}, `[[{"id":"ID","value":""},{"id":"Name","value":""},{"id":"Qty","value":null},{"id":"Flag","value":"C"}]]`),
			want: [][]map[string]any{{{"ID:Int32": nil, "Name:String": "", "Qty:Int32": json.Number("7"), "Flag:String": "C"}}}},
		{name: "model column unknown in a later row", svc: "MD01", p: payload("", []int{2}, `[[{"id":"ID","value":"1"}],[{"id":"Zed","value":"1"}]]`),
			errHas: "'M' 입력 모델 또는 'Zed' 항목 확인 필요"},
		{name: "field outside the model", svc: "MD01", p: payload("", []int{1}, `[[{"id":"Other","value":"1"}]]`), errHas: "'Other' 항목 ID가 계약에 있는지 확인"},
		{name: "default value row keeps its place", svc: "DV01", p: payload("", []int{0, 1}, `[[{"id":"c","value":"3"}]]`),
			want: [][]map[string]any{{{"A:String": "x", "B:String": json.Number("2")}}, {{"c:String": "3"}}}},
		{name: "input count mismatch", svc: "RW01", p: payload("", []int{1}, `[[]]`), errHas: "거래 입력 항목이 계약과 동일한지 확인 필요"},
		{name: "rejected without rows", svc: "RW01", p: payload("", []int{0, 0}, `[]`), errHas: "거래 입력 항목이 계약과 동일한지 확인 필요"},
		{name: "counts beyond rows", svc: "RW01", p: payload("", []int{1, 5}, `[[]]`), errHas: "입력 데이터 맵 정보 확인 필요"},
		{name: "negative count", svc: "RW01", p: payload("", []int{-1, 1}, `[[]]`), errHas: "입력 데이터 맵 정보 확인 필요"},
		{name: "interface without bar", svc: "DY01", p: payload("Row", []int{1}, `[[]]`), errHas: "입력 데이터 맵 정보 확인 필요"},
		{name: "unknown synthesised input type", svc: "DY01", p: payload("Table|", []int{1}, `[[]]`), errHas: "계약과 동일한지"},
		{name: "unknown synthesised output type", svc: "DY01", p: payload("Row|Table", []int{1}, `[[]]`), errHas: "출력 모델 ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := c.Service(tc.svc)
			b, terr := bindInputs(c, s, tc.p, "A|P|T|"+tc.svc)
			if tc.errHas != "" {
				if terr == nil || !strings.Contains(terr.text, tc.errHas) {
					t.Fatalf("error %v, want %q", terr, tc.errHas)
				}
				return
			}
			if terr != nil {
				t.Fatal(terr)
			}
			if got := values(b); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("groups\n got %v\nwant %v", got, tc.want)
			}
			if tc.outputs != 0 && len(b.outputs) != tc.outputs {
				t.Errorf("%d outputs, want %d", len(b.outputs), tc.outputs)
			}
		})
	}
}

func TestShapeJSON(t *testing.T) {
	c, err := parseContract("A/P/T.json", []byte(`{"Models": [{"Name": "M", "Columns": [{"Name": "a"}]}], "Services": []}`))
	if err != nil {
		t.Fatal(err)
	}
	res := func(j string, meta ...string) *wire.DynamicResponse {
		return &wire.DynamicResponse{Acknowledge: 1, ResultJSON: json.RawMessage(j), ResultMeta: meta}
	}
	tests := []struct {
		name      string
		res       *wire.DynamicResponse
		outputs   []Output
		ids       []string
		counts    []int
		meta      []string
		additions int
		errHas    string
	}{
		{name: "form and grid", res: res(`[{"id":"FormData0","value":{"a":1}},{"id":"GridData1","value":[{"a":1},{"a":2}]}]`, "a:number;"),
			outputs: []Output{{Type: "Form"}, {Type: "Grid"}}, ids: []string{"FormData0", "GridData1"}, counts: []int{1, 2}, meta: []string{"a:number;", ""}},
		{name: "no outputs discards", res: res(`[{"id":"FormData0","value":{}}]`), ids: nil},
		{name: "dynamic passes everything", res: res(`[{"id":"X","value":1},{"id":"Y","value":"s"}]`), outputs: []Output{{Type: "Dynamic"}}, ids: []string{"X", "Y"}, counts: []int{1, 1}},
		{name: "addition goes to messages", res: res(`[{"id":"GridData0","value":[]},{"id":"AdditionalData","value":[{"MessageCode":"M1","MessageText":"hi"}]}]`),
			outputs: []Output{{Type: "Grid"}, {Type: "Addition"}}, ids: []string{"GridData0"}, counts: []int{0}, additions: 1},
		{name: "count mismatch", res: res(`[]`), outputs: []Output{{Type: "Form"}}, errHas: "계약 건수 - '1', 응답 건수 - '0'"},
		{name: "form gets an array", res: res(`[{"id":"FormData0","value":[]}]`), outputs: []Output{{Type: "Form"}}, errHas: "Form"},
		{name: "grid gets an object", res: res(`[{"id":"GridData0","value":{}}]`), outputs: []Output{{Type: "Grid"}}, errHas: "Grid"},
		{name: "unknown model field", res: res(`[{"id":"FormData0","value":{"b":1}}]`), outputs: []Output{{ModelID: "Unknown", Fields: []string{"a"}, Type: "Form"}}, errHas: "'b'"},
		{name: "named model field", res: res(`[{"id":"GridData0","value":[{"b":1}]}]`), outputs: []Output{{ModelID: "M", Type: "Grid"}}, errHas: "'M' Grid 출력 모델에 'b'"},
		{name: "named model ok", res: res(`[{"id":"GridData0","value":[{"a":1}]}]`), outputs: []Output{{ModelID: "M", Type: "Grid"}}, ids: []string{"GridData0"}, counts: []int{1}},
		{name: "not a list", res: res(`{"id":1}`), outputs: []Output{{Type: "Form"}}, errHas: "출력 모델 개수"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out wire.TransactionResponse
			terr := shapeJSON(tc.res, tc.outputs, c, "A|P|T|S", &out)
			if tc.errHas != "" {
				if terr == nil || !strings.Contains(terr.text, tc.errHas) || terr.code != CodeOutput {
					t.Fatalf("error %v, want %q", terr, tc.errHas)
				}
				return
			}
			if terr != nil {
				t.Fatal(terr)
			}
			var ids []string
			for _, it := range out.Result.DataSet {
				ids = append(ids, it.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) || (tc.counts != nil && !reflect.DeepEqual(out.Result.DataMapCount, tc.counts)) {
				t.Errorf("ids %v counts %v", ids, out.Result.DataMapCount)
			}
			if tc.meta != nil && !reflect.DeepEqual(out.Result.DataSetMeta, tc.meta) {
				t.Errorf("meta %q", out.Result.DataSetMeta)
			}
			if len(out.Message.Additions) != tc.additions {
				t.Errorf("additions %v", out.Message.Additions)
			}
		})
	}
}

func TestRawBody(t *testing.T) {
	tests := []struct {
		rt    wire.ReturnType
		res   wire.DynamicResponse
		body  string
		ctype string
	}{
		{wire.ReturnScalar, wire.DynamicResponse{ResultObject: "abc"}, "abc", "text/html"},
		{wire.ReturnScalar, wire.DynamicResponse{ResultObject: float64(42)}, "42", "text/html"},
		{wire.ReturnNonQuery, wire.DynamicResponse{ResultInteger: 3}, "3", "text/html"},
		{wire.ReturnXML, wire.DynamicResponse{ResultObject: "<a/>"}, "<a/>", "application/xml"},
		{wire.ReturnDynamicJSON, wire.DynamicResponse{ResultJSON: json.RawMessage(`{"x":1}`)}, `{"x":1}`, "application/json"},
		{wire.ReturnDynamicJSON, wire.DynamicResponse{ResultJSON: json.RawMessage(`"{\"x\":1}"`)}, `{"x":1}`, "application/json"},
	}
	for _, tc := range tests {
		body, ctype, ok := rawBody(tc.rt, &tc.res)
		if !ok || string(body) != tc.body || !strings.HasPrefix(ctype, tc.ctype) {
			t.Errorf("%v: %q %q %v", tc.rt, body, ctype, ok)
		}
	}
	if _, _, ok := rawBody(wire.ReturnJSON, &wire.DynamicResponse{}); ok {
		t.Error("Json is not raw")
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(`{"environment":"D","system":{"programID":"HDS","routes":[{"systemID":"X","requestTick":"1"}]},"transaction":{"businessID":"B","transactionID":"T","functionID":"F"},"payLoad":{"dataMapInterface":"Row|Form","dataMapCount":[1],"dataMapSet":[[{"id":"a","value":1}]]}}`)
	f.Add(`{"loadOptions":{"a":1,"b":true,"c":null},"interface":{"sourcePort":"0","timeout":1.0}}`)
	f.Add(`{"payLoad":{"dataMapCount":[1e3],"dataMapSet":[[{"id":null}]]}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		req, err := DecodeRequest([]byte(body))
		if err != nil {
			if strings.Contains(err.Error(), "wire.") {
				t.Fatalf("error shows Go types: %v", err)
			}
			return
		}
		c, _ := parseContract("A/B/C.json", []byte(`{"Services":[{"ServiceID":"S","CommandType":"D"},{"ServiceID":"R","CommandType":"D","Inputs":[{"Type":"Row"},{"Type":"List","ParameterHandling":"DefaultValue","Fields":["x"]}]}]}`))
		for _, id := range []string{"S", "R"} {
			s, _ := c.Service(id)
			if b, terr := bindInputs(c, s, &req.PayLoad, "A|B|C|"+id); terr == nil && len(b.inputs) > 0 && len(b.groups) != len(b.inputs) {
				t.Fatalf("groups %d for %d inputs", len(b.groups), len(b.inputs))
			}
		}
	})
}
