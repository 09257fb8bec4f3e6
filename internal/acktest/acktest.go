// Package acktest starts real ack hosts for tests: in-process (Start), or as
// real processes of the ack binary (Binary, StartProcess). Hosts listen on
// loopback with a free port and are stopped gracefully at test cleanup.
package acktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/host"
	"github.com/ack-dev/ack/internal/module"
)

// Options choose what an in-process host runs.
type Options struct {
	// Home is the home directory; a new temporary one when empty.
	Home string
	// Modules are the modules to run.
	Modules []module.Info
	// Settings adjusts the settings read from Home/ack.json before start.
	Settings func(*config.Settings)
	// LogLevel of the host's log, written to the test log. Default: warn.
	LogLevel slog.Level
}

// Host is a running in-process host.
type Host struct {
	URL    string // http://127.0.0.1:port
	Home   string
	Paths  config.Paths
	Host   *host.Host
	Client *http.Client
}

// Start runs a host in this process and returns when it is ready.
func Start(t testing.TB, opts Options) *Host {
	t.Helper()
	h, paths := newHost(t, opts)
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("acktest: start: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("acktest: listen: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- h.Serve(ln) }()
	th := &Host{
		URL:    "http://" + ln.Addr().String(),
		Home:   paths.Home,
		Paths:  paths,
		Host:   h,
		Client: &http.Client{Timeout: 30 * time.Second},
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("acktest: shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("acktest: serve: %v", err)
		}
		th.Client.CloseIdleConnections()
	})
	return th
}

// newHost builds the host Start runs: Options applied, the test log as its
// log (until the test ends), provisioned only when started or checked.
func newHost(t testing.TB, opts Options) (*host.Host, config.Paths) {
	t.Helper()
	home := opts.Home
	if home == "" {
		home = t.TempDir()
	}
	settings, err := config.Load(home, nil)
	if err != nil {
		t.Fatalf("acktest: settings: %v", err)
	}
	settings.Shutdown.DrainDelay = 0
	settings.Shutdown.GracePeriod = config.Duration(5 * time.Second)
	if opts.Settings != nil {
		opts.Settings(&settings)
	}
	ids := make([]string, len(opts.Modules))
	for i, m := range opts.Modules {
		ids[i] = string(m.ID)
	}
	mods, err := host.Select(opts.Modules, ids) // every module given, Explicit ones too
	if err != nil {
		t.Fatalf("acktest: %v", err)
	}
	level := opts.LogLevel
	if level == 0 {
		level = slog.LevelWarn
	}
	tw := &testWriter{t: t}
	t.Cleanup(tw.close) // registered first, so it runs after Start's shutdown
	paths := config.NewPaths(home, settings.DataDir)
	h, err := host.New(host.Config{
		Settings: settings,
		Paths:    paths,
		Modules:  mods,
		Logger:   slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: level})),
		Version:  "test",
	})
	if err != nil {
		t.Fatalf("acktest: %v", err)
	}
	return h, paths
}

// Check provisions the modules as `ack check` does, without starting them,
// and returns the diagnostics.
func Check(t testing.TB, opts Options) []module.Diagnostic {
	t.Helper()
	h, _ := newHost(t, opts)
	diags, err := h.Check(t.Context())
	if err != nil {
		t.Fatalf("acktest: check: %v", err)
	}
	return diags
}

// StartError starts a host that must not start, and returns why it did not.
func StartError(t testing.TB, opts Options) error {
	t.Helper()
	h, _ := newHost(t, opts)
	err := h.Start(t.Context())
	if err == nil {
		_ = h.Shutdown(t.Context())
		t.Fatal("acktest: the host started")
	}
	return err
}

// Get sends a GET to path.
func (h *Host) Get(t testing.TB, path string) *http.Response {
	t.Helper()
	resp, err := h.Client.Get(h.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// Post sends body as JSON (a []byte or string is sent as is) to path.
func (h *Host) Post(t testing.TB, path string, body any) *http.Response {
	t.Helper()
	return post(t, h.Client, h.URL+path, body)
}

func post(t testing.TB, c *http.Client, url string, body any) *http.Response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("POST %s: encode: %v", url, err)
		}
		r = bytes.NewReader(data)
	}
	resp, err := c.Post(url, "application/json", r)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// ReadJSON decodes a response body into v and closes it.
func ReadJSON(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode body %q: %v", data, err)
	}
}

// Eventually polls cond until it returns true or the deadline passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("acktest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel under ../shared beside the repository (the
// HandStack fixtures), or skips the test when it is absent; with
// ACK_REQUIRE_ALL=1 (CI) absence fails the test instead.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(RepoRoot(t)), "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Require(t, "the HandStack fixtures at "+p+" (../shared beside the checkout)")
	}
	return p
}

// Require skips the test because something it needs is missing, or fails it
// when ACK_REQUIRE_ALL=1 says everything must be there (CI).
func Require(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("ACK_REQUIRE_ALL") == "1" {
		t.Fatalf("missing %s (ACK_REQUIRE_ALL=1)", what)
	}
	t.Skipf("skipped: missing %s", what)
}

// testWriter sends log output to the test log until the test ends.
type testWriter struct {
	t      testing.TB
	mu     sync.Mutex
	closed atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if w.closed.Load() {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed.Store(true)
}

// HandStackModuleJSON copies HandStack's own module.json of module id from the
// fixtures into home, where ack reads it (DIR/modules/<id>/module.json). It
// skips like Shared when the fixtures are absent.
func HandStackModuleJSON(t testing.TB, home, id string) {
	t.Helper()
	data, err := os.ReadFile(Shared(t, "fixtures/handstack/home/modules/"+id+"/module.json"))
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, filepath.Join(home, "modules", id, "module.json"), string(data))
}
