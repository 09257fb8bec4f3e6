package logger

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/wire"
)

// sqlDialect is what differs between the SQL engines the logger writes to.
type sqlDialect struct {
	placeholder func(n int) string // n is 1-based
	createTable string             // %[1]s is the table name
	columns     string             // lists a table's column names; one argument, the table name
	// timeArg binds a time: UTC text for SQLite (compares in order as text),
	// a time.Time for PostgreSQL's timestamptz.
	timeArg func(time.Time) any
}

// storedTimeLayout is how SQLite rows hold CreatedAt (UTC), HandStack's layout.
const storedTimeLayout = "2006-01-02 15:04:05.000"

var dialects = map[dialect.Provider]*sqlDialect{
	dialect.SQLite: {
		placeholder: func(int) string { return "?" },
		createTable: `CREATE TABLE IF NOT EXISTS %[1]s (
	LogNo INTEGER PRIMARY KEY AUTOINCREMENT,
	RecordID TEXT, ModuleID TEXT, ServerID TEXT, RunningEnvironment TEXT, ProgramName TEXT,
	GlobalID TEXT, Acknowledge TEXT, ApplicationID TEXT, ProjectID TEXT, TransactionID TEXT,
	ServiceID TEXT, Type TEXT, Flow TEXT, Level TEXT, Format TEXT, Message TEXT, Properties TEXT,
	UserID TEXT, CreatedAt DATETIME, IpAddress TEXT, DeviceID TEXT, ProgramID TEXT)`,
		columns: `SELECT name FROM pragma_table_info(?)`,
		timeArg: func(t time.Time) any { return t.UTC().Format(storedTimeLayout) },
	},
	dialect.PostgreSQL: {
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		createTable: `CREATE TABLE IF NOT EXISTS %[1]s (
	LogNo BIGSERIAL PRIMARY KEY,
	RecordID TEXT, ModuleID TEXT, ServerID TEXT, RunningEnvironment TEXT, ProgramName TEXT,
	GlobalID TEXT, Acknowledge TEXT, ApplicationID TEXT, ProjectID TEXT, TransactionID TEXT,
	ServiceID TEXT, Type TEXT, Flow TEXT, Level TEXT, Format TEXT, Message TEXT, Properties TEXT,
	UserID TEXT, CreatedAt TIMESTAMPTZ, IpAddress TEXT, DeviceID TEXT, ProgramID TEXT)`,
		columns: `SELECT column_name FROM information_schema.columns
	WHERE table_schema = current_schema() AND table_name = lower($1)`,
		timeArg: func(t time.Time) any { return t.UTC() },
	},
}

// indexes serve the list filters (each with newest-first order), the
// retention delete (CreatedAt) and de-duplication (RecordID). %[1]s is the
// table name.
var indexes = []string{
	`CREATE UNIQUE INDEX IF NOT EXISTS IX_%[1]s_RecordID ON %[1]s (RecordID)`,
	`CREATE INDEX IF NOT EXISTS IX_%[1]s_CreatedAt ON %[1]s (CreatedAt)`,
	`CREATE INDEX IF NOT EXISTS IX_%[1]s_GlobalID ON %[1]s (GlobalID)`,
	`CREATE INDEX IF NOT EXISTS IX_%[1]s_App ON %[1]s (ApplicationID, LogNo)`,
	`CREATE INDEX IF NOT EXISTS IX_%[1]s_Level ON %[1]s (ApplicationID, Level, LogNo)`,
	`CREATE INDEX IF NOT EXISTS IX_%[1]s_Module ON %[1]s (ApplicationID, ModuleID, LogNo)`,
}

// insertColumns are written on insert, in this order (LogNo is generated).
var insertColumns = []string{
	"RecordID", "ModuleID", "ServerID", "RunningEnvironment", "ProgramName", "GlobalID",
	"Acknowledge", "ApplicationID", "ProjectID", "TransactionID", "ServiceID", "Type", "Flow",
	"Level", "Format", "Message", "Properties", "UserID", "CreatedAt", "IpAddress", "DeviceID", "ProgramID",
}

// insertChunk rows go in one INSERT: 22 columns × 400 stays under the bind
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const insertChunk = 400

// table is one log table in one database.
type table struct {
	db       *sql.DB
	d        *sqlDialect
	name     string
	keepDays int

	mu       sync.Mutex
	prepared atomic.Bool
}

