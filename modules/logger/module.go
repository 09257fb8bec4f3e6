// Package logger is ack's central log sink, HandStack's logger module: it
// stores LogMessage records per ApplicationID (SQLite by default, or
// PostgreSQL), answers list and detail queries, and deletes old records on a
// timer. It also implements module.LogSink, so ack's own log shipper
// (internal/logship) writes to it directly when it runs in the same process.
package logger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// Info describes the logger module to the host.
func Info() module.Info {
	return module.Info{ID: module.Logger, New: func() module.Module { return &Module{} }}
}

// Module is the logger module.
type Module struct {
	log   *slog.Logger
	cfg   Config
	srcs  []source
	diags []module.Diagnostic
	host  module.Host
	// access guards list and detail: a local caller, or the AuthorizationKey.
	access callerauth.Rule

	tables   map[string]*table // by ApplicationID, exactly as HandStack matches it
	fallback *table            // every other ApplicationID
	dbs      []*sql.DB

	stopRetention context.CancelFunc
	retentionDone chan struct{}
	stopOnce      sync.Once

	inserted, purged prometheus.Counter
	insertErrors     prometheus.Counter
}

// source is a data source resolved at Provision: where and how to connect.
type source struct {
	appID    string
	provider dialect.Provider
	target   datasource.Target // driver, DSN and, for SQLite, the file
	table    string
	keepDays int
}

// Provision reads the settings and resolves every data source without
// connecting.
func (m *Module) Provision(_ context.Context, h module.Host) error {
	m.host = h
	m.log = h.Logger()
	m.cfg = Config{}
	if err := h.Config().Decode(&m.cfg); err != nil {
		return err
	}
	access, err := callerauth.New(m.cfg.AuthorizationKey, []string{"localhost"})
	if err != nil {
		return fmt.Errorf("logger: %w", err)
	}
	m.access = access
	seen := map[string]bool{}
	var fallback *source
	for _, ds := range m.cfg.DataSource {
		if err := ds.validate(); err != nil {
			return fmt.Errorf("logger: %w", err)
		}
		if seen[ds.ApplicationID] {
			return fmt.Errorf("logger: DataSource %s is listed twice", ds.ApplicationID)
		}
		seen[ds.ApplicationID] = true
		src, err := m.resolve(ds)
		if errors.Is(err, errUnsupportedProvider) {
			msg := fmt.Sprintf("logger DataSource %s: %v; its records go to the default store", ds.ApplicationID, err)
			m.log.Warn(msg)
			m.diags = append(m.diags, module.Diagnostic{File: h.Config().File, Severity: "warning", Message: msg})
			continue
		}
		if err != nil {
			return fmt.Errorf("logger: DataSource %s: %w", ds.ApplicationID, err)
		}
		if ds.ApplicationID == defaultApplication {
			fallback = &src
			continue
		}
		m.srcs = append(m.srcs, src)
	}
	if fallback == nil {
		file := filepath.Join(h.Paths().Data, "logger", "logger.db")
		target, err := datasource.Translate(dialect.SQLite, "Data Source="+file, "")
		if err != nil {
			return fmt.Errorf("logger: default store: %w", err)
		}
		fallback = &source{appID: defaultApplication, provider: dialect.SQLite, target: target,
			table: defaultTable, keepDays: defaultRemoveDays}
	}
	m.srcs = append(m.srcs, *fallback)

	m.inserted = prometheus.NewCounter(prometheus.CounterOpts{Name: "ack_logger_records_inserted_total",
		Help: "Log records stored (a replayed duplicate is not counted)."})
	m.insertErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "ack_logger_insert_errors_total",
		Help: "Batches the log store failed to write."})
	m.purged = prometheus.NewCounter(prometheus.CounterOpts{Name: "ack_logger_records_purged_total",
		Help: "Log records deleted by retention."})
	for _, c := range []prometheus.Collector{m.inserted, m.insertErrors, m.purged} {
		if err := h.Metrics().Register(c); err != nil {
			return fmt.Errorf("logger: metrics: %w", err)
		}
	}
	return nil
}

func (m *Module) resolve(ds DataSource) (source, error) {
	p, err := parseProvider(ds.DataProvider)
	if err != nil {
		return source{}, err
	}
	target, err := datasource.Translate(p, ds.ConnectionString, m.host.Config().BaseDir("DataSource"))
	if err != nil {
		return source{}, err
	}
	if p == dialect.SQLite && (target.Path == "" || target.Path == ":memory:") {
		return source{}, errors.New("the logger needs an SQLite file, not an in-memory database")
	}
	return source{appID: ds.ApplicationID, provider: p, target: target, table: ds.table(), keepDays: ds.keepDays()}, nil
}

