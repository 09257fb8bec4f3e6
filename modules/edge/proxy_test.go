package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/host"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/wwwroot"
)

func TestProxyForwardsRequestAndHeaders(t *testing.T) {
	var seen atomic.Pointer[http.Request]
	var gotBody atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/readyz") {
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(string(b))
		seen.Store(r)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ok")
	}))
	defer up.Close()
	h := startEdge(t, oneRoute(poolOf(up.URL+"/base")), nil)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/Transact/api/x%2Fy?q=1&r=2", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "shop.example"
	req.Header.Set("X-Forwarded-For", "6.6.6.6") // a client's claim, not trusted by default
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "must not pass")
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	code, text := body(t, resp)
	if code != 200 || text != "ok" {
		t.Fatalf("answer %d %q", code, text)
	}
	r := seen.Load()
	if r.Method != http.MethodPost || r.URL.EscapedPath() != "/base/Transact/api/x%2Fy" || r.URL.RawQuery != "q=1&r=2" {
		t.Errorf("upstream saw %s %s?%s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if gotBody.Load() != "payload" {
		t.Errorf("body = %q", gotBody.Load())
	}
	if got := r.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q, want the edge's view of the client only", got)
	}
	if r.Header.Get("X-Forwarded-Host") != "shop.example" || r.Header.Get("X-Forwarded-Proto") != "http" {
		t.Errorf("X-Forwarded-Host %q, -Proto %q", r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"))
	}
	if r.Host != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("Host = %q, want the upstream's", r.Host)
	}
	if r.Header.Get("X-Hop") != "" {
		t.Error("a header named in Connection was forwarded")
	}
	if n := len(resp.Header.Values("X-Content-Type-Options")); n != 1 {
		t.Errorf("X-Content-Type-Options sent %d times", n)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("the edge's own default header was lost when the upstream did not set it")
	}
}

func TestTrustForwardedHeaders(t *testing.T) {
	var xff, proto atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			xff.Store(r.Header.Get("X-Forwarded-For"))
			proto.Store(r.Header.Get("X-Forwarded-Proto"))
		}
	}))
	defer up.Close()
	h := startEdge(t, oneRoute(poolOf(up.URL)), map[string]any{"TrustForwardedHeaders": true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL+"/a", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if xff.Load() != "203.0.113.9, 127.0.0.1" || proto.Load() != "https" {
		t.Errorf("X-Forwarded-For %q, -Proto %q", xff.Load(), proto.Load())
	}
}

func TestRetryWhenConnectionRefused(t *testing.T) {
	dead := refusedURL(t)
	var bodies []string
	bodyCh := make(chan string, 100)
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodyCh <- string(b)
		fmt.Fprint(w, "live")
	}))
	defer live.Close()
	// The dead upstream weighs most, so the first pick is the dead one. Active
	// checks cannot take it out (one round, a threshold never reached), so
	// only the failing request itself can.
	h := startEdge(t, oneRoute(poolOf(dead+"=100", live.URL+"=1")), map[string]any{"HealthCheckInterval": "1h", "UnhealthyThreshold": 100})
	for i := range 10 {
		resp := h.Post(t, "/transact/api", fmt.Sprintf(`{"n":%d}`, i))
		if code, text := body(t, resp); code != 200 || text != "live" {
			t.Fatalf("request %d: %d %q", i, code, text)
		}
	}
	close(bodyCh)
	for b := range bodyCh {
		bodies = append(bodies, b)
	}
	if len(bodies) != 10 || bodies[0] != `{"n":0}` || bodies[9] != `{"n":9}` {
		t.Errorf("the live upstream got %q; want each POST body once, intact", bodies)
	}
	if got := upstreamHealth(edgeStatus(t, h), dead); got != "down" {
		t.Errorf("dead upstream health = %s, want down after a refused connection", got)
	}
	resp := h.Get(t, "/metrics")
	_, metrics := body(t, resp)
	if !strings.Contains(metrics, fmt.Sprintf(`ack_edge_retries_total{module="edge",pool="p",upstream=%q} 1`, dead)) {
		t.Errorf("want exactly one retry counted (then passive health keeps the dead one out):\n%s", grep(metrics, "ack_edge_"))
	}
	if !strings.Contains(metrics, fmt.Sprintf(`ack_edge_upstream_up{module="edge",pool="p",upstream=%q} 0`, dead)) ||
		!strings.Contains(metrics, fmt.Sprintf(`ack_edge_requests_total{code="200",module="edge",pool="p",upstream=%q} 10`, live.URL)) {
		t.Errorf("metrics:\n%s", grep(metrics, "ack_edge_"))
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// dropper reads a request and closes the connection without answering: the
// request was sent, and maybe acted on.
func dropper(t *testing.T, hits *atomic.Int32) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(s.Close)
	return s
}

