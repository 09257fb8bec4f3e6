package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// servingPID asks the process answering on base for its PID.
func servingPID(c *http.Client, base string) (int, error) {
	resp, err := c.Get(base + "/ack/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		PID int `json:"pid"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st.PID, err
}

func readPIDFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// copyBinary puts the ack binary at a path the test may replace.
func copyBinary(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(acktest.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ack")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInPlaceUpgradeDropsNothing(t *testing.T) {
	home, _, _ := newHome(t)
	pidFile := filepath.Join(t.TempDir(), "ack.pid")
	p := acktest.StartProcess(t, acktest.ProcessOptions{Binary: copyBinary(t), Home: home, Env: []string{"ACK_PID_FILE=" + pidFile}})
	oldPID := p.Cmd.Process.Pid
	acktest.Eventually(t, 5*time.Second, "the PID file", func() bool { return readPIDFile(pidFile) == oldPID })
	t.Cleanup(func() {
		if pid := readPIDFile(pidFile); pid > 0 && pid != oldPID {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	})

	// Steady load from several clients with keep-alive connections.
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := &http.Client{Timeout: 30 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				r, err := call(t, c, p.URL, "GD01")
				if err != nil || r.Acknowledge != 1 {
					failed.Add(1)
					if err == nil {
						err = errorString(r.ExceptionText)
					}
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	acktest.Eventually(t, 10*time.Second, "load to run", func() bool { return sent.Load() > 50 })

	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	acktest.Eventually(t, 60*time.Second, "the new process to write its PID", func() bool {
		pid := readPIDFile(pidFile)
		return pid != 0 && pid != oldPID
	})
	newPID := readPIDFile(pidFile)
	if code := p.ExitCode(t, 60*time.Second); code != 0 {
		t.Fatalf("old process exit code %d", code)
	}
	before := sent.Load()
	acktest.Eventually(t, 10*time.Second, "load to continue on the new process", func() bool { return sent.Load() > before+50 })
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed across the upgrade; first: %v", n, sent.Load(), firstErr.Load())
	}
	if pid, err := servingPID(http.DefaultClient, p.URL); err != nil || pid != newPID {
		t.Fatalf("serving PID = %d (%v), want the new %d", pid, err, newPID)
	}
	t.Logf("%d requests, 0 failed; PID %d -> %d", sent.Load(), oldPID, newPID)
}

func TestFailedUpgradeKeepsServing(t *testing.T) {
	home, _, _ := newHome(t)
	bin := copyBinary(t)
	p := acktest.StartProcess(t, acktest.ProcessOptions{Binary: bin, Home: home})

	// The binary at the same path is now one that cannot start.
	broken := bin + ".new"
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho broken >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, bin); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	acktest.Eventually(t, 30*time.Second, "the failed upgrade to be logged", func() bool {
		return strings.Contains(p.Output(), "upgrade failed; this process keeps serving")
	})
	if got := version(t, p.URL); got != "v1" {
		t.Fatalf("after a failed upgrade = %q, want v1 from the old process", got)
	}
	if pid, err := servingPID(http.DefaultClient, p.URL); err != nil || pid != p.Cmd.Process.Pid {
		t.Fatalf("serving PID = %d (%v), want the original %d", pid, err, p.Cmd.Process.Pid)
	}
	resp, err := http.Get(p.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz after a failed upgrade: %d %s", resp.StatusCode, b)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
