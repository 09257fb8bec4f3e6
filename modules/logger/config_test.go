package logger

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/dialect"
)

func TestParseProvider(t *testing.T) {
	for in, want := range map[string]dialect.Provider{"SQLite": dialect.SQLite, "": dialect.SQLite, "postgresql": dialect.PostgreSQL} {
		if got, err := parseProvider(in); err != nil || got != want {
			t.Errorf("parseProvider(%q) = %q, %v", in, got, err)
		}
	}
	for _, p := range []string{"MySQL", "SqlServer", "Oracle"} {
		if _, err := parseProvider(p); !errors.Is(err, errUnsupportedProvider) {
			t.Errorf("%s: %v, want errUnsupportedProvider", p, err)
		}
	}
	if _, err := parseProvider("Access"); err == nil || errors.Is(err, errUnsupportedProvider) {
		t.Errorf("an unknown provider: %v", err)
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
