package peer

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	ackhealth "github.com/ack-dev/ack/internal/health"

	"github.com/ack-dev/ack/internal/module"
)

// checkHealth runs one round of active health checks: GET <base>/readyz once
// per distinct base URL, concurrently, and records the result on every
// endpoint at that base.
func (r *Resolver) checkHealth(ctx context.Context) {
	byBase := map[string][]*endpoint{}
	for _, ep := range r.allEndpoints() {
		byBase[ep.base] = append(byBase[ep.base], ep)
	}
	var wg sync.WaitGroup
	for base, eps := range byBase {
		wg.Go(func() {
			h := r.probe(ctx, base)
			if ctx.Err() != nil {
				return // shutting down: the result means nothing
			}
			for _, ep := range eps {
				if ep.setHealth(h) {
					r.log.Info("peer health", "target", ep.target, "endpoint", ep.base, "health", h.String())
				}
			}
		})
	}
	wg.Wait()
}

// probe asks one process whether it takes work. 200 is up. A process that
// starts or drains answers 503 with its state, and is down. A 503 from a
// process in state "ready" only says that one of its own checks fails (its
// own peers, say): it still takes calls, and counting it down would spread
// one failure to every caller, or lock two processes that call each other
// out for good. No such route (a HandStack peer) leaves health unknown, to
// the breaker alone.
func (r *Resolver) probe(ctx context.Context, base string) health {
	ctx, cancel := context.WithTimeout(ctx, r.opts.HealthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+HealthPath, nil)
	if err != nil {
		return healthDown
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return healthDown
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		return healthDown
	case resp.StatusCode == http.StatusOK:
		return healthUp
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return healthUnknown
	}
	var report struct {
		State string `json:"state"`
	}
	if json.Unmarshal(body, &report) == nil && report.State == ackhealth.Ready.String() {
		return healthUp
	}
	return healthDown
}

// Check is the state of one remote module, for /readyz.
type Check struct {
	Target module.ID `json:"target"`
	// Ready is true when at least one endpoint is usable.
	Ready     bool            `json:"ready"`
	Endpoints []EndpointCheck `json:"endpoints"`
}

// EndpointCheck is the state of one endpoint of a remote module.
type EndpointCheck struct {
	URL string `json:"url"`
	// Breaker is "closed", "half-open" or "open".
	Breaker string `json:"breaker"`
	// Health is the last active health check: "up", "down", or "unknown"
	// (not checked yet, or checks are off).
	Health string `json:"health"`
	// Usable is true when the breaker is not open and health is not down.
	Usable bool `json:"usable"`
}

// Checks reports every remote module resolved so far, sorted by target.
// Local modules do not appear.
func (r *Resolver) Checks() []Check {
	var checks []Check
	for _, ep := range r.allEndpoints() {
		if len(checks) == 0 || checks[len(checks)-1].Target != ep.target {
			checks = append(checks, Check{Target: ep.target})
		}
		c := &checks[len(checks)-1]
		usable := ep.usable()
		c.Ready = c.Ready || usable
		c.Endpoints = append(c.Endpoints, EndpointCheck{
			URL:     ep.base,
			Breaker: ep.breaker.State().String(),
			Health:  ep.healthState().String(),
			Usable:  usable,
		})
	}
	return checks
}
