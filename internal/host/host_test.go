package host_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/host"
	"github.com/ack-dev/ack/internal/module"
)

// journal records lifecycle calls across test modules.
type journal struct {
	mu    sync.Mutex
	calls []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.calls...)
}

// testModule is a small real module: it serves a few routes and one contract
// kind (*.txt files whose content is their value).
type testModule struct {
	id      module.ID
	j       *journal
	routes  []module.Route
	store   *contract.Store[note]
	release chan struct{}
}

type note struct{ key, text string }

func newInfo(id module.ID, calls []module.ID, j *journal, extra ...module.Route) module.Info {
	return module.Info{ID: id, Calls: calls, New: func() module.Module {
		return &testModule{id: id, j: j, routes: extra, release: make(chan struct{})}
	}}
}

func (m *testModule) Provision(ctx context.Context, h module.Host) error {
	m.j.add("provision " + string(m.id))
	roots, err := h.Config().ContractRoots()
	if err != nil {
		return err
	}
	m.store = contract.NewStore(contract.Kind[note]{
		Name:   string(m.id) + ".notes",
		Module: string(m.id),
		Match:  func(rel string) bool { return strings.HasSuffix(rel, ".txt") },
		Parse: func(fsys fs.FS, rel string) ([]note, error) {
			data, err := fs.ReadFile(fsys, rel)
			if err != nil {
				return nil, err
			}
			if strings.Contains(string(data), "BROKEN") {
				return nil, &contract.ParseError{Path: rel, Line: 1, Err: errors.New("broken note")}
			}
			return []note{{key: strings.TrimSuffix(rel, ".txt"), text: strings.TrimSpace(string(data))}}, nil
		},
		Key: func(n note) string { return n.key },
	}, roots, contract.Options{})
	return h.Contracts().Register(m.store)
}

func (m *testModule) Start(ctx context.Context) error { m.j.add("start " + string(m.id)); return nil }

func (m *testModule) Stop(ctx context.Context) error { m.j.add("stop " + string(m.id)); return nil }

func (m *testModule) Routes() []module.Route {
	p := "/" + string(m.id)
	return append([]module.Route{
		{Pattern: "GET " + p + "/note/{key}", Handler: func(w http.ResponseWriter, r *http.Request) error {
			n, ok := m.store.Load().Get(r.PathValue("key"))
			if !ok {
				return module.Errorf(http.StatusNotFound, "test.not_found", "no such note", nil)
			}
			_, err := io.WriteString(w, n.text)
			return err
		}},
		{Pattern: "GET " + p + "/slow", Handler: func(w http.ResponseWriter, r *http.Request) error {
			<-m.release
			_, err := io.WriteString(w, "done")
			return err
		}},
		{Pattern: "GET " + p + "/fail", Handler: func(w http.ResponseWriter, r *http.Request) error {
			return errors.New("secret detail: password=hunter2")
		}},
		{Pattern: "GET " + p + "/panic", Handler: func(w http.ResponseWriter, r *http.Request) error {
			panic("boom with secret detail")
		}},
	}, m.routes...)
}

func TestLifecycleOrder(t *testing.T) {
	j := &journal{}
	mods := []module.Info{newInfo("alpha", []module.ID{"beta"}, j), newInfo("beta", nil, j)}
	h := acktest.Start(t, acktest.Options{Modules: mods})
	if got := acktest.ReadBody(t, h.Get(t, "/readyz")); !strings.Contains(got, `"ready":true`) {
		t.Fatalf("readyz: %s", got)
	}
	if err := h.Host.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"provision beta", "provision alpha", "start beta", "start alpha", "stop alpha", "stop beta"}
	if got := j.list(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

func TestSelect(t *testing.T) {
	j := &journal{}
	avail := []module.Info{newInfo("alpha", []module.ID{"beta"}, j), newInfo("beta", nil, j)}
	if _, err := host.Select(avail, []string{"gamma"}); err == nil || !strings.Contains(err.Error(), "valid: alpha, beta") {
		t.Fatalf("unknown module: err = %v", err)
	}
	if _, err := host.Select(avail, []string{"alpha", "ALPHA"}); err == nil {
		t.Fatal("a module listed twice must be refused")
	}
	got, err := host.Select(avail, []string{"alpha"})
	if err != nil || len(got) != 1 || got[0].ID != "alpha" {
		t.Fatalf("select alpha = %v, %v", got, err)
	}
	cyc := []module.Info{newInfo("a", []module.ID{"b"}, j), newInfo("b", []module.ID{"a"}, j)}
	if _, err := host.Select(cyc, nil); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: err = %v", err)
	}
}