// ensure prepares the table once; after a failure the next call tries again.
func (t *table) ensure(ctx context.Context) error {
	if t.prepared.Load() {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prepared.Load() {
		return nil
	}
	if err := t.prepare(ctx); err != nil {
		return err
	}
	t.prepared.Store(true)
	return nil
}

// prepare creates the table and its indexes when missing. A table created by
// HandStack gets ack's two extra columns (RecordID, ModuleID); nothing else
// in it is altered.
func (t *table) prepare(ctx context.Context) error {
	if _, err := t.db.ExecContext(ctx, fmt.Sprintf(t.d.createTable, t.name)); err != nil {
		return fmt.Errorf("create table %s: %w", t.name, err)
	}
	have, err := t.columnNames(ctx)
	if err != nil {
		return err
	}
	for _, col := range []string{"RecordID", "ModuleID"} {
		if !have[strings.ToLower(col)] {
			if _, err := t.db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s TEXT", t.name, col)); err != nil {
				return fmt.Errorf("add column %s.%s: %w", t.name, col, err)
			}
		}
	}
	for _, ix := range indexes {
		if _, err := t.db.ExecContext(ctx, fmt.Sprintf(ix, t.name)); err != nil {
			return fmt.Errorf("create index on %s: %w", t.name, err)
		}
	}
	return nil
}

func (t *table) columnNames(ctx context.Context) (map[string]bool, error) {
	rows, err := t.db.QueryContext(ctx, t.d.columns, t.name)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", t.name, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", t.name, err)
		}
		have[strings.ToLower(name)] = true
	}
	return have, rows.Err()
}

// record is a LogMessage ready to store.
type record struct {
	msg     wire.LogMessage
	created time.Time
}

// insert writes records in one transaction. A RecordID already stored is
// skipped, so a retried batch adds nothing twice. It returns the number of
// rows added.
func (t *table) insert(ctx context.Context, recs []record) (int64, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("insert into %s: %w", t.name, err)
	}
	defer tx.Rollback()
	var added int64
	for len(recs) > 0 {
		n := min(len(recs), insertChunk)
		query, args := t.insertStatement(recs[:n])
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("insert into %s: %w", t.name, err)
		}
		if k, err := res.RowsAffected(); err == nil {
			added += k
		}
		recs = recs[n:]
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("insert into %s: commit: %w", t.name, err)
	}
	return added, nil
}

func (t *table) insertStatement(recs []record) (string, []any) {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", t.name, strings.Join(insertColumns, ", "))
	args := make([]any, 0, len(recs)*len(insertColumns))
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		m := r.msg
		var recordID any // NULL, not "": the unique index must let unkeyed records through
		if m.RecordID != "" {
			recordID = m.RecordID
		}
		args = append(args, recordID, m.ModuleID, m.ServerID, m.RunningEnvironment, m.ProgramName, m.GlobalID,
			m.Acknowledge, m.ApplicationID, m.ProjectID, m.TransactionID, m.ServiceID, m.Type, m.Flow,
			m.Level, m.Format, m.Message, m.Properties, m.UserID, t.d.timeArg(r.created), m.IpAddress,
			m.DeviceID, m.ProgramID)
		for j := range insertColumns {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.d.placeholder(len(args) - len(insertColumns) + j + 1))
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String(), args
}

// listQuery selects rows for the list route. Empty fields do not filter.
type listQuery struct {
	ApplicationID                                                        string
	ServerID, GlobalID, Environment, ProjectID, ServiceID, TransactionID string
	ModuleID                                                             string
	Levels                                                               []string
	From, To                                                             time.Time // To is exclusive
	Before                                                               int64     // only LogNo < Before (paging)
	Limit                                                                int
	WithMessage                                                          bool
}

// listRow is one row of the list route: HandStack's columns (without the
// bulky Message and Properties unless asked) plus ModuleID.
type listRow struct {
	LogNo              int64
	ServerID           string
	RunningEnvironment string
	GlobalID           string
	ProgramName        string
	ApplicationID      string
	ProjectID          string
	TransactionID      string
	ServiceID          string
	Acknowledge        string
	Type               string
	Flow               string
	Level              string
	Format             string
	UserID             string
	CreatedAt          string
	IpAddress          string
	DeviceID           string
	ProgramID          string
	ModuleID           string
	Message            *string `json:",omitempty"`
	Properties         *string `json:",omitempty"`
}

const listColumns = "LogNo, ServerID, RunningEnvironment, GlobalID, ProgramName, ApplicationID, ProjectID, " +
	"TransactionID, ServiceID, Acknowledge, Type, Flow, Level, Format, UserID, CreatedAt, IpAddress, DeviceID, " +
	"ProgramID, ModuleID"

