package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Handover connects Run to an in-place binary upgrade (internal/upgrade).
type Handover interface {
	// Ready is called once the host serves; a process being replaced then
	// drains and exits.
	Ready() error
	// Exit is closed when a successor process is ready; the host then drains
	// and stops without the drain delay.
	Exit() <-chan struct{}
	// Stop gives up the socket copies kept for a successor; called when the
	// host stops for good, right after it closes its listeners.
	Stop()
}

// Run starts the host on ln and serves until ctx ends (a signal), a successor
// takes over (handover, may be nil), or a background task fails; then it
// drains and stops. It returns nil after a requested stop, the cause otherwise.
func Run(ctx context.Context, cfg Config, ln net.Listener, handover Handover) error {
	h, err := New(cfg)
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- h.Serve(ln) }()

	var exit <-chan struct{}
	if handover != nil {
		// A stop for good also closes the socket copy kept for a successor,
		// so that new connections are refused (a balancer then retries
		// elsewhere) rather than queued and reset at exit.
		h.afterListenerClose = handover.Stop
		if err := handover.Ready(); err != nil {
			cfg.Logger.Error("cannot signal readiness to the process being replaced", "err", err)
		}
		exit = handover.Exit()
	}

	var cause error
	stop := h.Shutdown
	select {
	case <-ctx.Done():
		cfg.Logger.Info("stop requested")
	case <-exit:
		cfg.Logger.Info("a new process took over the socket; draining")
		stop = h.Handoff
		h.afterListenerClose = nil
	case err := <-h.Fatal():
		cause = err
	case err := <-serveErr:
		cause = err
		serveErr = nil
	}
	// The drain gets its own deadline: ctx is already done after a signal.
	budget := cfg.Settings.Shutdown.DrainDelay.D() + cfg.Settings.Shutdown.GracePeriod.D() + idleGrace + 5*time.Second
	sctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	if err := stop(sctx); err != nil {
		cause = errors.Join(cause, err)
	}
	if serveErr != nil {
		if err := <-serveErr; err != nil {
			cause = errors.Join(cause, err)
		}
	}
	if cause != nil {
		return fmt.Errorf("ack stopped: %w", cause)
	}
	return nil
}