func TestRouteOutsidePrefixRefused(t *testing.T) {
	j := &journal{}
	bad := newInfo("alpha", nil, j, module.Route{Pattern: "GET /other/x", Handler: func(http.ResponseWriter, *http.Request) error { return nil }})
	err := startErr(t, bad)
	if err == nil || !strings.Contains(err.Error(), "outside /alpha/") {
		t.Fatalf("err = %v", err)
	}
	if got := j.list(); got[len(got)-1] != "stop alpha" {
		t.Fatalf("a failed start must stop the module: %v", got)
	}
}

func TestConflictingRoutesRefused(t *testing.T) {
	j := &journal{}
	dup := newInfo("alpha", nil, j, module.Route{Pattern: "GET /alpha/slow", Handler: func(http.ResponseWriter, *http.Request) error { return nil }})
	if err := startErr(t, dup); err == nil || !strings.Contains(err.Error(), "/alpha/slow") {
		t.Fatalf("err = %v", err)
	}
}

func startErr(t *testing.T, infos ...module.Info) error {
	t.Helper()
	home := t.TempDir()
	s, err := config.Load(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Config{Settings: s, Paths: config.NewPaths(home, ""), Modules: infos})
	if err != nil {
		return err
	}
	return h.Start(context.Background())
}

func TestErrorsNeverLeakDetails(t *testing.T) {
	j := &journal{}
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{newInfo("alpha", nil, j)}})
	for _, path := range []string{"/alpha/fail", "/alpha/panic"} {
		resp := h.Get(t, path)
		got := acktest.ReadBody(t, resp)
		if resp.StatusCode != 500 || strings.Contains(got, "secret") || strings.Contains(got, "goroutine") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, got)
		}
		if !strings.Contains(got, `"code":"internal"`) {
			t.Errorf("%s: want a JSON problem, got %s", path, got)
		}
	}
	resp := h.Get(t, "/alpha/note/missing")
	if got := acktest.ReadBody(t, resp); resp.StatusCode != 404 || !strings.Contains(got, `"code":"test.not_found"`) {
		t.Errorf("module error: %d %s", resp.StatusCode, got)
	}
}

func TestContractsLoadReloadAndKeepLastGood(t *testing.T) {
	j := &journal{}
	home := t.TempDir()
	dir := filepath.Join(home, "contracts", "alpha")
	acktest.WriteFile(t, filepath.Join(dir, "a.txt"), "first")
	h := acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{newInfo("alpha", nil, j)},
		Settings: func(s *config.Settings) {
			s.Admin.Token = "s3cret"
			f := false
			s.Contracts.Watch = &f // reload by the management endpoint only
		}})
	if got := acktest.ReadBody(t, h.Get(t, "/alpha/note/a")); got != "first" {
		t.Fatalf("note a = %q", got)
	}
	acktest.WriteFile(t, filepath.Join(dir, "a.txt"), "BROKEN")
	acktest.WriteFile(t, filepath.Join(dir, "b.txt"), "second")
	reload(t, h, "s3cret", http.StatusOK)
	if got := acktest.ReadBody(t, h.Get(t, "/alpha/note/a")); got != "first" {
		t.Fatalf("a broken file must keep its last good version: %q", got)
	}
	if got := acktest.ReadBody(t, h.Get(t, "/alpha/note/b")); got != "second" {
		t.Fatalf("note b = %q", got)
	}
	st := acktest.ReadBody(t, h.Get(t, "/ack/contracts"))
	if !strings.Contains(st, "broken note") || !strings.Contains(st, `"line":1`) {
		t.Fatalf("contract status must list the error with its line: %s", st)
	}
	if err := os.Remove(filepath.Join(dir, "b.txt")); err != nil {
		t.Fatal(err)
	}
	reload(t, h, "s3cret", http.StatusOK)
	if resp := h.Get(t, "/alpha/note/b"); resp.StatusCode != 404 {
		t.Fatalf("deleted note still served: %d", resp.StatusCode)
	}
	if got := acktest.ReadBody(t, h.Get(t, "/alpha/note/a")); got != "first" {
		t.Fatalf("deleting b must not touch a: %q", got)
	}
	metrics := acktest.ReadBody(t, h.Get(t, "/metrics"))
	if !strings.Contains(metrics, `ack_http_requests_total{code="404",module="alpha",route="GET /alpha/note/{key}"}`) {
		t.Fatalf("metrics lack the per-route counter:\n%s", grep(metrics, "ack_http_requests_total"))
	}
}

