package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Run starts the host on ln and serves until ctx ends (a signal) or a
// background task fails, then drains and stops. It returns nil after a clean
// stop requested through ctx, and the cause otherwise.
func Run(ctx context.Context, cfg Config, ln net.Listener) error {
	h, err := New(cfg)
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- h.Serve(ln) }()

	var cause error
	select {
	case <-ctx.Done():
		cfg.Logger.Info("stop requested")
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
	if err := h.Shutdown(sctx); err != nil {
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