// list returns rows newest first.
func (t *table) list(ctx context.Context, q listQuery) ([]listRow, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, t.d.placeholder(len(args))))
	}
	add("ApplicationID = %s", q.ApplicationID)
	for _, f := range []struct{ col, v string }{
		{"ServerID", q.ServerID}, {"GlobalID", q.GlobalID}, {"RunningEnvironment", q.Environment},
		{"ProjectID", q.ProjectID}, {"ServiceID", q.ServiceID}, {"TransactionID", q.TransactionID},
		{"ModuleID", q.ModuleID},
	} {
		if f.v != "" {
			add(f.col+" = %s", f.v)
		}
	}
	if len(q.Levels) > 0 {
		marks := make([]string, len(q.Levels))
		for i, l := range q.Levels {
			args = append(args, l)
			marks[i] = t.d.placeholder(len(args))
		}
		where = append(where, "Level IN ("+strings.Join(marks, ", ")+")")
	}
	if !q.From.IsZero() {
		add("CreatedAt >= %s", t.d.timeArg(q.From))
	}
	if !q.To.IsZero() {
		add("CreatedAt < %s", t.d.timeArg(q.To))
	}
	if q.Before > 0 {
		add("LogNo < %s", q.Before)
	}
	cols := listColumns
	if q.WithMessage {
		cols += ", Message, Properties"
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY LogNo DESC LIMIT %d",
		cols, t.name, strings.Join(where, " AND "), q.Limit)
	rows, err := t.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.name, err)
	}
	defer rows.Close()
	out := []listRow{}
	for rows.Next() {
		var r listRow
		var s [18]sql.NullString
		var created any
		dest := []any{&r.LogNo, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &s[10],
			&s[11], &s[12], &s[13], &created, &s[14], &s[15], &s[16], &s[17]}
		var msg, props sql.NullString
		if q.WithMessage {
			dest = append(dest, &msg, &props)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("list %s: %w", t.name, err)
		}
		for i, p := range []*string{&r.ServerID, &r.RunningEnvironment, &r.GlobalID, &r.ProgramName,
			&r.ApplicationID, &r.ProjectID, &r.TransactionID, &r.ServiceID, &r.Acknowledge, &r.Type, &r.Flow,
			&r.Level, &r.Format, &r.UserID, &r.IpAddress, &r.DeviceID, &r.ProgramID, &r.ModuleID} {
			*p = s[i].String
		}
		r.CreatedAt = formatStored(created)
		if q.WithMessage {
			r.Message, r.Properties = &msg.String, &props.String
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// detailRow is the detail route's answer, as HandStack shapes it.
type detailRow struct {
	Message    string
	Properties string
}

func (t *table) detail(ctx context.Context, applicationID string, logNo int64) ([]detailRow, error) {
	query := fmt.Sprintf("SELECT Message, Properties FROM %s WHERE LogNo = %s AND ApplicationID = %s",
		t.name, t.d.placeholder(1), t.d.placeholder(2))
	var msg, props sql.NullString
	err := t.db.QueryRowContext(ctx, query, logNo, applicationID).Scan(&msg, &props)
	switch {
	case err == sql.ErrNoRows:
		return []detailRow{}, nil
	case err != nil:
		return nil, fmt.Errorf("detail %s: %w", t.name, err)
	}
	return []detailRow{{Message: msg.String, Properties: props.String}}, nil
}

// purgeChunk bounds one DELETE so that retention never holds a long lock.
const purgeChunk = 5000

// purge deletes rows created before cutoff, in chunks, and returns how many.
func (t *table) purge(ctx context.Context, cutoff time.Time) (int64, error) {
	query := fmt.Sprintf("DELETE FROM %[1]s WHERE LogNo IN (SELECT LogNo FROM %[1]s WHERE CreatedAt < %[2]s LIMIT %[3]d)",
		t.name, t.d.placeholder(1), purgeChunk)
	var total int64
	for {
		res, err := t.db.ExecContext(ctx, query, t.d.timeArg(cutoff))
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", t.name, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", t.name, err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}

// formatStored renders a stored CreatedAt (a time, or UTC text in SQLite) in
// local time, HandStack's "yyyy-MM-dd HH:mm:ss.fff".
func formatStored(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		p, ok := parseTime(x, time.UTC)
		if !ok {
			return x
		}
		t = p
	case []byte:
		return formatStored(string(x))
	default:
		return ""
	}
	return t.Local().Format(storedTimeLayout)
}

// timeLayouts are the forms a time may take without a zone; RFC 3339 is
// tried first.
var timeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02"}

// parseTime reads RFC 3339, or HandStack's "yyyy-MM-dd HH:mm:ss.fff" (and
// shorter forms) in loc.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
