package peer

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ack-dev/ack/internal/module"
)

// health is the last result of the active health check of an endpoint.
type health int32

const (
	healthUnknown health = iota // not checked (yet, or checks are off)
	healthUp
	healthDown
)

func (h health) String() string {
	switch h {
	case healthUp:
		return "up"
	case healthDown:
		return "down"
	default:
		return "unknown"
	}
}

// endpoint is one base URL serving one target module. Its breaker and health
// live as long as the process, shared by every client that reaches it.
type endpoint struct {
	target  module.ID
	base    string // "http://10.0.0.5:8004", optionally with a path prefix
	breaker *gobreaker.CircuitBreaker[[]byte]
	health  atomic.Int32
}

func newEndpoint(target module.ID, base string, failures uint32, openFor time.Duration, log *slog.Logger) *endpoint {
	ep := &endpoint{target: target, base: base}
	ep.breaker = gobreaker.NewCircuitBreaker[[]byte](gobreaker.Settings{
		Name:        string(target) + " " + base,
		MaxRequests: 1,
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Warn("peer circuit breaker", "target", target, "endpoint", base, "from", from.String(), "to", to.String())
		},
		IsSuccessful: breakerSuccess,
		IsExcluded:   breakerExcluded,
	})
	return ep
}

// breakerSuccess counts an answer the peer gave on purpose (a 4xx is a
// mistake of the caller or of the settings, not a sick server) as a success.
func breakerSuccess(err error) bool {
	if err == nil {
		return true
	}
	var pe *Error
	return errors.As(err, &pe) && pe.Code == CodeBadStatus && pe.Status < 500
}

// breakerExcluded ignores failures caused by the caller's own context.
func breakerExcluded(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.callerDone
}

func (ep *endpoint) healthState() health { return health(ep.health.Load()) }

// setHealth records a health check result and reports whether it changed.
func (ep *endpoint) setHealth(h health) bool { return health(ep.health.Swap(int32(h))) != h }

// usable reports whether calls should be sent here: the breaker is not open
// and the last health check did not fail.
func (ep *endpoint) usable() bool {
	return ep.breaker.State() != gobreaker.StateOpen && ep.healthState() != healthDown
}

// tier orders endpoints for one call: 0 healthy and closed, 1 healthy and
// half-open (a probe), 2 failing its health check but not open (a last
// resort: the check may be wrong), -1 open (skip).
func (ep *endpoint) tier() int {
	st := ep.breaker.State()
	switch {
	case st == gobreaker.StateOpen:
		return -1
	case ep.healthState() == healthDown:
		return 2
	case st == gobreaker.StateHalfOpen:
		return 1
	default:
		return 0
	}
}
