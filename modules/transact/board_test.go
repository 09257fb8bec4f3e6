package transact_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/dbclient"
	"github.com/ack-dev/ack/modules/transact"
)

// boardLayout starts hosts running the fixture board contracts (BOD010-012)
// and returns the host that serves transact. db configures the host that
// runs dbclient (its contracts and data source).
type boardLayout struct {
	name  string
	start func(t testing.TB, transactContracts string, db func(*config.Settings)) *acktest.Host
}

var boardLayouts = []boardLayout{
	{"monolith", func(t testing.TB, tc string, db func(*config.Settings)) *acktest.Host {
		return acktest.Start(t, acktest.Options{
			Modules: []module.Info{transact.Info(), dbclient.Info()},
			Settings: func(s *config.Settings) {
				acktest.SetModuleConfig(t, s, "transact", "ContractBasePath", []string{tc})
				db(s)
			},
		})
	}},
	{"split", func(t testing.TB, tc string, db func(*config.Settings)) *acktest.Host {
		dh := acktest.Start(t, acktest.Options{Modules: []module.Info{dbclient.Info()}, Settings: db})
		return acktest.Start(t, acktest.Options{
			Modules: []module.Info{transact.Info()},
			Settings: func(s *config.Settings) {
				s.Peers = map[string][]string{"dbclient": {dh.URL}}
				acktest.SetModuleConfig(t, s, "transact", "ContractBasePath", []string{tc})
			},
		})
	}},
	{"split-routing-table", func(t testing.TB, tc string, db func(*config.Settings)) *acktest.Host {
		dh := acktest.Start(t, acktest.Options{Modules: []module.Info{dbclient.Info()}, Settings: db})
		return acktest.Start(t, acktest.Options{
			Modules: []module.Info{transact.Info()},
			Settings: func(s *config.Settings) {
				acktest.SetModuleConfig(t, s, "transact", "ContractBasePath", []string{tc})
				acktest.SetModuleConfig(t, s, "transact", "RoutingCommandUri", map[string]string{
					"HDS|*|D|D": dh.URL + "/dbclient/api/query",
					"HDS|*|G|D": "http://localhost:8421/graphclient/api/query",
				})
			},
		})
	}},
}

// sqliteBoard runs the fixture SQL contracts (dc) on dbclient's implicit
// SQLite file.
func sqliteBoard(t testing.TB, dc string) func(*config.Settings) {
	return func(s *config.Settings) {
		acktest.SetModuleConfig(t, s, "dbclient", "ContractBasePath", []string{dc})
	}
}

// boardServer is a database server the board scenario runs on, with
// dbclient's dialect version of the board SQL contracts
// (modules/dbclient/testdata/<dir>).
type boardServer struct {
	name, env, dir, dsID, provider string
	// conn turns the test DSN into the HandStack connection string.
	conn func(t testing.TB, dsn string) string
}

var boardServers = []boardServer{
	{"postgresql", "ACK_TEST_PG_DSN", "postgresql", "DB05", "PostgreSQL", acktest.NpgsqlConnectionString},
	{"mariadb", "ACK_TEST_MYSQL_DSN", "mysql", "DB04", "MySQL", acktest.MySQLConnectionString},
}

// settings returns the dbclient settings for srv and the server's DSN; it
// skips (fails under ACK_REQUIRE_ALL) when the server is not configured.
func (srv boardServer) settings(t testing.TB) (func(*config.Settings), string) {
	dsn := acktest.ServerDSN(t, srv.env)
	dc := filepath.Join(acktest.RepoRoot(t), "modules", "dbclient", "testdata", srv.dir)
	if _, err := os.Stat(dc); err != nil {
		acktest.Require(t, "dbclient's "+srv.dir+" board contracts at "+dc)
	}
	return func(s *config.Settings) {
		acktest.SetModuleConfig(t, s, "dbclient", "ContractBasePath", []string{dc})
		acktest.SetModuleConfig(t, s, "dbclient", "ImplicitSQLite", false)
		acktest.SetModuleConfig(t, s, "dbclient", "DataSource", []map[string]any{{
			"ApplicationID": "HDS", "ProjectID": "*", "DataSourceID": srv.dsID,
			"DataProvider": srv.provider, "ConnectionString": srv.conn(t, dsn),
		}})
	}, dsn
}

// boardRow is one Board row as LD01 lists it.
type boardRow struct {
	ID       int
	Category string
	Title    string
	Author   string
	EditPost string
}

func listRequest(category, title string) map[string]any {
	now := time.Now()
	return request("HDS", "BOD", "BOD010", "LD01", "Row|Grid", []item{
		{"Title", title}, {"Category", category},
		{"StartDate", now.AddDate(0, 0, -31).Format("2006-01-02")}, {"EndDate", now.AddDate(0, 0, 1).Format("2006-01-02")},
		{"OrderBy", "ID"}, {"Sequence", "DESC"},
	})
}