func TestNoRetryAfterTheRequestWasSent(t *testing.T) {
	var dropped, served atomic.Int32
	drop := dropper(t, &dropped)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			served.Add(1)
		}
	}))
	defer other.Close()
	routes := oneRoute(poolOf(drop.URL+"=100", other.URL+"=1"))
	settings := map[string]any{"HealthCheckInterval": "1h"}

	t.Run("POST", func(t *testing.T) {
		dropped.Store(0)
		served.Store(0)
		h := startEdge(t, routes, settings)
		resp := h.Post(t, "/transact/api", `{"insert":"row"}`)
		code, text := body(t, resp)
		if code != http.StatusBadGateway || !strings.Contains(text, `"edge.bad_gateway"`) {
			t.Errorf("answer %d %s, want 502 edge.bad_gateway", code, text)
		}
		if strings.Contains(text, "127.0.0.1") || strings.Contains(text, "EOF") {
			t.Errorf("the answer leaks the cause: %s", text)
		}
		if dropped.Load() != 1 || served.Load() != 0 {
			t.Errorf("sent to the dropper %d times and to the other %d times; a POST that left must not be sent again", dropped.Load(), served.Load())
		}
	})
	t.Run("GET without body", func(t *testing.T) {
		dropped.Store(0)
		served.Store(0)
		h := startEdge(t, routes, settings)
		if code, _ := body(t, h.Get(t, "/view/page.html")); code != 200 {
			t.Errorf("GET answer %d, want 200 from the other upstream", code)
		}
		// Go's transport may itself resend an idempotent request once on a
		// fresh connection to the same upstream; the edge then moves on.
		if dropped.Load() < 1 || served.Load() != 1 {
			t.Errorf("dropper %d, other %d; want the GET retried on the other", dropped.Load(), served.Load())
		}
	})
}

func TestUnavailablePoolAnswers503Fast(t *testing.T) {
	h := startEdge(t, `{"routes": [{"prefix": "/", "pool": "empty"}, {"prefix": "/dead/", "pool": "dead"}],
		"pools": {"empty": {"upstreams": []}, "dead": `+poolOf(refusedURL(t), refusedURL(t))+`}}`, nil)
	for _, path := range []string{"/anything", "/dead/x", "/dead/x"} {
		start := time.Now()
		resp := h.Post(t, path, `{}`)
		code, text := body(t, resp)
		if code != http.StatusServiceUnavailable || !strings.Contains(text, `"code":"edge.unavailable"`) || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: %d %s (Retry-After %q)", path, code, text, resp.Header.Get("Retry-After"))
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v: an unavailable pool must answer at once", path, d)
		}
	}
	// The edge itself stays ready: a pool down is not the edge down.
	if code, _ := body(t, h.Get(t, "/readyz")); code != 200 {
		t.Errorf("/readyz = %d with one pool down, want 200", code)
	}
}

func TestNoRouteAndNoRoutesFile(t *testing.T) {
	h := startEdge(t, `{"routes": [{"prefix": "/only/", "pool": "p"}], "pools": {"p": {}}}`, nil)
	code, text := body(t, h.Get(t, "/elsewhere"))
	if code != 404 || !strings.Contains(text, "edge.no_route") {
		t.Errorf("unrouted path: %d %s", code, text)
	}
	code, text = body(t, h.Get(t, "/edge/nothing"))
	if code != 404 || !strings.Contains(text, "edge.not_found") {
		t.Errorf("unknown /edge/ path: %d %s", code, text)
	}
	writeRoutes(t, h.Home, `{}`)
	acktest.Eventually(t, 10*time.Second, "readiness to fail without routes", func() bool {
		resp := h.Get(t, "/readyz")
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
}

func TestRequestTimeout(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done() // answers only when the edge gives up
		}
	}))
	defer up.Close()
	h := startEdge(t, `{"routes": [{"prefix": "/", "pool": "p", "timeout": "200ms"}], "pools": {"p": `+poolOf(up.URL)+`}}`, nil)
	code, text := body(t, h.Get(t, "/slow"))
	if code != http.StatusGatewayTimeout || !strings.Contains(text, "edge.timeout") {
		t.Errorf("answer %d %s, want 504 edge.timeout", code, text)
	}
	if got := upstreamHealth(edgeStatus(t, h), up.URL); got == "down" {
		t.Error("a slow answer is not a connection failure: the upstream must stay in")
	}
}

