package logger

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSQLitePath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"URI=file:../sqlite/HDS/logger/transact.db;Journal Mode=Off;BinaryGUID=False;", "../sqlite/HDS/logger/transact.db"},
		{"Data Source=/var/log/ack.db;Version=3", "/var/log/ack.db"},
		{"data source = logs.db", "logs.db"},
		{"uri=file://x.db?mode=rwc", "x.db"},
		{"file:plain.db", "plain.db"},
		{"plain.db", "plain.db"},
	}
	for _, tc := range cases {
		got, err := sqlitePath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("sqlitePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Version=3;Journal Mode=Off", "Data Source=:memory:"} {
		if got, err := sqlitePath(bad); err == nil {
			t.Errorf("sqlitePath(%q) = %q, want an error", bad, got)
		}
	}
}

func TestPostgresDSN(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Host=db.local;Port=5433;Database=logs;Username=u;Password=p@ss;SSL Mode=Disable;Pooling=true",
			"postgres://u:p%40ss@db.local:5433/logs?sslmode=disable"},
		{"Server=db;User ID=u;Database=logs;", "postgres://u@db/logs"},
		{"postgres://u:p@h/db?sslmode=disable", "postgres://u:p@h/db?sslmode=disable"},
		{"host=h dbname=db", "host=h dbname=db"},
	}
	for _, tc := range cases {
		got, err := postgresDSN(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("postgresDSN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Port=5432;Database=x;"} {
		if got, err := postgresDSN(bad); err == nil {
			t.Errorf("postgresDSN(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParseProvider(t *testing.T) {
	for in, want := range map[string]provider{"SQLite": providerSQLite, "": providerSQLite, "postgresql": providerPostgres} {
		if got, err := parseProvider(in); err != nil || got != want {
			t.Errorf("parseProvider(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := parseProvider("MySQL"); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("MySQL: %v", err)
	}
	if _, err := parseProvider("Access"); err == nil {
		t.Error("an unknown provider was accepted")
	}
}

func TestParseTime(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2024-03-01 10:20:30.123", time.Date(2024, 3, 1, 10, 20, 30, 123e6, seoul)},
		{"2024-03-01 10:20:30", time.Date(2024, 3, 1, 10, 20, 30, 0, seoul)},
		{"2024-03-01T10:20:30", time.Date(2024, 3, 1, 10, 20, 30, 0, seoul)},
		{"2024-03-01", time.Date(2024, 3, 1, 0, 0, 0, 0, seoul)},
		{"2024-03-01T01:20:30Z", time.Date(2024, 3, 1, 1, 20, 30, 0, time.UTC)},
	}
	for _, tc := range cases {
		got, ok := parseTime(tc.in, seoul)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := parseTime("yesterday", seoul); ok {
		t.Error("parsed nonsense")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, bad := range []DataSource{
		{ApplicationID: ""},
		{ApplicationID: "A", TableName: "Log; DROP TABLE x"},
		{ApplicationID: "A", TableName: strings.Repeat("x", 41)},
	} {
		if bad.validate() == nil {
			t.Errorf("%+v passed validation", bad)
		}
	}
	if err := (DataSource{ApplicationID: "A"}).validate(); err != nil {
		t.Error(err)
	}
	if d := (DataSource{RemovePeriod: -7}).keepDays(); d != 7 {
		t.Errorf("keepDays(-7) = %d", d)
	}
	if d := (DataSource{}).keepDays(); d != defaultRemoveDays {
		t.Errorf("keepDays(0) = %d", d)
	}
}

func FuzzConnectionStrings(f *testing.F) {
	for _, s := range []string{
		"URI=file:../sqlite/HDS/logger/transact.db;Journal Mode=Off;",
		"Host=h;Port=1;Database=d;Username=u;Password=p;SSL Mode=Require",
		"postgres://u@h/d", "=;=;", ";;Host=", "Data Source=?", "Host=[::1];Port=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := sqlitePath(s); err == nil && p == "" {
			t.Fatalf("sqlitePath(%q) gave an empty path without an error", s)
		}
		dsn, err := postgresDSN(s)
		if err == nil && strings.Contains(s, ";") && !strings.Contains(s, "://") {
			if _, perr := url.Parse(dsn); perr != nil {
				t.Fatalf("postgresDSN(%q) = %q, not a URL: %v", s, dsn, perr)
			}
		}
	})
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"applicationID=A&level=E,W&startedAt=2024-01-01&endedAt=2024-01-02&limit=10&before=5",
		"applicationid=A&limit=0", "applicationID=A&endedAt=2024-13-40", "", "applicationID=A&level=,,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q := query{}
		for k, v := range vals {
			if len(v) > 0 {
				q[strings.ToLower(k)] = strings.TrimSpace(v[len(v)-1])
			}
		}
		lq, err := parseList(q)
		if err != nil {
			return
		}
		if lq.ApplicationID == "" || lq.Limit <= 0 || lq.Limit > maxListLimit || lq.Before < 0 {
			t.Fatalf("parseList(%q) accepted %+v", raw, lq)
		}
		for _, l := range lq.Levels {
			if l == "" {
				t.Fatalf("empty level from %q", raw)
			}
		}
	})
}
