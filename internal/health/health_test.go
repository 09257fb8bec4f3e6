package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/health"
)

func probe(t *testing.T, h http.Handler) (int, health.Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var rep health.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, rep
}

func TestReadiness(t *testing.T) {
	tr := health.NewTracker(50 * time.Millisecond)
	var fail error
	tr.Add(health.Check{Name: "db", Fn: func(context.Context) error { return fail }})
	tr.Add(health.Check{Name: "slow", Fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})

	if code, rep := probe(t, tr.ReadyHandler()); code != 503 || rep.State != "starting" {
		t.Fatalf("starting: %d %+v", code, rep)
	}
	tr.Set(health.Ready)
	code, rep := probe(t, tr.ReadyHandler())
	if code != 503 || rep.Status != "failing checks" || rep.Checks[1].Name != "slow" || rep.Checks[1].OK {
		t.Fatalf("a check that times out must fail readiness: %d %+v", code, rep)
	}

	tr = health.NewTracker(time.Second)
	tr.Add(health.Check{Name: "db", Fn: func(context.Context) error { return fail },
		Detail: func() any { return map[string]string{"breaker": "closed"} }})
	tr.Set(health.Ready)
	if code, rep := probe(t, tr.ReadyHandler()); code != 200 || !rep.Ready || !rep.Checks[0].OK {
		t.Fatalf("ready: %d %+v", code, rep)
	} else if d, _ := rep.Checks[0].Detail.(map[string]any); d["breaker"] != "closed" {
		t.Fatalf("detail of a passing check: %+v", rep.Checks[0])
	}
	fail = errors.New("connection refused")
	if code, rep := probe(t, tr.ReadyHandler()); code != 503 || rep.Checks[0].Error != "connection refused" {
		t.Fatalf("failing db: %d %+v", code, rep)
	}
	fail = nil
	tr.Set(health.Draining)
	if code, rep := probe(t, tr.ReadyHandler()); code != 503 || rep.Status != "draining" {
		t.Fatalf("draining: %d %+v", code, rep)
	}
	rec := httptest.NewRecorder()
	tr.LiveHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
	if rec.Code != 200 {
		t.Fatalf("livez while draining: %d", rec.Code)
	}
}
