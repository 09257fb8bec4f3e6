// Package nodeworker runs HandStack JavaScript functions on a pool of
// long-lived Node.js processes, for functions that need npm packages or Node
// built-ins. Each worker runs one call at a time, speaking JSON lines over
// two extra pipes (stdout and stderr stay free for the function's own
// output). A call that outlives its timeout kills its worker; a worker that
// dies fails only its own call; a replacement starts with the next call.
// Workers keep each function's module by version, so an edit recompiles
// exactly the changed file.
package nodeworker

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/ack-dev/ack/modules/function/script"
)

//go:embed worker.js
var workerScript string

// Options configure a Pool.
type Options struct {
	// Executable is the node binary; "" looks up "node" in PATH.
	Executable string
	// Args are extra node flags, before the worker script.
	Args []string
	// Env is added to the process environment ("K=V").
	Env []string
	// Size is the number of workers, hence of concurrent calls. Default: 2.
	Size int
	// Dir is the workers' working directory.
	Dir string
	// Logger receives worker output and events.
	Logger *slog.Logger
}

// Call is one invocation on a worker.
type Call struct {
	script.Call
	// Version identifies Source; a worker recompiles when it changes.
	Version string
	// Source is the function file's text; Call.Name is its absolute path,
	// which relative requires and node_modules lookups start from.
	Source string
}

// Pool is a set of Node.js workers. It is safe for concurrent use.
type Pool struct {
	opts  Options
	exe   string
	dir   string // holds worker.js and the shared library files
	log   *slog.Logger
	slots chan struct{}
	idle  chan *worker

	mu     sync.Mutex
	closed bool
	all    map[*worker]struct{}
}

// Find returns the path of the node binary exe ("" means "node").
func Find(exe string) (string, error) {
	if exe == "" {
		exe = "node"
	}
	p, err := exec.LookPath(exe)
	if err != nil {
		return "", fmt.Errorf("the Node.js binary %q was not found: install Debian's nodejs package or set NodeFunctionConfig.ExecutablePath: %w", exe, err)
	}
	return p, nil
}

// New checks that node exists and prepares the worker files. Workers start
// on demand.
func New(opts Options) (*Pool, error) {
	exe, err := Find(opts.Executable)
	if err != nil {
		return nil, err
	}
	if opts.Size <= 0 {
		opts.Size = 2
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "ack-nodeworker-")
	if err != nil {
		return nil, fmt.Errorf("nodeworker: %w", err)
	}
	for name, text := range map[string]string{"worker.js": workerScript, "syn.js": script.Library, "invoke.js": script.Invoker} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("nodeworker: %w", err)
		}
	}
	return &Pool{
		opts:  opts,
		exe:   exe,
		dir:   dir,
		log:   log,
		slots: make(chan struct{}, opts.Size),
		idle:  make(chan *worker, opts.Size),
		all:   map[*worker]struct{}{},
	}, nil
}

// ErrWorkerExited is returned when the worker running a call died (the
// function exited the process, or ran out of memory). The worker is replaced.
var ErrWorkerExited = errors.New("the Node.js worker exited during the call")

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("nodeworker: pool closed")

// Run calls c on a free worker and returns the function's result as text.
// Errors are as in package script; a worker that dies during the call gives
// an error saying so.
func (p *Pool) Run(ctx context.Context, c Call) (string, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for a Node.js worker: %w", context.Cause(ctx))
	}
	defer func() { <-p.slots }()
	w, err := p.take(ctx)
	if err != nil {
		return "", err
	}
	text, err := w.run(ctx, c)
	if w.dead() {
		p.drop(w)
	} else {
		p.idle <- w
	}
	return text, err
}

func (p *Pool) take(ctx context.Context) (*worker, error) {
	select {
	case w := <-p.idle:
		return w, nil
	default:
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	w, err := start(ctx, p)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		w.kill()
		return nil, ErrClosed
	}
	p.all[w] = struct{}{}
	return w, nil
}

func (p *Pool) drop(w *worker) {
	w.kill()
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
}

// Close stops every worker and removes the worker files.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	ws := make([]*worker, 0, len(p.all))
	for w := range p.all {
		ws = append(ws, w)
	}
	p.all = map[*worker]struct{}{}
	p.mu.Unlock()
	for _, w := range ws {
		w.stop(ctx)
	}
	return os.RemoveAll(p.dir)
}
