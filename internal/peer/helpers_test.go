package peer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/wire"
)

// echoExecutor is a small real executor: it answers the parameters of each
// query object as a form, the way dbclient shapes a Json answer.
type echoExecutor struct{}

func (echoExecutor) Provision(context.Context, module.Host) error { return nil }
func (echoExecutor) Start(context.Context) error                  { return nil }
func (echoExecutor) Routes() []module.Route                       { return nil }
func (echoExecutor) Stop(context.Context) error                   { return nil }

func (echoExecutor) Execute(_ context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, error) {
	resp := &wire.DynamicResponse{Acknowledge: 1, CorrelationID: req.GlobalID, Informations: []string{}, ResultMeta: []string{}}
	type item struct {
		ID    string         `json:"id"`
		Value map[string]any `json:"value"`
	}
	var items []item
	for i, q := range req.DynamicObjects {
		switch q.QueryID {
		case "fail":
			return wire.Fail(req.GlobalID, "test.failed", "statement failed"), nil
		case "error":
			return nil, errors.New("internal failure")
		}
		values := map[string]any{}
		for _, p := range q.Parameters {
			values[p.ParameterName] = p.Value
		}
		items = append(items, item{ID: fmt.Sprintf("FormData%d", i), Value: values})
		resp.ResultMeta = append(resp.ResultMeta, fmt.Sprintf("n:%d", len(q.Parameters)))
	}
	switch req.ReturnType {
	case wire.ReturnScalar:
		resp.ResultObject = len(req.DynamicObjects)
	case wire.ReturnNonQuery:
		resp.ResultInteger = int64(len(req.DynamicObjects))
	case wire.ReturnXML:
		// Over HTTP an XML answer is the text alone.
		return &wire.DynamicResponse{Acknowledge: 1, ResultObject: "<rows><row n=\"1\"/></rows>", Informations: []string{}, ResultMeta: []string{}}, nil
	default:
		data, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		resp.ResultJSON = data
	}
	return resp, nil
}

// executorHandler serves an executor the way an ack module does over HTTP:
// a DynamicRequest in, a DynamicResponse (or raw XML) out.
func executorHandler(exec module.Executor) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wire.DynamicRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		resp, err := exec.Execute(r.Context(), &req)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if req.ReturnType == wire.ReturnXML && resp.Acknowledge == 1 {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, resp.ResultObject)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// countingHandler counts the requests that reach h.
type countingHandler struct {
	hits atomic.Int64
	h    http.Handler
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/readyz" {
		c.hits.Add(1)
	}
	c.h.ServeHTTP(w, r)
}

func counting(h http.Handler) *countingHandler { return &countingHandler{h: h} }

// serve starts a real HTTP server on addr ("127.0.0.1:0" for any port).
func serve(t testing.TB, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// refusingURL returns the URL of a port nothing listens on.
func refusingURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func newResolver(t testing.TB, opts peer.Options) *peer.Resolver {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HealthInterval == 0 {
		opts.HealthInterval = -1
	}
	r, err := peer.NewResolver(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func dbclientAt(urls ...string) map[module.ID][]string {
	return map[module.ID][]string{module.DBClient: urls}
}

func request(queryID string, params ...wire.DynamicParameter) *wire.DynamicRequest {
	return &wire.DynamicRequest{
		GlobalID:       "G1",
		DynamicObjects: []wire.QueryObject{{QueryID: queryID, Parameters: params}},
	}
}

func peerError(t *testing.T, err error) *peer.Error {
	t.Helper()
	var pe *peer.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *peer.Error", err, err)
	}
	return pe
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func endpointState(r *peer.Resolver, target module.ID, url string) (peer.EndpointCheck, bool) {
	for _, c := range r.Checks() {
		if c.Target != target {
			continue
		}
		for _, e := range c.Endpoints {
			if e.URL == url {
				return e, true
			}
		}
	}
	return peer.EndpointCheck{}, false
}
