// Package upgrade replaces a running ack with the binary now at the same path
// without dropping a request. It wraps cloudflare/tableflip: on Upgrade the
// process starts its successor with the listening socket inherited; the
// successor loads everything and signals Ready; only then does Exit close in
// the old process, which drains and stops. If the successor fails or is not
// ready in time, the old process keeps serving. The first process of a chain
// may also take its socket from systemd (socket activation).
package upgrade

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/cloudflare/tableflip"
)

// Upgrader hands the listening socket from one ack process to the next.
type Upgrader struct {
	upg *tableflip.Upgrader
}

// New prepares the hand-off. pidFile, when not empty, is written with the
// PID of the process that serves, each time one becomes ready (`ack upgrade`
// reads it). timeout bounds how long a successor may take to become ready.
func New(pidFile string, timeout time.Duration) (*Upgrader, error) {
	upg, err := tableflip.New(tableflip.Options{PIDFile: pidFile, UpgradeTimeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	return &Upgrader{upg: upg}, nil
}

// Listen returns the TCP listener for addr: the one inherited from the
// process being replaced, else the one systemd passed (LISTEN_FDS), else a
// new one.
func (u *Upgrader) Listen(addr string) (net.Listener, error) {
	if ln, err := u.upg.Fds.Listener("tcp", addr); err != nil || ln != nil {
		return ln, err
	}
	if ln, err := systemdListener(); err != nil || ln != nil {
		if err != nil {
			return nil, err
		}
		tl, ok := ln.(tableflip.Listener)
		if !ok {
			ln.Close()
			return nil, errors.New("upgrade: the socket from systemd is not a TCP or unix listener")
		}
		if err := u.upg.Fds.AddListener("tcp", addr, tl); err != nil {
			ln.Close()
			return nil, fmt.Errorf("upgrade: keep the systemd socket: %w", err)
		}
		return ln, nil
	}
	return u.upg.Fds.Listen("tcp", addr)
}

// Inherited reports whether this process replaces another one.
func (u *Upgrader) Inherited() bool { return u.upg.HasParent() }

// Ready tells the process being replaced (if any) that this one serves now,
// and writes the PID file.
func (u *Upgrader) Ready() error { return u.upg.Ready() }

// Upgrade starts the binary at the same path as this process's successor and
// waits until it is ready or has failed. On error this process keeps serving.
func (u *Upgrader) Upgrade() error { return u.upg.Upgrade() }

// Exit is closed once a successor is ready: this process must drain and stop.
func (u *Upgrader) Exit() <-chan struct{} { return u.upg.Exit() }

// Stop releases the inherited files; call it when the process stops.
func (u *Upgrader) Stop() { u.upg.Stop() }

// systemdListener returns the listening socket passed by systemd socket
// activation (fd 3), or nil when there is none. The variables are cleared so
// that a successor started by an upgrade does not look for them.
func systemdListener() (net.Listener, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	if pid == "" || fds == "" {
		return nil, nil
	}
	defer func() {
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_FDNAMES")
	}()
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil
	}
	if n, err := strconv.Atoi(fds); err != nil || n < 1 {
		return nil, fmt.Errorf("upgrade: LISTEN_FDS=%q: want at least one socket", fds)
	}
	const firstFD = 3
	f := os.NewFile(firstFD, "systemd-socket")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("upgrade: the socket from systemd: %w", err)
	}
	return ln, nil
}
