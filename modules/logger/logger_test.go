package logger_test

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/logger"
)

// startLogger runs a host with the logger module. moduleConfig, when not
// nil, overlays the logger's ModuleConfig (as ack.json would).
func startLogger(t testing.TB, home string, moduleConfig map[string]any) (*acktest.Host, *logger.Module) {
	t.Helper()
	info := logger.Info()
	var mod *logger.Module
	newModule := info.New
	info.New = func() module.Module {
		m := newModule()
		mod = m.(*logger.Module)
		return m
	}
	h := acktest.Start(t, acktest.Options{
		Home:    home,
		Modules: []module.Info{info},
		Settings: func(s *config.Settings) {
			for k, v := range moduleConfig {
				acktest.SetModuleConfig(t, s, "logger", k, v)
			}
		},
	})
	return h, mod
}

// row is what the list route returns, as a client reads it.
type row struct {
	LogNo         int64
	ApplicationID string
	GlobalID      string
	Level         string
	ModuleID      string
	ServerID      string
	CreatedAt     string
	Message       *string
}

func list(t testing.TB, h *acktest.Host, query string) []row {
	t.Helper()
	resp := h.Get(t, "/logger/api/log/list?"+query)
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("list?%s: %d %s", query, resp.StatusCode, body)
	}
	var rows []row
	acktest.ReadJSON(t, resp, &rows)
	return rows
}

func wantStatus(t testing.TB, resp *http.Response, status int) string {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	return string(body)
}

// backend is a store the logger writes to; each test that does not depend
// on a file layout runs on every backend.
type backend struct {
	name string
	// config returns the logger ModuleConfig overlay sending every record to
	// this backend (nil: the default SQLite store).
	config func(t testing.TB) map[string]any
}

var backends = []backend{
	{name: "sqlite", config: func(testing.TB) map[string]any { return nil }},
	{name: "postgres", config: postgresConfig},
}

// postgresConfig points the default store ("*") at a fresh table in the
// PostgreSQL of ACK_TEST_PG_DSN, written as HandStack writes an Npgsql
// connection string, and drops the table at the end.
func postgresConfig(t testing.TB) map[string]any {
	dsn := acktest.ServerDSN(t, "ACK_TEST_PG_DSN")
	conn := acktest.NpgsqlConnectionString(t, dsn)
	table := fmt.Sprintf("log_test_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Errorf("drop %s: %v", table, err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP TABLE IF EXISTS " + table); err != nil {
			t.Errorf("drop %s: %v", table, err)
		}
	})
	return map[string]any{"DataSource": []map[string]any{{
		"ApplicationID": "*", "DataProvider": "PostgreSQL", "TableName": table, "ConnectionString": conn,
	}}}
}

// eachBackend runs fn as a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, cfg map[string]any)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.config(t)) })
	}
}

func TestInsertForms(t *testing.T) { eachBackend(t, testInsertForms) }

func testInsertForms(t *testing.T, cfg map[string]any) {
	h, _ := startLogger(t, "", cfg)

	// HandStack's own shape: one object, keys in any case, a number where a string is declared.
	body := wantStatus(t, h.Post(t, "/logger/api/log/insert",
		`{"applicationID":"HDS","GlobalID":"G1","Acknowledge":1,"Level":"D","Message":"one","Properties":"p"}`), http.StatusOK)
	if body != "" {
		t.Fatalf("insert answered %q, want an empty body", body)
	}
	// ack's shipper: an array.
	wantStatus(t, h.Post(t, "/logger/api/log/insert", []wire.LogMessage{
		{ApplicationID: "HDS", GlobalID: "G2", Level: "I", Message: "two", ModuleID: "dbclient"},
		{ApplicationID: "HDS", GlobalID: "G2", Level: "E", Message: "three", ModuleID: "transact"},
	}), http.StatusOK)
	// GET with the query string, and a form POST.
	wantStatus(t, h.Get(t, "/logger/api/log/insert?ApplicationID=HDS&globalid=G3&Message=four&level=W"), http.StatusOK)
	resp, err := h.Client.PostForm(h.URL+"/logger/api/log/insert", url.Values{"ApplicationID": {"HDS"}, "Message": {"five"}, "Level": {"I"}})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusOK)

	rows := list(t, h, "applicationID=HDS&withMessage=true")
	var got []string
	for _, r := range rows {
		got = append(got, *r.Message)
	}
	if fmt.Sprint(got) != "[five four three two one]" {
		t.Fatalf("messages newest first = %v", got)
	}
	for _, r := range rows {
		if r.CreatedAt == "" || r.LogNo == 0 {
			t.Fatalf("row without LogNo or CreatedAt: %+v", r)
		}
	}
}

