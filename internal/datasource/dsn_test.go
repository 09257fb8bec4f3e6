package datasource_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
)

func TestParseConnectionString(t *testing.T) {
	got, err := datasource.ParseConnectionString(` Data Source = host ; User ID=sa;Password='p;a''ss'; Empty=;Trailing=x;`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"datasource": "host", "userid": "sa", "password": "p;a'ss", "empty": "", "trailing": "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"novalue", "A='unterminated"} {
		if _, err := datasource.ParseConnectionString(bad); err == nil {
			t.Errorf("ParseConnectionString(%q) succeeded", bad)
		}
	}
}

func TestTranslate(t *testing.T) {
	base := filepath.FromSlash("/home/app")
	cases := []struct {
		p      dialect.Provider
		conn   string
		driver string
		dsn    string
	}{
		{dialect.SQLite, "URI=file:../sqlite/HDS/dbclient/HDS.db;Journal Mode=Off;BinaryGUID=False;DateTimeFormat=Ticks;Version=3;",
			"sqlite", "file:/home/sqlite/HDS/dbclient/HDS.db?_pragma=journal_mode%28WAL%29&_pragma=busy_timeout%285000%29&_txlock=immediate"},
		{dialect.SQLite, "Data Source=/abs/x.db;Journal Mode=Delete;Foreign Keys=True;Busy Timeout=100;Read Only=True",
			"sqlite", "file:/abs/x.db?_pragma=journal_mode%28DELETE%29&_pragma=busy_timeout%28100%29&_pragma=foreign_keys%281%29&_txlock=immediate&mode=ro"},
		{dialect.PostgreSQL, "Host=localhost;Port=5432;Database=postgres;User ID=postgres;Password=Strong@Passw0rd;",
			"pgx", "postgres://postgres:Strong%40Passw0rd@localhost:5432/postgres?connect_timeout=15"},
		{dialect.PostgreSQL, "Server=db;Database=x;Username=u;Password=p;SSL Mode=Require;Timeout=3",
			"pgx", "postgres://u:p@db:5432/x?connect_timeout=3&sslmode=require"},
		{dialect.PostgreSQL, "postgres://a:b@h/db", "pgx", "postgres://a:b@h/db"},
		{dialect.MySQL, "Server=localhost;Port=3306;Uid=root;Pwd=Strong@Passw0rd;PersistSecurityInfo=True;SslMode=none;Charset=utf8;Allow User Variables=True;",
			"mysql", "root:Strong@Passw0rd@tcp(localhost:3306)/?interpolateParams=true&multiStatements=true&timeout=15s&charset=utf8"},
		{dialect.MySQL, "ack:ack@tcp(127.0.0.1:3306)/ack_test", "mysql", "ack:ack@tcp(127.0.0.1:3306)/ack_test?interpolateParams=true&multiStatements=true&timeout=15s"},
		{dialect.SQLServer, "Data Source=localhost;TrustServerCertificate=True;Initial Catalog=master;User ID=sa;Password=Strong@Passw0rd;",
			"sqlserver", "sqlserver://sa:Strong%40Passw0rd@localhost?TrustServerCertificate=true&connection+timeout=15&database=master"},
		{dialect.SQLServer, `Server=tcp:db,1433\SQLEXPRESS;Database=d;UID=u;PWD=p;Encrypt=False;Connection Timeout=5`,
			"sqlserver", "sqlserver://u:p@db:1433/SQLEXPRESS?connection+timeout=5&database=d&encrypt=false"},
		{dialect.Oracle, "Data Source=(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=localhost)(PORT=1521))(CONNECT_DATA=(SID=ORCL)));User Id=system;Password=Strong@Passw0rd;",
			"oracle", "oracle://system:Strong@Passw0rd@localhost:1521/?SID=ORCL"},
		{dialect.Oracle, "Data Source=(DESCRIPTION=(ADDRESS=(HOST=db)(PORT=1522))(CONNECT_DATA=(SERVICE_NAME=XEPDB1)));User Id=u;Password=p",
			"oracle", "oracle://u:p@db:1522/XEPDB1"},
		{dialect.Oracle, "Data Source=db:1523/svc;User Id=u;Password=p", "oracle", "oracle://u:p@db:1523/svc"},
	}
	for _, tc := range cases {
		got, err := datasource.Translate(tc.p, tc.conn, base)
		if err != nil {
			t.Errorf("%s %q: %v", tc.p, tc.conn, err)
			continue
		}
		if got.Driver != tc.driver || got.DSN != tc.dsn {
			t.Errorf("%s %q:\n got  %s %s\n want %s %s", tc.p, tc.conn, got.Driver, got.DSN, tc.driver, tc.dsn)
		}
	}
	for _, bad := range []struct {
		p    dialect.Provider
		conn string
	}{
		{dialect.SQLite, "Version=3"},
		{dialect.SQLite, "Data Source=x.db;Journal Mode=Bogus"},
		{dialect.SQLServer, "Server=x;Integrated Security=SSPI"},
		{dialect.SQLServer, "Database=x"},
		{dialect.Oracle, "User Id=u"},
	} {
		if _, err := datasource.Translate(bad.p, bad.conn, base); err == nil {
			t.Errorf("Translate(%s, %q) succeeded", bad.p, bad.conn)
		}
	}
}

