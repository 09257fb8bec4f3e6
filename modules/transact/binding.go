package transact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
)

// row is one input row as module parameters.
type row []wire.DynamicParameter

// bound is a request's inputs checked against its service.
type bound struct {
	inputs  []Input  // the service's inputs, or those synthesised from dataMapInterface
	outputs []Output // likewise for outputs
	groups  [][]row  // rows of input i (or of dataMapCount[i] when the service has no inputs)
}

// bindInputs checks the payload against the service's inputs (HandStack's
// order and texts) and turns every field into a module parameter. id is
// "App|Project|Tx|Service" for error texts.
func bindInputs(c *Contract, s *Service, p *wire.PayLoad, id string) (*bound, *txError) {
	b := &bound{inputs: s.Inputs, outputs: s.Outputs}
	if iface := string(p.DataMapInterface); iface != "" && (len(s.Inputs) == 0 || len(s.Outputs) == 0) {
		ins, outs, ok := strings.Cut(iface, "|")
		if !ok {
			return nil, fail(CodeInput, "입력 데이터 맵 정보 확인 필요").with(fmt.Errorf("dataMapInterface %q has no '|'", iface))
		}
		if len(s.Inputs) == 0 {
			for _, t := range splitTypes(ins) {
				h := "ByPassing"
				if t == "Row" {
					h = "Rejected"
				}
				b.inputs = append(b.inputs, Input{ModelID: "Dynamic", Type: t, ParameterHandling: h})
			}
		}
		if len(s.Outputs) == 0 {
			for _, t := range splitTypes(outs) {
				b.outputs = append(b.outputs, Output{ModelID: "Dynamic", Type: t})
			}
		}
	}
	for _, in := range b.inputs {
		if in.Type != "Row" && in.Type != "List" {
			return nil, fail(CodeInput, "'%s' 거래 입력 항목이 계약과 동일한지 확인 필요", id).with(fmt.Errorf("input type %q", in.Type))
		}
	}
	for _, o := range b.outputs {
		if err := checkOutput(c, o); err != nil {
			return nil, fail(CodeOutput, "'%s' 거래 정보에 '%s' 출력 모델 ID가 계약에 있는지 확인", id, o.ModelID).with(err)
		}
	}

	counts := make([]int, len(p.DataMapCount))
	total := 0
	for i, n := range p.DataMapCount {
		if n < 0 || int64(n) > int64(len(p.DataMapSet)) {
			return nil, fail(CodeInput, "입력 데이터 맵 정보 확인 필요").with(fmt.Errorf("dataMapCount[%d] = %d", i, n))
		}
		counts[i] = int(n)
		total += int(n)
	}
	if total != len(p.DataMapSet) {
		return nil, fail(CodeInput, "입력 데이터 맵 정보 확인 필요").with(fmt.Errorf("dataMapCount adds up to %d, dataMapSet has %d rows", total, len(p.DataMapSet)))
	}
	if len(b.inputs) > 0 && len(b.inputs) != len(counts) {
		return nil, fail(CodeInput, "'%s' 거래 입력 항목이 계약과 동일한지 확인 필요", id).with(fmt.Errorf("contract has %d inputs, request has %d", len(b.inputs), len(counts)))
	}

	b.groups = make([][]row, len(counts))
	next := 0
	for i, n := range counts {
		rows := p.DataMapSet[next : next+n]
		next += n
		if len(b.inputs) == 0 {
			g, err := convertRows(rows, nil, nil)
			if err != nil {
				return nil, err
			}
			b.groups[i] = g
			continue
		}
		in := b.inputs[i]
		var model *Model
		if in.ModelID != "" && in.ModelID != "Dynamic" && in.ModelID != "Unknown" {
			m, ok := c.Model(in.ModelID)
			if !ok {
				return nil, fail(CodeInput, "'%s' 거래 정보에 '%s' 입력 모델 ID가 계약에 있는지 확인", id, in.ModelID)
			}
			model = m
		}
		if in.Type == "Row" && n != 1 && !(n == 0 && in.ParameterHandling != "Rejected") {
			return nil, fail(CodeInput, "'%s' 거래 입력 항목이 계약과 동일한지 확인 필요", id).with(fmt.Errorf("input %d is a Row and has %d rows", i, n))
		}
		if n == 0 {
			switch in.ParameterHandling {
			case "ByPassing":
				continue
			case "DefaultValue":
				b.groups[i] = []row{defaultRow(in, model)}
				continue
			default:
				return nil, fail(CodeInput, "'%s' 거래 정보에 필요한 입력 항목이 필요", id)
			}
		}
		if model != nil && len(rows) > 0 {
			for _, it := range rows[0] {
				f := string(it.ID)
				if f != "Flag" && !slices.Contains(in.Fields, f) {
					return nil, fail(CodeInput, "'%s' 거래 정보에 '%s' 항목 ID가 계약에 있는지 확인", id, f)
				}
			}
		}
		g, err := convertRows(rows, model, &in)
		if err != nil {
			return nil, err
		}
		b.groups[i] = g
	}
	return b, nil
}

