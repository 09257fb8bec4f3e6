package edge

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
)

// writeRoutes writes home's routes.json the way editors do (write, rename),
// so the edge never reads half a file.
func writeRoutes(t testing.TB, home, content string) {
	t.Helper()
	path := filepath.Join(home, "contracts", "edge", routesFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// fastHealth are edge settings that notice changes within a few hundred
// milliseconds, for tests.
var fastHealth = map[string]any{
	"HealthCheckInterval": "100ms", "HealthCheckTimeout": "1s", "UnhealthyThreshold": 1, "HealthyThreshold": 1,
}

// startEdge runs an in-process host with the edge module alone, routes.json
// as given, and settings over fastHealth.
func startEdge(t testing.TB, routes string, settings map[string]any) *acktest.Host {
	t.Helper()
	home := t.TempDir()
	writeRoutes(t, home, routes)
	return acktest.Start(t, acktest.Options{
		Home:    home,
		Modules: []module.Info{Info()},
		Settings: func(s *config.Settings) {
			for _, src := range []map[string]any{fastHealth, settings} {
				for k, v := range src {
					acktest.SetModuleConfig(t, s, string(module.Edge), k, v)
				}
			}
		},
	})
}

// namedUpstream is a real HTTP server that answers its name on every path.
func namedUpstream(t testing.TB, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Upstream", name)
		fmt.Fprint(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

// refusedURL is a loopback URL where nothing listens.
func refusedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// poolOf renders a pool of upstreams given as url=weight pairs.
func poolOf(upstreams ...string) string {
	var parts []string
	for _, u := range upstreams {
		url, weight, ok := strings.Cut(u, "=")
		if !ok {
			weight = "1"
		}
		parts = append(parts, fmt.Sprintf(`{"url": %q, "weight": %s}`, url, weight))
	}
	return `{"upstreams": [` + strings.Join(parts, ", ") + `]}`
}

// oneRoute is a routes.json sending everything to one pool.
func oneRoute(pool string) string {
	return `{"routes": [{"prefix": "/", "pool": "p"}], "pools": {"p": ` + pool + `}}`
}

// body reads a response's status and body and closes it.
func body(t testing.TB, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}

// edgeStatus reads GET /edge/status.
func edgeStatus(t testing.TB, h *acktest.Host) statusJSON {
	t.Helper()
	var st statusJSON
	acktest.ReadJSON(t, h.Get(t, "/edge/status"), &st)
	return st
}

// upstreamHealth finds url's health in a status.
func upstreamHealth(st statusJSON, url string) string {
	for _, p := range st.Pools {
		for _, list := range [][]upstreamStatus{p.Upstreams, p.Blue, p.Green} {
			for _, u := range list {
				if u.URL == url {
					return u.Health
				}
			}
		}
	}
	return "absent"
}