func TestStreamsWithoutBuffering(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		fmt.Fprint(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "second\n")
	}))
	defer up.Close()
	h := startEdge(t, oneRoute(poolOf(up.URL)), nil)
	resp := h.Get(t, "/download")
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	// The first line arrives while the upstream is still holding the rest.
	line, err := rd.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, err := io.ReadAll(rd)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestStickyCookieAndHeader(t *testing.T) {
	a, b, dark := namedUpstream(t, "a"), namedUpstream(t, "b"), namedUpstream(t, "dark")
	h := startEdge(t, `{"routes": [{"prefix": "/", "pool": "p"}], "pools": {"p": {"upstreams": [
		{"url": "`+a.URL+`", "name": "a"}, {"url": "`+b.URL+`", "name": "b"}, {"url": "`+dark.URL+`", "name": "dark", "weight": 0}],
		"sticky": {"cookie": "ack_up", "header": "X-Ack-Upstream"}}}}`, nil)

	// No cookie: round robin, and each answer names its upstream in the cookie.
	first := h.Get(t, "/x")
	_, name := body(t, first)
	var cookie *http.Cookie
	for _, c := range first.Cookies() {
		if c.Name == "ack_up" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != name || !cookie.HttpOnly {
		t.Fatalf("cookie %+v after an answer from %s", cookie, name)
	}
	for range 10 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL+"/x", nil)
		req.AddCookie(cookie)
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := body(t, resp); got != name {
			t.Fatalf("pinned to %s, answered by %s", name, got)
		}
		if len(resp.Cookies()) != 0 {
			t.Error("the cookie is set again although it was honoured")
		}
	}
	// The header reaches a dark (weight 0) upstream, which round robin never picks.
	for range 3 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL+"/x", nil)
		req.Header.Set("X-Ack-Upstream", "dark")
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := body(t, resp); got != "dark" {
			t.Fatalf("header asked for dark, answered by %s", got)
		}
	}
	for range 20 {
		if _, got := body(t, h.Get(t, "/x")); got == "dark" {
			t.Fatal("a weight-0 upstream got unpinned traffic")
		}
	}
	// A cookie naming an upstream that is gone is ignored and replaced.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.URL+"/x", nil)
	req.AddCookie(&http.Cookie{Name: "ack_up", Value: "gone"})
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := body(t, resp); code != 200 || len(resp.Cookies()) != 1 {
		t.Errorf("stale cookie: %d, cookies %v", code, resp.Cookies())
	}
}

