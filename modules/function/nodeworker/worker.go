package nodeworker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ack-dev/ack/modules/function/script"
)

// message is every JSON line exchanged with a worker.
type message struct {
	T       string          `json:"t"`
	ID      int64           `json:"id,omitempty"`
	Seq     int64           `json:"seq,omitempty"`
	Key     string          `json:"key,omitempty"`
	Version string          `json:"version,omitempty"`
	File    string          `json:"file,omitempty"`
	Source  *string         `json:"source,omitempty"`
	Export  string          `json:"export,omitempty"`
	Args    json.RawMessage `json:"args,omitempty"`
	Context json.RawMessage `json:"context,omitempty"`
	Op      string          `json:"op,omitempty"`
	Arg     string          `json:"arg,omitempty"`
	Level   string          `json:"level,omitempty"`
	Msg     string          `json:"msg,omitempty"`
	Error   *string         `json:"error,omitempty"`
	Stack   string          `json:"stack,omitempty"`
	Result  *string         `json:"result,omitempty"`
	Need    bool            `json:"need,omitempty"`
}

// worker is one node process.
type worker struct {
	cmd    *exec.Cmd
	log    *slog.Logger
	exited chan struct{} // closed when the process's answers end
	killed atomic.Bool
	done   chan message // the current call's "done"

	wmu sync.Mutex // serialises writes to in
	in  *os.File

	mu     sync.Mutex
	call   *Call           // the call in progress
	ctx    context.Context // its context
	loaded map[string]string
	lastID int64
	stderr []string // the last lines, for a crash report
}

// startTimeout bounds a worker's start.
const startTimeout = 30 * time.Second

func start(ctx context.Context, p *Pool) (*worker, error) {
	toWorker, fromHost, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("nodeworker: %w", err)
	}
	fromWorker, toHost, err := os.Pipe()
	if err != nil {
		toWorker.Close()
		fromHost.Close()
		return nil, fmt.Errorf("nodeworker: %w", err)
	}
	args := append(append([]string{}, p.opts.Args...), filepath.Join(p.dir, "worker.js"))
	cmd := exec.Command(p.exe, args...)
	cmd.Dir = p.opts.Dir
	cmd.Env = append(os.Environ(), p.opts.Env...)
	cmd.ExtraFiles = []*os.File{toWorker, toHost} // fd 3 and fd 4
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("nodeworker: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("nodeworker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		toWorker.Close()
		fromHost.Close()
		fromWorker.Close()
		toHost.Close()
		return nil, fmt.Errorf("nodeworker: start %s: %w", p.exe, err)
	}
	// The child holds its ends now.
	toWorker.Close()
	toHost.Close()
	w := &worker{
		cmd:    cmd,
		log:    p.log.With("node_pid", cmd.Process.Pid),
		exited: make(chan struct{}),
		done:   make(chan message, 1),
		in:     fromHost,
		loaded: map[string]string{},
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.output(stdout, false) }()
	go func() { defer wg.Done(); w.output(stderr, true) }()
	go func() {
		w.read(fromWorker, ready)
		fromWorker.Close()
		wg.Wait()
		_ = cmd.Wait()
		close(w.exited)
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case <-ready:
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("nodeworker: the worker exited at start: %s", w.lastErr())
	case <-t.C:
	case <-ctx.Done():
	}
	w.kill()
	return nil, errors.New("nodeworker: the worker did not start in time")
}

// output logs the worker's stdout and stderr lines.
func (w *worker) output(r io.Reader, isErr bool) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		w.mu.Lock()
		log := w.callLog()
		if isErr {
			w.stderr = append(w.stderr, line)
			if len(w.stderr) > 20 {
				w.stderr = w.stderr[1:]
			}
		}
		w.mu.Unlock()
		if isErr {
			log.Warn("node stderr: " + line)
		} else {
			log.Info("node stdout: " + line)
		}
	}
}

func (w *worker) callLog() *slog.Logger {
	if w.call != nil && w.call.Log != nil {
		return w.call.Log
	}
	return w.log
}

