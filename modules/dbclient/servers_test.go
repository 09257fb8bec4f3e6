package dbclient_test

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/wire"
)

// startServerBoard runs ack's dialect versions of the board contracts
// (testdata/<dir>) against a real server and seeds the table.
func startServerBoard(t *testing.T, dir, dsID, provider, conn string) *env {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", dir))
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, map[string]any{
		"ContractBasePath": []string{root},
		"ImplicitSQLite":   false,
		"DataSource": []map[string]any{{
			"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": dsID, "DataProvider": provider, "ConnectionString": conn,
		}},
	}, nil)
	resp := e.ok(t, request(q("HDS|BOD|BOD010|ZD0100", nil)))
	if string(resp.ResultJSON) != "[]" {
		t.Fatalf("ZD01: %s", resp.ResultJSON)
	}
	return e
}

var dateTimeJSON = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?$`)

// boardOperations is the board scenario every provider must pass.
func boardOperations(t *testing.T, e *env) {
	rows := grid(t, e.ok(t, request(list("", ""))), "GridData0")
	if len(rows) != 90 || rows[0]["ID"] != 90.0 || rows[0]["EditPost"] != "확인" {
		t.Fatalf("LD01: %d rows (want 90, ID 90 first): %.300v", len(rows), rows)
	}
	if n := len(grid(t, e.ok(t, request(list("정보", ""))), "GridData0")); n != 30 {
		t.Errorf("Category=정보: %d rows, want 30", n)
	}
	if n := len(grid(t, e.ok(t, request(list("", "제목1"))), "GridData0")); n != 33 {
		t.Errorf("Title=제목1: %d rows, want 33", n)
	}

	// An INSERT followed by a SELECT in one statement returns the new key.
	resp := e.ok(t, request(q("HDS|BOD|BOD011|ID0100", []wire.JSONObjectType{wire.FormJSON},
		"Category", "소식", "Title", "새 글", "Content", "본문", "Author", "ack", "CreateDate", "", "Price", "1234567890.50")))
	// (MariaDB may leave gaps in AUTO_INCREMENT after a multi-row insert.)
	newID, ok := form(t, resp, "FormData0")["NewID"].(float64)
	if !ok || newID < 91 {
		t.Fatalf("ID01: %s", resp.ResultJSON)
	}
	id := fmt.Sprint(newID)
	detailResp := func() *wire.DynamicResponse {
		return e.ok(t, request(q("HDS|BOD|BOD012|GD0100", []wire.JSONObjectType{wire.FormJSON}, "ID", id)))
	}
	resp = detailResp()
	got := form(t, resp, "FormData0")
	if got["Title"] != "새 글" || got["ID"] != newID {
		t.Fatalf("GD01: %v", got)
	}
	// Exact decimals, .NET date formats.
	if !strings.Contains(string(resp.ResultJSON), `"Price":1234567890.50`) {
		t.Errorf("Price is not exact: %s", resp.ResultJSON)
	}
	if s, _ := got["DatePosted"].(string); !dateTimeJSON.MatchString(s) {
		t.Errorf("DatePosted %q is not yyyy-MM-ddTHH:mm:ss[.fffffff]", got["DatePosted"])
	}
	if s, _ := got["Day"].(string); len(s) != 10 {
		t.Errorf("Day %q is not yyyy-MM-dd", got["Day"])
	}
	if !strings.Contains(resp.ResultMeta[0], "ID:number;") || !strings.Contains(resp.ResultMeta[0], "Price:numeric;") || !strings.Contains(resp.ResultMeta[0], "DatePosted:date;") {
		t.Errorf("meta %q", resp.ResultMeta[0])
	}

	e.ok(t, request(q("HDS|BOD|BOD012|UD0100", nil, "ID", id, "Category", "강좌", "Title", "고친 글", "Content", "c", "Author", "ack")))
	if got := form(t, detailResp(), "FormData0"); got["Title"] != "고친 글" {
		t.Errorf("after UD01: %v", got)
	}
	e.ok(t, request(q("HDS|BOD|BOD012|DD0100", nil, "ID", id)))
	if got := form(t, detailResp(), "FormData0"); len(got) != 0 {
		t.Errorf("after DD01: %v", got)
	}

	// All or nothing.
	insert := q("HDS|BOD|BOD011|ID0100", nil, "Category", "정보", "Title", "atomic", "Content", "c", "Author", "a", "CreateDate", "", "Price", "1")
	req := request(insert, q("HDS|BOD|BOD012|XD0100", nil))
	req.IsTransaction = true
	if resp := e.call(t, req); resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.query_failed" {
		t.Fatalf("failing transaction: %+v", resp)
	}
	if n := len(grid(t, e.ok(t, request(list("", "atomic"))), "GridData0")); n != 0 {
		t.Errorf("IsTransaction=true kept %d rows", n)
	}
}

func TestPostgreSQLBoard(t *testing.T) {
	dsn := acktest.ServerDSN(t, "ACK_TEST_PG_DSN")
	e := startServerBoard(t, "postgresql", "DB05", "PostgreSQL", acktest.NpgsqlConnectionString(t, dsn)+"Application Name=ack-dbclient-test;")
	boardOperations(t, e)

	// Connections killed behind the pool's back are replaced without a restart.
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRowContext(t.Context(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'ack-dbclient-test' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no pooled connection to terminate")
	}
	failures := 0
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := e.call(t, request(q("HDS|BOD|BOD012|GD0100", nil, "ID", "1")))
		if resp.Acknowledge == 1 {
			break
		}
		failures++
		if resp.ErrorCode != "dbclient.datasource_unavailable" && resp.ErrorCode != "dbclient.query_failed" {
			t.Fatalf("after pg_terminate_backend: %+v", resp)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %d tries: %s", failures, resp.ExceptionText)
		}
	}
	if failures > killed {
		t.Errorf("%d failed requests for %d killed connections", failures, killed)
	}
}

// TestPostgreSQLRestart stops and starts the local PostgreSQL cluster, so it
// runs only when ACK_TEST_PG_CONTROL=1 says it may.
func TestPostgreSQLRestart(t *testing.T) {
	dsn := acktest.ServerDSN(t, "ACK_TEST_PG_DSN")
	if os.Getenv("ACK_TEST_PG_CONTROL") != "1" {
		t.Skip("set ACK_TEST_PG_CONTROL=1 to let this test stop and start the local PostgreSQL (pg_ctlcluster 15 main)")
	}
	e := startServerBoard(t, "postgresql", "DB05", "PostgreSQL", acktest.NpgsqlConnectionString(t, dsn)+"Application Name=ack-dbclient-test;")
	ctl := func(action string) {
		if out, err := exec.Command("pg_ctlcluster", "15", "main", action).CombinedOutput(); err != nil {
			t.Fatalf("pg_ctlcluster %s: %v: %s", action, err, out)
		}
	}
	ctl("stop")
	t.Cleanup(func() { _ = exec.Command("pg_ctlcluster", "15", "main", "start").Run() })
	begin := time.Now()
	resp := e.call(t, request(q("HDS|BOD|BOD012|GD0100", nil, "ID", "1")))
	if resp.Acknowledge != 0 || resp.ErrorCode != "dbclient.datasource_unavailable" {
		t.Fatalf("server down: %+v", resp)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("the error took %v", d)
	}
	if strings.Contains(resp.ExceptionText, "127.0.0.1") || strings.Contains(resp.ExceptionText, "password") {
		t.Errorf("ExceptionText leaks connection details: %q", resp.ExceptionText)
	}
	ctl("start")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp := e.call(t, request(q("HDS|BOD|BOD012|GD0100", nil, "ID", "1"))); resp.Acknowledge == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not working again 30s after the server came back")
		}
	}
}

func TestMySQLBoard(t *testing.T) {
	dsn := acktest.ServerDSN(t, "ACK_TEST_MYSQL_DSN")
	e := startServerBoard(t, "mysql", "DB04", "MySQL", acktest.MySQLConnectionString(t, dsn))
	boardOperations(t, e)
}
