package acktest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds ./cmd/ack once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ack-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "ack")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/ack")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ack: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("acktest: %v", buildErr)
	}
	return buildPath
}

// ProcessOptions say how to start an ack process.
type ProcessOptions struct {
	Binary string   // default: Binary(t)
	Home   string   // --home
	Args   []string // more arguments (e.g. "--modules=dbclient"); --port=0 is added unless a --port is given
	Env    []string // added to the environment
}

// Process is a running ack process.
type Process struct {
	URL  string // http://127.0.0.1:port, known once the process listens
	Port string
	Cmd  *exec.Cmd

	mu     sync.Mutex
	output strings.Builder
	exited chan struct{}
	err    error
}

var listenLine = regexp.MustCompile(`msg=listening addr=\S*:(\d+)`)

// StartProcess starts the ack binary and waits until /readyz answers 200.
// The process gets SIGTERM at cleanup (and SIGKILL if it does not stop).
func StartProcess(t testing.TB, opts ProcessOptions) *Process {
	t.Helper()
	p := Launch(t, opts)
	p.WaitReady(t, 60*time.Second)
	return p
}

// Launch starts the ack binary and returns once it listens, without waiting
// for readiness.
func Launch(t testing.TB, opts ProcessOptions) *Process {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = Binary(t)
	}
	args := []string{}
	if opts.Home != "" {
		args = append(args, "--home="+opts.Home)
	}
	hasPort := false
	for _, a := range opts.Args {
		if strings.HasPrefix(a, "--port") {
			hasPort = true
		}
	}
	if !hasPort {
		args = append(args, "--port=0")
	}
	args = append(args, opts.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ACK_LISTEN=127.0.0.1", "ACK_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, opts.Env...)
	// Our own pipe, not StderrPipe: Wait would close the read end when the
	// process exits, and a successor started by an upgrade, which shares it,
	// would then die of SIGPIPE at its next log line.
	stderr, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	// Stdout goes to /dev/null directly for the same reason.
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		w.Close()
		stderr.Close()
		t.Fatalf("acktest: start %s: %v", bin, err)
	}
	w.Close()
	p := &Process{Cmd: cmd, exited: make(chan struct{})}
	port := make(chan string, 1)
	go func() {
		defer stderr.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.output.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("ack output:\n%s", p.Output())
		}
	})
	select {
	case pt := <-port:
		p.Port = pt
		p.URL = "http://127.0.0.1:" + pt
	case <-p.exited:
		t.Fatalf("acktest: ack exited before listening: %v\n%s", p.err, p.Output())
	case <-time.After(60 * time.Second):
		t.Fatalf("acktest: ack did not listen within 60s\n%s", p.Output())
	}
	return p
}

// WaitReady polls /readyz until it answers 200.
func (p *Process) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("acktest: ack exited: %v\n%s", p.err, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("acktest: ack not ready within %v\n%s", timeout, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Output returns what the process logged so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.Cmd.Process.Signal(sig) }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitCode waits for the process to exit and returns its exit code.
func (p *Process) ExitCode(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("acktest: ack did not exit within %v", timeout)
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (p *Process) Stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.exited
		t.Errorf("acktest: ack did not stop on SIGTERM within 30s")
	}
}

// Post sends body as JSON to path.
func (p *Process) Post(t testing.TB, path string, body any) *http.Response {
	t.Helper()
	return post(t, http.DefaultClient, p.URL+path, body)
}
