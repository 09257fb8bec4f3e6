// Package host is the ack process: it builds the selected modules, provisions
// and starts them in dependency order, loads and watches their contracts,
// serves their routes with health, metrics and management endpoints, and
// drains and stops them in reverse order.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/health"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
)

// Config is everything a Host needs; cmd/ack builds it from flags and settings.
type Config struct {
	Settings config.Settings
	Paths    config.Paths
	// Modules is the selection, ordered by Select.
	Modules []module.Info
	Logger  *slog.Logger
	Version string
}

// Host runs a set of modules in one process.
type Host struct {
	cfg       Config
	log       *slog.Logger
	mods      []*moduleHost // in start order
	registry  *prometheus.Registry
	contracts *contract.Registry
	health    *health.Tracker
	peers     *peer.Resolver
	ship      *logShipping // nil when no logger module is reachable
	metrics   *httpMetrics
	srv       *http.Server
	// hostPatterns are the host's own route patterns (metrics label "host").
	hostPatterns map[string]bool
	// rootOwner labels requests no module prefix claims: the module serving
	// "/" (wwwroot or edge), else "host".
	rootOwner string
	// afterListenerClose runs once the listeners are closed on a stop that is
	// not a hand-off (it closes the upgrader's copy of the socket, so that new
	// connections are refused instead of queued and reset).
	afterListenerClose func()
	draining           atomic.Bool
	closing            atomic.Bool  // the listeners are closed: connections end after their request
	conns              atomic.Int64 // open client connections
	lastRequest        atomic.Int64 // unix nanoseconds of the last request seen while closing
	lnMu               sync.Mutex
	listeners          []net.Listener
	started            time.Time

	runCtx    context.Context
	cancelRun context.CancelFunc
	wg        sync.WaitGroup
	fatal     chan error
	stopOnce  sync.Once
}

// New builds the modules of cfg without side effects beyond memory.
func New(cfg Config) (*Host, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Modules) == 0 {
		return nil, errors.New("no module selected")
	}
	h := &Host{
		cfg:      cfg,
		log:      cfg.Logger,
		registry: prometheus.NewRegistry(),
		health:   health.NewTracker(2 * time.Second),
		fatal:    make(chan error, 1),
	}
	h.contracts = contract.NewRegistry(contract.Options{
		Logger:   cfg.Logger,
		Watch:    cfg.Settings.Contracts.WatchContracts(),
		Debounce: cfg.Settings.Contracts.Debounce.D(),
		Resync:   cfg.Settings.Contracts.Resync.D(),
	})
	h.runCtx, h.cancelRun = context.WithCancel(context.Background())
	local := map[module.ID]module.Module{}
	for _, info := range cfg.Modules {
		mcfg, err := config.LoadModule(string(info.ID), cfg.Paths, cfg.Settings.ModuleConfig[string(info.ID)])
		if err != nil {
			return nil, err
		}
		m := info.New()
		local[info.ID] = m
		h.mods = append(h.mods, &moduleHost{host: h, info: info, mod: m, cfg: mcfg})
	}
	peers, err := newPeers(h, local)
	if err != nil {
		return nil, err
	}
	h.peers = peers
	if h.ship, err = newLogShipping(h); err != nil {
		return nil, err
	}
	for _, mh := range h.mods {
		mh.log = h.moduleLogger(mh.info.ID)
	}
	h.metrics = newHTTPMetrics()
	h.rootOwner = "host"
	for _, id := range []module.ID{module.Edge, module.WWWRoot} {
		if _, ok := local[id]; ok {
			h.rootOwner = string(id)
		}
	}
	h.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		h.metrics,
		h.contracts.Collector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ack_draining", Help: "1 while the process drains before stopping."},
			func() float64 { return boolFloat(h.draining.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ack_ready", Help: "1 while the process is ready to serve."},
			func() float64 { return boolFloat(h.health.State() == health.Ready) }),
	)
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ack_build_info", Help: "Always 1; labels say what runs."}, []string{"version"})
	buildInfo.WithLabelValues(cfg.Version).Set(1)
	h.registry.MustRegister(buildInfo)
	return h, nil
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Contracts returns the contract registry (for `ack check` and tests).
func (h *Host) Contracts() *contract.Registry { return h.contracts }

