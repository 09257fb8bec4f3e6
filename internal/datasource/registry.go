package datasource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	// The drivers of every provider HandStack supports.
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/microsoft/go-mssqldb"
	_ "github.com/sijms/go-ora/v2"
	_ "modernc.org/sqlite"

	"github.com/ack-dev/ack/internal/dialect"
)

// Config is one entry of HandStack's DataSource list.
type Config struct {
	ApplicationID             string `json:"ApplicationID"`
	ProjectID                 string `json:"ProjectID"`
	DataSourceID              string `json:"DataSourceID"`
	DataProvider              string `json:"DataProvider"`
	ConnectionString          string `json:"ConnectionString"`
	IsEncryption              any    `json:"IsEncryption"`
	TransactionIsolationLevel string `json:"TransactionIsolationLevel"`
	Comment                   string `json:"Comment"`
}

// Source is a resolved data source.
type Source struct {
	ApplicationID string
	ProjectIDs    []string // "*" matches every project
	DataSourceID  string
	Provider      dialect.Provider
	Isolation     sql.IsolationLevel
	Target        Target
	// Implicit is set for an embedded SQLite file made up for a DataSourceID
	// that has no configuration.
	Implicit bool
}

// Name identifies the source in logs and errors (never the DSN, which may
// hold a password).
func (s *Source) Name() string { return s.ApplicationID + "/" + s.DataSourceID }

// PoolOptions size every pool.
type PoolOptions struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// Registry holds the configured data sources and one pool per distinct
// target. Pools are opened on first use and live until Close, across
// contract reloads. Safe for concurrent use.
type Registry struct {
	sources     []*Source
	implicitDir string // "" turns implicit SQLite off
	pool        PoolOptions

	mu       sync.Mutex
	implicit map[string]*Source // by app + "\x00" + data source ID
	dbs      map[Target]*sql.DB
	closed   bool
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// NewRegistry validates cfgs and builds a registry. baseDir resolves relative
// SQLite paths; implicitDir, when not empty, is where a DataSourceID without
// configuration gets an SQLite file (<implicitDir>/<app>/<id>.db).
func NewRegistry(cfgs []Config, baseDir, implicitDir string, pool PoolOptions) (*Registry, error) {
	r := &Registry{implicitDir: implicitDir, pool: pool, implicit: map[string]*Source{}, dbs: map[Target]*sql.DB{}}
	var errs []error
	for i, c := range cfgs {
		src, err := newSource(c, baseDir)
		if err != nil {
			errs = append(errs, fmt.Errorf("DataSource[%d] %s/%s: %w", i, c.ApplicationID, c.DataSourceID, err))
			continue
		}
		r.sources = append(r.sources, src)
	}
	return r, errors.Join(errs...)
}

func newSource(c Config, baseDir string) (*Source, error) {
	if c.ApplicationID == "" || c.DataSourceID == "" {
		return nil, errors.New("ApplicationID and DataSourceID are required")
	}
	p, err := dialect.ParseProvider(c.DataProvider)
	if err != nil {
		return nil, err
	}
	if isTrue(fmt.Sprint(c.IsEncryption)) {
		return nil, errors.New("encrypted connection strings (IsEncryption) are not supported; reference a secret with ${ENV_VAR} instead")
	}
	conn := envRef.ReplaceAllStringFunc(c.ConnectionString, func(m string) string {
		return os.Getenv(envRef.FindStringSubmatch(m)[1])
	})
	t, err := Translate(p, conn, baseDir)
	if err != nil {
		return nil, err
	}
	iso, err := ParseIsolation(c.TransactionIsolationLevel)
	if err != nil {
		return nil, err
	}
	projects := []string{"*"}
	if pid := strings.TrimSpace(c.ProjectID); pid != "" {
		projects = nil
		for _, p := range strings.Split(pid, ",") {
			projects = append(projects, strings.TrimSpace(p))
		}
	}
	return &Source{ApplicationID: c.ApplicationID, ProjectIDs: projects, DataSourceID: c.DataSourceID, Provider: p, Isolation: iso, Target: t}, nil
}

// ParseIsolation reads a .NET IsolationLevel name; "" is the driver default.
func ParseIsolation(s string) (sql.IsolationLevel, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "unspecified":
		return sql.LevelDefault, nil
	case "readuncommitted":
		return sql.LevelReadUncommitted, nil
	case "readcommitted":
		return sql.LevelReadCommitted, nil
	case "repeatableread":
		return sql.LevelRepeatableRead, nil
	case "serializable":
		return sql.LevelSerializable, nil
	case "snapshot":
		return sql.LevelSnapshot, nil
	}
	return 0, fmt.Errorf("isolation level %q: want ReadUncommitted, ReadCommitted, RepeatableRead, Serializable or Snapshot", s)
}