func splitTypes(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func convertRows(rows [][]wire.DataMapItem, model *Model, in *Input) ([]row, *txError) {
	out := make([]row, len(rows))
	for r, items := range rows {
		params := make(row, 0, len(items))
		for _, it := range items {
			name := string(it.ID)
			dbType := "String"
			var col *Column
			if model != nil {
				col = model.column(name)
				// Flag (the grid row state C/U/D/R) travels with every row.
				if col == nil && name != "Flag" {
					return nil, fail(CodeInput, "'%s' 입력 모델 또는 '%s' 항목 확인 필요", in.ModelID, name)
				}
				if col != nil {
					dbType = col.DataType
				}
			}
			v, err := paramValue(it.Value, col, dbType)
			if err != nil {
				return nil, fail(CodeInput, "'%s' 항목 값 확인 필요", name).with(err)
			}
			params = append(params, wire.DynamicParameter{ParameterName: name, Value: v, DbType: dbType, Length: -1})
		}
		out[r] = params
	}
	return out, nil
}

func (m *Model) column(name string) *Column {
	for i := range m.Columns {
		if m.Columns[i].Name == name {
			return &m.Columns[i]
		}
	}
	return nil
}

// paramValue converts a JSON value the way HandStack does: null and
// "[DbNull]" are NULL (a required model column takes its default), "" is
// NULL for a non-text column, and anything else is forwarded as it is.
func paramValue(raw json.RawMessage, col *Column, dbType string) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		if col != nil && col.Require && len(col.Default) > 0 {
			return paramValue(col.Default, nil, dbType)
		}
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
			s = string(raw[1 : len(raw)-1])
		} else if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s == "[DbNull]" {
			return nil, nil
		}
		if s == "" && col != nil && !isTextType(dbType) {
			return nil, nil
		}
		return s, nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '{', '[':
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		return n, nil
	}
}

func isTextType(t string) bool {
	t = strings.ToLower(t)
	return strings.Contains(t, "string") || strings.Contains(t, "char")
}

// defaultRow builds the row of a DefaultValue input sent with no rows, from
// Fields and DefaultValues (index-aligned).
func defaultRow(in Input, model *Model) row {
	r := make(row, 0, len(in.Fields))
	for i, f := range in.Fields {
		var raw json.RawMessage
		if i < len(in.DefaultValues) {
			raw = in.DefaultValues[i]
		}
		dbType := "String"
		var col *Column
		if model != nil {
			if col = model.column(f); col != nil {
				dbType = col.DataType
			}
		}
		v, err := paramValue(raw, col, dbType)
		if err != nil {
			v = nil
		}
		if v == nil && model == nil {
			v = ""
		}
		r = append(r, wire.DynamicParameter{ParameterName: f, Value: v, DbType: dbType, Length: -1})
	}
	return r
}
