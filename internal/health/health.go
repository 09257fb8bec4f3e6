// Package health tracks whether the process may take traffic. Liveness says
// the process runs; readiness says it is started, every check passes, and it
// is not draining. Checks are contributed by the host (contracts loaded) and by
// modules (data sources, remote peers).
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// State is the lifecycle state of the process.
type State int32

// The states, in the order a process goes through them.
const (
	Starting State = iota
	Ready
	Draining
	Stopped
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Ready:
		return "ready"
	case Draining:
		return "draining"
	default:
		return "stopped"
	}
}

// Check is one readiness condition. Fn returns nil when it passes. Detail,
// when set, adds what the check looked at to the report (a peer's endpoints
// with their breaker and health state), whether it passed or not.
type Check struct {
	Name   string
	Fn     func(ctx context.Context) error
	Detail func() any
}

// Tracker holds the state and the readiness checks.
type Tracker struct {
	state   atomic.Int32
	timeout time.Duration

	mu     sync.Mutex
	checks []Check
}

// NewTracker returns a tracker in the Starting state. timeout bounds each
// check during a readiness probe.
func NewTracker(timeout time.Duration) *Tracker {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Tracker{timeout: timeout}
}

// Set changes the state.
func (t *Tracker) Set(s State) { t.state.Store(int32(s)) }

// State returns the current state.
func (t *Tracker) State() State { return State(t.state.Load()) }

// Add registers a readiness check.
func (t *Tracker) Add(c Check) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checks = append(t.checks, c)
}

// CheckResult is one check's outcome in a report.
type CheckResult struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Duration string `json:"duration"`
	Detail   any    `json:"detail,omitempty"`
}

// Report is the body of /readyz.
type Report struct {
	Status string        `json:"status"` // "ready" or why not
	State  string        `json:"state"`
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks"`
}

// Evaluate runs every check concurrently, each under the tracker's timeout.
func (t *Tracker) Evaluate(ctx context.Context) Report {
	t.mu.Lock()
	checks := append([]Check(nil), t.checks...)
	t.mu.Unlock()
	results := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, t.timeout)
			defer cancel()
			start := time.Now()
			err := c.Fn(cctx)
			results[i] = CheckResult{Name: c.Name, OK: err == nil, Duration: time.Since(start).Round(time.Microsecond).String()}
			if err != nil {
				results[i].Error = err.Error()
			}
			if c.Detail != nil {
				results[i].Detail = c.Detail()
			}
		})
	}
	wg.Wait()
	sort.SliceStable(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	state := t.State()
	rep := Report{State: state.String(), Checks: results, Ready: state == Ready}
	for _, r := range results {
		if !r.OK {
			rep.Ready = false
		}
	}
	switch {
	case rep.Ready:
		rep.Status = "ready"
	case state != Ready:
		rep.Status = state.String()
	default:
		rep.Status = "failing checks"
	}
	return rep
}

// LiveHandler answers /livez: 200 while the process runs, even when draining,
// so that an orchestrator does not kill a process that is finishing its work.
func (t *Tracker) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive", "state": t.State().String()})
	})
}

// ReadyHandler answers /readyz: 200 when ready, 503 otherwise, with every
// check's result.
func (t *Tracker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := t.Evaluate(r.Context())
		code := http.StatusOK
		if !rep.Ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, rep)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