// Sources returns the configured data sources.
func (r *Registry) Sources() []*Source { return r.sources }

// ErrNotFound means that no data source is configured for a statement and
// implicit SQLite is off.
var ErrNotFound = errors.New("no data source configured")

// Resolve finds the data source of (app, project, id): the entry for the
// application and data source whose ProjectID list holds the project or *,
// else an implicit SQLite file when that is on. created reports that the
// implicit source was made by this call.
func (r *Registry) Resolve(app, project, id string) (src *Source, created bool, err error) {
	for _, s := range r.sources {
		if s.ApplicationID == app && s.DataSourceID == id && (slices.Contains(s.ProjectIDs, "*") || slices.Contains(s.ProjectIDs, project)) {
			return s, false, nil
		}
	}
	if r.implicitDir == "" || !safeName(app) || !safeName(id) {
		return nil, false, fmt.Errorf("%w for %s/%s (project %s)", ErrNotFound, app, id, project)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := app + "\x00" + id
	if s, ok := r.implicit[key]; ok {
		return s, false, nil
	}
	path := filepath.Join(r.implicitDir, app, id+".db")
	t, err := Translate(dialect.SQLite, "Data Source="+path, "")
	if err != nil {
		return nil, false, err
	}
	s := &Source{ApplicationID: app, ProjectIDs: []string{"*"}, DataSourceID: id, Provider: dialect.SQLite, Target: t, Implicit: true}
	r.implicit[key] = s
	return s, true, nil
}

// safeName keeps made-up file names inside the data directory.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\:`+"\x00")
}

// DB returns the pool of src, opening it on first use.
func (r *Registry) DB(src *Source) (*sql.DB, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("data sources are closed")
	}
	if db, ok := r.dbs[src.Target]; ok {
		return db, nil
	}
	db, err := Open(src.Target, r.pool)
	if err != nil {
		return nil, fmt.Errorf("data source %s: %w", src.Name(), err)
	}
	r.dbs[src.Target] = db
	return db, nil
}

// DefaultPool is the pool policy of a module that has no pool settings:
// dbclient's defaults.
var DefaultPool = PoolOptions{MaxOpenConns: 20, MaxIdleConns: 5, ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}

// Open opens a pool on t, the one way ack opens a database: an SQLite file
// and its directory are created (as HandStack does on first use) and its
// connections retry a fresh file's switch to WAL; the pool is sized by p.
func Open(t Target, p PoolOptions) (*sql.DB, error) {
	var db *sql.DB
	if t.Driver == "sqlite" {
		if t.Path != "" && t.Path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
				return nil, err
			}
		}
		c, err := newSQLiteConnector(t)
		if err != nil {
			return nil, err
		}
		db = sql.OpenDB(c)
	} else {
		var err error
		if db, err = sql.Open(t.Driver, t.DSN); err != nil {
			return nil, err
		}
	}
	if p.MaxOpenConns > 0 {
		db.SetMaxOpenConns(p.MaxOpenConns)
	}
	if p.MaxIdleConns > 0 {
		db.SetMaxIdleConns(p.MaxIdleConns)
	}
	db.SetConnMaxLifetime(p.ConnMaxLifetime)
	db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
	return db, nil
}

// Ping checks that src answers.
func (r *Registry) Ping(ctx context.Context, src *Source) error {
	db, err := r.DB(src)
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// Close closes every pool.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for _, db := range r.dbs {
		errs = append(errs, db.Close())
	}
	r.dbs = map[Target]*sql.DB{}
	return errors.Join(errs...)
}
