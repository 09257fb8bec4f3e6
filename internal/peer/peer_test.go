package peer_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/peer/peertest"
	"github.com/ack-dev/ack/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformanceLocalAndHTTP(t *testing.T) {
	exec := echoExecutor{}
	p := func(name string, v any) wire.DynamicParameter {
		return wire.DynamicParameter{ParameterName: name, Value: v, DbType: "String", Length: -1}
	}
	peertest.Compare(t, module.DBClient, exec, executorHandler(exec), []peertest.Case{
		{Name: "json parameters", Request: *request("HDS|BOD|BOD010|LD0100", p("Name", "홍길동"), p("Age", 42), p("Nil", nil))},
		{Name: "no query objects", Request: wire.DynamicRequest{GlobalID: "G2"}},
		{Name: "several objects", Request: wire.DynamicRequest{DynamicObjects: []wire.QueryObject{{QueryID: "a"}, {QueryID: "b", Parameters: []wire.DynamicParameter{p("x", true)}}}}},
		{Name: "in-band failure", Request: *request("fail")},
		{Name: "scalar", Request: wire.DynamicRequest{ReturnType: wire.ReturnScalar, DynamicObjects: []wire.QueryObject{{QueryID: "s"}}}},
		{Name: "non query", Request: wire.DynamicRequest{ReturnType: wire.ReturnNonQuery, DynamicObjects: []wire.QueryObject{{QueryID: "n"}, {QueryID: "m"}}}},
		{Name: "xml", Request: wire.DynamicRequest{ReturnType: wire.ReturnXML, DynamicObjects: []wire.QueryObject{{QueryID: "x"}}}},
		{Name: "executor error", Request: *request("error")},
	})
}

func TestLocalModuleIsCalledDirectly(t *testing.T) {
	exec := &echoExecutor{}
	srv := serve(t, "127.0.0.1:0", counting(executorHandler(exec)))
	r := newResolver(t, peer.Options{
		Local:     map[module.ID]module.Module{module.DBClient: exec},
		Endpoints: dbclientAt(srv.URL),
	})
	for _, url := range []string{"", "http://localhost:8421/dbclient/api/query", "event://dbclient.Events.DbClientRequest"} {
		got, err := r.Executor(module.DBClient, url)
		if err != nil {
			t.Fatalf("Executor(%q): %v", url, err)
		}
		if got != module.Executor(exec) {
			t.Errorf("Executor(%q) = %T, want the local module itself", url, got)
		}
	}
	if m, ok := r.Local(module.DBClient); !ok || m != module.Module(exec) {
		t.Errorf("Local(dbclient) = %v, %v", m, ok)
	}
	if _, ok := r.Local(module.Function); ok {
		t.Error("Local(function) reported a module that is not loaded")
	}
}

type notAnExecutor struct{ echoExecutor }

func (notAnExecutor) Execute() {} // hides echoExecutor.Execute: not a module.Executor

func TestExecutorResolutionErrors(t *testing.T) {
	r := newResolver(t, peer.Options{
		Local: map[module.ID]module.Module{module.Logger: notAnExecutor{}},
		Self:  []string{"http://127.0.0.1:8421"},
	})
	cases := []struct {
		id       module.ID
		url      string
		code     string   // "" when the error is not a *peer.Error
		contains []string // in the error text
	}{
		{module.DBClient, "", peer.CodeNotConfigured, []string{"peers.dbclient", "ACK_PEER_DBCLIENT"}},
		{module.Function, "", peer.CodeNotConfigured, []string{"peers.function", "ACK_PEER_FUNCTION"}},
		{module.DBClient, "event://dbclient.Events.DbClientRequest", peer.CodeNotConfigured, []string{"not loaded in this process"}},
		{module.DBClient, "event://function.Events.X", "", []string{"event of module function"}},
		{module.DBClient, "http://localhost:8421/dbclient/api/query", peer.CodeNotConfigured, []string{"points at this process", "ACK_PEER_DBCLIENT"}},
		{module.DBClient, "ftp://host/x", "", []string{"http://"}},
		{module.DBClient, "http:///nohost", "", []string{"no host"}},
		{module.DBClient, "http://user:pw@host/x", "", []string{"credentials"}},
		{module.Logger, "", "", []string{"does not execute"}},
		{module.Repository, "", "", []string{"no executor route"}},
	}
	for _, tc := range cases {
		_, err := r.Executor(tc.id, tc.url)
		if err == nil {
			t.Errorf("Executor(%s, %q) succeeded", tc.id, tc.url)
			continue
		}
		var pe *peer.Error
		if isPeer := errors.As(err, &pe); isPeer != (tc.code != "") || (isPeer && pe.Code != tc.code) {
			t.Errorf("Executor(%s, %q) = %v, want code %q", tc.id, tc.url, err, tc.code)
		}
		for _, s := range tc.contains {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("Executor(%s, %q) error %q does not mention %q", tc.id, tc.url, err, s)
			}
		}
	}
	if _, err := r.Remote(module.Logger); err == nil || !strings.Contains(err.Error(), "ACK_PEER_LOGGER") {
		t.Errorf("Remote(logger) without endpoints = %v, want an error naming ACK_PEER_LOGGER", err)
	}
}