// Provision provisions every module in order and loads their contracts once,
// without starting anything. `ack check` stops here.
func (h *Host) Provision(ctx context.Context) error {
	for _, mh := range h.mods {
		if err := mh.mod.Provision(ctx, mh); err != nil {
			return fmt.Errorf("module %s: %w", mh.info.ID, err)
		}
	}
	for _, c := range h.contracts.Handles() {
		if _, err := c.Reload(ctx); err != nil {
			return fmt.Errorf("load %s contracts: %w", c.Name(), err)
		}
	}
	return nil
}

// Start provisions and starts every module, starts the contract watchers, and
// builds the HTTP handler. On error everything already built is stopped.
func (h *Host) Start(ctx context.Context) error {
	h.started = time.Now()
	ctx, cancel := context.WithTimeout(ctx, h.startTimeout())
	defer cancel()
	if err := h.start(ctx); err != nil {
		stopCtx, cancelStop := context.WithTimeout(context.Background(), h.cfg.Settings.Shutdown.GracePeriod.D()+time.Second)
		defer cancelStop()
		h.ship.stop()
		h.stopModules(stopCtx)
		h.wg.Wait()
		return err
	}
	h.health.Set(health.Ready)
	h.log.Info("ack is ready", "modules", h.moduleIDs(), "version", h.cfg.Version)
	return nil
}

func (h *Host) startTimeout() time.Duration {
	if d := h.cfg.Settings.StartTimeout.D(); d > 0 {
		return d
	}
	return time.Minute
}

func (h *Host) start(ctx context.Context) error {
	if err := h.Provision(ctx); err != nil {
		return err
	}
	for _, c := range h.contracts.Handles() {
		h.Go("contracts "+c.Name(), c.Run)
		h.health.Add(health.Check{Name: "contracts:" + c.Name(), Fn: func(context.Context) error {
			if !c.Status().Loaded {
				return errors.New("not loaded yet")
			}
			return nil
		}})
	}
	for _, mh := range h.mods {
		if err := mh.mod.Start(ctx); err != nil {
			return fmt.Errorf("start module %s: %w", mh.info.ID, err)
		}
		mh.started = true
		if rc, ok := mh.mod.(module.ReadyChecker); ok {
			h.health.Add(health.Check{Name: "module:" + string(mh.info.ID), Fn: rc.Ready})
		}
	}
	h.Go("peers", h.peers.Run)
	if h.ship != nil {
		h.ship.start()
	}
	h.health.Add(peerCheck(h.peers))
	handler, err := h.buildHandler()
	if err != nil {
		return err
	}
	h.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				h.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				h.conns.Add(-1)
			}
		},
		BaseContext: func(net.Listener) context.Context { return h.runCtx },
	}
	return nil
}

func (h *Host) moduleIDs() []string {
	ids := make([]string, len(h.mods))
	for i, mh := range h.mods {
		ids[i] = string(mh.info.ID)
	}
	return ids
}

