package transact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/ack-dev/ack/internal/wire"
)

// resultItem is one entry of a module's ResultJson list.
type resultItem struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// outputObject maps an output Type to the JsonObject number modules expect.
func outputObject(t string) wire.JSONObjectType {
	switch t {
	case "Grid":
		return wire.GridJSON
	case "Chart":
		return wire.ChartJSON
	case "DataSet":
		return wire.DataSetJSON
	case "Dynamic":
		return wire.DynamicJSON
	case "Addition":
		return wire.AdditionJSON
	}
	return wire.FormJSON
}

// shapeJSON validates a Json answer against the outputs and fills the
// response's dataSet, dataSetMeta, dataMapCount and additions (reference §8.5).
func shapeJSON(res *wire.DynamicResponse, outputs []Output, c *Contract, id string, out *wire.TransactionResponse) *txError {
	r := &out.Result
	if len(outputs) == 0 {
		return nil
	}
	items, err := parseResultJSON(res.ResultJSON)
	if err != nil {
		return fail(CodeOutput, "'%s' 거래 정보에 출력 모델 개수 및 DataTransactionAsync 확인 필요", id).with(err)
	}
	meta := func(i int) string {
		if i < len(res.ResultMeta) {
			return res.ResultMeta[i]
		}
		return ""
	}
	add := func(i int, it resultItem) {
		r.DataSet = append(r.DataSet, wire.DataSetItem{ID: it.ID, Value: it.Value})
		r.DataMapCount = append(r.DataMapCount, valueCount(it.Value))
		r.DataSetMeta = append(r.DataSetMeta, meta(i))
	}
	if slices.ContainsFunc(outputs, func(o Output) bool { return o.Type == "Dynamic" }) {
		for i, it := range items {
			add(i, it)
		}
		return nil
	}
	var expected []Output
	hasAddition := false
	for _, o := range outputs {
		switch {
		case o.Type == "Addition":
			hasAddition = true
		case o.BaseFieldRelation != nil && o.BaseFieldRelation.DisposeResult:
		default:
			expected = append(expected, o)
		}
	}
	want := len(expected)
	if hasAddition {
		want++
	}
	if want != len(items) {
		return fail(CodeOutput, "'%s' 거래 정보에 출력 모델 개수 및 DataTransactionAsync 확인 필요, 계약 건수 - '%d', 응답 건수 - '%d'", id, want, len(items))
	}
	for i, it := range items {
		if hasAddition && i == len(items)-1 {
			adds, err := additions(it.Value)
			if err != nil {
				return fail(CodeOutput, "'%s' 거래 정보에 Addition 출력 확인 필요", id).with(err)
			}
			out.Message.Additions = append(out.Message.Additions, adds...)
			continue
		}
		if terr := checkShape(expected[i], it.Value, c); terr != nil {
			return terr
		}
		add(i, it)
	}
	return nil
}

// parseResultJSON splits a module's ResultJson list into {id, value} items
// without decoding the values (a grid can be large, and it was produced by
// json.Marshal or validated when the answer was decoded). Anything the fast
// path does not expect is decoded by encoding/json, which also explains errors.
func parseResultJSON(raw json.RawMessage) ([]resultItem, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if items, ok := scanItems(raw); ok {
		return items, nil
	}
	var items []resultItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("module result is not a list of {id, value}: %w", err)
	}
	return items, nil
}