func list(t *testing.T, h *acktest.Host, category, title string) []boardRow {
	t.Helper()
	r := execute(t, h, listRequest(category, title))
	if *r.Acknowledge != 1 || len(r.Result.DataSet) != 1 || r.Result.DataSet[0].ID != "GridData0" {
		t.Fatalf("LD01: ack %d %q %v", *r.Acknowledge, r.ExceptionText, r.ids())
	}
	var rows []boardRow
	if err := json.Unmarshal(r.Result.DataSet[0].Value, &rows); err != nil {
		t.Fatalf("GridData0: %v", err)
	}
	if r.Result.DataMapCount[0] != len(rows) {
		t.Errorf("dataMapCount %v for %d rows", r.Result.DataMapCount, len(rows))
	}
	return rows
}

func detail(t *testing.T, h *acktest.Host, id string) map[string]any {
	t.Helper()
	r := execute(t, h, request("HDS", "BOD", "BOD012", "GD01", "Row|Form", []item{{"ID", id}}))
	if *r.Acknowledge != 1 || len(r.Result.DataSet) != 1 || r.Result.DataSet[0].ID != "FormData0" {
		t.Fatalf("GD01: ack %d %q %v", *r.Acknowledge, r.ExceptionText, r.ids())
	}
	var form map[string]any
	if err := json.Unmarshal(r.Result.DataSet[0].Value, &form); err != nil {
		t.Fatalf("FormData0: %v", err)
	}
	return form
}

func ok(t *testing.T, h *acktest.Host, body map[string]any) {
	t.Helper()
	if r := execute(t, h, body); *r.Acknowledge != 1 || len(r.Result.DataSet) != 0 {
		t.Fatalf("%s: ack %d %q %v", body["transaction"].(map[string]any)["functionID"], *r.Acknowledge, r.ExceptionText, r.ids())
	}
}

// runBoard is the board scenario of dbclient.md §13 through transact.
func runBoard(t *testing.T, h *acktest.Host) {
	// ZD01 exactly as the browser sends a service without outputs.
	ok(t, h, request("HDS", "BOD", "BOD010", "ZD01", "Row|", nil))

	rows := list(t, h, "", "")
	if len(rows) != 90 || rows[0].ID != 90 || rows[0].EditPost != "확인" || rows[0].Author == "" {
		t.Fatalf("list: %d rows, first %+v", len(rows), rows[0])
	}
	if n := len(list(t, h, "정보", "")); n != 30 {
		t.Errorf("category 정보: %d rows, want 30", n)
	}
	if n := len(list(t, h, "", "제목1")); n != 33 {
		t.Errorf("title 제목1: %d rows, want 33", n)
	}

	ok(t, h, request("HDS", "BOD", "BOD011", "ID01", "Row|", []item{
		{"Category", "소식"}, {"Title", "ack title"}, {"Content", "body"}, {"Author", "ack"}, {"CreateDate", ""},
	}))
	rows = list(t, h, "", "")
	// 91 on SQLite; MariaDB's AUTO_INCREMENT survives ZD01's DELETE.
	if len(rows) != 91 || rows[0].ID <= 90 || rows[0].Title != "ack title" {
		t.Fatalf("after insert: %d rows, first %+v", len(rows), rows[0])
	}
	id := fmt.Sprint(rows[0].ID)
	if f := detail(t, h, id); f["Title"] != "ack title" {
		t.Errorf("detail: %v", f)
	}

	ok(t, h, request("HDS", "BOD", "BOD012", "UD01", "Row|", []item{
		{"ID", id}, {"Category", "강좌"}, {"Title", "changed"}, {"Content", "new body"}, {"Author", "ack"},
	}))
	if f := detail(t, h, id); f["Title"] != "changed" || f["Category"] != "강좌" {
		t.Errorf("after update: %v", f)
	}

	ok(t, h, request("HDS", "BOD", "BOD012", "DD01", "Row|", []item{{"ID", id}}))
	if f := detail(t, h, id); len(f) != 0 {
		t.Errorf("after delete: %v", f)
	}
	if n := len(list(t, h, "", "")); n != 90 {
		t.Errorf("after delete: %d rows", n)
	}
}

func TestBoardSQLite(t *testing.T) {
	tc := acktest.Shared(t, "fixtures/handstack/home/contracts/transact")
	dc := acktest.Shared(t, "fixtures/handstack/home/contracts/dbclient")
	for _, l := range boardLayouts {
		t.Run(l.name, func(t *testing.T) {
			runBoard(t, l.start(t, tc, sqliteBoard(t, dc)))
		})
	}
}

// TestBoardServers runs the board scenario through transact on real
// PostgreSQL and MariaDB, with dbclient's dialect versions of the board SQL
// contracts (modules/dbclient/testdata); the transaction contracts are the
// fixtures, which do not depend on the database.
func TestBoardServers(t *testing.T) {
	tc := acktest.Shared(t, "fixtures/handstack/home/contracts/transact")
	for _, srv := range boardServers {
		t.Run(srv.name, func(t *testing.T) {
			db, _ := srv.settings(t)
			runBoard(t, boardLayouts[0].start(t, tc, db))
		})
	}
}
