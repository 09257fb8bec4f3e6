package dbclient

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ack-dev/ack/internal/jsonenc"
	"github.com/ack-dev/ack/internal/wire"
)

// column is one result column and how its values are shown.
type column struct {
	name   string
	family family
	length int64 // -1 when unknown
}

// resultSet is one result set with its rows, values already converted to
// their JSON form (json.Number, string, bool, nil...).
type resultSet struct {
	cols []column
	rows [][]any
}

type family int

const (
	famUnknown family = iota // no declared type (SQLite expressions): typed by value
	famString
	famInteger
	famDecimal
	famFloat
	famBool
	famDate
	famDateTime
	famDateTimeTZ
	famBinary
	famNested // the child rows BaseFieldRelations puts in a parent row
)

// familyOfType maps a driver's type name (declared type for SQLite) to a family,
// following SQLite's affinity rules for the names it invents.
func familyOfType(dbType string) family {
	t := strings.ToUpper(strings.TrimSpace(dbType))
	t = strings.TrimPrefix(t, "UNSIGNED ")
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "":
		return famUnknown
	case "BOOL", "BOOLEAN", "BIT":
		return famBool
	case "DATE", "NEWDATE":
		return famDate
	case "TIMESTAMPTZ", "DATETIMEOFFSET", "TIMESTAMP WITH TIME ZONE":
		return famDateTimeTZ
	case "DATETIME", "DATETIME2", "SMALLDATETIME", "TIMESTAMP":
		return famDateTime
	case "DECIMAL", "NUMERIC", "NUMBER", "MONEY", "SMALLMONEY", "NEWDECIMAL":
		return famDecimal
	case "REAL", "FLOAT", "DOUBLE", "FLOAT4", "FLOAT8", "DOUBLE PRECISION", "BINARY_DOUBLE", "BINARY_FLOAT":
		return famFloat
	case "BLOB", "BYTEA", "BINARY", "VARBINARY", "IMAGE", "RAW", "LONGBLOB", "MEDIUMBLOB", "TINYBLOB", "LONG RAW":
		return famBinary
	}
	switch {
	case strings.Contains(t, "INT") && !strings.Contains(t, "INTERVAL") && !strings.Contains(t, "POINT"):
		return famInteger
	case strings.Contains(t, "CHAR"), strings.Contains(t, "TEXT"), strings.Contains(t, "CLOB"):
		return famString
	case strings.Contains(t, "DOUB"), strings.Contains(t, "FLOA"):
		return famFloat
	}
	return famString
}

// readResultSets reads every result set of rows; result sets without
// columns (the output of DML and DDL) are skipped.
func readResultSets(rows *sql.Rows, onlyFirst bool) ([]resultSet, error) {
	var out []resultSet
	for {
		types, err := rows.ColumnTypes()
		if err != nil {
			return nil, err
		}
		if len(types) > 0 {
			rs, err := readRows(rows, types)
			if err != nil {
				return nil, err
			}
			out = append(out, rs)
			if onlyFirst {
				return out, rows.Err()
			}
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return out, rows.Err()
}

func readRows(rows *sql.Rows, types []*sql.ColumnType) (resultSet, error) {
	rs := resultSet{cols: make([]column, len(types)), rows: [][]any{}}
	for i, t := range types {
		rs.cols[i] = column{name: t.Name(), family: familyOfType(t.DatabaseTypeName()), length: -1}
		if l, ok := t.Length(); ok && l > 0 && l < math.MaxInt32 {
			rs.cols[i].length = l
		}
	}
	raw := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	// Rows are cut from blocks that double up to 128 rows, so that a large
	// result costs few allocations and a one-row result no waste.
	var block []any
	blockRows := 2
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return rs, err
		}
		if len(block) < len(raw) {
			block = make([]any, blockRows*len(raw))
			blockRows = min(2*blockRows, 128)
		}
		row := block[:len(raw):len(raw)]
		block = block[len(raw):]
		for i, v := range raw {
			row[i] = jsonValue(rs.cols[i].family, v)
		}
		rs.rows = append(rs.rows, row)
	}
	// A column without a declared type takes its family from its first value.
	for i := range rs.cols {
		if rs.cols[i].family != famUnknown {
			continue
		}
		for _, row := range rs.rows {
			if row[i] != nil {
				rs.cols[i].family = familyOf(row[i])
				break
			}
		}
	}
	return rs, rows.Err()
}

func familyOf(v any) family {
	switch x := v.(type) {
	case int64:
		return famInteger
	case float64:
		return famFloat
	case bool:
		return famBool
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return famInteger
		}
		return famDecimal
	}
	return famString
}