func TestManagementEndpoints(t *testing.T) {
	a, b := namedUpstream(t, "blue"), namedUpstream(t, "green")
	routes := `{"routes": [{"prefix": "/", "pool": "api"}, {"prefix": "/plain/", "pool": "plain"}], "pools": {
		"api": {"active": "blue", "blue": [{"url": "` + a.URL + `"}], "green": [{"url": "` + b.URL + `"}]},
		"plain": {"upstreams": []}}}`

	t.Run("without a token", func(t *testing.T) {
		t.Setenv("ACK_ADMIN_TOKEN", "")
		h := startEdge(t, routes, nil)
		if code, text := body(t, h.Post(t, "/edge/switch?pool=api&color=green", "")); code != 403 || !strings.Contains(text, "admin.disabled") {
			t.Errorf("switch without a configured token: %d %s", code, text)
		}
		// Status is open to loopback, like the host's /ack/status.
		st := edgeStatus(t, h)
		if len(st.Pools) != 2 || st.Pools[0].Name != "api" || st.Pools[0].Active != "blue" || st.Pools[0].ActiveSource != "file" {
			t.Errorf("status %+v", st)
		}
	})

	t.Run("with a token", func(t *testing.T) {
		h := startEdge(t, routes, map[string]any{"AdminToken": "s3cret"})
		post := func(query, token string) (int, string) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/edge/switch?"+query, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := h.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return body(t, resp)
		}
		if code, _ := post("pool=api&color=green", "wrong"); code != 401 {
			t.Errorf("wrong token: %d", code)
		}
		for query, want := range map[string]int{"pool=nope&color=green": 404, "pool=plain&color=green": 400, "pool=api&color=red": 400} {
			if code, text := post(query, "s3cret"); code != want {
				t.Errorf("%s: %d %s, want %d", query, code, text, want)
			}
		}
		acktest.Eventually(t, 10*time.Second, "green's first health check", func() bool {
			return upstreamHealth(edgeStatus(t, h), b.URL) == "up"
		})
		if _, got := body(t, h.Get(t, "/x")); got != "blue" {
			t.Fatalf("before the switch: %s", got)
		}
		code, text := post("pool=api&color=green", "s3cret")
		var ps poolStatus
		if err := json.Unmarshal([]byte(text), &ps); code != 200 || err != nil || ps.Active != "green" || ps.ActiveSource != "switch" {
			t.Fatalf("switch: %d %s", code, text)
		}
		if _, got := body(t, h.Get(t, "/x")); got != "green" {
			t.Fatalf("after the switch: %s", got)
		}
		// A reload of an unchanged file keeps the switch; an edit of the pool's active color wins.
		writeRoutes(t, h.Home, routes+" ")
		acktest.Eventually(t, 10*time.Second, "the reload", func() bool { return edgeStatus(t, h).Generation >= 2 })
		if _, got := body(t, h.Get(t, "/x")); got != "green" {
			t.Fatalf("after a reload that kept active=blue: %s", got)
		}
		writeRoutes(t, h.Home, strings.Replace(routes, `"active": "blue"`, `"active": "green"`, 1))
		acktest.Eventually(t, 10*time.Second, "the file's color", func() bool {
			p := edgeStatus(t, h).Pools[0]
			return p.Active == "green" && p.ActiveSource == "file"
		})
	})

	t.Run("refuses a color with nothing up", func(t *testing.T) {
		h := startEdge(t, strings.Replace(routes, b.URL, refusedURL(t), 1), map[string]any{"AdminToken": "s3cret"})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/edge/switch?pool=api&color=green", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if code, text := body(t, resp); code != 409 || !strings.Contains(text, "edge.color_not_ready") {
			t.Errorf("switch to a dead color: %d %s", code, text)
		}
		req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/edge/switch?pool=api&color=green&force=true", nil)
		req.Header.Set("Authorization", "Bearer s3cret")
		if resp, err = h.Client.Do(req); err != nil {
			t.Fatal(err)
		}
		if code, _ := body(t, resp); code != 200 {
			t.Errorf("forced switch: %d", code)
		}
	})
}

func TestRefusesWWWRootInTheSameProcess(t *testing.T) {
	home := t.TempDir()
	settings, err := config.Load(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := host.Select([]module.Info{wwwroot.Info(), Info()}, []string{"wwwroot", "edge"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(host.Config{Settings: settings, Paths: config.NewPaths(home, settings.DataDir), Modules: mods,
		Logger: slog.New(slog.DiscardHandler), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = h.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "wwwroot") {
		t.Fatalf("start with wwwroot and edge: %v, want a clear refusal", err)
	}
}

// A pool's last upstream may be a Service standing for many pods: one failed
// connection must not take the whole pool out until the active checks agree.
func TestLastUpstreamIsNotTakenOutByOneFailure(t *testing.T) {
	var dropped atomic.Int32
	var once atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/readyz" && once.CompareAndSwap(false, true) {
			dropped.Add(1)
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(s.Close)
	h := startEdge(t, oneRoute(poolOf(s.URL+"=1")), map[string]any{"HealthCheckInterval": "1h"})
	if code, _ := body(t, h.Post(t, "/transact/api", `{}`)); code != http.StatusBadGateway || dropped.Load() != 1 {
		t.Fatalf("first request: %d (dropped %d), want the 502 of the dropped connection", code, dropped.Load())
	}
	if code, text := body(t, h.Post(t, "/transact/api", `{}`)); code != 200 || text != "ok" {
		t.Fatalf("next request: %d %s; the only upstream must still be used", code, text)
	}
}
