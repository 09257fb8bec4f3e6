// Package dbclient is HandStack's dbclient module: it runs the SQL
// statements of contract files (contracts/dbclient/**/*.xml) for
// DynamicRequests from transact, in-process through Execute or over HTTP at
// POST /dbclient/api/query, and answers HandStack's DynamicResponse.
//
// Statements are parsed once per file load (package sqlmap), rendered per
// request (package dynsql), converted to each provider's placeholders and
// statement batches (package dialect) and run on long-lived pools (package
// datasource).
package dbclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/dbclient/dynsql"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// Info describes the dbclient module to the host.
func Info() module.Info {
	return module.Info{ID: module.DBClient, New: func() module.Module { return &Module{} }}
}

// Module is the dbclient module.
type Module struct {
	log     *slog.Logger
	cfg     Config
	roots   []string
	store   *contract.Store[*sqlmap.Statement]
	sources *datasource.Registry

	implicitMu     sync.Mutex
	implicitLogged map[string]bool
}

// Provision reads the settings, validates every data source (without
// connecting) and registers the SQL contract store.
func (m *Module) Provision(_ context.Context, h module.Host) error {
	m.log = h.Logger()
	cfg, err := loadConfig(h)
	if err != nil {
		return fmt.Errorf("dbclient: %w", err)
	}
	m.cfg = cfg
	implicitDir := ""
	if cfg.implicitSQLite() {
		implicitDir = filepath.Join(h.Paths().Data, "dbclient")
	}
	m.sources, err = datasource.NewRegistry(cfg.DataSource, h.Config().BaseDir("DataSource"), implicitDir, datasource.PoolOptions{
		MaxOpenConns:    cfg.MaxOpenConns,
		MaxIdleConns:    cfg.MaxIdleConns,
		ConnMaxLifetime: time.Duration(cfg.ConnMaxLifetime) * time.Second,
		ConnMaxIdleTime: 5 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("dbclient: %w", err)
	}
	m.roots, err = h.Config().ContractRoots()
	if err != nil {
		return fmt.Errorf("dbclient: %w", err)
	}
	m.implicitLogged = map[string]bool{}
	m.store = contract.NewStore(sqlKind(m.log), m.roots, contract.Options{Logger: m.log, Watch: cfg.watch()})
	return h.Contracts().Register(m.store)
}

// Start logs the data sources that the loaded statements will get
// implicitly; pools open on first use.
func (m *Module) Start(context.Context) error {
	for _, st := range m.statements() {
		m.resolve(st)
	}
	return nil
}

// Stop closes every pool.
func (m *Module) Stop(context.Context) error {
	if m.sources == nil {
		return nil
	}
	return m.sources.Close()
}

func (m *Module) statements() []*sqlmap.Statement {
	set := m.store.Load()
	out := make([]*sqlmap.Statement, 0, set.Len())
	for _, k := range set.Keys() {
		st, _ := set.Get(k)
		out = append(out, st)
	}
	return out
}

// dataSourceID is the statement's data source, or the module default.
func (m *Module) dataSourceID(st *sqlmap.Statement) string {
	if st.DataSourceID != "" {
		return st.DataSourceID
	}
	return m.cfg.DefaultDataSourceID
}

// resolve finds a statement's data source, logging once when it is an
// implicit SQLite file.
func (m *Module) resolve(st *sqlmap.Statement) (*datasource.Source, error) {
	id := m.dataSourceID(st)
	if id == "" {
		return nil, fmt.Errorf("%w: the statement names no datasource and DefaultDataSourceID is empty", datasource.ErrNotFound)
	}
	src, _, err := m.sources.Resolve(st.ApplicationID, st.ProjectID, id)
	if err != nil {
		return nil, err
	}
	if src.Implicit {
		m.implicitMu.Lock()
		if !m.implicitLogged[src.Name()] {
			m.implicitLogged[src.Name()] = true
			m.log.Warn("data source has no configuration; using an embedded SQLite file (set ImplicitSQLite to false to forbid this)",
				"application_id", src.ApplicationID, "data_source_id", src.DataSourceID, "file", src.Target.Path)
		}
		m.implicitMu.Unlock()
	}
	return src, nil
}

// Ready pings every data source that a loaded statement uses.
func (m *Module) Ready(ctx context.Context) error {
	seen := map[*datasource.Source]bool{}
	g, gctx := errgroup.WithContext(ctx)
	for _, st := range m.statements() {
		src, err := m.resolve(st)
		if err != nil || seen[src] {
			continue // reported by Diagnose and at request time
		}
		seen[src] = true
		g.Go(func() error {
			if err := m.sources.Ping(gctx, src); err != nil {
				return fmt.Errorf("dbclient: data source %s is unreachable: %w", src.Name(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Diagnose reports, for `ack check`, contract warnings (unknown elements,
// ignored attributes, files switched off by their header), transforms ack
// does not implement, and statements whose data source is missing or
// implicit.
func (m *Module) Diagnose(ctx context.Context) []module.Diagnostic {
	var out []module.Diagnostic
	for _, root := range m.roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if !sqlmap.IsContract(rel) {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				out = append(out, module.Diagnostic{File: p, Severity: "error", Message: err.Error()})
				return nil
			}
			sts, warns, _ := sqlmap.Parse(rel, data) // parse errors are reported by the contract store
			for _, w := range warns {
				out = append(out, module.Diagnostic{File: p, Line: w.Line, Severity: "warning", Message: w.Message})
			}
			for _, st := range sts {
				out = append(out, m.diagnoseStatement(p, st)...)
			}
			return nil
		})
		if err != nil {
			out = append(out, module.Diagnostic{File: root, Severity: "error", Message: err.Error()})
		}
	}
	return out
}

func (m *Module) diagnoseStatement(file string, st *sqlmap.Statement) []module.Diagnostic {
	var out []module.Diagnostic
	for _, p := range st.Params {
		if p.Transform != "" && !st.Native && !dynsql.KnownTransform(p.Transform) {
			out = append(out, module.Diagnostic{File: file, Line: st.Line, Severity: "warning",
				Message: fmt.Sprintf("%s: parameter %s: transform %s is not implemented by ack; the value is bound unchanged", st.QueryID(), p.ID, p.Transform)})
		}
	}
	id := m.dataSourceID(st)
	src, err := m.resolve(st)
	switch {
	case err != nil:
		out = append(out, module.Diagnostic{File: file, Line: st.Line, Severity: "error",
			Message: fmt.Sprintf("%s: no data source %q is configured for application %s (DataSource in module.json)", st.QueryID(), id, st.ApplicationID)})
	case src.Implicit:
		out = append(out, module.Diagnostic{File: file, Line: st.Line, Severity: "warning",
			Message: fmt.Sprintf("%s: data source %q has no configuration; it runs on the embedded SQLite file %s", st.QueryID(), id, src.Target.Path)})
	}
	return out
}

var (
	_ module.Module       = (*Module)(nil)
	_ module.Executor     = (*Module)(nil)
	_ module.ReadyChecker = (*Module)(nil)
	_ module.Diagnoser    = (*Module)(nil)
)
