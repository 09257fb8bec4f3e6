package logger

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// provider is a storage engine the logger writes to.
type provider string

const (
	providerSQLite   provider = "SQLite"
	providerPostgres provider = "PostgreSQL"
)

// errUnsupportedProvider marks a HandStack provider ack's logger does not
// write to (yet).
var errUnsupportedProvider = errors.New("not supported by ack's logger")

func parseProvider(s string) (provider, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sqlite", "":
		return providerSQLite, nil
	case "postgresql", "postgres", "npgsql":
		return providerPostgres, nil
	case "sqlserver", "mysql", "oracle":
		return "", fmt.Errorf("DataProvider %s: %w", s, errUnsupportedProvider)
	default:
		return "", fmt.Errorf("unknown DataProvider %q (want SQLite or PostgreSQL)", s)
	}
}

// adoPairs splits an ADO.NET connection string ("Key=Value;Key2=Value2")
// into pairs keyed by the lower-cased key without spaces.
func adoPairs(conn string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(conn, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(k), " ", ""))
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// sqlitePath returns the database file named by a HandStack SQLite connection
// string ("URI=file:../sqlite/app.db;Journal Mode=Off", "Data Source=app.db")
// or by a bare path. The path may still be relative.
func sqlitePath(conn string) (string, error) {
	conn = strings.TrimSpace(conn)
	if !strings.Contains(conn, "=") {
		if conn == "" {
			return "", errors.New("SQLite connection string is empty")
		}
		return strings.TrimPrefix(conn, "file:"), nil
	}
	kv := adoPairs(conn)
	for _, k := range []string{"uri", "datasource", "filename"} {
		if v := kv[k]; v != "" {
			v = strings.TrimPrefix(v, "file://")
			v = strings.TrimPrefix(v, "file:")
			if i := strings.IndexByte(v, '?'); i >= 0 {
				v = v[:i]
			}
			if v == "" || v == ":memory:" {
				break
			}
			return v, nil
		}
	}
	return "", errors.New("SQLite connection string names no file (URI=file:... or Data Source=...)")
}

// sqliteDSN is the modernc.org/sqlite DSN of a database file: WAL so that
// list queries do not block inserts, a busy timeout instead of SQLITE_BUSY,
// and write transactions that take the lock up front.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// postgresDSN turns an Npgsql connection string ("Host=db;Port=5432;
// Database=logs;Username=u;Password=p") into a pgx URL. A URL passes through;
// a string without ';' is taken as pgx keyword/value ("host=db dbname=logs").
func postgresDSN(conn string) (string, error) {
	conn = strings.TrimSpace(conn)
	switch {
	case conn == "":
		return "", errors.New("PostgreSQL connection string is empty")
	case strings.Contains(conn, "://"):
		return conn, nil
	case !strings.Contains(conn, ";"):
		return conn, nil
	}
	kv := adoPairs(conn)
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := kv[k]; v != "" {
				return v
			}
		}
		return ""
	}
	host := strings.Trim(first("host", "server", "datasource"), "[]")
	if host == "" {
		return "", errors.New("PostgreSQL connection string names no Host")
	}
	if port := first("port"); port != "" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", fmt.Errorf("PostgreSQL connection string: Port %q is not a port number", port)
		}
		host = net.JoinHostPort(host, port)
	}
	u := url.URL{Scheme: "postgres", Host: host, Path: "/" + first("database", "initialcatalog", "db")}
	if user := first("username", "userid", "user", "uid"); user != "" {
		if pw := first("password", "pwd"); pw != "" {
			u.User = url.UserPassword(user, pw)
		} else {
			u.User = url.User(user)
		}
	}
	q := url.Values{}
	if v := first("sslmode"); v != "" {
		q.Set("sslmode", strings.ToLower(v))
	}
	if v := first("timeout", "connecttimeout"); v != "" {
		q.Set("connect_timeout", v)
	}
	if v := first("searchpath"); v != "" {
		q.Set("search_path", v)
	}
	u.RawQuery = q.Encode()
	// The text goes to pgx, which parses it back: refuse what it could not.
	// (The parse error would quote the password, so it is not wrapped.)
	if _, err := url.Parse(u.String()); err != nil {
		return "", errors.New("PostgreSQL connection string: Host or Database is not valid in a URL")
	}
	return u.String(), nil
}