func TestRegistryResolve(t *testing.T) {
	dir := t.TempDir()
	r, err := datasource.NewRegistry([]datasource.Config{
		{ApplicationID: "HDS", ProjectID: "BOD,SYS", DataSourceID: "DB01", DataProvider: "SQLite", ConnectionString: "URI=file:db/one.db"},
		{ApplicationID: "HDS", ProjectID: "*", DataSourceID: "DB02", DataProvider: "SQLite", ConnectionString: "URI=file:db/two.db", TransactionIsolationLevel: "Serializable"},
	}, dir, "", datasource.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	src, _, err := r.Resolve("HDS", "BOD", "DB01")
	if err != nil || src.Target.Path != filepath.Join(dir, "db", "one.db") {
		t.Fatalf("Resolve DB01: %+v, %v", src, err)
	}
	if _, _, err := r.Resolve("HDS", "XYZ", "DB01"); !errors.Is(err, datasource.ErrNotFound) {
		t.Errorf("project outside the list: %v", err)
	}
	if src, _, err := r.Resolve("HDS", "XYZ", "DB02"); err != nil || src.Isolation != sql.LevelSerializable {
		t.Errorf("Resolve DB02: %+v, %v", src, err)
	}
	if err := r.Ping(t.Context(), src); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, _, err := r.Resolve("HDS", "BOD", "NOPE"); !errors.Is(err, datasource.ErrNotFound) {
		t.Errorf("unknown data source without implicit SQLite: %v", err)
	}
}

func TestRegistryImplicit(t *testing.T) {
	dir := t.TempDir()
	r, err := datasource.NewRegistry(nil, dir, filepath.Join(dir, "data"), datasource.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	src, created, err := r.Resolve("APP", "P", "DB09")
	if err != nil || !created || !src.Implicit || src.Target.Path != filepath.Join(dir, "data", "APP", "DB09.db") {
		t.Fatalf("implicit: %+v created=%v err=%v", src, created, err)
	}
	again, created, _ := r.Resolve("APP", "Q", "DB09")
	if again != src || created {
		t.Errorf("second resolve made a new source")
	}
	if _, _, err := r.Resolve("..", "P", "DB"); err == nil {
		t.Errorf("implicit source outside the data directory")
	}
	db, err := r.DB(src)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestRegistryErrors(t *testing.T) {
	_, err := datasource.NewRegistry([]datasource.Config{
		{ApplicationID: "A", DataSourceID: "D", DataProvider: "DB2", ConnectionString: "x=y"},
		{ApplicationID: "A", DataSourceID: "E", DataProvider: "SQLite", ConnectionString: "Data Source=x", IsEncryption: "Y"},
		{ApplicationID: "A", DataSourceID: "F", DataProvider: "SQLite", ConnectionString: "Data Source=x", TransactionIsolationLevel: "Chaos"},
	}, "/", "", datasource.PoolOptions{})
	if err == nil {
		t.Fatal("no error for three bad entries")
	}
	for _, want := range []string{"A/D", "A/E", "A/F"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestDriversRegistered(t *testing.T) {
	drivers := strings.Join(sql.Drivers(), ",")
	for _, d := range []string{"sqlite", "pgx", "mysql", "sqlserver", "oracle"} {
		if !strings.Contains(","+drivers+",", ","+d+",") {
			t.Errorf("driver %q is not registered (have %s)", d, drivers)
		}
	}
	// SQL Server and Oracle cannot run here; their DSNs must at least open.
	for _, p := range []dialect.Provider{dialect.SQLServer, dialect.Oracle} {
		conn := map[dialect.Provider]string{
			dialect.SQLServer: "Data Source=localhost;Initial Catalog=master;User ID=sa;Password=x;",
			dialect.Oracle:    "Data Source=localhost:1521/XE;User Id=system;Password=x;",
		}[p]
		tg, err := datasource.Translate(p, conn, "/")
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open(tg.Driver, tg.DSN)
		if err != nil {
			t.Errorf("%s: sql.Open: %v", p, err)
			continue
		}
		db.Close()
	}
}
