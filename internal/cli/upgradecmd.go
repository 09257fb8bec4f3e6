package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/ack-dev/ack/internal/host"
)

// upgradeRunning asks the ack serving the configured port to replace itself
// with the binary now at its path (SIGHUP), and waits until the new process
// has written its PID, i.e. is ready. The old process then drains and exits.
func upgradeRunning(cfg host.Config, env Env) int {
	pidFile := cfg.Settings.PIDPath()
	if pidFile == "" {
		fmt.Fprintln(env.Stderr, "ack: no PID file: give --port or set pidFile")
		return 2
	}
	old, err := readPID(pidFile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 1
	}
	if err := syscall.Kill(old, syscall.SIGHUP); err != nil {
		fmt.Fprintf(env.Stderr, "ack: signal process %d (from %s): %v\n", old, pidFile, err)
		return 1
	}
	deadline := time.Now().Add(cfg.Settings.UpgradeTimeout.D() + 10*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		pid, err := readPID(pidFile)
		if err == nil && pid != old {
			fmt.Fprintf(env.Stdout, "ack upgraded: process %d took over from %d, which is draining\n", pid, old)
			return 0
		}
		if !alive(old) {
			fmt.Fprintf(env.Stderr, "ack: process %d exited without a successor\n", old)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "ack: the new process did not become ready; process %d keeps serving (see its log)\n", old)
	return 1
}

func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read PID file: %w", err)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("PID file %s holds %q, not a PID", path, data)
	}
	return pid, nil
}

// alive reports whether a process exists (signal 0 checks without sending).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
