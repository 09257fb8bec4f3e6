package acktest

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// ServerDSN returns the DSN of the database server that environment
// variable env names (ACK_TEST_PG_DSN, ACK_TEST_MYSQL_DSN; eval "$(scripts/
// start-databases.sh)" sets both), or skips the test (fails it under
// ACK_REQUIRE_ALL=1).
func ServerDSN(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		Require(t, env+" (run: eval \"$(scripts/start-databases.sh)\")")
	}
	return dsn
}

// NpgsqlConnectionString writes a PostgreSQL URL (ACK_TEST_PG_DSN) as the
// Npgsql connection string HandStack's settings hold, ending in ";" so that
// a caller may append keys.
func NpgsqlConnectionString(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("acktest: PostgreSQL URL: %v", err)
	}
	pw, _ := u.User.Password()
	return fmt.Sprintf("Host=%s;Port=%s;Database=%s;User ID=%s;Password=%s;SSL Mode=%s;",
		u.Hostname(), cmp.Or(u.Port(), "5432"), strings.TrimPrefix(u.Path, "/"), u.User.Username(), pw,
		cmp.Or(u.Query().Get("sslmode"), "prefer"))
}

// MySQLConnectionString writes a go-sql-driver DSN (ACK_TEST_MYSQL_DSN) as
// the MySqlConnector connection string HandStack's settings hold.
func MySQLConnectionString(t testing.TB, dsn string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("acktest: MySQL DSN: %v", err)
	}
	host, port, _ := strings.Cut(cfg.Addr, ":")
	return fmt.Sprintf("Server=%s;Port=%s;Uid=%s;Pwd=%s;Database=%s;SslMode=none;Charset=utf8mb4;Allow User Variables=True;",
		host, port, cfg.User, cfg.Passwd, cfg.DBName)
}
