// Package peer is how a module reaches another module, and the only place in
// ack that knows the deployment layout. A module loaded in this process is
// called directly (no HTTP, no JSON); any other is called over HTTP at the
// endpoints named by settings (peers.<id>, ACK_PEER_<ID>) or by HandStack's
// RoutingCommandUri, through a resilient client: metrics, then a circuit
// breaker per endpoint with health-aware round robin, then a timeout, then
// HTTP. Resolver implements module.Peers.
package peer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ack-dev/ack/internal/module"
)

// Defaults of Options fields left zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultBreakerFailures  = 3
	DefaultBreakerOpenFor   = 2 * time.Second
	DefaultHealthInterval   = 5 * time.Second
	DefaultHealthTimeout    = 2 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// HealthPath is the route the active health check reads on each endpoint.
const HealthPath = "/readyz"

// executorPaths are the routes that execute a DynamicRequest, for modules
// reached through their configured base URLs.
var executorPaths = map[module.ID]string{
	module.DBClient: "/dbclient/api/query",
	module.Function: "/function/api/execution",
}

// Options configure a Resolver.
type Options struct {
	// Local holds the modules loaded in this process, by ID.
	Local map[module.ID]module.Module
	// Endpoints holds base URLs ("http://10.0.0.5:8004") of the processes
	// running each module that is not local (settings peers.<id>).
	Endpoints map[module.ID][]string
	// Self holds base URLs at which this process is reached
	// ("http://127.0.0.1:8421"). A RoutingCommandUri pointing at this process
	// for a module that is not loaded here would call itself; such a URL is
	// replaced by the module's configured endpoints.
	Self []string
	// Timeout bounds one call (the caller's deadline wins when sooner).
	// Default: 30s (settings peerTimeout).
	Timeout time.Duration
	// AuthorizationKey is sent in the AuthorizationKey header of every call.
	AuthorizationKey string
	// BreakerFailures is the number of consecutive failures that open an
	// endpoint's circuit breaker. Default: 3.
	BreakerFailures uint32
	// BreakerOpenFor is how long an open breaker rejects calls before it lets
	// one probe through (half-open). Default: 2s.
	BreakerOpenFor time.Duration
	// HealthInterval is the period of the active health check (GET
	// <endpoint>/readyz) run by Run. Default: 5s; negative turns it off.
	HealthInterval time.Duration
	// HealthTimeout bounds one health check. Default: 2s.
	HealthTimeout time.Duration
	// MaxResponseBytes bounds the body of an answer. Default: 64 MiB.
	MaxResponseBytes int64
	// Logger receives breaker and health changes. Default: slog.Default().
	Logger *slog.Logger
	// Metrics registers the ack_peer_* collectors; nil registers nothing.
	Metrics prometheus.Registerer
}

// Resolver implements module.Peers for one process.
type Resolver struct {
	opts      Options
	self      []*url.URL
	transport *http.Transport
	http      *http.Client
	metrics   *metrics
	log       *slog.Logger

	mu        sync.Mutex
	endpoints map[string]*endpoint // by target + " " + base
	clients   map[string]*client   // by target + " " + bases
}

var _ module.Peers = (*Resolver)(nil)

// NewResolver validates opts and builds a Resolver. Call Run to start health
// checks, and Close (or end Run) to release connections.
func NewResolver(opts Options) (*Resolver, error) {
	opts = withDefaults(opts)
	r := &Resolver{
		opts:      opts,
		log:       opts.Logger,
		endpoints: map[string]*endpoint{},
		clients:   map[string]*client{},
	}
	endpoints := make(map[module.ID][]string, len(opts.Endpoints))
	for id, raws := range opts.Endpoints {
		id = module.ID(strings.ToLower(string(id)))
		for _, raw := range raws {
			base, err := parseBase(raw)
			if err != nil {
				return nil, fmt.Errorf("peer: peers.%s: %w", id, err)
			}
			if !slices.Contains(endpoints[id], base) {
				endpoints[id] = append(endpoints[id], base)
			}
		}
	}
	r.opts.Endpoints = endpoints
	for _, raw := range opts.Self {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("peer: self URL %q is not a base URL", raw)
		}
		r.self = append(r.self, u)
	}
	dialer := &net.Dialer{Timeout: min(5*time.Second, opts.Timeout), KeepAlive: 30 * time.Second}
	r.transport = &http.Transport{
		// Peers are internal: no proxy from the environment.
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		// Shorter than servers' usual idle timeout, so that the server
		// rarely closes a pooled connection just as a request is written.
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
	}
	r.http = &http.Client{
		Transport: r.transport,
		// A redirect would resend a POST somewhere else; a peer never asks
		// for one, so it is answered as a bad status.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	m, err := newMetrics(r, opts.Metrics)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	return r, nil
}

func withDefaults(o Options) Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = DefaultBreakerOpenFor
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = DefaultHealthTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Local returns module id when it is loaded in this process.
func (r *Resolver) Local(id module.ID) (module.Module, bool) {
	m, ok := r.opts.Local[id]
	return m, ok
}

