package transact

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
)

func newTestResolver(t *testing.T, endpoints map[module.ID][]string) *peer.Resolver {
	t.Helper()
	r, err := peer.NewResolver(peer.Options{Endpoints: endpoints, HealthInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestURLModule(t *testing.T) {
	tests := []struct {
		url  string
		want module.ID
		err  bool
	}{
		{"http://localhost:8421/dbclient/api/query", module.DBClient, false},
		{"https://h/Function/api/execution", module.Function, false},
		{"event://dbclient.Events.DbClientRequest", module.DBClient, false},
		{"http://h:1/graphclient/api/query", "graphclient", false},
		{"ftp://h/dbclient", "", true},
		{"http://h/", "", true},
		{"event://", "", true},
		{"dbclient", "", true},
	}
	for _, tc := range tests {
		got, err := urlModule(tc.url)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("urlModule(%q) = %q, %v", tc.url, got, err)
		}
	}
}

func TestRouter(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	db := map[module.ID][]string{module.DBClient: {"http://127.0.0.1:1"}}

	t.Run("no table: dbclient through peers, function unavailable", func(t *testing.T) {
		r, err := newRouter(nil, newTestResolver(t, db), log)
		if err != nil {
			t.Fatal(err)
		}
		if tg, key, ok := r.resolve("", "HDS", "BOD", "D", "D"); !ok || tg.exec == nil || key != "HDS|BOD|D|D" {
			t.Errorf("D: %+v %q %v", tg, key, ok)
		}
		if tg, _, ok := r.resolve("", "HDS", "BOD", "F", "D"); !ok || tg.exec != nil || tg.unavailable == "" {
			t.Errorf("F: %+v %v", tg, ok)
		}
		if _, _, ok := r.resolve("", "HDS", "BOD", "G", "D"); ok {
			t.Error("G resolved without a table")
		}
	})
	t.Run("no table and no dbclient fails the start", func(t *testing.T) {
		_, err := newRouter(nil, newTestResolver(t, nil), log)
		if err == nil || !strings.Contains(err.Error(), "dbclient") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("table: exact key, project wildcard, work id, missing key", func(t *testing.T) {
		r, err := newRouter(map[string]string{
			"HDS|*|D|D":    "http://127.0.0.1:1/dbclient/api/query",
			"HDS|BOD|D|D":  "http://127.0.0.2:1/dbclient/api/query",
			"W1|HDS|*|D|D": "http://127.0.0.3:1/dbclient/api/query",
			"HDS|*|G|D":    "http://127.0.0.1:1/graphclient/api/query",
		}, newTestResolver(t, nil), log)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ work, project, cmd, env, url string }{
			{"", "BOD", "D", "D", "http://127.0.0.2:1/dbclient/api/query"},
			{"", "TST", "D", "D", "http://127.0.0.1:1/dbclient/api/query"},
			{"W1", "TST", "D", "D", "http://127.0.0.3:1/dbclient/api/query"},
		} {
			tg, _, ok := r.resolve(tc.work, "HDS", tc.project, tc.cmd, tc.env)
			if !ok || tg.url != tc.url || tg.exec == nil {
				t.Errorf("%+v: got %+v %v", tc, tg, ok)
			}
		}
		if tg, _, ok := r.resolve("", "HDS", "BOD", "G", "D"); !ok || tg.exec != nil {
			t.Errorf("graphclient: %+v %v", tg, ok)
		}
		if len(r.unavailable) != 1 || r.unavailable[0] != "HDS|*|G|D" {
			t.Errorf("unavailable routes for ack check: %v", r.unavailable)
		}
		if _, key, ok := r.resolve("", "HDS", "BOD", "D", "P"); ok || key != "HDS|BOD|D|P" {
			t.Errorf("P environment: %q %v", key, ok)
		}
		if _, _, ok := r.resolve("", "ABC", "BOD", "D", "D"); ok {
			t.Error("no wildcard for the application")
		}
	})
	t.Run("bad entries fail the start", func(t *testing.T) {
		for _, table := range []map[string]string{
			{"HDS|*|D|D": "not a url"},
			{"HDS|*|D|D": "event://dbclient.Events.DbClientRequest"},
		} {
			if _, err := newRouter(table, newTestResolver(t, nil), log); err == nil {
				t.Errorf("%v: no error", table)
			}
		}
	})
}
