// Package edge is the module that gives a split ack one origin: it owns "/"
// and proxies each path prefix to a pool of ack processes, as
// contracts/edge/routes.json says (hot reloaded; a broken file keeps the last
// good routing). It checks its upstreams' health actively and passively,
// retries a request on another upstream when that cannot run it twice,
// spreads traffic by weight (canary), pins clients by cookie or header, and
// switches a pool between blue and green in one atomic step.
package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
)

// Info describes the edge module to the host.
func Info() module.Info {
	return module.Info{ID: module.Edge, Explicit: true, New: func() module.Module { return &Module{} }}
}

// Module is the edge module.
type Module struct {
	log       *slog.Logger
	host      module.Host
	cfg       Config
	store     *contract.Store[*Routing]
	transport *http.Transport
	proxy     *httputil.ReverseProxy
	metrics   *metrics
	checker   *http.Client

	current atomic.Pointer[table]
	recheck chan struct{} // asks the health loop for a round now

	// mu serialises building tables: reloads and switches.
	mu        sync.Mutex
	routing   *Routing          // the last good routes.json
	overrides map[string]string // colors switched by POST /edge/switch, by pool
	fileColor map[string]string // each pool's active color in routes.json when it was switched
}

// Provision reads the settings, refuses to share "/" with wwwroot, and
// registers routes.json.
func (m *Module) Provision(_ context.Context, h module.Host) error {
	m.host, m.log = h, h.Logger()
	if _, ok := h.Peers().Local(module.WWWRoot); ok {
		return errors.New("edge: cannot run in the same process as wwwroot (both serve /); run wwwroot as an upstream of the edge")
	}
	if err := h.Config().Decode(&m.cfg); err != nil {
		return err
	}
	m.cfg.setDefaults()
	if err := m.cfg.validate(); err != nil {
		return err
	}
	m.current.Store(&table{pools: map[string]*pool{}})
	m.recheck = make(chan struct{}, 1)
	m.overrides, m.fileColor = map[string]string{}, map[string]string{}
	m.transport = newTransport(m.cfg)
	m.checker = &http.Client{
		Transport:     m.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	m.metrics = newMetrics(m.current.Load)
	if err := h.Metrics().Register(m.metrics); err != nil {
		return fmt.Errorf("edge: metrics: %w", err)
	}
	m.proxy = m.newProxy(&retryTransport{base: m.transport, metrics: m.metrics, onFail: m.passiveFail})
	roots, err := h.Config().ContractRoots()
	if err != nil {
		return err
	}
	m.store = contract.NewStore(routesKind(), roots, contract.Options{Logger: m.log})
	m.store.OnSwap(func(_, set *contract.Set[*Routing]) {
		r, ok := set.Get(routesFile)
		if !ok {
			r = &Routing{Pools: map[string]*Pool{}}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.routing = r
		m.publish()
	})
	return h.Contracts().Register(m.store)
}

// publish builds and swaps in the table for the current routing and
// overrides. A switch is forgotten once routes.json names another active
// color for that pool: the file was edited after the switch and wins.
// Callers hold m.mu.
func (m *Module) publish() {
	for name, fileColor := range m.fileColor {
		p, ok := m.routing.Pools[name]
		if !ok || p.Active != fileColor {
			delete(m.overrides, name)
			delete(m.fileColor, name)
		}
	}
	t := buildTable(m.routing, m.current.Load(), m.overrides, newUpstream)
	m.current.Store(t)
	select {
	case m.recheck <- struct{}{}:
	default:
	}
}

// Start runs the active health checks.
func (m *Module) Start(context.Context) error {
	m.host.Go("edge.health", m.healthLoop)
	return nil
}

// Routes: the edge's own endpoints under /edge/, and every other path.
func (m *Module) Routes() []module.Route {
	return []module.Route{
		{Pattern: "GET /edge/status", Handler: m.admin(false, m.handleStatus)},
		{Pattern: "POST /edge/switch", Handler: m.admin(true, m.handleSwitch)},
		{Pattern: "/edge/", Handler: func(http.ResponseWriter, *http.Request) error {
			return module.Errorf(http.StatusNotFound, "edge.not_found", "no such edge endpoint", nil)
		}},
		{Pattern: "/", Handler: m.serve},
	}
}

// Stop closes idle upstream connections. Requests in flight were drained by
// the host before.
func (m *Module) Stop(context.Context) error {
	if m.transport != nil {
		m.transport.CloseIdleConnections()
	}
	return nil
}

// Ready fails while no route is configured. Upstream health is deliberately
// not part of it: an edge with one pool down must stay in its load
// balancer, to serve the other pools and answer 503 fast for that one.
func (m *Module) Ready(context.Context) error {
	if len(m.current.Load().routes) == 0 {
		return errors.New("edge: no routes (contracts/edge/routes.json is missing, empty or was never valid)")
	}
	return nil
}

// serve proxies one request to the pool of its route.
func (m *Module) serve(w http.ResponseWriter, r *http.Request) error {
	t := m.current.Load()
	rt := t.match(r.URL.Path)
	if rt == nil {
		return module.Errorf(http.StatusNotFound, "edge.no_route", "no route for this path", nil)
	}
	g := rt.pool.activeGroup()
	pinned := m.pinned(rt.pool, r)
	if pinned == "" && !g.anyUsable() {
		// Nothing to try: answer at once rather than wait for a timeout.
		m.metrics.count(rt.pool.name, "", http.StatusServiceUnavailable)
		w.Header().Set("Retry-After", "1")
		p := unavailable()
		return module.Errorf(p.Status, p.Code, p.Message, nil)
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.timeout(rt))
	defer cancel()
	a := &attempt{pool: rt.pool, group: g, pinned: pinned, own: w.Header()}
	m.proxy.ServeHTTP(w, r.WithContext(context.WithValue(ctx, attemptKey{}, a)))
	return nil
}

// timeout is the route's own timeout, or the module's.
func (m *Module) timeout(rt *route) time.Duration {
	if rt.timeout > 0 {
		return rt.timeout
	}
	return m.cfg.RequestTimeout.D()
}

// pinned is the upstream name a client asks for by the pool's sticky header
// or cookie, when that upstream is usable in the active color.
func (m *Module) pinned(p *pool, r *http.Request) string {
	name := ""
	if p.sticky.Header != "" {
		name = r.Header.Get(p.sticky.Header)
	}
	if name == "" && p.sticky.Cookie != "" {
		if c, err := r.Cookie(p.sticky.Cookie); err == nil {
			name = c.Value
		}
	}
	if name == "" || p.activeGroup().byName(name) == nil {
		return ""
	}
	return name
}

// passiveFail takes an upstream out after a connection error.
func (m *Module) passiveFail(u *upstream, err error) {
	if u.fail(describe(err)) {
		m.log.Warn("upstream down", "upstream", u.url, "reason", "connection failed", "err", err)
	}
}

// healthLoop checks every upstream each interval, and at once after the
// routing changed.
func (m *Module) healthLoop(ctx context.Context) error {
	tick := time.NewTicker(m.cfg.HealthCheckInterval.D())
	defer tick.Stop()
	for {
		m.checkAll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-m.recheck:
		}
	}
}

// checkAll runs one round of checks, concurrently.
func (m *Module) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, u := range m.current.Load().upstreams {
		wg.Go(func() {
			ok, reason := probe(ctx, m.checker, u, m.cfg.HealthCheckPath, m.cfg.HealthCheckTimeout.D())
			if ctx.Err() != nil {
				return // stopping: the result means nothing
			}
			if st, changed := u.observe(ok, reason, m.cfg.UnhealthyThreshold, m.cfg.HealthyThreshold, time.Now()); changed {
				level := slog.LevelInfo
				if st == down {
					level = slog.LevelWarn
				}
				m.log.Log(ctx, level, "upstream "+st.String(), "upstream", u.url, "reason", reason)
			}
		})
	}
	wg.Wait()
}