// scanItems is parseResultJSON's fast path; ok is false when it gives up.
func scanItems(d []byte) (items []resultItem, ok bool) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return nil, false
	}
	i = skipSpace(d, i+1)
	items = []resultItem{}
	if i < len(d) && d[i] == ']' {
		return items, skipSpace(d, i+1) == len(d)
	}
	for {
		if i >= len(d) || d[i] != '{' {
			return nil, false
		}
		var it resultItem
		i = skipSpace(d, i+1)
		for i < len(d) && d[i] != '}' {
			end := skipValue(d, i)
			if end < 0 || d[i] != '"' || bytes.IndexByte(d[i:end], '\\') >= 0 {
				return nil, false
			}
			key := d[i+1 : end-1]
			i = skipSpace(d, end)
			if i >= len(d) || d[i] != ':' {
				return nil, false
			}
			i = skipSpace(d, i+1)
			end = skipValue(d, i)
			if end < 0 {
				return nil, false
			}
			switch {
			case bytes.EqualFold(key, []byte("id")):
				if json.Unmarshal(d[i:end], &it.ID) != nil {
					return nil, false
				}
			case bytes.EqualFold(key, []byte("value")):
				it.Value = d[i:end]
			}
			i = skipSpace(d, end)
			if i < len(d) && d[i] == ',' {
				i = skipSpace(d, i+1)
			}
		}
		if i >= len(d) {
			return nil, false
		}
		items = append(items, it)
		i = skipSpace(d, i+1)
		if i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
			continue
		}
		if i < len(d) && d[i] == ']' {
			return items, skipSpace(d, i+1) == len(d)
		}
		return nil, false
	}
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at d[i], or -1. It
// checks structure (brackets, strings), not the literals.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	if c := d[i]; c != '"' && c != '{' && c != '[' {
		for ; i < len(d); i++ {
			switch d[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
				return i
			}
		}
		return i
	}
	depth := 0
	for ; i < len(d); i++ {
		switch c := d[i]; c {
		case '"':
			for i++; i < len(d) && d[i] != '"'; i++ {
				if d[i] == '\\' {
					i++
				}
			}
			if i >= len(d) {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// valueCount is dataMapCount's entry: the length of an array, else 1.
func valueCount(v json.RawMessage) int {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '[' {
		return 1
	}
	n := 0
	for i := skipSpace(v, 1); i < len(v) && v[i] != ']'; n++ {
		end := skipValue(v, i)
		if end < 0 {
			return n
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return n
}

// checkShape checks one result against its output: a Form is an object, a
// Grid or DataSet an array, and model-bound outputs only carry known fields.
func checkShape(o Output, v json.RawMessage, c *Contract) *txError {
	v = bytes.TrimSpace(v)
	var first map[string]json.RawMessage
	switch o.Type {
	case "Form":
		if len(v) == 0 || v[0] != '{' {
			return fail(CodeOutput, "Form 출력 모델 결과가 객체가 아닙니다")
		}
		if o.ModelID != "Dynamic" && o.ModelID != "" {
			if err := json.Unmarshal(v, &first); err != nil {
				return fail(CodeOutput, "Form 출력 모델 결과 확인 필요").with(err)
			}
		}
	case "Grid", "DataSet":
		if len(v) == 0 || v[0] != '[' {
			return fail(CodeOutput, "%s 출력 모델 결과가 배열이 아닙니다", o.Type)
		}
		if o.ModelID != "Dynamic" && o.ModelID != "" {
			var rows []map[string]json.RawMessage
			if err := json.Unmarshal(v, &rows); err != nil {
				return fail(CodeOutput, "%s 출력 모델 결과 확인 필요", o.Type).with(err)
			}
			if len(rows) > 0 {
				first = rows[0]
			}
		}
	}
	switch o.ModelID {
	case "", "Dynamic":
	case "Unknown":
		for k := range first {
			if !slices.Contains(o.Fields, k) {
				return fail(CodeOutput, "%s 출력 모델에 '%s' 항목 확인 필요", o.Type, k)
			}
		}
	default:
		m, ok := c.Model(o.ModelID)
		if !ok {
			return fail(CodeOutput, "'%s' 출력 모델 ID가 계약에 있는지 확인", o.ModelID)
		}
		for k := range first {
			if m.column(k) == nil {
				return fail(CodeOutput, "'%s' %s 출력 모델에 '%s' 항목 확인 필요", o.ModelID, o.Type, k)
			}
		}
	}
	return nil
}

func additions(v json.RawMessage) ([]wire.Addition, error) {
	var rows []struct {
		MessageCode json.RawMessage
		MessageText json.RawMessage
	}
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '{' {
		v = append(append([]byte{'['}, v...), ']')
	}
	if err := json.Unmarshal(v, &rows); err != nil {
		return nil, err
	}
	out := make([]wire.Addition, 0, len(rows))
	for _, r := range rows {
		out = append(out, wire.Addition{Code: jsonText(r.MessageCode), Text: jsonText(r.MessageText)})
	}
	return out, nil
}

// jsonText renders a JSON value as .NET's ToString would: a string without
// quotes, null as "", anything else as its JSON text.
func jsonText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		return ""
	}
	var s string
	if v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// rawBody is the body of a successful Scalar, NonQuery, Xml or DynamicJson
// service, with its Content-Type.
func rawBody(rt wire.ReturnType, res *wire.DynamicResponse) ([]byte, string, bool) {
	switch rt {
	case wire.ReturnScalar:
		return []byte(objectText(res.ResultObject)), "text/html; charset=utf-8", true
	case wire.ReturnNonQuery:
		return []byte(strconv.FormatInt(res.ResultInteger, 10)), "text/html; charset=utf-8", true
	case wire.ReturnXML:
		return []byte(objectText(res.ResultObject)), "application/xml; charset=utf-8", true
	case wire.ReturnDynamicJSON:
		body := bytes.TrimSpace(res.ResultJSON)
		if len(body) > 0 && body[0] == '"' {
			// function answers DynamicJson as a JSON string holding the JSON text.
			var s string
			if json.Unmarshal(body, &s) == nil {
				body = []byte(s)
			}
		}
		return body, "application/json; charset=utf-8", true
	}
	return nil, "", false
}

func objectText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.RawMessage:
		return jsonText(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return jsonText(b)
}
