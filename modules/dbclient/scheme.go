package dbclient

import (
	"encoding/json"
	"strconv"

	"github.com/ack-dev/ack/internal/jsonenc"
	"github.com/ack-dev/ack/internal/wire"
)

// schemeOutput collects the answer of ReturnType SchemeOnly: for every
// result set, its columns without its rows, under the key its output type
// gives it (FormData0, GridData1, ChartData2, DataTable3), in order.
type schemeOutput struct {
	index   int // the global result set counter, as in Json
	entries []schemeEntry
}

type schemeEntry struct {
	key  string
	cols []schemeColumn
}

// schemeColumn is HandStack's DatabaseColumn. Comment is HandStack's
// BaseColumnName, which database/sql does not report: ack leaves it empty.
type schemeColumn struct {
	Name     string
	Comment  string
	DataType string
	Length   int64
	Require  bool
	Default  string
}

func (s *schemeOutput) add(obj *wire.QueryObject, sets []resultSet) {
	for _, rs := range sets {
		typ := obj.JSONObject
		if s.index < len(obj.JSONObjects) {
			typ = obj.JSONObjects[s.index]
		}
		prefix := ""
		switch typ {
		case wire.FormJSON:
			prefix = "FormData"
		case wire.GridJSON:
			prefix = "GridData"
		case wire.ChartJSON:
			prefix = "ChartData"
		case wire.DataSetJSON:
			prefix = "DataTable"
		}
		if prefix != "" {
			e := schemeEntry{key: prefix + strconv.Itoa(s.index), cols: make([]schemeColumn, len(rs.cols))}
			for i, c := range rs.cols {
				e.cols[i] = schemeColumn{Name: c.name, DataType: c.family.dotNetType(), Length: c.length}
			}
			s.entries = append(s.entries, e)
		}
		s.index++
	}
}

// resultJSON writes the entries as one object, keeping their order.
func (s *schemeOutput) resultJSON() (json.RawMessage, error) {
	b := []byte{'{'}
	for i, e := range s.entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, e.key)
		cols, err := json.Marshal(e.cols)
		if err != nil {
			return nil, err
		}
		b = append(append(b, ':'), cols...)
	}
	return append(b, '}'), nil
}

// dotNetType is the .NET type name (without "System.") HandStack reports
// for a column of the family.
func (f family) dotNetType() string {
	switch f {
	case famInteger:
		return "Int64"
	case famDecimal:
		return "Decimal"
	case famFloat:
		return "Double"
	case famBool:
		return "Boolean"
	case famDate, famDateTime:
		return "DateTime"
	case famDateTimeTZ:
		return "DateTimeOffset"
	case famBinary:
		return "Byte[]"
	case famNested:
		return "Object"
	}
	return "String"
}