// switchColor makes color the active one of pool, in one atomic swap of the
// table. Unless forced, it refuses a color with no upstream known to be up.
func (m *Module) switchColor(poolName, color string, force bool) (*pool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.routing == nil {
		return nil, module.Errorf(http.StatusNotFound, "edge.no_pool", "no such pool", nil)
	}
	spec, ok := m.routing.Pools[poolName]
	switch {
	case !ok:
		return nil, module.Errorf(http.StatusNotFound, "edge.no_pool", "no such pool", nil)
	case spec.Active == "":
		return nil, module.Errorf(http.StatusBadRequest, "edge.no_colors", "this pool has no blue and green upstreams", nil)
	case color != blue && color != green:
		return nil, module.Errorf(http.StatusBadRequest, "edge.bad_color", `color must be "blue" or "green"`, nil)
	}
	if !force && !anyUp(m.current.Load().pools[poolName].groups[color]) {
		return nil, module.Errorf(http.StatusConflict, "edge.color_not_ready",
			"no upstream of that color has passed a health check; add force=true to switch anyway", nil)
	}
	m.overrides[poolName] = color
	m.fileColor[poolName] = spec.Active
	if color == spec.Active {
		// Back to what the file says: nothing left to remember.
		delete(m.overrides, poolName)
		delete(m.fileColor, poolName)
	}
	m.publish()
	m.log.Info("pool switched", "pool", poolName, "active", color, "forced", force)
	return m.current.Load().pools[poolName], nil
}

// anyUp reports whether some member with weight passed its last check.
func anyUp(g *group) bool {
	for _, mem := range g.members {
		if mem.weight > 0 && mem.up.health() == up {
			return true
		}
	}
	return false
}
