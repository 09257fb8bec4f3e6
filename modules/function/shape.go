package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
)

// table is one table of a function result, in the order the function wrote
// it. Columns appear in order of first appearance; a column's type comes
// from the value that introduced it, as Newtonsoft's DataSet reader does.
type table struct {
	columns []string
	types   []string
	rows    [][]json.RawMessage // per row, per column; nil is a missing value
}

// parseTables reads a function result: a JSON object mapping table names
// to arrays of row objects. The table names are not kept: HandStack
// discards them.
func parseTables(text string) ([]*table, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := expectDelim(d, '{'); err != nil {
		return nil, err
	}
	var out []*table
	for d.More() {
		if _, err := d.Token(); err != nil { // the table name
			return nil, err
		}
		t, err := readTable(d)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the result object")
	}
	return out, nil
}

func expectDelim(d *json.Decoder, want json.Delim) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func readTable(d *json.Decoder) (*table, error) {
	if err := expectDelim(d, '['); err != nil {
		return nil, fmt.Errorf("a table must be an array of rows: %w", err)
	}
	t := &table{}
	index := map[string]int{}
	for d.More() {
		var row map[string]json.RawMessage
		// Decode keeps key order only through a second pass: read the raw
		// object and walk its keys in order.
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, err
		}
		keys, err := objectKeys(raw)
		if err != nil {
			return nil, fmt.Errorf("a row must be an object: %w", err)
		}
		if err := json.Unmarshal(raw, &row); err != nil {
			return nil, err
		}
		cells := make([]json.RawMessage, len(t.columns), len(t.columns)+len(keys))
		for _, k := range keys {
			i, ok := index[k]
			if !ok {
				i = len(t.columns)
				index[k] = i
				t.columns = append(t.columns, k)
				t.types = append(t.types, metaType(row[k]))
				cells = append(cells, nil)
			}
			cells[i] = row[k]
		}
		t.rows = append(t.rows, cells)
	}
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	return t, nil
}

// objectKeys lists the keys of a JSON object in order.
func objectKeys(raw json.RawMessage) ([]string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := expectDelim(d, '{'); err != nil {
		return nil, err
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("unexpected %v", tok)
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// isoDate is what Newtonsoft reads as a DateTime.
var isoDate = regexp.MustCompile(`^"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"$`)

// metaType is HandStack's ResultMeta type of a column introduced by v.
func metaType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0:
		return "string"
	case v[0] == 't' || v[0] == 'f':
		return "bool"
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		if bytes.ContainsAny(v, ".eE") {
			return "numeric"
		}
		return "number"
	case v[0] == '"' && isoDate.Match(v):
		return "date"
	}
	return "string"
}

// shaper builds the Json answer of a request: one entry per table with a
// request-wide index, as HandStack's function module does.
type shaper struct {
	index    int
	entries  []json.RawMessage
	meta     []string
	addition *table // AdditionJson rows, emitted once at the end
	lastRow  map[string]json.RawMessage
}

// add shapes the tables of one query object.
func (s *shaper) add(obj *wire.QueryObject, tables []*table) error {
	for _, t := range tables {
		kind := obj.JSONObject
		if len(obj.JSONObjects) > 0 && s.index < len(obj.JSONObjects) {
			kind = obj.JSONObjects[s.index]
		}
		var value []byte
		var err error
		id := ""
		switch kind {
		case wire.FormJSON:
			id = "FormData"
			value, err = formValue(t)
		case wire.GridJSON:
			id = "GridData"
			value, err = gridValue(t)
		case wire.ChartJSON:
			id = "ChartData"
			value, err = chartValue(t)
		case wire.DataSetJSON:
			id = "DataSetData"
			value, err = gridValue(t)
		case wire.AdditionJSON:
			s.merge(t)
		}
		if err != nil {
			return err
		}
		if id != "" {
			entry, err := json.Marshal(struct {
				ID    string
				Value json.RawMessage
			}{id + strconv.Itoa(s.index), value})
			if err != nil {
				return err
			}
			s.entries = append(s.entries, entry)
			s.meta = append(s.meta, metaOf(t))
		}
		s.lastRow = t.firstRow()
		s.index++
	}
	return nil
}