func TestInsertRejectsBadInput(t *testing.T) {
	h, _ := startLogger(t, "", nil)
	cases := []struct {
		name string
		body string
		code string
	}{
		{"no application", `{"Message":"x"}`, "logger.application_required"},
		{"one record without application", `[{"ApplicationID":"A"},{"Message":"x"}]`, "logger.application_required"},
		{"bad json", `{"ApplicationID":`, "logger.bad_json"},
		{"bad LogNo", `{"ApplicationID":"A","LogNo":"x"}`, "logger.bad_json"},
		{"empty array", `[]`, "logger.empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := wantStatus(t, h.Post(t, "/logger/api/log/insert", tc.body), http.StatusBadRequest)
			if !strings.Contains(body, tc.code) {
				t.Fatalf("body %s does not name %s", body, tc.code)
			}
		})
	}
	if rows := list(t, h, "applicationID=A"); len(rows) != 0 {
		t.Fatalf("a rejected request stored %d rows", len(rows))
	}
	wantStatus(t, h.Get(t, "/logger/api/log/list"), http.StatusBadRequest)
	wantStatus(t, h.Get(t, "/logger/api/log/list?applicationID=A&startedAt=yesterday"), http.StatusBadRequest)
	wantStatus(t, h.Get(t, "/logger/api/log/list?applicationID=A&limit=-1"), http.StatusBadRequest)
	wantStatus(t, h.Get(t, "/logger/api/log/detail?applicationID=A"), http.StatusBadRequest)
	wantStatus(t, h.Get(t, "/logger/api/log/detail?applicationID=A&logNo=x"), http.StatusBadRequest)
}

func TestRecordIDIsStoredOnce(t *testing.T) { eachBackend(t, testRecordIDIsStoredOnce) }

func testRecordIDIsStoredOnce(t *testing.T, cfg map[string]any) {
	h, _ := startLogger(t, "", cfg)
	batch := []wire.LogMessage{
		{ApplicationID: "A", RecordID: "r1", Message: "1"},
		{ApplicationID: "A", RecordID: "r2", Message: "2"},
		{ApplicationID: "A", Message: "no key"},
	}
	wantStatus(t, h.Post(t, "/logger/api/log/insert", batch), http.StatusOK)
	wantStatus(t, h.Post(t, "/logger/api/log/insert", batch), http.StatusOK) // a replay
	rows := list(t, h, "applicationID=A&withMessage=1")
	count := map[string]int{}
	for _, r := range rows {
		count[*r.Message]++
	}
	// Keyed records once; a record without RecordID is not de-duplicated (HandStack clients send none).
	if count["1"] != 1 || count["2"] != 1 || count["no key"] != 2 {
		t.Fatalf("counts after a replay: %v", count)
	}
}

func TestListFiltersAndPages(t *testing.T) { eachBackend(t, testListFiltersAndPages) }

func testListFiltersAndPages(t *testing.T, cfg map[string]any) {
	h, _ := startLogger(t, "", cfg)
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.Local)
	var batch []wire.LogMessage
	for i := range 30 {
		batch = append(batch, wire.LogMessage{
			ApplicationID: "APP",
			GlobalID:      fmt.Sprintf("G%d", i%3),
			Level:         []string{"I", "W", "E"}[i%3],
			ModuleID:      []string{"dbclient", "transact"}[i%2],
			Message:       fmt.Sprint(i),
			CreatedAt:     base.Add(time.Duration(i) * time.Hour).Format("2006-01-02 15:04:05.000"),
		})
	}
	batch = append(batch, wire.LogMessage{ApplicationID: "OTHER", Level: "E", Message: "other app"})
	wantStatus(t, h.Post(t, "/logger/api/log/insert", batch), http.StatusOK)

	cases := []struct {
		query string
		want  int
	}{
		{"applicationID=APP", 30},
		{"applicationID=OTHER", 1},
		{"applicationID=NONE", 0},
		{"applicationID=APP&level=E", 10},
		{"applicationID=APP&level=E,W", 20},
		{"applicationID=APP&module=dbclient", 15},
		{"applicationID=APP&moduleID=transact&level=W", 5},
		{"applicationID=APP&globalID=G1", 10},
		// 10:00 + 5h .. before 10:00 + 15h: records 5..14.
		{"applicationID=APP&startedAt=2024-03-01%2015:00:00&endedAt=2024-03-02%2001:00:00", 10},
		{"applicationID=APP&startedAt=" + url.QueryEscape(base.Add(20*time.Hour).Format(time.RFC3339)), 10},
		// A date alone for endedAt means the whole day: 10:00..23:00 of March 1st.
		{"applicationID=APP&endedAt=2024-03-01", 14},
		{"applicationID=APP&limit=7", 7},
		{"applicationID=APP&limit=100000", 30}, // bounded, not an error
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			if rows := list(t, h, tc.query); len(rows) != tc.want {
				t.Fatalf("%d rows, want %d", len(rows), tc.want)
			}
		})
	}

	// Paging with before=<last LogNo> walks every row once, newest first.
	var seen []int64
	query := "applicationID=APP&limit=8"
	for {
		rows := list(t, h, query)
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if len(seen) > 0 && r.LogNo >= seen[len(seen)-1] {
				t.Fatalf("LogNo %d after %d: not newest first", r.LogNo, seen[len(seen)-1])
			}
			seen = append(seen, r.LogNo)
		}
		query = fmt.Sprintf("applicationID=APP&limit=8&before=%d", rows[len(rows)-1].LogNo)
	}
	if len(seen) != 30 {
		t.Fatalf("paging saw %d rows, want 30", len(seen))
	}

	// Detail of the newest row.
	resp := h.Get(t, fmt.Sprintf("/logger/api/log/detail?applicationID=APP&logNo=%d", seen[0]))
	var detail []struct{ Message, Properties string }
	acktest.ReadJSON(t, resp, &detail)
	if len(detail) != 1 || detail[0].Message != "29" {
		t.Fatalf("detail = %+v", detail)
	}
	resp = h.Get(t, fmt.Sprintf("/logger/api/log/detail?applicationID=OTHER&logNo=%d", seen[0]))
	acktest.ReadJSON(t, resp, &detail)
	if len(detail) != 0 {
		t.Fatalf("detail across applications = %+v", detail)
	}
}