func TestRoutingCommandUriIsUsedWhenNotLocal(t *testing.T) {
	routed := counting(executorHandler(echoExecutor{}))
	configured := counting(executorHandler(echoExecutor{}))
	routedSrv := serve(t, "127.0.0.1:0", routed)
	configuredSrv := serve(t, "127.0.0.1:0", configured)
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(configuredSrv.URL)})

	exec, err := r.Executor(module.DBClient, routedSrv.URL+"/dbclient/api/query")
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := exec.Execute(t.Context(), request("q")); err != nil || resp.Acknowledge != 1 {
		t.Fatalf("Execute = %+v, %v", resp, err)
	}
	if routed.hits.Load() != 1 || configured.hits.Load() != 0 {
		t.Errorf("hits: routed %d, configured %d; want 1, 0", routed.hits.Load(), configured.hits.Load())
	}
}

func TestSelfRoutingCommandUriFallsBackToPeers(t *testing.T) {
	configured := counting(executorHandler(echoExecutor{}))
	srv := serve(t, "127.0.0.1:0", configured)
	r := newResolver(t, peer.Options{
		Endpoints: dbclientAt(srv.URL),
		Self:      []string{"http://0.0.0.0:8421"},
	})
	// HandStack's shipped settings point at the monolith on localhost:8421,
	// which is this process: the configured peer is used instead.
	exec, err := r.Executor(module.DBClient, "http://localhost:8421/dbclient/api/query")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Execute(t.Context(), request("q")); err != nil {
		t.Fatal(err)
	}
	if configured.hits.Load() != 1 {
		t.Errorf("configured peer hits = %d, want 1", configured.hits.Load())
	}
}

func TestHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	exec := echoExecutor{}
	srv := serve(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		executorHandler(exec).ServeHTTP(w, r)
	}))
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), AuthorizationKey: "HANDSTACKDHOST"})
	ex, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Execute(t.Context(), request("q")); err != nil { // GlobalID G1 in the request
		t.Fatal(err)
	}
	if _, err := ex.Execute(peer.WithGlobalID(t.Context(), "CTX"), request("q")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, wantID := range []string{"G1", "CTX"} {
		h := seen[i]
		if h.Get("AuthorizationKey") != "HANDSTACKDHOST" || h.Get("Content-Type") != "application/json" || h.Get(peer.GlobalIDHeader) != wantID {
			t.Errorf("call %d headers: AuthorizationKey %q, Content-Type %q, %s %q; want HANDSTACKDHOST, application/json, %s",
				i, h.Get("AuthorizationKey"), h.Get("Content-Type"), peer.GlobalIDHeader, h.Get(peer.GlobalIDHeader), wantID)
		}
	}
}

