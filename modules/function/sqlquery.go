package function

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/jsonenc"
	"github.com/ack-dev/ack/internal/module"
)

// newSources opens (lazily: pools start on first use) the FunctionSource
// entries for syn.$d.query. An entry ack cannot use (unknown provider, a
// connection string it cannot translate) is left out and reported: its
// dataContext fields still reach the function, as in HandStack, and only
// queries on it fail.
func newSources(h module.Host, cfg Config) (*datasource.Registry, error) {
	cfgs := make([]datasource.Config, 0, len(cfg.FunctionSource))
	for _, s := range cfg.FunctionSource {
		conn := s.ConnectionString
		if strings.EqualFold(strings.TrimSpace(s.DataProvider), string(dialect.SQLite)) {
			// HandStack substitutes its content root (ack's DIR/app) in SQLite paths.
			conn = strings.ReplaceAll(conn, "#{ContentRootPath}", h.Paths().App)
		}
		cfgs = append(cfgs, datasource.Config{
			ApplicationID: s.ApplicationID, ProjectID: s.ProjectID, DataSourceID: s.DataSourceID,
			DataProvider: s.DataProvider, ConnectionString: conn, Comment: s.Comment,
		})
	}
	return datasource.NewRegistry(cfgs, h.Config().BaseDir("FunctionSource"), "", datasource.PoolOptions{
		MaxOpenConns:    cfg.MaxQueryConns,
		MaxIdleConns:    min(cfg.MaxQueryConns, 4),
		ConnMaxLifetime: 30 * time.Minute,
		ConnMaxIdleTime: 5 * time.Minute,
	})
}

// queryArg is the argument of syn.$d.query.
type queryArg struct {
	DataSourceID string `json:"dataSourceID"`
	SQL          string `json:"sql"`
	Parameters   []struct {
		ParameterName string          `json:"ParameterName"`
		Value         json.RawMessage `json:"Value"`
	} `json:"parameters"`
}

// dbQuery runs SQL on one of the command's own data sources (its header's
// DataSourceID list, resolved against FunctionSource) with the parameters
// bound by name (@Name, or :Name on Oracle), never spliced into the text.
// It returns the result sets, each an array of row objects in column order.
// Database errors are logged; the function sees a short message.
func (b *bridge) dbQuery(ctx context.Context, a queryArg) (json.RawMessage, error) {
	id := strings.TrimSpace(a.DataSourceID)
	if !slices.Contains(b.m.dataSourceIDs(b.cmd), id) {
		return nil, fmt.Errorf("syn.$d.query: data source %q is not one of this function's (DataSourceID %q)", id, strings.Join(b.m.dataSourceIDs(b.cmd), ", "))
	}
	if strings.TrimSpace(a.SQL) == "" {
		return nil, errors.New("syn.$d.query: the SQL text is empty")
	}
	src, _, err := b.m.sources.Resolve(b.cmd.ApplicationID, b.cmd.ProjectID, id)
	if err != nil {
		b.m.log.Warn("syn.$d.query: data source not usable", "global_id", b.req.GlobalID, "data_source_id", id, "err", err)
		return nil, fmt.Errorf("syn.$d.query: data source %s has no usable FunctionSource entry for %s/%s", id, b.cmd.ApplicationID, b.cmd.ProjectID)
	}
	cmds, err := a.compile(src.Provider)
	if err != nil {
		return nil, fmt.Errorf("syn.$d.query: %v", err)
	}
	fail := func(what string, err error) error {
		b.m.log.Warn("syn.$d.query failed", "global_id", b.req.GlobalID, "query_id", b.cmd.Key(), "data_source", src.Name(), "err", err)
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(ctx.Err(), context.Canceled):
			return fmt.Errorf("syn.$d.query %s: stopped (timeout or canceled request)", id)
		}
		return fmt.Errorf("syn.$d.query %s: %s", id, what)
	}
	db, err := b.m.sources.DB(src)
	if err != nil {
		return nil, fail("the database is unavailable", err)
	}
	// One connection for every statement of the text, so that session state
	// (temporary tables, variables) carries from one to the next.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fail("the database is unavailable", err)
	}
	defer conn.Close()
	out := []byte{'['}
	sets := 0
	for _, c := range cmds {
		rows, err := conn.QueryContext(ctx, c.SQL, c.Args...)
		if err != nil {
			return nil, fail("the database rejected the statement (see the server log)", err)
		}
		out, sets, err = appendResultSets(out, sets, rows)
		rows.Close()
		if err != nil {
			return nil, fail("the result could not be read (see the server log)", err)
		}
	}
	return append(out, ']'), nil
}

