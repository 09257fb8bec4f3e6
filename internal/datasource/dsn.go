// Package datasource turns HandStack data source settings (DataProvider plus
// an ADO.NET connection string) into Go database handles: it translates the
// connection string into the Go driver's DSN, resolves which configured data
// source a statement uses, and keeps one long-lived pool per data source.
package datasource

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	goora "github.com/sijms/go-ora/v2"

	"github.com/ack-dev/ack/internal/dialect"
)

// ParseConnectionString splits an ADO.NET connection string ("Key=Value;...")
// into lower-cased keys with blanks removed ("User ID" -> "userid"). Values
// may be quoted with ' or " (a doubled quote inside stands for itself).
func ParseConnectionString(s string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ';' || s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, fmt.Errorf("connection string: %q has no '='", strings.TrimSpace(s[i:]))
		}
		key := strings.ToLower(strings.Join(strings.Fields(s[i:i+eq]), ""))
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val string
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			var b strings.Builder
			i++
			for ; i < len(s); i++ {
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						b.WriteByte(q)
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("connection string: unterminated quote in %s", key)
			}
			i++
			val = b.String()
			if semi := strings.IndexByte(s[i:], ';'); semi >= 0 {
				i += semi + 1
			} else {
				i = len(s)
			}
		} else {
			semi := strings.IndexByte(s[i:], ';')
			if semi < 0 {
				semi = len(s) - i
			}
			val = strings.TrimSpace(s[i : i+semi])
			i += semi + 1
		}
		if key == "" {
			return nil, errors.New("connection string: empty key")
		}
		out[key] = val
	}
	return out, nil
}

func first(kv map[string]string, keys ...string) string {
	for _, k := range keys {
		if v, ok := kv[k]; ok {
			return v
		}
	}
	return ""
}

// Target is a translated data source: the database/sql driver name and DSN.
type Target struct {
	Driver string
	DSN    string
	// Path is the database file for SQLite ("" otherwise).
	Path string
	// BusyTimeout is how long an SQLite connection waits for a lock.
	BusyTimeout time.Duration
}

// Translate converts an ADO.NET connection string for provider p. baseDir is
// where a relative SQLite path resolves (for module.json settings, DIR/app).
func Translate(p dialect.Provider, conn, baseDir string) (Target, error) {
	switch p {
	case dialect.PostgreSQL:
		if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
			return Target{Driver: "pgx", DSN: conn}, nil
		}
	case dialect.MySQL:
		if strings.Contains(conn, "@tcp(") || strings.Contains(conn, "@unix(") {
			cfg, err := mysql.ParseDSN(conn)
			if err != nil {
				return Target{}, fmt.Errorf("mysql DSN: %w", err)
			}
			return Target{Driver: "mysql", DSN: mysqlDSN(cfg)}, nil
		}
	}
	kv, err := ParseConnectionString(conn)
	if err != nil {
		return Target{}, err
	}
	switch p {
	case dialect.SQLite:
		return sqliteTarget(kv, baseDir)
	case dialect.PostgreSQL:
		return postgresTarget(kv)
	case dialect.MySQL:
		return mysqlTarget(kv)
	case dialect.SQLServer:
		return sqlServerTarget(kv)
	case dialect.Oracle:
		return oracleTarget(kv)
	}
	return Target{}, fmt.Errorf("unknown provider %q", p)
}

func sqliteTarget(kv map[string]string, baseDir string) (Target, error) {
	path := first(kv, "uri", "datasource", "filename")
	path = strings.TrimPrefix(path, "file://")
	path = strings.TrimPrefix(path, "file:")
	if path == "" {
		return Target{}, errors.New("SQLite connection string needs URI=file:<path> or Data Source=<path>")
	}
	if path != ":memory:" {
		path = os.Expand(path, os.Getenv)
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		path = filepath.Clean(path)
	}
	// HandStack's samples say "Journal Mode=Off", which makes ROLLBACK
	// unreliable; ack uses WAL unless another mode is asked for explicitly.
	journal := strings.ToUpper(first(kv, "journalmode"))
	if journal == "" || journal == "OFF" {
		journal = "WAL"
	}
	switch journal {
	case "WAL", "DELETE", "TRUNCATE", "PERSIST", "MEMORY":
	default:
		return Target{}, fmt.Errorf("SQLite Journal Mode %q: want Wal, Delete, Truncate, Persist, Memory or Off", first(kv, "journalmode"))
	}
	busy := 5000
	if v := first(kv, "busytimeout", "defaulttimeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Target{}, fmt.Errorf("SQLite Busy Timeout %q is not a number", v)
		}
		if _, ok := kv["defaulttimeout"]; ok && kv["busytimeout"] == "" {
			n *= 1000 // Default Timeout is in seconds
		}
		busy = n
	}
	fk := first(kv, "foreignkeys")
	return sqliteFile(path, journal, time.Duration(busy)*time.Millisecond, fk != "" && isTrue(fk), isTrue(first(kv, "readonly"))), nil
}