func (w *worker) lastErr() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.stderr) == 0 {
		return "no output"
	}
	return strings.Join(w.stderr, "\n")
}

// read dispatches the worker's answers until its pipe closes.
func (w *worker) read(r io.Reader, ready chan struct{}) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 256<<20)
	for s.Scan() {
		var m message
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			w.log.Warn("nodeworker: bad message from worker", "err", err)
			continue
		}
		switch m.T {
		case "ready":
			close(ready)
		case "done":
			select {
			case w.done <- m:
			default:
			}
		case "log":
			w.mu.Lock()
			log, ctx := w.callLog(), w.ctx
			w.mu.Unlock()
			if ctx == nil {
				ctx = context.Background()
			}
			log.Log(ctx, script.Level(m.Level), m.Msg)
		case "invoke":
			go w.invoke(m)
		}
	}
}

// invoke runs a host operation for the call in progress and replies.
func (w *worker) invoke(m message) {
	w.mu.Lock()
	c, ctx := w.call, w.ctx
	w.mu.Unlock()
	reply := message{T: "reply", Seq: m.Seq}
	if c == nil || c.Host == nil {
		msg := m.Op + " is not available here"
		reply.Error = &msg
	} else if out, err := c.Host.Invoke(ctx, m.Op, json.RawMessage(m.Arg)); err != nil {
		msg := err.Error()
		reply.Error = &msg
	} else {
		res := string(out)
		reply.Result = &res
	}
	_ = w.send(reply)
}

func (w *worker) send(m message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err = w.in.Write(append(b, '\n'))
	return err
}

// run performs one call on this worker.
func (w *worker) run(ctx context.Context, c Call) (string, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.Timeout, script.ErrTimeout)
		defer cancel()
	}
	w.mu.Lock()
	w.call, w.ctx = &c, ctx
	w.lastID++
	id := w.lastID
	withSource := w.loaded[c.Key] != c.Version
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.call, w.ctx = nil, nil
		w.mu.Unlock()
	}()
	for {
		m := message{T: "call", ID: id, Key: c.Key, Version: c.Version, File: c.Name, Export: c.Export, Args: c.Args, Context: c.Context}
		if withSource {
			m.Source = &c.Source
		}
		if err := w.send(m); err != nil {
			w.kill()
			return "", fmt.Errorf("%w: %s", ErrWorkerExited, w.lastErr())
		}
		d, err := w.await(ctx, id)
		if err != nil {
			return "", err
		}
		if d.Need && !withSource {
			withSource = true
			continue
		}
		if withSource {
			w.mu.Lock()
			w.loaded[c.Key] = c.Version
			w.mu.Unlock()
		}
		if d.Error != nil {
			return "", &script.Error{Message: *d.Error, Stack: d.Stack}
		}
		if d.Result == nil {
			return "", nil
		}
		return *d.Result, nil
	}
}

// await waits for the answer to call id, the worker's death or ctx's end.
func (w *worker) await(ctx context.Context, id int64) (message, error) {
	for {
		select {
		case d := <-w.done:
			if d.ID != id {
				continue // a late answer to an earlier call
			}
			return d, nil
		case <-w.exited:
			return message{}, fmt.Errorf("%w (it is replaced): %s", ErrWorkerExited, w.lastErr())
		case <-ctx.Done():
			// Code cannot be interrupted inside node: the worker goes.
			w.kill()
			if cause := context.Cause(ctx); errors.Is(cause, script.ErrTimeout) {
				return message{}, script.ErrTimeout
			}
			return message{}, ctx.Err()
		}
	}
}

func (w *worker) dead() bool {
	select {
	case <-w.exited:
		return true
	default:
		return w.killed.Load()
	}
}

func (w *worker) kill() {
	w.killed.Store(true)
	_ = w.cmd.Process.Kill()
	_ = w.in.Close()
}

// stop closes the worker's input so it exits, and kills it at ctx's end.
func (w *worker) stop(ctx context.Context) {
	_ = w.in.Close()
	select {
	case <-w.exited:
	case <-ctx.Done():
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}