// Start opens the databases, creates missing tables and starts retention.
// The default store must open; another data source that cannot be reached
// yet is prepared on first use, so one database down does not stop ack.
func (m *Module) Start(ctx context.Context) error {
	m.tables = map[string]*table{}
	pools := map[string]*sql.DB{}
	for _, src := range m.srcs {
		key := src.target.Driver + "\x00" + src.target.DSN
		db, ok := pools[key]
		if !ok {
			var err error
			if db, err = openDB(src); err != nil {
				return fmt.Errorf("logger: %s store: %w", src.appID, err)
			}
			pools[key] = db
			m.dbs = append(m.dbs, db)
		}
		t := &table{db: db, d: dialects[src.provider], name: src.table, keepDays: src.keepDays}
		err := t.ensure(ctx)
		if src.appID == defaultApplication {
			if err != nil {
				return fmt.Errorf("logger: default store: %w", err)
			}
			m.fallback = t
			continue
		}
		if err != nil {
			m.log.Warn("log store not reachable yet; retried on use", "application_id", src.appID, "err", err)
		}
		m.tables[src.appID] = t
	}
	rctx, cancel := context.WithCancel(context.Background())
	m.stopRetention = cancel
	m.retentionDone = make(chan struct{})
	m.host.Go("retention", func(ctx context.Context) error {
		defer close(m.retentionDone)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(rctx, cancel)()
		m.retain(ctx)
		return nil
	})
	return nil
}

func openDB(src source) (*sql.DB, error) {
	if src.target.Path != "" {
		if err := os.MkdirAll(filepath.Dir(src.target.Path), 0o755); err != nil {
			return nil, fmt.Errorf("create directory for %s: %w", src.target.Path, err)
		}
	}
	db, err := sql.Open(src.target.Driver, src.target.DSN)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	return db, nil
}

// Routes are HandStack's logger routes.
func (m *Module) Routes() []module.Route {
	return []module.Route{
		{Pattern: "GET /logger/api/log/insert", Handler: m.handleInsert},
		{Pattern: "POST /logger/api/log/insert", Handler: m.handleInsert},
		{Pattern: "GET /logger/api/log/list", Handler: m.handleList},
		{Pattern: "GET /logger/api/log/detail", Handler: m.handleDetail},
	}
}

// Stop ends retention and closes the databases.
func (m *Module) Stop(ctx context.Context) error {
	var err error
	m.stopOnce.Do(func() {
		if m.stopRetention != nil {
			m.stopRetention()
			select {
			case <-m.retentionDone:
			case <-ctx.Done():
			}
		}
		for _, db := range m.dbs {
			err = errors.Join(err, db.Close())
		}
	})
	return err
}

// Ready reports whether the default store answers.
func (m *Module) Ready(ctx context.Context) error {
	if m.fallback == nil {
		return errors.New("logger not started")
	}
	return m.fallback.db.PingContext(ctx)
}

// Diagnose reports data sources ack cannot write to.
func (m *Module) Diagnose(context.Context) []module.Diagnostic { return m.diags }

// tableFor is where records of applicationID go.
func (m *Module) tableFor(applicationID string) *table {
	if t, ok := m.tables[applicationID]; ok {
		return t
	}
	return m.fallback
}

// InsertLogs stores records, each in its ApplicationID's table; the records
// of one table go in one transaction. A record whose RecordID is already
// stored is skipped, so retrying a batch is safe.
func (m *Module) InsertLogs(ctx context.Context, msgs []wire.LogMessage) error {
	if m.fallback == nil {
		return errors.New("logger: not started")
	}
	now := time.Now()
	groups := map[*table][]record{}
	var order []*table
	for _, msg := range msgs {
		t := m.tableFor(msg.ApplicationID)
		created, ok := parseTime(msg.CreatedAt, time.Local)
		if !ok {
			created = now
		}
		if _, seen := groups[t]; !seen {
			order = append(order, t)
		}
		groups[t] = append(groups[t], record{msg: msg, created: created})
	}
	var errs []error
	for _, t := range order {
		err := t.ensure(ctx)
		var added int64
		if err == nil {
			added, err = t.insert(ctx, groups[t])
		}
		if err != nil {
			m.insertErrors.Inc()
			errs = append(errs, fmt.Errorf("logger: %w", err))
			continue
		}
		m.inserted.Add(float64(added))
	}
	return errors.Join(errs...)
}

var (
	_ module.Module       = (*Module)(nil)
	_ module.ReadyChecker = (*Module)(nil)
	_ module.Diagnoser    = (*Module)(nil)
	_ module.LogSink      = (*Module)(nil)
)