// compile binds the parameters (named with or without their @, : or $) into
// the provider's placeholders.
func (a queryArg) compile(p dialect.Provider) ([]dialect.Command, error) {
	named := make(map[string]any, len(a.Parameters))
	for _, prm := range a.Parameters {
		name := strings.TrimLeft(prm.ParameterName, "@:$#")
		v, err := bindValue(prm.Value)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", name, err)
		}
		named[name] = v
	}
	return dialect.Compile(p, dialect.Query{SQL: a.SQL, Named: named})
}

// dataSourceIDs lists the data sources a command may use: its header's
// DataSourceID list, else the module's DefaultDataSourceID.
func (m *Module) dataSourceIDs(cmd *Command) []string {
	list := cmd.DataSourceID
	if strings.TrimSpace(list) == "" {
		list = m.cfg.DefaultDataSourceID
	}
	var ids []string
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// bindValue turns a JSON parameter value into a driver value: integers stay
// integers (a float would not compare equal on every database), an array
// becomes a list that expands to (v1, v2, ...).
func bindValue(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
	}
	return driverValue(v)
}

func driverValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		return x.Float64()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = driverValue(e); err != nil {
				return nil, err
			}
			if _, nested := out[i].([]any); nested {
				return nil, errors.New("a list cannot hold lists")
			}
		}
		return out, nil
	case map[string]any:
		return nil, errors.New("an object cannot be bound; pass its JSON text (JSON.stringify) or its fields")
	}
	return v, nil // nil, string, bool
}

// appendResultSets appends every result set of rows (those with columns)
// as a JSON array of row objects; n counts the sets written so far.
func appendResultSets(b []byte, n int, rows *sql.Rows) ([]byte, int, error) {
	for {
		types, err := rows.ColumnTypes()
		if err != nil {
			return b, n, err
		}
		if len(types) > 0 {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			if b, err = appendRows(b, rows, types); err != nil {
				return b, n, err
			}
		}
		if !rows.NextResultSet() {
			return b, n, rows.Err()
		}
	}
}

func appendRows(b []byte, rows *sql.Rows, types []*sql.ColumnType) ([]byte, error) {
	kinds := make([]string, len(types))
	for i, t := range types {
		kinds[i] = strings.ToUpper(t.DatabaseTypeName())
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	b = append(b, '[')
	for first := true; rows.Next(); first = false {
		if err := rows.Scan(ptrs...); err != nil {
			return b, err
		}
		if !first {
			b = append(b, ',')
		}
		b = append(b, '{')
		for i, v := range vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.String(b, types[i].Name())
			b = append(b, ':')
			var err error
			if b, err = jsonenc.Value(b, jsValue(kinds[i], v)); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), rows.Err()
}

// jsValue converts a scanned value for JavaScript: binary columns as Base64,
// other bytes as text, numbers that drivers return as text (DECIMAL, MySQL's
// text protocol) as numbers, times as ISO text without a zone (with the
// offset for zoned types), as dbclient shows them.
func jsValue(kind string, v any) any {
	switch x := v.(type) {
	case []byte:
		if isBinaryType(kind) {
			return base64.StdEncoding.EncodeToString(x)
		}
		return jsValue(kind, string(x))
	case string:
		if isNumericType(kind) && jsonenc.ValidNumber(x) {
			return json.Number(x)
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case float32:
		return jsValue(kind, float64(x))
	case time.Time:
		switch {
		case kind == "DATE":
			return x.Format("2006-01-02")
		case strings.Contains(kind, "TZ") || strings.Contains(kind, "OFFSET") || strings.Contains(kind, "TIME ZONE"):
			return x.Format("2006-01-02T15:04:05.9999999Z07:00")
		}
		return x.Format("2006-01-02T15:04:05.9999999")
	}
	return v
}

func isBinaryType(kind string) bool {
	return strings.Contains(kind, "BLOB") || strings.Contains(kind, "BINARY") ||
		kind == "BYTEA" || kind == "IMAGE" || strings.Contains(kind, "RAW")
}

func isNumericType(kind string) bool {
	for _, k := range []string{"INT", "DECIMAL", "NUMERIC", "NUMBER", "FLOAT", "DOUBLE", "REAL", "MONEY"} {
		if strings.Contains(kind, k) && !strings.Contains(kind, "INTERVAL") && !strings.Contains(kind, "POINT") {
			return true
		}
	}
	return false
}
