package jsruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/modules/function/script"
)

// Options tune an Engine.
type Options struct {
	// MaxConcurrent bounds the calls running at once; more wait for a slot
	// (or their context). Default: 64.
	MaxConcurrent int
	// MaxIdle is how many warm runtimes are kept between calls. Default:
	// 2 × GOMAXPROCS.
	MaxIdle int
	// MaxCallStack bounds JavaScript recursion. Default: 10000 frames.
	MaxCallStack int
	// MemoryLimit is the Go heap size (bytes) above which the guard stops
	// running calls, the longest-running first. Zero turns the guard off.
	MemoryLimit uint64
	// GuardInterval is how often the guard samples the heap while calls
	// run. Default: 10ms.
	GuardInterval time.Duration
	// Logger receives the engine's own messages.
	Logger *slog.Logger
}

// Engine runs calls on pooled goja runtimes. It is safe for concurrent use.
type Engine struct {
	opts  Options
	log   *slog.Logger
	slots chan struct{}
	idle  chan *vm
	epoch atomic.Uint64

	mu     sync.Mutex
	active map[*activeCall]struct{}
}

// activeCall is a call the memory guard may stop.
type activeCall struct {
	start   time.Time
	stop    func(error)
	stopped bool
}

// New returns an engine.
func New(opts Options) *Engine {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 64
	}
	if opts.MaxIdle <= 0 {
		opts.MaxIdle = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.MaxCallStack <= 0 {
		opts.MaxCallStack = 10000
	}
	if opts.GuardInterval <= 0 {
		opts.GuardInterval = 10 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		opts:   opts,
		log:    log,
		slots:  make(chan struct{}, opts.MaxConcurrent),
		idle:   make(chan *vm, opts.MaxIdle),
		active: map[*activeCall]struct{}{},
	}
}

// NewEpoch tells the engine that the set of programs changed: each runtime
// drops the modules it instantiated before its next call, so that retired
// program versions do not accumulate. Calls in flight are not affected.
func (e *Engine) NewEpoch() { e.epoch.Add(1) }

// Run calls call.Export of prog and returns the function's result as text
// ("" when it returned nothing). A failure of the function itself is a
// *script.Error; a timeout is script.ErrTimeout; a call stopped by the
// memory guard is script.ErrMemory.
func (e *Engine) Run(ctx context.Context, prog *Program, call script.Call) (string, error) {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for a JavaScript runtime: %w", context.Cause(ctx))
	}
	defer func() { <-e.slots }()

	v, err := e.take()
	if err != nil {
		return "", err
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if call.Timeout > 0 {
		var stopTimer context.CancelFunc
		callCtx, stopTimer = context.WithTimeoutCause(callCtx, call.Timeout, script.ErrTimeout)
		defer stopTimer()
	}
	ac := &activeCall{start: time.Now(), stop: func(reason error) {
		v.rt.Interrupt(reason)
		cancel(reason)
	}}
	stopInterrupt := context.AfterFunc(callCtx, func() { v.rt.Interrupt(context.Cause(callCtx)) })
	e.track(ac, true)
	text, err := v.call(callCtx, prog, call)
	e.track(ac, false)
	interrupted := !stopInterrupt()
	if interrupted || v.broken {
		// The code was stopped mid-flight: its runtime may hold half-updated
		// state, so it is not reused.
		v.rt.ClearInterrupt()
		v.broken = true
	}
	e.put(v)
	return text, err
}

func (e *Engine) take() (*vm, error) {
	select {
	case v := <-e.idle:
		if ep := e.epoch.Load(); v.epoch != ep {
			v.reset(ep)
		}
		return v, nil
	default:
		return newVM(e.epoch.Load(), e.opts.MaxCallStack)
	}
}

func (e *Engine) put(v *vm) {
	if v.broken {
		return
	}
	select {
	case e.idle <- v:
	default:
	}
}

func (e *Engine) track(ac *activeCall, on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if on {
		e.active[ac] = struct{}{}
	} else {
		delete(e.active, ac)
	}
}

// errorFor maps how a call ended to the error Run returns.
func errorFor(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, script.ErrTimeout) || errors.Is(cause, script.ErrMemory) {
			return cause
		}
		if err == nil || isInterrupt(err) {
			return cause
		}
	}
	return err
}