// remember keeps the first row of the first table for the next object's
// BaseFieldMappings without emitting anything (IgnoreResult).
func (s *shaper) remember(tables []*table) {
	s.lastRow = nil
	if len(tables) > 0 {
		s.lastRow = tables[0].firstRow()
	}
}

func (s *shaper) merge(t *table) {
	if s.addition == nil {
		s.addition = &table{columns: []string{"MessageCode", "MessageText"}, types: []string{"string", "string"}}
	}
	a := s.addition
	for _, row := range t.rows {
		cells := make([]json.RawMessage, len(a.columns))
		for i, c := range t.columns {
			j := indexOf(a.columns, c)
			if j < 0 {
				a.columns = append(a.columns, c)
				a.types = append(a.types, t.types[i])
				cells = append(cells, nil)
				j = len(a.columns) - 1
			}
			if i < len(row) {
				cells[j] = row[i]
			}
		}
		a.rows = append(a.rows, cells)
	}
}

// result returns ResultJson and ResultMeta.
func (s *shaper) result() (json.RawMessage, []string, error) {
	entries := s.entries
	if s.addition != nil && len(s.addition.rows) > 0 {
		value, err := gridValue(s.addition)
		if err != nil {
			return nil, nil, err
		}
		entry, err := json.Marshal(struct {
			ID    string
			Value json.RawMessage
		}{"AdditionalData", value})
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, entry)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	meta := s.meta
	if meta == nil {
		meta = []string{}
	}
	return b.Bytes(), meta, nil
}

func (t *table) firstRow() map[string]json.RawMessage {
	if len(t.rows) == 0 {
		return nil
	}
	row := map[string]json.RawMessage{}
	for i, c := range t.columns {
		if i < len(t.rows[0]) {
			row[c] = t.rows[0][i]
		}
	}
	return row
}

func metaOf(t *table) string {
	var b strings.Builder
	for i, c := range t.columns {
		b.WriteString(c)
		b.WriteByte(':')
		b.WriteString(t.types[i])
		b.WriteByte(';')
	}
	return b.String()
}

// writeRow writes the columns of one row as an object; a missing cell is null.
func writeRow(b *bytes.Buffer, t *table, row []json.RawMessage) error {
	b.WriteByte('{')
	for i, c := range t.columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b.Write(k)
		b.WriteByte(':')
		if i < len(row) && row[i] != nil {
			b.Write(row[i])
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return nil
}

// formValue is the first row as an object ({} without rows).
func formValue(t *table) ([]byte, error) {
	if len(t.rows) == 0 {
		return []byte("{}"), nil
	}
	var b bytes.Buffer
	err := writeRow(&b, t, t.rows[0])
	return b.Bytes(), err
}

// gridValue is every row, each with every column.
func gridValue(t *table) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, row := range t.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeRow(&b, t, row); err != nil {
			return nil, err
		}
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// chartValue is one {name, data} per row: the first column as text, then
// the other columns' values.
func chartValue(t *table) ([]byte, error) {
	type series struct {
		Name string            `json:"name"`
		Data []json.RawMessage `json:"data"`
	}
	out := make([]series, 0, len(t.rows))
	for _, row := range t.rows {
		s := series{Data: []json.RawMessage{}}
		for i := range t.columns {
			var cell json.RawMessage
			if i < len(row) && row[i] != nil {
				cell = row[i]
			} else {
				cell = json.RawMessage("null")
			}
			if i == 0 {
				s.Name = cellText(cell)
				continue
			}
			s.Data = append(s.Data, cell)
		}
		out = append(out, s)
	}
	return json.Marshal(out)
}

// cellText is a value as .NET's ToString shows it: a string's content, ""
// for null, the literal text otherwise.
func cellText(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return ""
	}
	return string(v)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