// jsonValue converts a scanned driver value to the value written to JSON,
// the way HandStack's Newtonsoft output shows it.
func jsonValue(f family, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if f == famBinary {
			return base64.StdEncoding.EncodeToString(x)
		}
		return jsonValue(f, string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		return jsonValue(f, float64(x))
	case int8:
		return jsonValue(f, int64(x))
	case int16:
		return jsonValue(f, int64(x))
	case int32:
		return jsonValue(f, int64(x))
	case int:
		return jsonValue(f, int64(x))
	case uint8:
		return jsonValue(f, int64(x))
	case uint16:
		return jsonValue(f, int64(x))
	case uint32:
		return jsonValue(f, int64(x))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)) // may exceed int64
	case uint:
		return json.Number(strconv.FormatUint(uint64(x), 10))
	case time.Time:
		return formatTime(f, x)
	case string:
		switch f {
		case famInteger, famDecimal, famFloat:
			if jsonenc.ValidNumber(x) {
				return json.Number(x)
			}
		case famBool:
			switch x {
			case "1", "t", "true", "TRUE":
				return true
			case "0", "f", "false", "FALSE":
				return false
			}
		case famDateTime:
			// MySQL's text protocol: "2006-01-02 15:04:05" -> .NET's "2006-01-02T15:04:05".
			if len(x) >= 19 && x[10] == ' ' && x[4] == '-' && !strings.HasPrefix(x, "0000") {
				return x[:10] + "T" + x[11:]
			}
		}
		return x
	case int64:
		if f == famBool {
			return x != 0
		}
		return x
	}
	return fmt.Sprint(v)
}

// formatTime writes .NET's DateTime format: no zone for timestamps without
// one, the offset for zoned ones, the date alone for dates.
func formatTime(f family, t time.Time) string {
	switch f {
	case famDate:
		return t.Format("2006-01-02")
	case famDateTimeTZ:
		return t.Format("2006-01-02T15:04:05.9999999Z07:00")
	}
	return t.Format("2006-01-02T15:04:05.9999999")
}

// meta is HandStack's ResultMeta entry: "Col:type;..." with string columns
// as "Col:string|length;".
func (rs resultSet) meta() string {
	var b strings.Builder
	for _, c := range rs.cols {
		b.WriteString(c.name)
		b.WriteByte(':')
		switch c.family {
		case famInteger:
			b.WriteString("number")
		case famDecimal, famFloat:
			b.WriteString("numeric")
		case famBool:
			b.WriteString("bool")
		case famDate, famDateTime:
			b.WriteString("date")
		case famDateTimeTZ:
			b.WriteString("datetimeoffset")
		case famBinary:
			b.WriteString("byte[]")
		case famNested:
			b.WriteString("object")
		default:
			b.WriteString("string|" + strconv.FormatInt(c.length, 10))
		}
		b.WriteByte(';')
	}
	return b.String()
}

// rowWriter writes the rows of one result set as JSON objects in column
// order, with each key encoded once; a repeated column name keeps its first
// value, as HandStack does.
type rowWriter struct {
	keys [][]byte // `"name":` (after a comma but for the first); nil for a repeated name
}

func newRowWriter(cols []column) rowWriter {
	keys := make([][]byte, len(cols))
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if seen[c.name] {
			continue
		}
		var k []byte
		if len(seen) > 0 {
			k = append(k, ',')
		}
		seen[c.name] = true
		k = jsonenc.String(k, c.name)
		keys[i] = append(k, ':')
	}
	return rowWriter{keys: keys}
}

