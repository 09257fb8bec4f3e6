package dbclient

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

// TestOutputEncoding pins the exact ResultJson bytes of every output type
// (the golden text is what encoding/json wrote before the direct encoder):
// key order, repeated column names, HTML-escaped strings, numbers, a chart,
// and AdditionalData merged from result sets with different columns.
func TestOutputEncoding(t *testing.T) {
	cols := []column{{name: "ID"}, {name: "Name"}, {name: "ID"}, {name: "Amount"}, {name: "Ratio"}, {name: "Flag"}, {name: "Note"}}
	rows := [][]any{
		{int64(1), "<b>A&B</b>", int64(99), json.Number("12.50"), 0.1, true, nil},
		{int64(-2), "줄\n바꿈 \"q\" \u2028", int64(0), json.Number("-3"), 1e-7, false, "\x01"},
	}
	grid := resultSet{cols: cols, rows: rows}
	chart := resultSet{cols: []column{{name: "Label"}, {name: "Q1"}, {name: "Q2"}}, rows: [][]any{{"x<", int64(1), 2.5}, {nil, nil, "n"}, {int64(7)}}}
	msg1 := resultSet{cols: []column{{name: "MessageText"}, {name: "Extra"}}, rows: [][]any{{"done", int64(5)}}}
	msg2 := resultSet{cols: []column{{name: "MessageCode"}, {name: "Later"}}, rows: [][]any{{"OK", "late"}}}
	empty := resultSet{cols: cols, rows: [][]any{}}

	obj := &wire.QueryObject{JSONObjects: []wire.JSONObjectType{wire.FormJSON, wire.GridJSON, wire.DataSetJSON, wire.ChartJSON, wire.AdditionJSON, wire.DynamicJSON, wire.FormJSON, wire.AdditionJSON, wire.GridJSON}}
	o := newOutput()
	defer o.release()
	for _, rs := range []resultSet{grid, grid, grid, chart, msg1, grid, empty, msg2, empty} {
		if err := o.add(obj, rs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := o.resultJSON()
	if err != nil {
		t.Fatal(err)
	}
	row1 := `{"ID":1,"Name":"\u003cb\u003eA\u0026B\u003c/b\u003e","Amount":12.50,"Ratio":0.1,"Flag":true,"Note":null}`
	row2 := `{"ID":-2,"Name":"줄\n바꿈 \"q\" \u2028","Amount":-3,"Ratio":1e-7,"Flag":false,"Note":"\u0001"}`
	want := `[{"id":"FormData0","value":` + row1 + `},` +
		`{"id":"GridData1","value":[` + row1 + `,` + row2 + `]},` +
		`{"id":"DataSetData2","value":[` + row1 + `,` + row2 + `]},` +
		`{"id":"ChartData3","value":[{"data":[1,2.5],"name":"x\u003c"},{"data":[null,"n"],"name":""},{"data":[],"name":"7"}]},` +
		`{"id":"FormData6","value":{}},` +
		`{"id":"GridData8","value":[]},` +
		`{"id":"AdditionalData","value":[{"MessageCode":null,"MessageText":"done","Extra":5,"Later":null},{"MessageCode":"OK","MessageText":null,"Extra":null,"Later":"late"}]}]`
	if string(got) != want {
		t.Errorf("ResultJson:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Errorf("ResultJson is not valid JSON")
	}
	if len(o.meta) != 6 || !strings.HasPrefix(o.meta[0], "ID:") {
		t.Errorf("meta %q", o.meta)
	}

	none := newOutput()
	defer none.release()
	if got, _ := none.resultJSON(); string(got) != "[]" {
		t.Errorf("no result sets: %s, want []", got)
	}
}