// Serve serves HTTP on ln until Shutdown. It returns nil after a shutdown.
func (h *Host) Serve(ln net.Listener) error {
	if h.srv == nil {
		return errors.New("serve before start")
	}
	h.lnMu.Lock()
	h.listeners = append(h.listeners, ln)
	h.lnMu.Unlock()
	h.log.Info("listening", "addr", ln.Addr().String())
	err := h.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) || (h.draining.Load() && errors.Is(err, net.ErrClosed)) {
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

// Fatal delivers the first fatal error of a background task.
func (h *Host) Fatal() <-chan error { return h.fatal }

// Go runs fn under the host's supervision until Shutdown.
func (h *Host) Go(name string, fn func(ctx context.Context) error) {
	h.wg.Go(func() {
		err := fn(h.runCtx)
		if err == nil || errors.Is(err, context.Canceled) || h.runCtx.Err() != nil {
			return
		}
		h.log.Error("background task failed", "task", name, "err", err)
		select {
		case h.fatal <- fmt.Errorf("%s: %w", name, err):
		default:
		}
	})
}

// idleGrace is how long open connections may go without bringing a request,
// once the listener is closed, before the idle ones are closed.
const idleGrace = 500 * time.Millisecond

// waitConnectionsQuiet returns once no connection is open, or none has
// brought a request for idleGrace, or at deadline. Until then requests still
// arriving over kept-alive connections are answered, each closing its
// connection: closing an idle connection that a client is reusing at that
// moment loses the request (HTTP/1.1 cannot prevent this race), and a client
// with a large pool (a proxy, a load generator) keeps reusing its connections
// until each one has been closed this way.
func (h *Host) waitConnectionsQuiet(ctx context.Context, deadline time.Time) {
	h.lastRequest.Store(time.Now().UnixNano())
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for h.conns.Load() > 0 && time.Since(time.Unix(0, h.lastRequest.Load())) < idleGrace && time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// Shutdown drains and stops: readiness turns false at once; after the drain
// delay the listener closes; requests in flight finish (each answered with
// Connection: close) within the grace period; idle keep-alive connections
// get a short grace and are closed; then modules stop in reverse order and
// background tasks end.
func (h *Host) Shutdown(ctx context.Context) error {
	return h.stop(ctx, h.cfg.Settings.Shutdown.DrainDelay.D())
}

// Handoff drains and stops like Shutdown but without the drain delay: the
// listening socket lives on in the successor process, so no load balancer has
// to notice anything.
func (h *Host) Handoff(ctx context.Context) error { return h.stop(ctx, 0) }

func (h *Host) stop(ctx context.Context, drainDelay time.Duration) error {
	var err error
	h.stopOnce.Do(func() { err = h.shutdown(ctx, drainDelay) })
	return err
}

func (h *Host) shutdown(ctx context.Context, drainDelay time.Duration) error {
	h.health.Set(health.Draining)
	h.draining.Store(true)
	h.log.Info("draining", "delay", drainDelay.String())
	if d := drainDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	var errs []error
	if h.srv != nil {
		// Stop accepting first, but keep open connections for a moment: a
		// request already on its way over an idle keep-alive connection is
		// still answered (with Connection: close) instead of being reset.
		h.closing.Store(true)
		h.lnMu.Lock()
		for _, ln := range h.listeners {
			_ = ln.Close()
		}
		h.lnMu.Unlock()
		if h.afterListenerClose != nil {
			h.afterListenerClose()
		}
		grace := h.cfg.Settings.Shutdown.GracePeriod.D()
		if grace <= 0 {
			grace = 30 * time.Second
		}
		deadline := time.Now().Add(grace)
		h.waitConnectionsQuiet(ctx, deadline)
		sctx, cancel := context.WithDeadline(ctx, deadline)
		// The listeners are closed already; Shutdown closing them again is no failure.
		if err := h.srv.Shutdown(sctx); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = h.srv.Close()
		}
		cancel()
	}
	h.ship.stop()
	h.stopModules(ctx)
	h.cancelRun()
	h.wg.Wait()
	h.health.Set(health.Stopped)
	h.log.Info("stopped")
	return errors.Join(errs...)
}

// stopModules stops every module in reverse order (also those whose Start
// failed or never ran: Stop must be safe after Provision).
func (h *Host) stopModules(ctx context.Context) {
	for i := len(h.mods) - 1; i >= 0; i-- {
		mh := h.mods[i]
		if err := mh.mod.Stop(ctx); err != nil {
			h.log.Warn("module stop failed", "module", string(mh.info.ID), "err", err)
		}
	}
	h.cancelRun()
}