// Executor returns module id itself when it is loaded here; otherwise an HTTP
// executor posting to rawURL (a RoutingCommandUri value) when given, or to
// the module's executor route on its configured endpoints. An event:// URL
// means in-process only.
func (r *Resolver) Executor(id module.ID, rawURL string) (module.Executor, error) {
	rawURL = strings.TrimSpace(rawURL)
	if event, ok := cutPrefixFold(rawURL, "event://"); ok {
		if owner, _, found := strings.Cut(event, "."); found && !strings.EqualFold(owner, string(id)) {
			return nil, fmt.Errorf("peer: %s is an event of module %s, not %s", rawURL, owner, id)
		}
		if _, local := r.opts.Local[id]; !local {
			return nil, &Error{Target: id, Code: CodeNotConfigured,
				Err: fmt.Errorf("%s names an in-process call but module %s is not loaded in this process: load it (--modules) or use its http:// URL", rawURL, id)}
		}
	}
	if m, ok := r.opts.Local[id]; ok {
		ex, ok := m.(module.Executor)
		if !ok {
			return nil, fmt.Errorf("peer: module %s is loaded but does not execute requests", id)
		}
		r.log.Debug("peer resolved", "target", id, "mode", "local")
		return ex, nil
	}
	if rawURL != "" {
		u, err := parseTarget(rawURL)
		if err != nil {
			return nil, fmt.Errorf("peer: %s URL: %w", id, err)
		}
		if !r.isSelf(u) {
			c := r.client(id, []string{u.Scheme + "://" + u.Host})
			r.log.Debug("peer resolved", "target", id, "mode", "remote", "url", rawURL)
			return &httpExecutor{c: c, path: u.RequestURI()}, nil
		}
		if len(r.opts.Endpoints[id]) == 0 {
			return nil, &Error{Target: id, Code: CodeNotConfigured,
				Err: fmt.Errorf("%s points at this process, which does not load module %s: load it here, or set peers.%s in ack.json or ACK_PEER_%s", rawURL, id, id, strings.ToUpper(string(id)))}
		}
	}
	path, ok := executorPaths[id]
	if !ok {
		return nil, fmt.Errorf("peer: module %s has no executor route", id)
	}
	c, err := r.remote(id)
	if err != nil {
		return nil, err
	}
	return &httpExecutor{c: c, path: path}, nil
}

// Remote returns the resilient HTTP client of module id's configured
// endpoints.
func (r *Resolver) Remote(id module.ID) (module.Remote, error) {
	return r.remote(id)
}

func (r *Resolver) remote(id module.ID) (*client, error) {
	bases := r.opts.Endpoints[id]
	if len(bases) == 0 {
		return nil, &Error{Target: id, Code: CodeNotConfigured,
			Err: fmt.Errorf("module %s is not loaded in this process and has no endpoint: set peers.%s in ack.json or ACK_PEER_%s", id, id, strings.ToUpper(string(id)))}
	}
	r.log.Debug("peer resolved", "target", id, "mode", "remote", "endpoints", bases)
	return r.client(id, bases), nil
}

// client returns the shared client of target over bases, creating it and its
// endpoints on first use so that breaker state is shared.
func (r *Resolver) client(target module.ID, bases []string) *client {
	key := string(target) + " " + strings.Join(bases, " ")
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[key]; ok {
		return c
	}
	c := &client{r: r, target: target}
	for _, base := range bases {
		epKey := string(target) + " " + base
		ep, ok := r.endpoints[epKey]
		if !ok {
			ep = newEndpoint(target, base, r.opts.BreakerFailures, r.opts.BreakerOpenFor, r.log)
			r.endpoints[epKey] = ep
		}
		c.endpoints = append(c.endpoints, ep)
	}
	r.clients[key] = c
	return c
}

// allEndpoints returns a snapshot of the endpoints created so far.
func (r *Resolver) allEndpoints() []*endpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	eps := make([]*endpoint, 0, len(r.endpoints))
	for _, ep := range r.endpoints {
		eps = append(eps, ep)
	}
	slices.SortFunc(eps, func(a, b *endpoint) int {
		return strings.Compare(string(a.target)+" "+a.base, string(b.target)+" "+b.base)
	})
	return eps
}

// Close releases idle connections. The Resolver stays usable.
func (r *Resolver) Close() { r.transport.CloseIdleConnections() }

// isSelf reports whether u reaches this process.
func (r *Resolver) isSelf(u *url.URL) bool {
	for _, s := range r.self {
		if strings.EqualFold(s.Scheme, u.Scheme) && port(s) == port(u) && sameHost(s.Hostname(), u.Hostname()) {
			return true
		}
	}
	return false
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// sameHost compares host names, taking every loopback or unspecified
// address (and "localhost") as this machine.
func sameHost(a, b string) bool {
	return strings.EqualFold(a, b) || (isLocalHost(a) && isLocalHost(b))
}

func isLocalHost(h string) bool {
	if h == "" || strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// parseBase checks an endpoint base URL and returns it without a trailing
// slash.
func parseBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%q: %w", raw, err)
	}
	if err := checkHTTP(u); err != nil {
		return "", fmt.Errorf("%q: %w", raw, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: a base URL has no query or fragment", raw)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// parseTarget checks a full URL such as a RoutingCommandUri value.
func parseTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	if err := checkHTTP(u); err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	return u, nil
}

func checkHTTP(u *url.URL) error {
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case !utf8.ValidString(u.Host):
		return fmt.Errorf("host is not valid UTF-8")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("no host")
	case u.User != nil:
		return fmt.Errorf("credentials in a URL are not supported; use the AuthorizationKey")
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// Run checks the health of every endpoint periodically until ctx ends, then
// closes idle connections. The host runs it for the life of the process.
func (r *Resolver) Run(ctx context.Context) error {
	defer r.Close()
	if r.opts.HealthInterval < 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(r.opts.HealthInterval)
	defer t.Stop()
	for {
		r.checkHealth(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
