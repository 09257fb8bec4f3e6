package peer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/wire"
)

// stubDBClient serves the echo executor at dbclient's route and records the
// inter-module headers it receives.
type stubDBClient struct {
	echoExecutor
	mu   sync.Mutex
	keys []string
}

func (s *stubDBClient) Routes() []module.Route {
	serve := executorHandler(s)
	return []module.Route{{Pattern: "POST /dbclient/api/query", Handler: func(w http.ResponseWriter, r *http.Request) error {
		s.mu.Lock()
		s.keys = append(s.keys, r.Header.Get(callerauth.Header))
		s.mu.Unlock()
		serve.ServeHTTP(w, r)
		return nil
	}}}
}

// caller resolves dbclient at Provision, as transact does, and runs one
// request per POST /caller/run.
type caller struct {
	echoExecutor
	exec module.Executor
}

func (c *caller) Provision(_ context.Context, h module.Host) error {
	ex, err := h.Peers().Executor(module.DBClient, "")
	c.exec = ex
	return err
}

func (c *caller) Routes() []module.Route {
	return []module.Route{{Pattern: "POST /caller/run", Handler: func(w http.ResponseWriter, r *http.Request) error {
		resp, err := c.exec.Execute(r.Context(), request("q", wire.DynamicParameter{ParameterName: "N", Value: "v"}))
		var pe *peer.Error
		if errors.As(err, &pe) {
			return module.Errorf(pe.HTTPStatus(), pe.Code, pe.ClientMessage(), err)
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(resp)
	}}}
}

func callerInfo() module.Info {
	return module.Info{ID: "caller", Calls: []module.ID{module.DBClient}, New: func() module.Module { return &caller{} }}
}

func startCaller(t *testing.T, dbclientURLs ...string) *acktest.Host {
	return acktest.Start(t, acktest.Options{
		Modules: []module.Info{callerInfo()},
		Settings: func(s *config.Settings) {
			s.Peers = map[string][]string{"dbclient": dbclientURLs}
			s.AuthorizationKey = "K1"
		},
	})
}

func TestSplitHosts(t *testing.T) {
	stub := &stubDBClient{}
	db := acktest.Start(t, acktest.Options{Modules: []module.Info{{ID: module.DBClient, New: func() module.Module { return stub }}}})
	down := refusingURL(t)
	app := startCaller(t, down, db.URL)

	for i := range 6 {
		resp := app.Post(t, "/caller/run", "")
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("call %d: %d %s", i, resp.StatusCode, body)
		}
		var got wire.DynamicResponse
		acktest.ReadJSON(t, resp, &got)
		if got.Acknowledge != 1 || !strings.Contains(string(got.ResultJSON), `"N":"v"`) {
			t.Fatalf("call %d answered %+v", i, got)
		}
	}
	stub.mu.Lock()
	keys := stub.keys
	stub.mu.Unlock()
	if len(keys) != 6 || keys[0] != "K1" {
		t.Errorf("dbclient saw AuthorizationKey %q over %d calls, want K1 on 6", keys, len(keys))
	}

	resp := app.Get(t, "/metrics")
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`ack_peer_requests_total{endpoint="` + db.URL + `",result="ok",target="dbclient"} 6`,
		`ack_peer_endpoint_up{endpoint="` + down + `",target="dbclient"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSplitHostsPeerDown(t *testing.T) {
	down := refusingURL(t)
	app := startCaller(t, down)
	resp := app.Post(t, "/caller/run", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), peer.CodeUnavailable) {
		t.Errorf("got %d %s, want 503 peer.unavailable", resp.StatusCode, body)
	}
	if strings.Contains(string(body), strings.TrimPrefix(down, "http://")) {
		t.Errorf("the answer %s reveals the peer's address", body)
	}

	// The caller's /readyz fails on its missing peer, yet it still takes
	// calls: a process probing it must not count it down, or one failure
	// would spread along every chain of callers.
	ready := app.Get(t, peer.HealthPath)
	ready.Body.Close()
	if ready.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("caller /readyz = %d, want 503 while its peer is down", ready.StatusCode)
	}
	r := newResolver(t, peer.Options{Endpoints: map[module.ID][]string{"caller": {app.URL}}, HealthInterval: 5 * time.Millisecond})
	if _, err := r.Remote("caller"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	eventually(t, "the caller's health to be known", func() bool {
		st, _ := endpointState(r, "caller", app.URL)
		return st.Health != "unknown"
	})
	if st, _ := endpointState(r, "caller", app.URL); st.Health != "up" {
		t.Errorf("caller with a missing peer probed as %q, want up", st.Health)
	}
}