func reload(t *testing.T, h *acktest.Host, token string, want int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/ack/reload", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := acktest.ReadBody(t, resp); resp.StatusCode != want {
		t.Fatalf("reload: %d %s, want %d", resp.StatusCode, b, want)
	}
}

func TestManagementAuth(t *testing.T) {
	j := &journal{}
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{newInfo("alpha", nil, j)},
		Settings: func(s *config.Settings) { s.Admin.Token = "s3cret" }})
	reload(t, h, "", http.StatusUnauthorized)
	reload(t, h, "wrong", http.StatusUnauthorized)
	reload(t, h, "s3cret", http.StatusOK)
	if resp := h.Get(t, "/ack/status"); resp.StatusCode != 200 {
		t.Fatalf("status from loopback: %d", resp.StatusCode)
	}

	noToken := acktest.Start(t, acktest.Options{Modules: []module.Info{newInfo("alpha", nil, &journal{})}})
	reload(t, noToken, "anything", http.StatusForbidden)
}

func TestDrainFinishesInFlightRequests(t *testing.T) {
	j := &journal{}
	var mod *testModule
	info := newInfo("alpha", nil, j)
	inner := info.New
	info.New = func() module.Module { m := inner(); mod = m.(*testModule); return m }
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{info}, Settings: func(s *config.Settings) {
		s.Shutdown.DrainDelay = config.Duration(200 * time.Millisecond)
	}})
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := h.Client.Get(h.URL + "/alpha/slow")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	acktest.Eventually(t, 5*time.Second, "the slow request to be in flight", func() bool {
		return strings.Contains(acktest.ReadBody(t, h.Get(t, "/metrics")), "ack_http_in_flight_requests 2")
	})
	stopped := make(chan error, 1)
	go func() { stopped <- h.Host.Shutdown(context.Background()) }()
	acktest.Eventually(t, 5*time.Second, "readiness to turn false", func() bool {
		resp, err := h.Client.Get(h.URL + "/readyz")
		if err != nil {
			return false
		}
		b := acktest.ReadBody(t, resp)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(b, `"state":"draining"`)
	})
	close(mod.release)
	r := <-done
	if r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestPathsMatchWithoutCase(t *testing.T) {
	home := t.TempDir()
	acktest.WriteFile(t, filepath.Join(home, "contracts", "alpha", "Key.txt"), "value")
	h := acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{newInfo("alpha", nil, &journal{})}})
	resp := h.Get(t, "/ALPHA/Note/Key")
	if got := acktest.ReadBody(t, resp); resp.StatusCode != 200 || got != "value" {
		t.Fatalf("/ALPHA/Note/Key = %d %q; the path value must keep its case", resp.StatusCode, got)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("security headers missing: %v", resp.Header)
	}
}

func TestForwardedRequestsAreNotLocal(t *testing.T) {
	h := acktest.Start(t, acktest.Options{Modules: []module.Info{newInfo("alpha", nil, &journal{})},
		Settings: func(s *config.Settings) { s.Admin.Token = "s3cret" }})
	req, _ := http.NewRequest(http.MethodGet, h.URL+"/ack/status", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := acktest.ReadBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request forwarded by a local proxy must need the token: %d %s", resp.StatusCode, b)
	}
}

func TestExplicitModulesAreNotInTheDefaultSelection(t *testing.T) {
	j := &journal{}
	edge := newInfo("edge", nil, j)
	edge.Explicit = true
	avail := []module.Info{newInfo("alpha", nil, j), edge}
	got, err := host.Select(avail, nil)
	if err != nil || len(got) != 1 || got[0].ID != "alpha" {
		t.Fatalf("default selection = %v, %v", got, err)
	}
	if got, err := host.Select(avail, []string{"edge"}); err != nil || len(got) != 1 {
		t.Fatalf("named: %v, %v", got, err)
	}
}
