package acktest

import (
	"fmt"
	"net"
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

	logPath string
	exited  chan struct{}
	err     error
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
	// A file, not a pipe: a process that logs every request must never wait
	// for the test to read its log (a busy test process would stall it and
	// the load it measures), and a successor started by an upgrade shares it.
	logPath := filepath.Join(t.TempDir(), "ack.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	// Stdout goes to /dev/null.
	cmd.Stdout = nil
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		t.Fatalf("acktest: start %s: %v", bin, err)
	}
	p := &Process{Cmd: cmd, logPath: logPath, exited: make(chan struct{})}
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
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(p.Output()); m != nil {
			p.Port = m[1]
			p.URL = "http://127.0.0.1:" + m[1]
			break
		}
		select {
		case <-p.exited:
			t.Fatalf("acktest: ack exited before listening: %v\n%s", p.err, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("acktest: ack did not listen within 60s\n%s", p.Output())
		}
		time.Sleep(10 * time.Millisecond)
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

// Output returns what the process (and any successor) logged so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
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

// FreePort returns a loopback port nothing listens on right now, for a
// process that must be restarted on the same port.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
