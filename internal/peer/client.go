package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/module"
)

// client is the resilient HTTP client for one target module over one list of
// endpoints. It implements module.Remote.
type client struct {
	r         *Resolver
	target    module.ID
	endpoints []*endpoint
	next      atomic.Uint64 // round robin position
}

var _ module.Remote = (*client)(nil)

// PostJSON sends in as JSON to path on a usable endpoint and decodes a 2xx
// answer into out (when out is not nil).
func (c *client) PostJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("peer %s: encode request: %w", c.target, err)
	}
	data, ep, err := c.post(ctx, path, body)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Target: c.target, Endpoint: ep, Code: CodeBadResponse, Err: fmt.Errorf("decode answer: %w", err)}
	}
	return nil
}

// post sends body to path and returns the answer's body and the endpoint
// that gave it. Decorators, outermost first: metrics, endpoint choice and
// breaker, timeout, HTTP.
func (c *client) post(ctx context.Context, path string, body []byte) ([]byte, string, error) {
	start := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, c.r.opts.Timeout)
	defer cancel()
	data, ep, err := c.tryEndpoints(ctx, callCtx, path, body)
	c.r.metrics.duration.WithLabelValues(string(c.target)).Observe(time.Since(start).Seconds())
	return data, ep, err
}

// tryEndpoints tries the endpoints in order of preference. It moves on to the
// next one only when the request certainly did not reach the peer (breaker
// open, connection refused): work that may have started is never repeated.
func (c *client) tryEndpoints(parent, ctx context.Context, path string, body []byte) ([]byte, string, error) {
	var last error
	for _, ep := range c.order() {
		data, err := ep.breaker.Execute(func() ([]byte, error) { return c.send(parent, ctx, ep, path, body) })
		if err == nil {
			c.r.metrics.request(ep, "ok")
			return data, ep.base, nil
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			c.r.metrics.request(ep, "breaker_open")
			last = &Error{Target: c.target, Endpoint: ep.base, Code: CodeUnavailable, Err: err, notSent: true}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			return nil, ep.base, err
		}
		c.r.metrics.request(ep, resultLabel(pe.Code))
		if !pe.notSent {
			return nil, ep.base, pe
		}
		last = pe
	}
	if last == nil {
		last = errors.New("every endpoint's circuit breaker is open")
	}
	return nil, "", &Error{Target: c.target, Code: CodeUnavailable, Err: last}
}

// order returns the endpoints to try for one call: round robin within each
// tier (see endpoint.tier), open breakers left out.
func (c *client) order() []*endpoint {
	n := uint64(len(c.endpoints))
	start := c.next.Add(1) - 1
	var tiers [3][]*endpoint
	for i := range n {
		ep := c.endpoints[(start+i)%n]
		if t := ep.tier(); t >= 0 {
			tiers[t] = append(tiers[t], ep)
		}
	}
	return append(append(tiers[0], tiers[1]...), tiers[2]...)
}

// send makes one HTTP attempt. Every error it returns is an *Error.
func (c *client) send(parent, ctx context.Context, ep *endpoint, path string, body []byte) ([]byte, error) {
	fail := func(code string, err error) *Error {
		return &Error{Target: c.target, Endpoint: ep.base, Code: code, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fail(CodeUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.r.opts.AuthorizationKey != "" {
		req.Header.Set(callerauth.Header, c.r.opts.AuthorizationKey)
	}
	if id := GlobalID(ctx); id != "" {
		req.Header.Set(GlobalIDHeader, id)
	}
	resp, err := c.r.http.Do(req)
	if err != nil {
		return nil, c.classify(parent, ctx, ep, err)
	}
	defer resp.Body.Close()
	limit := c.r.opts.MaxResponseBytes
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Drain a little so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		pe := fail(CodeBadStatus, errors.New(resp.Status))
		pe.Status = resp.StatusCode
		return nil, pe
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, c.classify(parent, ctx, ep, err)
	}
	if int64(len(data)) > limit {
		return nil, fail(CodeBadResponse, fmt.Errorf("answer larger than %d bytes", limit))
	}
	return data, nil
}

// classify turns a transport error into an *Error, telling apart the
// caller's cancellation, our timeout, a connection that was never made (safe
// to try elsewhere) and a failure after the request may have been read.
func (c *client) classify(parent, ctx context.Context, ep *endpoint, err error) *Error {
	pe := &Error{Target: c.target, Endpoint: ep.base, Err: err}
	var op *net.OpError
	switch {
	case parent.Err() != nil:
		pe.callerDone = true
		pe.Code = CodeCanceled
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			pe.Code = CodeTimeout
		}
	case ctx.Err() != nil:
		pe.Code = CodeTimeout
	case errors.As(err, &op) && op.Op == "dial":
		pe.Code = CodeUnavailable
		pe.notSent = true
	default:
		pe.Code = CodeTransport
	}
	return pe
}

// resultLabel is the metrics label of an error code: "timeout" for
// "peer.timeout".
func resultLabel(code string) string { return code[len("peer."):] }