// SQLiteFile is the target of an SQLite database file that ack keeps for
// itself (a module's metadata), with the data sources' settings: WAL, a 5 s
// busy timeout, immediate transactions.
func SQLiteFile(path string) Target {
	return sqliteFile(filepath.Clean(path), "WAL", 5*time.Second, false, false)
}

func sqliteFile(path, journal string, busy time.Duration, foreignKeys, readOnly bool) Target {
	q := url.Values{}
	q.Add("_pragma", "journal_mode("+journal+")")
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	if foreignKeys {
		q.Add("_pragma", "foreign_keys(1)")
	}
	if readOnly {
		q.Set("mode", "ro")
	}
	// Writers take the lock at BEGIN, so two transactions never deadlock on
	// a read-to-write upgrade (and a check followed by a write in one
	// transaction cannot interleave with another writer); busy_timeout then
	// queues them.
	q.Set("_txlock", "immediate")
	return Target{Driver: "sqlite", DSN: "file:" + path + "?" + q.Encode(), Path: path, BusyTimeout: busy}
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "y", "on":
		return true
	}
	return false
}

func splitHostPort(hostport, defPort string) (string, string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	if h, p, ok := strings.Cut(hostport, ","); ok { // SQL Server "host,port"
		return strings.TrimSpace(h), strings.TrimSpace(p)
	}
	return hostport, defPort
}

func postgresTarget(kv map[string]string) (Target, error) {
	host, port := splitHostPort(first(kv, "host", "server", "datasource"), "5432")
	if p := first(kv, "port"); p != "" {
		port = p
	}
	if host == "" {
		host = "localhost"
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, port), Path: "/" + first(kv, "database", "initialcatalog")}
	if user := first(kv, "userid", "username", "user", "uid"); user != "" {
		u.User = url.UserPassword(user, first(kv, "password", "pwd"))
	}
	q := url.Values{}
	if ssl := first(kv, "sslmode"); ssl != "" {
		q.Set("sslmode", strings.ToLower(ssl))
	}
	timeout := first(kv, "timeout")
	if timeout == "" {
		timeout = "15" // Npgsql's default, in seconds
	}
	q.Set("connect_timeout", timeout)
	if app := first(kv, "applicationname"); app != "" {
		q.Set("application_name", app)
	}
	u.RawQuery = q.Encode()
	return Target{Driver: "pgx", DSN: u.String()}, nil
}

func mysqlTarget(kv map[string]string) (Target, error) {
	cfg := mysql.NewConfig()
	host, port := splitHostPort(first(kv, "server", "host", "datasource", "address"), "3306")
	if p := first(kv, "port"); p != "" {
		port = p
	}
	if host == "" {
		host = "localhost"
	}
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.User = first(kv, "uid", "userid", "username", "user")
	cfg.Passwd = first(kv, "pwd", "password")
	cfg.DBName = first(kv, "database", "initialcatalog")
	switch strings.ToLower(first(kv, "sslmode")) {
	case "", "none", "disabled":
	case "preferred":
		cfg.TLSConfig = "preferred"
	case "required":
		cfg.TLSConfig = "skip-verify"
	default:
		cfg.TLSConfig = "true"
	}
	if cs := first(kv, "charset", "characterset"); cs != "" {
		cfg.Params = map[string]string{"charset": cs}
	}
	if t := first(kv, "connectiontimeout", "connecttimeout"); t != "" {
		if n, err := strconv.Atoi(t); err == nil {
			cfg.Timeout = time.Duration(n) * time.Second
		}
	}
	return Target{Driver: "mysql", DSN: mysqlDSN(cfg)}, nil
}