func (w rowWriter) row(b []byte, row []any) ([]byte, error) {
	b = append(b, '{')
	for i, k := range w.keys {
		if k == nil {
			continue
		}
		b = append(b, k...)
		var err error
		if b, err = jsonenc.Value(b, row[i]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func (w rowWriter) rows(b []byte, rows [][]any) ([]byte, error) {
	b = append(b, '[')
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = w.row(b, row); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// output collects the ResultJson entries of a request, written straight
// into one buffer.
type output struct {
	index   int    // the global result set counter
	buf     []byte // the ResultJson array so far, without its closing bracket
	meta    []string
	addCols []column
	addRows [][]any
}

// outputBuffers recycles the buffers that ResultJson arrays are written in;
// the answer gets an exact-size copy.
var outputBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledOutput keeps an unusually large answer's buffer out of the pool.
const maxPooledOutput = 4 << 20

func newOutput() *output {
	return &output{buf: (*outputBuffers.Get().(*[]byte))[:0]}
}

// release returns the buffer to the pool; o is not used again.
func (o *output) release() {
	if cap(o.buf) <= maxPooledOutput {
		b := o.buf[:0]
		outputBuffers.Put(&b)
	}
	o.buf = nil
}

// entry starts the ResultJson entry {"id": prefix+n, "value": ...}.
func (o *output) entry(prefix string, n int) {
	if len(o.buf) == 0 {
		o.buf = append(o.buf, '[')
	} else {
		o.buf = append(o.buf, ',')
	}
	o.buf = append(o.buf, `{"id":"`...)
	o.buf = append(o.buf, prefix...)
	if n >= 0 {
		o.buf = strconv.AppendInt(o.buf, int64(n), 10)
	}
	o.buf = append(o.buf, `","value":`...)
}

// add emits result set rs of query object obj under the output type that
// JsonObjects assigns to the current index.
func (o *output) add(obj *wire.QueryObject, rs resultSet) error {
	typ := obj.JSONObject
	if o.index < len(obj.JSONObjects) {
		typ = obj.JSONObjects[o.index]
	}
	i := o.index
	o.index++
	var err error
	switch typ {
	case wire.FormJSON:
		o.entry("FormData", i)
		if len(rs.rows) == 0 {
			o.buf = append(o.buf, "{}"...)
		} else {
			o.buf, err = newRowWriter(rs.cols).row(o.buf, rs.rows[0])
		}
	case wire.GridJSON, wire.DataSetJSON:
		prefix := "GridData"
		if typ == wire.DataSetJSON {
			prefix = "DataSetData"
		}
		o.entry(prefix, i)
		o.buf, err = newRowWriter(rs.cols).rows(o.buf, rs.rows)
	case wire.ChartJSON:
		o.entry("ChartData", i)
		o.buf, err = writeChart(o.buf, rs)
	case wire.AdditionJSON:
		o.addition(rs)
		return nil
	default:
		return nil // DynamicJson and unknown types are dropped, as in HandStack
	}
	if err != nil {
		return err
	}
	o.buf = append(o.buf, '}')
	o.meta = append(o.meta, rs.meta())
	return nil
}

// addition merges rows into the AdditionalData table (MessageCode,
// MessageText and any other column), emitted last.
func (o *output) addition(rs resultSet) {
	if o.addCols == nil {
		o.addCols = []column{{name: "MessageCode"}, {name: "MessageText"}}
	}
	idx := make([]int, len(rs.cols))
	for i, c := range rs.cols {
		idx[i] = -1
		for j, ac := range o.addCols {
			if ac.name == c.name {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			o.addCols = append(o.addCols, c)
			idx[i] = len(o.addCols) - 1
		}
	}
	for _, row := range rs.rows {
		out := make([]any, len(o.addCols))
		for i, v := range row {
			out[idx[i]] = v
		}
		o.addRows = append(o.addRows, out)
	}
}

// writeChart writes each row as {"data": [the other columns], "name": the
// first column as text}.
func writeChart(b []byte, rs resultSet) ([]byte, error) {
	b = append(b, '[')
	for i, row := range rs.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"data":[`...)
		for k := 1; k < len(row); k++ {
			if k > 1 {
				b = append(b, ',')
			}
			var err error
			if b, err = jsonenc.Value(b, row[k]); err != nil {
				return b, err
			}
		}
		name := ""
		if len(row) > 0 && row[0] != nil {
			name = fmt.Sprint(row[0])
		}
		b = append(b, `],"name":`...)
		b = jsonenc.String(b, name)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// writeResponse answers resp over HTTP, encoded into a pooled buffer with
// its ResultJson copied as dbclient wrote it.
func writeResponse(w http.ResponseWriter, resp *wire.DynamicResponse) error {
	bp := outputBuffers.Get().(*[]byte)
	body, err := resp.AppendJSON((*bp)[:0])
	defer func() {
		if cap(body) <= maxPooledOutput {
			*bp = body[:0]
			outputBuffers.Put(bp)
		}
	}()
	if err != nil {
		return fmt.Errorf("dbclient: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(body)
	return err
}

// resultJSON is the ResultJson array, in a new slice of its own.
func (o *output) resultJSON() (json.RawMessage, error) {
	if len(o.addRows) > 0 {
		// Rows added before a later result set brought new columns are short.
		rows := make([][]any, len(o.addRows))
		for i, row := range o.addRows {
			rows[i] = append(row, make([]any, len(o.addCols)-len(row))...)
		}
		o.entry("AdditionalData", -1)
		var err error
		if o.buf, err = newRowWriter(o.addCols).rows(o.buf, rows); err != nil {
			return nil, err
		}
		o.buf = append(o.buf, '}')
	}
	if len(o.buf) == 0 {
		return json.RawMessage("[]"), nil
	}
	out := make([]byte, len(o.buf)+1)
	copy(out, o.buf)
	out[len(o.buf)] = ']'
	return out, nil
}
