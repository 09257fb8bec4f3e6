package edge

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/internal/health"
)

// healthState is what the edge believes of an upstream.
type healthState int32

const (
	// unknown: not checked yet. It takes traffic: a new upstream must not
	// wait a whole interval, and a connection error takes it out at once.
	unknown healthState = iota
	up
	down
)

func (s healthState) String() string {
	switch s {
	case up:
		return "up"
	case down:
		return "down"
	default:
		return "unknown"
	}
}

// upstream is one base URL behind the edge and its health. It is shared by
// every pool and color that lists the URL, and by successive tables.
type upstream struct {
	url  string
	base *url.URL

	state atomic.Int32 // a healthState, read on every pick

	mu        sync.Mutex
	fails     int // consecutive failed checks
	oks       int // consecutive passed checks
	lastCheck time.Time
	lastError string // for /edge/status, which only operators see
}

func newUpstream(raw string) *upstream {
	base, err := url.Parse(raw)
	if err != nil {
		// parseUpstream has already accepted raw.
		base = &url.URL{}
	}
	return &upstream{url: raw, base: base}
}

func (u *upstream) health() healthState { return healthState(u.state.Load()) }

func (u *upstream) usable() bool { return u.health() != down }

// target is the URL a request for in is sent to on this upstream: its
// scheme and host, its base path before in's path, in's query.
func (u *upstream) target(in *url.URL) *url.URL {
	out := *in
	out.Scheme, out.Host = u.base.Scheme, u.base.Host
	if u.base.Path != "" {
		out.Path = u.base.Path + in.Path
		if in.RawPath != "" {
			out.RawPath = u.base.EscapedPath() + in.RawPath
		}
	}
	return &out
}

// observe records one active check. It takes the upstream out after
// downAfter failures in a row and back after upAfter passes in a row, and
// returns the new state when it changed.
func (u *upstream) observe(ok bool, reason string, downAfter, upAfter int, now time.Time) (healthState, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastCheck = now
	cur := u.health()
	next := cur
	if ok {
		u.fails, u.lastError = 0, ""
		u.oks++
		if cur == unknown || (cur == down && u.oks >= upAfter) {
			next = up
		}
	} else {
		u.oks, u.lastError = 0, reason
		u.fails++
		if cur != down && u.fails >= downAfter {
			next = down
		}
	}
	u.state.Store(int32(next))
	return next, next != cur
}

// fail takes the upstream out at once after a connection error (passive
// health); active checks bring it back.
func (u *upstream) fail(reason string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.oks, u.lastError = 0, reason
	return healthState(u.state.Swap(int32(down))) != down
}

type healthStatus struct {
	Health    string     `json:"health"`
	LastCheck *time.Time `json:"lastCheck,omitempty"`
	LastError string     `json:"lastError,omitempty"`
}

func (u *upstream) status() healthStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := healthStatus{Health: u.health().String(), LastError: u.lastError}
	if !u.lastCheck.IsZero() {
		t := u.lastCheck
		st.LastCheck = &t
	}
	return st
}

// probe asks an upstream whether it takes work. 2xx is yes. ack answers 503
// while it starts or drains (no), and also when one of its own checks fails
// in state "ready" (its own peers, say): it still serves what it can, and
// taking it out would turn one module's trouble into a whole site's outage.
func probe(ctx context.Context, c *http.Client, u *upstream, path string, timeout time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.url+path, nil)
	if err != nil {
		return false, "bad health check URL"
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, describe(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		return false, describe(err)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return true, ""
	}
	var report struct {
		State string `json:"state"`
	}
	if resp.StatusCode == http.StatusServiceUnavailable && json.Unmarshal(body, &report) == nil && report.State == health.Ready.String() {
		return true, ""
	}
	if report.State != "" {
		return false, resp.Status + " (" + report.State + ")"
	}
	return false, resp.Status
}

// describe shortens a transport error for status and logs.
func describe(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s, "dial tcp") {
		return "connect: " + s[i+2:]
	}
	return s
}