// mysqlDSN sets what dbclient needs from every MySQL connection: several
// statements per call (contracts rely on it), client-side placeholders (so
// that multi-statement text can carry parameters) and no time parsing
// (values come back as text, as HandStack's JSON shows them).
func mysqlDSN(cfg *mysql.Config) string {
	cfg.MultiStatements = true
	cfg.InterpolateParams = true
	cfg.ParseTime = false
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	return cfg.FormatDSN()
}

func sqlServerTarget(kv map[string]string) (Target, error) {
	server := first(kv, "datasource", "server", "address", "addr", "networkaddress")
	server = strings.TrimPrefix(server, "tcp:")
	if server == "" {
		return Target{}, errors.New("SqlServer connection string needs Data Source or Server")
	}
	if isTrue(first(kv, "integratedsecurity", "trustedconnection")) || strings.EqualFold(first(kv, "integratedsecurity"), "sspi") {
		return Target{}, errors.New("SqlServer Integrated Security is not supported; use User ID and Password")
	}
	instance := ""
	if h, inst, ok := strings.Cut(server, `\`); ok {
		server, instance = h, inst
	}
	host, port := splitHostPort(server, "")
	if host == "." || strings.EqualFold(host, "(local)") {
		host = "localhost"
	}
	u := url.URL{Scheme: "sqlserver", Host: host}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	}
	if instance != "" {
		u.Path = "/" + instance
	}
	if user := first(kv, "userid", "uid", "user", "username"); user != "" {
		u.User = url.UserPassword(user, first(kv, "password", "pwd"))
	}
	q := url.Values{}
	if db := first(kv, "initialcatalog", "database"); db != "" {
		q.Set("database", db)
	}
	if v := first(kv, "encrypt"); v != "" {
		q.Set("encrypt", strings.ToLower(v))
	}
	if isTrue(first(kv, "trustservercertificate")) {
		q.Set("TrustServerCertificate", "true")
	}
	timeout := first(kv, "connectiontimeout", "connecttimeout", "timeout")
	if timeout == "" {
		timeout = "15"
	}
	q.Set("connection timeout", timeout)
	if app := first(kv, "applicationname", "app"); app != "" {
		q.Set("app name", app)
	}
	u.RawQuery = q.Encode()
	return Target{Driver: "sqlserver", DSN: u.String()}, nil
}

func oracleTarget(kv map[string]string) (Target, error) {
	ds := first(kv, "datasource", "server")
	if ds == "" {
		return Target{}, errors.New("Oracle connection string needs Data Source")
	}
	user, password := first(kv, "userid", "uid", "user"), first(kv, "password", "pwd")
	opts := map[string]string{}
	var host, service string
	port := 1521
	if strings.HasPrefix(strings.TrimSpace(ds), "(") {
		d := tnsValues(ds)
		host, service = d["host"], d["service_name"]
		if p, err := strconv.Atoi(d["port"]); err == nil {
			port = p
		}
		if service == "" && d["sid"] != "" {
			opts["SID"] = d["sid"]
		}
	} else {
		// EZConnect: host[:port][/service]
		hp, svc, _ := strings.Cut(ds, "/")
		service = svc
		h, p := splitHostPort(hp, "1521")
		host = h
		n, err := strconv.Atoi(p)
		if err != nil {
			return Target{}, fmt.Errorf("Oracle Data Source %q: bad port", ds)
		}
		port = n
	}
	if host == "" {
		return Target{}, fmt.Errorf("Oracle Data Source %q has no HOST", ds)
	}
	if t := first(kv, "connectiontimeout"); t != "" {
		opts["TIMEOUT"] = t
	}
	if len(opts) == 0 {
		opts = nil // BuildUrl writes a dangling "?" for an empty map
	}
	return Target{Driver: "oracle", DSN: goora.BuildUrl(host, port, service, user, password, opts)}, nil
}

// tnsValues reads KEY=value pairs of a TNS descriptor, lower-cased keys,
// first occurrence wins.
func tnsValues(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, "(") {
		part = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(part), ")"))
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, seen := out[k]; !seen {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}
