package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/internal/httpx"
)

// errNoUpstream: the pool had no usable upstream left to try.
var errNoUpstream = errors.New("edge: no usable upstream")

// attempt is one proxied request's routing state, carried in its context
// from the handler to the transport and back to the response hooks.
type attempt struct {
	pool   *pool
	group  *group
	pinned string      // the upstream name the client asked for (sticky)
	own    http.Header // the edge's own response headers, which an upstream's replace
	tried  []*upstream
	chosen *member
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// next chooses the upstream for the next try: the pinned one first, while it
// is usable and untried, then the smooth weighted round robin.
func (a *attempt) next() *member {
	var m *member
	if a.pinned != "" && len(a.tried) == 0 {
		m = a.group.byName(a.pinned)
	}
	if m == nil {
		m = a.group.pick(a.tried)
	}
	if m != nil {
		a.tried = append(a.tried, m.up)
		a.chosen = m
	}
	return m
}

// newTransport is the one connection pool to every upstream.
func newTransport(cfg Config) *http.Transport {
	return &http.Transport{
		Proxy:       nil, // upstreams are reached directly, whatever the environment says
		DialContext: (&net.Dialer{Timeout: cfg.DialTimeout.D(), KeepAlive: 30 * time.Second}).DialContext,
		// Shorter than ack's own idle timeout (2 min), so the edge, not the
		// upstream, closes an idle connection: fewer requests written onto a
		// connection the other side is closing.
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConns:          4 * cfg.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pass the client's Accept-Encoding and the upstream's encoding through
		// untouched instead of decompressing in the middle.
		DisableCompression: true,
	}
}

// retryTransport sends a request to an upstream of its attempt's group and
// moves to another when that is safe: always when the connection could not
// be made (nothing was sent), and after any other connection failure only
// for a GET, HEAD or OPTIONS without a body.
type retryTransport struct {
	base    http.RoundTripper
	metrics *metrics
	onFail  func(u *upstream, err error)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := attemptFrom(req.Context())
	if a == nil {
		return nil, errors.New("edge: request without routing state")
	}
	var body *onceBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &onceBody{rc: req.Body}
	}
	var lastErr error
	for {
		m := a.next()
		if m == nil {
			if lastErr != nil {
				return nil, lastErr
			}
			return nil, errNoUpstream
		}
		out := req.WithContext(req.Context())
		out.URL = m.up.target(req.URL)
		if body != nil {
			out.Body = body
		}
		resp, err := t.base.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		if req.Context().Err() != nil {
			return nil, err // the client left or the deadline passed: not the upstream's fault
		}
		// One failed connection takes an upstream out at once, unless it is
		// the last one of its group: then it might be a Service standing for
		// many pods, and only the active checks may declare it down.
		if a.group.othersUsable(m.up) {
			t.onFail(m.up, err)
		}
		if !retryable(req.Method, err, body) {
			return nil, err
		}
		t.metrics.retries.WithLabelValues(a.pool.name, m.up.url).Inc()
		lastErr = err
	}
}

// retryable reports whether a failed try may be sent again elsewhere.
func retryable(method string, err error, body *onceBody) bool {
	if body != nil && body.touched() {
		return false // part of the body is gone: it cannot be sent again
	}
	if isDialError(err) {
		return true // the request never left
	}
	idempotent := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
	return idempotent && body == nil
}

// isDialError reports whether err happened while connecting, so that no byte
// of the request reached the upstream.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// onceBody lets a request body survive a failed try that never read it:
// http.Transport closes the body on every error, including a refused
// connection, and the next try needs it intact. Once a try has started
// reading it, it is what it is, and closing it closes the client's body.
type onceBody struct {
	rc      io.ReadCloser
	started atomic.Bool
}

func (b *onceBody) Read(p []byte) (int, error) {
	b.started.Store(true)
	return b.rc.Read(p)
}

func (b *onceBody) Close() error {
	if b.started.Load() {
		return b.rc.Close()
	}
	return nil
}

func (b *onceBody) touched() bool { return b.started.Load() }

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// newProxy builds the reverse proxy over the retrying transport.
func (m *Module) newProxy(rt http.RoundTripper) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if m.cfg.TrustForwardedHeaders {
				// Keep the chain the proxy in front of the edge started.
				pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			}
			pr.SetXForwarded()
			if m.cfg.TrustForwardedHeaders {
				for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
					if v := pr.In.Header.Get(h); v != "" {
						pr.Out.Header.Set(h, v)
					}
				}
			}
			// The upstream's own host name; the client's is in X-Forwarded-Host.
			pr.Out.Host = ""
		},
		Transport:      rt,
		FlushInterval:  -1, // stream: every write reaches the client at once
		BufferPool:     &bufferPool{},
		ModifyResponse: m.modifyResponse,
		ErrorHandler:   m.proxyError,
		ErrorLog:       slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
}

// modifyResponse counts the answer, lets the upstream's headers replace the
// edge's defaults, and sets the sticky cookie.
func (m *Module) modifyResponse(resp *http.Response) error {
	a := attemptFrom(resp.Request.Context())
	if a == nil || a.chosen == nil {
		return nil
	}
	m.metrics.count(a.pool.name, a.chosen.up.url, resp.StatusCode)
	for k := range resp.Header {
		a.own.Del(k)
	}
	if c := a.pool.sticky.Cookie; c != "" && a.pinned != a.chosen.name {
		resp.Header.Add("Set-Cookie", (&http.Cookie{
			Name: c, Value: a.chosen.name, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		}).String())
	}
	return nil
}

// proxyError answers a request no upstream answered: 503 when nothing could
// be reached, 504 when the deadline passed, 502 otherwise. Causes are logged,
// never sent.
func (m *Module) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	a := attemptFrom(r.Context())
	poolName, upURL := "", ""
	if a != nil {
		poolName = a.pool.name
		if a.chosen != nil {
			upURL = a.chosen.up.url
		}
	}
	var p httpx.Problem
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client is gone; nothing it could read. 499 is nginx's name for it.
		m.metrics.count(poolName, upURL, 499)
		return
	case errors.Is(err, context.DeadlineExceeded):
		p = httpx.Problem{Status: http.StatusGatewayTimeout, Code: "edge.timeout", Message: "the service did not answer in time"}
	case errors.Is(err, errNoUpstream) || isDialError(err):
		p = unavailable()
		w.Header().Set("Retry-After", "1")
	default:
		p = httpx.Problem{Status: http.StatusBadGateway, Code: "edge.bad_gateway", Message: "the service failed to answer"}
	}
	m.log.Warn("proxy failed", "pool", poolName, "upstream", upURL, "method", r.Method, "path", r.URL.Path,
		"status", p.Status, "err", err)
	m.metrics.count(poolName, upURL, p.Status)
	httpx.WriteJSON(w, p.Status, p)
}

func unavailable() httpx.Problem {
	return httpx.Problem{Status: http.StatusServiceUnavailable, Code: "edge.unavailable", Message: "the service is unavailable"}
}
