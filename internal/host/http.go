package host

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/module"
)

// buildHandler mounts the host's own endpoints and every module's routes on
// one mux and wraps it in the middleware chain (outermost first): recover,
// access log and metrics, recover, drain.
func (h *Host) buildHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	add := func(pattern string, handler http.Handler) (err error) {
		// ServeMux panics on conflicting patterns; report it as a start error.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("route %q: %v", pattern, r)
			}
		}()
		mux.Handle(pattern, handler)
		return nil
	}
	h.hostPatterns = map[string]bool{}
	for pattern, handler := range h.hostRoutes() {
		if err := add(pattern, handler); err != nil {
			return nil, err
		}
		h.hostPatterns[pattern] = true
	}
	for _, mh := range h.mods {
		for _, rt := range mh.mod.Routes() {
			if err := checkRoutePrefix(mh.info.ID, rt.Pattern); err != nil {
				return nil, err
			}
			if err := add(rt.Pattern, h.routeHandler(mh, rt)); err != nil {
				return nil, fmt.Errorf("module %s: %w", mh.info.ID, err)
			}
		}
	}
	return h.observe(h.recoverer(h.drain(secure(caseInsensitive(mux))))), nil
}

// secure adds the security headers HandStack sends on every response.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// caseInsensitive matches paths without regard to case, as HandStack's
// routing does (/Transact/API/Transaction/Execute): a path that matches no
// specific route (none, or only wwwroot's catch-all "/") is matched again in
// lower case; the literal segments of the route found are then written in
// lower case while wildcard segments keep their original case.
func caseInsensitive(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); isCatchAll(pattern) {
			if lower := strings.ToLower(r.URL.Path); lower != r.URL.Path {
				r2 := r.Clone(r.Context())
				r2.URL.Path, r2.URL.RawPath = lower, ""
				if _, p := mux.Handler(r2); !isCatchAll(p) {
					r2.URL.Path = literalsLower(p, r.URL.Path)
					mux.ServeHTTP(w, r2)
					r.Pattern = r2.Pattern // for the metrics label
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// literalsLower lower-cases the segments of path that are literal in
// pattern and keeps the case of those that match a wildcard.
func literalsLower(pattern, path string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	pat := strings.Split(pattern, "/")
	segs := strings.Split(path, "/")
	for i := range segs {
		if i >= len(pat) {
			break
		}
		p := pat[i]
		if strings.HasPrefix(p, "{") {
			if strings.HasSuffix(p, "...}") {
				break // the rest is one wildcard value
			}
			continue
		}
		segs[i] = strings.ToLower(segs[i])
	}
	return strings.Join(segs, "/")
}

// isCatchAll reports whether pattern matches any path (or nothing matched).
func isCatchAll(pattern string) bool {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern == "" || pattern == "/"
}

// checkRoutePrefix keeps each module under /<id>/; wwwroot, or the edge in
// front of a split layout, owns the rest.
func checkRoutePrefix(id module.ID, pattern string) error {
	if id == module.WWWRoot || id == module.Edge {
		return nil
	}
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = strings.TrimSpace(pattern[i+1:])
	}
	if strings.HasPrefix(path, "/"+string(id)+"/") || path == "/"+string(id) {
		return nil
	}
	return fmt.Errorf("module %s: route %q is outside /%s/", id, pattern, id)
}

// routeHandler adapts a module route: an error returned before anything was
// written becomes the JSON error answer.
func (h *Host) routeHandler(mh *moduleHost, rt module.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		if err := rt.Handler(tw, r); err != nil {
			if tw.wrote {
				mh.log.Warn("handler failed after writing", "path", r.URL.Path, "err", err)
				return
			}
			httpx.WriteError(w, r, mh.log, err)
		}
	})
}

// drain asks clients to close their connection once the listeners are
// closed, so that each connection ends cleanly after its current request.
// Not during the drain delay: the listener still accepts then, and closing
// would only make keep-alive callers (peers, load balancers) reconnect for
// every request until they notice the readiness change.
func (h *Host) drain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.closing.Load() {
			h.lastRequest.Store(time.Now().UnixNano())
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 without a stack trace to the client.
func (h *Host) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil || rec == http.ErrAbortHandler {
				if rec != nil {
					panic(rec)
				}
				return
			}
			h.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if tw, ok := w.(*trackingWriter); !ok || !tw.wrote {
				httpx.WriteJSON(w, http.StatusInternalServerError, httpx.Problem{Status: 500, Code: "internal", Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// observe logs one line per request and records the HTTP metrics.
func (h *Host) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, attrs := httpx.WithLogAttrs(r.Context())
		r = r.WithContext(ctx)
		tw := &trackingWriter{ResponseWriter: w, status: http.StatusOK}
		h.metrics.inFlight.Inc()
		defer func() {
			h.metrics.inFlight.Dec()
			d := time.Since(start)
			mod, route := h.labels(r)
			status := tw.status
			code := strconv.Itoa(status)
			h.metrics.requests.WithLabelValues(mod, route, code).Inc()
			h.metrics.duration.WithLabelValues(mod, route).Observe(d.Seconds())
			la := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
				slog.Duration("duration", d), slog.Int64("bytes", tw.bytes), slog.String("remote", r.RemoteAddr),
			}
			extra := attrs.Attrs()
			la = append(la, extra...)
			h.accessLogger(mod, extra).LogAttrs(r.Context(), slog.LevelInfo, "request", la...)
		}()
		next.ServeHTTP(tw, r)
	})
}

// labels names the module and route of a request with bounded cardinality:
// the matched pattern, never the raw path.
func (h *Host) labels(r *http.Request) (mod, route string) {
	route = r.Pattern
	if route == "" {
		route = "unmatched"
	}
	seg := strings.TrimPrefix(r.URL.Path, "/")
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	for _, mh := range h.mods {
		if string(mh.info.ID) == seg {
			return seg, route
		}
	}
	if h.hostPatterns[r.Pattern] {
		return "host", route
	}
	return h.rootOwner, route
}

// trackingWriter records the status and size of a response.
type trackingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if !t.wrote {
		t.status = code
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.status = http.StatusOK
		t.wrote = true
	}
	n, err := t.ResponseWriter.Write(b)
	t.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// Flush supports streaming handlers that type-assert http.Flusher.
func (t *trackingWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		if !t.wrote {
			t.wrote = true
		}
		f.Flush()
	}
}

// httpMetrics are the per-request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ack_http_requests_total", Help: "HTTP requests by module, route pattern and status code.",
		}, []string{"module", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ack_http_request_duration_seconds", Help: "HTTP request latency by module and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"module", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ack_http_in_flight_requests", Help: "HTTP requests being served.",
		}),
	}
}

func (m *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.duration.Describe(ch)
	m.inFlight.Describe(ch)
}

func (m *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.duration.Collect(ch)
	m.inFlight.Collect(ch)
}

// metricsHandler serves the registry in the Prometheus text format.
func (h *Host) metricsHandler() http.Handler {
	return promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)})
}