func TestRemotePostJSON(t *testing.T) {
	srv := serve(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/logger/api/log/insert" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":` + string(body) + `}`))
	}))
	r := newResolver(t, peer.Options{Endpoints: map[module.ID][]string{module.Logger: {srv.URL + "/"}}})
	remote, err := r.Remote(module.Logger)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Received struct{ Message string } }
	if err := remote.PostJSON(t.Context(), "/logger/api/log/insert", map[string]string{"Message": "hi"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Received.Message != "hi" {
		t.Errorf("decoded %+v, want the echoed message", out)
	}
	if err := remote.PostJSON(t.Context(), "/logger/api/log/insert", map[string]string{}, nil); err != nil {
		t.Errorf("PostJSON with nil out: %v", err)
	}
	err = remote.PostJSON(t.Context(), "/logger/api/missing", map[string]string{}, nil)
	if pe := peerError(t, err); pe.Code != peer.CodeBadStatus || pe.Status != http.StatusNotFound {
		t.Errorf("missing route: %v, want bad_status 404", err)
	}
}

func TestRoundRobin(t *testing.T) {
	a := counting(executorHandler(echoExecutor{}))
	b := counting(executorHandler(echoExecutor{}))
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(serve(t, "127.0.0.1:0", a).URL, serve(t, "127.0.0.1:0", b).URL)})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := exec.Execute(t.Context(), request("q")); err != nil {
			t.Fatal(err)
		}
	}
	if a.hits.Load() != 5 || b.hits.Load() != 5 {
		t.Errorf("hits %d / %d, want 5 / 5", a.hits.Load(), b.hits.Load())
	}
}

func TestOneEndpointDownNoFailedCalls(t *testing.T) {
	live := counting(executorHandler(echoExecutor{}))
	down := refusingURL(t)
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(down, serve(t, "127.0.0.1:0", live).URL), BreakerOpenFor: time.Hour})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if resp, err := exec.Execute(t.Context(), request("q")); err != nil || resp.Acknowledge != 1 {
			t.Fatalf("call %d: %+v, %v", i, resp, err)
		}
	}
	if live.hits.Load() != 20 {
		t.Errorf("live endpoint hits = %d, want 20", live.hits.Load())
	}
	if st, _ := endpointState(r, module.DBClient, down); st.Breaker != "open" || st.Usable {
		t.Errorf("refusing endpoint state %+v, want an open breaker", st)
	}
	if c := r.Checks(); len(c) != 1 || !c[0].Ready {
		t.Errorf("Checks() = %+v, want dbclient ready through the live endpoint", c)
	}
}

func TestBreakerOpensAndRecoversOnSamePort(t *testing.T) {
	h := counting(executorHandler(echoExecutor{}))
	first := serve(t, "127.0.0.1:0", h)
	addr := first.Listener.Addr().String()
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(first.URL), BreakerFailures: 3, BreakerOpenFor: 50 * time.Millisecond})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Execute(t.Context(), request("q")); err != nil {
		t.Fatal(err)
	}
	first.Close()

	for i := range 3 {
		_, err := exec.Execute(t.Context(), request("q"))
		pe := peerError(t, err)
		// The first call may still pick the pooled connection the server
		// has just closed (the keep-alive race: the request was written, so
		// it is a transport error); later calls are refused.
		if pe.Code != peer.CodeUnavailable && (i > 0 || pe.Code != peer.CodeTransport) {
			t.Fatalf("call %d to a stopped server: %v, want peer.unavailable", i, err)
		}
	}
	if st, _ := endpointState(r, module.DBClient, first.URL); st.Breaker != "open" {
		t.Fatalf("after 3 refused calls the breaker is %q, want open", st.Breaker)
	}
	if c := r.Checks(); c[0].Ready {
		t.Error("Checks() reports dbclient ready with its only breaker open")
	}

	serve(t, addr, h) // the same port again
	eventually(t, "a successful call after restart", func() bool {
		resp, err := exec.Execute(t.Context(), request("q"))
		return err == nil && resp.Acknowledge == 1
	})
	if st, _ := endpointState(r, module.DBClient, first.URL); st.Breaker != "closed" || !st.Usable {
		t.Errorf("after recovery the endpoint is %+v, want closed and usable", st)
	}
}

func TestOpenBreakerStopsCallsToFailingServer(t *testing.T) {
	failing := counting(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(serve(t, "127.0.0.1:0", failing).URL), BreakerFailures: 3, BreakerOpenFor: time.Hour})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	for range 6 {
		_, err := exec.Execute(t.Context(), request("q"))
		codes[peerError(t, err).Code]++
	}
	if codes[peer.CodeBadStatus] != 3 || codes[peer.CodeUnavailable] != 3 || failing.hits.Load() != 3 {
		t.Errorf("codes %v, server hits %d; want 3 bad_status then 3 unavailable without reaching the server", codes, failing.hits.Load())
	}
}

func TestClientErrorsDoNotOpenBreaker(t *testing.T) {
	srv := serve(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "wrong key", http.StatusUnauthorized)
	}))
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), BreakerFailures: 2})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, err := exec.Execute(t.Context(), request("q"))
		if pe := peerError(t, err); pe.Code != peer.CodeBadStatus || pe.Status != http.StatusUnauthorized {
			t.Fatalf("got %v, want bad_status 401", err)
		}
	}
	if st, _ := endpointState(r, module.DBClient, srv.URL); st.Breaker != "closed" {
		t.Errorf("breaker %q after 4xx answers, want closed", st.Breaker)
	}
}

func TestNoRetryAfterRequestWasSent(t *testing.T) {
	// Both endpoints read the request, then drop the connection: the work
	// may have been done, so each call must reach exactly one server.
	drop := func() *countingHandler {
		return counting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}))
	}
	a, b := drop(), drop()
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(serve(t, "127.0.0.1:0", a).URL, serve(t, "127.0.0.1:0", b).URL), BreakerFailures: 100})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	const calls = 6
	for range calls {
		_, err := exec.Execute(t.Context(), request("q"))
		if pe := peerError(t, err); pe.Code != peer.CodeTransport {
			t.Fatalf("got %v, want peer.transport", err)
		}
	}
	if total := a.hits.Load() + b.hits.Load(); total != calls {
		t.Errorf("servers saw %d requests for %d calls; a sent request was retried", total, calls)
	}
}

// blockingServer answers only when the client goes away.
func blockingServer(t *testing.T) *httptest.Server {
	return serve(t, "127.0.0.1:0", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client leaving.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
}

func TestTimeout(t *testing.T) {
	srv := blockingServer(t)
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), Timeout: 50 * time.Millisecond, BreakerFailures: 2})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = exec.Execute(t.Context(), request("q"))
	if pe := peerError(t, err); pe.Code != peer.CodeTimeout || pe.HTTPStatus() != http.StatusGatewayTimeout {
		t.Fatalf("got %v, want peer.timeout", err)
	}

	// A caller's own short deadline is a timeout too, but says nothing
	// about the peer: it never opens the breaker.
	r2 := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), BreakerFailures: 2})
	exec2, err := r2.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		_, err := exec2.Execute(ctx, request("q"))
		cancel()
		if pe := peerError(t, err); pe.Code != peer.CodeTimeout {
			t.Fatalf("caller deadline: got %v, want peer.timeout", err)
		}
	}
	if st, _ := endpointState(r2, module.DBClient, srv.URL); st.Breaker != "closed" {
		t.Errorf("breaker %q after caller deadlines, want closed", st.Breaker)
	}
}

func TestContextCancel(t *testing.T) {
	started := make(chan struct{}, 10)
	srv := serve(t, "127.0.0.1:0", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		started <- struct{}{}
		<-r.Context().Done()
	}))
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), BreakerFailures: 2})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-started
			cancel()
		}()
		_, err := exec.Execute(ctx, request("q"))
		cancel()
		if pe := peerError(t, err); pe.Code != peer.CodeCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want peer.canceled wrapping context.Canceled", err)
		}
	}
	if st, _ := endpointState(r, module.DBClient, srv.URL); st.Breaker != "closed" {
		t.Errorf("breaker %q after canceled calls, want closed", st.Breaker)
	}
}

func TestBadResponses(t *testing.T) {
	body := map[string]string{
		"/text":  "not json",
		"/null":  "null",
		"/huge":  `{"Acknowledge":1,"ExceptionText":"` + strings.Repeat("x", 2048) + `"}`,
		"/array": "[1,2]",
	}
	srv := serve(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body[r.URL.Path])
	}))
	r := newResolver(t, peer.Options{MaxResponseBytes: 1024})
	for path := range body {
		exec, err := r.Executor(module.DBClient, srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exec.Execute(t.Context(), request("q"))
		if pe := peerError(t, err); pe.Code != peer.CodeBadResponse {
			t.Errorf("%s: got %v, want peer.bad_response", path, err)
		}
	}
}

func TestHealthChecks(t *testing.T) {
	var aReady sync.Mutex
	aDown := true
	handler := func(ready func() bool) *countingHandler {
		exec := executorHandler(echoExecutor{})
		return counting(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" {
				if !ready() {
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = io.WriteString(w, `{"status":"draining","state":"draining","ready":false}`)
				}
				return
			}
			exec.ServeHTTP(w, r)
		}))
	}
	a := handler(func() bool { aReady.Lock(); defer aReady.Unlock(); return !aDown })
	b := handler(func() bool { return true })
	aSrv, bSrv := serve(t, "127.0.0.1:0", a), serve(t, "127.0.0.1:0", b)
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(aSrv.URL, bSrv.URL), HealthInterval: 10 * time.Millisecond})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	eventually(t, "endpoint a marked down", func() bool {
		st, _ := endpointState(r, module.DBClient, aSrv.URL)
		return st.Health == "down" && !st.Usable
	})
	for range 6 {
		if _, err := exec.Execute(t.Context(), request("q")); err != nil {
			t.Fatal(err)
		}
	}
	if a.hits.Load() != 0 || b.hits.Load() != 6 {
		t.Errorf("hits a %d, b %d; want 0, 6 while a fails its health check", a.hits.Load(), b.hits.Load())
	}

	aReady.Lock()
	aDown = false
	aReady.Unlock()
	eventually(t, "endpoint a marked up", func() bool {
		st, _ := endpointState(r, module.DBClient, aSrv.URL)
		return st.Health == "up" && st.Usable
	})
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := serve(t, "127.0.0.1:0", executorHandler(echoExecutor{}))
	down := refusingURL(t)
	r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL, down), Metrics: reg})
	exec, err := r.Executor(module.DBClient, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := exec.Execute(t.Context(), request("q")); err != nil {
			t.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				values[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				values[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				values[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"ack_peer_requests_total endpoint=" + srv.URL + " result=ok target=dbclient":       4,
		"ack_peer_requests_total endpoint=" + down + " result=unavailable target=dbclient": 2,
		"ack_peer_request_duration_seconds target=dbclient":                                4,
		"ack_peer_breaker_state endpoint=" + srv.URL + " target=dbclient":                  0,
		"ack_peer_endpoint_up endpoint=" + srv.URL + " target=dbclient":                    1,
		"ack_peer_endpoint_up endpoint=" + down + " target=dbclient":                       1,
	}
	for k, v := range want {
		if got, ok := values[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if _, err := peer.NewResolver(peer.Options{Metrics: reg}); err == nil {
		t.Error("a second resolver registered the same metrics without error")
	}
}

func TestNewResolverRejectsBadEndpoints(t *testing.T) {
	for _, raw := range []string{"localhost:8004", "tcp://host:1", "http://", "http://host/?q=1", "://x"} {
		_, err := peer.NewResolver(peer.Options{Endpoints: dbclientAt(raw)})
		if err == nil || !strings.Contains(err.Error(), "peers.dbclient") {
			t.Errorf("endpoint %q: error %v, want one naming peers.dbclient", raw, err)
		}
	}
}

func TestHealthProbeAnswers(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"ready", http.StatusOK, `{"state":"ready","ready":true}`, "up"},
		{"draining", http.StatusServiceUnavailable, `{"state":"draining","ready":false}`, "down"},
		{"starting", http.StatusServiceUnavailable, `{"state":"starting","ready":false}`, "down"},
		// Its own checks fail (its peers, say), but it takes calls: no cascade.
		{"failing checks", http.StatusServiceUnavailable, `{"state":"ready","ready":false,"checks":[{"name":"peers","ok":false}]}`, "up"},
		{"plain 503", http.StatusServiceUnavailable, "Service Unavailable", "down"},
		{"server error", http.StatusInternalServerError, "", "down"},
		// A HandStack process has no /readyz: the breaker alone decides.
		{"no such route", http.StatusNotFound, "", "unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var probes atomic.Int64
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != peer.HealthPath {
					http.NotFound(w, r)
					return
				}
				probes.Add(1)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			srv := serve(t, "127.0.0.1:0", h)
			r := newResolver(t, peer.Options{Endpoints: dbclientAt(srv.URL), HealthInterval: 5 * time.Millisecond})
			if _, err := r.Executor(module.DBClient, ""); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			// A second probe means the first one's result is recorded.
			eventually(t, "two probes", func() bool { return probes.Load() >= 2 })
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if st, _ := endpointState(r, module.DBClient, srv.URL); st.Health != tc.want {
				t.Errorf("health %q, want %q", st.Health, tc.want)
			}
		})
	}
}
