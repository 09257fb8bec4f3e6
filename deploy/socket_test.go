package deploy_test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// TestSocketActivationAndUpgradeAsSystemdSeesThem starts the real binary the
// way systemd starts it from ack.socket (the listening socket as fd 3,
// LISTEN_FDS=1, LISTEN_PID = the process's own PID), then upgrades it with
// SIGHUP as ExecReload does, and checks what ack.service relies on: the
// successor serves on the same socket, and the PID file names the successor
// before the old process exits, which is when systemd reads PIDFile= again.
func TestSocketActivationAndUpgradeAsSystemdSeesThem(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs ack (-short)")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set LISTEN_PID to the PID ack will have")
	}
	// systemd's copy of the socket: kept open here for the whole test, as
	// systemd keeps it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	base := "http://" + ln.Addr().String()

	dir := t.TempDir()
	home, pidFile := filepath.Join(dir, "home"), filepath.Join(dir, "ack.pid")
	if err := os.MkdirAll(filepath.Join(home, "wwwroot"), 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "ack.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// A file, not a pipe: the successor inherits it and Wait must not wait
	// for the successor to close it.
	output := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	// `exec` keeps the shell's PID, so $$ is the PID ack runs with.
	cmd := exec.CommandContext(t.Context(), sh, "-c", `LISTEN_PID=$$ exec "$0" "$@"`,
		acktest.Binary(t), "--home="+home, "--port="+strconv.Itoa(port), "--modules=wwwroot")
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "ACK_PID_FILE="+pidFile, "ACK_LOG_LEVEL=info")
	cmd.ExtraFiles = []*os.File{sock}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	oldPID := cmd.Process.Pid
	successor := 0
	t.Cleanup(func() {
		for _, pid := range []int{oldPID, successor} {
			if pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
		acktest.Eventually(t, 30*time.Second, "every ack process to stop", func() bool {
			return !alive(oldPID) && (successor == 0 || !alive(successor))
		})
		if t.Failed() {
			t.Logf("ack's output:\n%s", output())
		}
	})

	client := &http.Client{Timeout: 5 * time.Second}
	ready := func() bool {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	acktest.Eventually(t, 60*time.Second, "ack ready on the socket it was given", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("ack exited before it was ready: %v", err)
		default:
		}
		return ready()
	})
	acktest.Eventually(t, 5*time.Second, "the PID file to name the first process", func() bool { return readPID(pidFile) == oldPID })

	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("the old process exited %d after the upgrade", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the old process did not hand over and exit within 60 s")
	}
	// The moment systemd sees its main PID exit, the PID file must already
	// name a live successor.
	successor = readPID(pidFile)
	if successor == 0 || successor == oldPID || !alive(successor) {
		t.Fatalf("after the old process exited, the PID file names %d (old %d)", successor, oldPID)
	}
	if !ready() {
		t.Fatal("the successor does not serve on the inherited socket")
	}
	if !strings.Contains(output(), "upgrade") {
		t.Errorf("no upgrade in the log:\n%s", output())
	}
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// alive reports whether a process exists (signal 0 checks without sending).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