// TestHandStackModuleJSON runs on HandStack's own logger module.json: the
// HDS data source is a SQLite file under DIR/sqlite, resolved from DIR/app.
func TestHandStackModuleJSON(t *testing.T) {
	home := t.TempDir()
	acktest.HandStackModuleJSON(t, home, "logger")
	h, _ := startLogger(t, home, nil)
	wantStatus(t, h.Post(t, "/logger/api/log/insert", `{"ApplicationID":"HDS","Message":"m","ServerID":"WEB01"}`), http.StatusOK)
	rows := list(t, h, "applicationID=HDS")
	if len(rows) != 1 || rows[0].ServerID != "WEB01" {
		t.Fatalf("rows = %+v", rows)
	}
	if _, err := os.Stat(filepath.Join(home, "sqlite", "HDS", "logger", "transact.db")); err != nil {
		t.Fatalf("HDS data source file: %v", err)
	}
}

func TestRetentionDeletesOldRecords(t *testing.T) { eachBackend(t, testRetentionDeletesOldRecords) }

func testRetentionDeletesOldRecords(t *testing.T, cfg map[string]any) {
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["LogDeleteRepeatSecond"] = 0.05 // the default RemovePeriod, 30 days, applies
	h, _ := startLogger(t, "", cfg)
	old := time.Now().AddDate(0, 0, -40).Format("2006-01-02 15:04:05.000")
	recent := time.Now().AddDate(0, 0, -2).Format(time.RFC3339)
	wantStatus(t, h.Post(t, "/logger/api/log/insert", []wire.LogMessage{
		{ApplicationID: "R", Message: "old", CreatedAt: old},
		{ApplicationID: "R", Message: "recent", CreatedAt: recent},
		{ApplicationID: "R", Message: "now"},
	}), http.StatusOK)
	acktest.Eventually(t, 10*time.Second, "the 40-day-old record to be deleted", func() bool {
		rows := list(t, h, "applicationID=R&withMessage=1")
		for _, r := range rows {
			if *r.Message == "old" {
				return false
			}
		}
		if len(rows) != 2 {
			t.Fatalf("retention deleted records it should keep: %d left", len(rows))
		}
		return true
	})
}

// TestSQLiteDataSourceFromAckJSON: a data source set in ack.json resolves a
// relative SQLite path against DIR, and its records stay out of the default store.
func TestSQLiteDataSourceFromAckJSON(t *testing.T) {
	home := t.TempDir()
	h, _ := startLogger(t, home, map[string]any{
		"DataSource": []map[string]any{{
			"ApplicationID": "R", "DataProvider": "SQLite", "RemovePeriod": -7,
			"ConnectionString": "URI=file:data/r.db;Journal Mode=Off", "TableName": "RLog",
		}},
	})
	wantStatus(t, h.Post(t, "/logger/api/log/insert", `[{"ApplicationID":"R","Message":"r"},{"ApplicationID":"S","Message":"s"}]`), http.StatusOK)
	if rows := list(t, h, "applicationID=R"); len(rows) != 1 {
		t.Fatalf("R rows = %d", len(rows))
	}
	for file, want := range map[string]string{"data/r.db": "R", "data/logger/logger.db": "S"} {
		db, err := sql.Open("sqlite", filepath.Join(home, file))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := map[string]string{"R": "RLog", "S": "TransactLog"}[want]
		var app string
		if err := db.QueryRow("SELECT ApplicationID FROM " + table).Scan(&app); err != nil || app != want {
			t.Fatalf("%s: %q, %v; want one row of %s", file, app, err, want)
		}
	}
}

func TestUnsupportedProviderIsReported(t *testing.T) {
	h, mod := startLogger(t, "", map[string]any{
		"DataSource": []map[string]any{{"ApplicationID": "M", "DataProvider": "MySQL", "ConnectionString": "Server=x"}},
	})
	diags := mod.Diagnose(t.Context())
	if len(diags) != 1 || diags[0].Severity != "warning" || !strings.Contains(diags[0].Message, "MySQL") {
		t.Fatalf("diagnostics = %+v", diags)
	}
	// Its records are kept in the default store rather than lost.
	wantStatus(t, h.Post(t, "/logger/api/log/insert", `{"ApplicationID":"M","Message":"m"}`), http.StatusOK)
	if rows := list(t, h, "applicationID=M"); len(rows) != 1 {
		t.Fatalf("rows = %d", len(rows))
	}
}
