package peer

import (
	"fmt"
	"net/http"

	"github.com/ack-dev/ack/internal/module"
)

// Stable codes of *Error, for modules that turn a failed peer call into an
// acknowledge 0 answer or an HTTP status.
const (
	// CodeUnavailable: no endpoint could take the call (none configured,
	// every breaker open, every connection refused). Nothing was sent.
	CodeUnavailable = "peer.unavailable"
	// CodeTimeout: the call did not finish within the peer timeout or the
	// caller's deadline. The peer may have done the work.
	CodeTimeout = "peer.timeout"
	// CodeCanceled: the caller gave up (its context was canceled).
	CodeCanceled = "peer.canceled"
	// CodeBadStatus: the peer answered with a non-2xx HTTP status.
	CodeBadStatus = "peer.bad_status"
	// CodeBadResponse: the peer answered 2xx with a body that is not the
	// expected JSON, or larger than the response limit.
	CodeBadResponse = "peer.bad_response"
	// CodeTransport: the connection failed after the request was sent; the
	// peer may have done the work, so the call is not retried.
	CodeTransport = "peer.transport"
	// CodeNotConfigured: the module is neither loaded in this process nor
	// reachable through a configured endpoint.
	CodeNotConfigured = "peer.not_configured"
)

// Error is a failed call to a peer module. Its Error text names the endpoint
// and is for logs; ClientMessage is what a client may see.
type Error struct {
	Target   module.ID // the module called
	Endpoint string    // base URL of the endpoint that failed; "" when none was tried
	Status   int       // the peer's HTTP status for CodeBadStatus, else 0
	Code     string    // one of the Code constants
	Err      error     // the cause

	// notSent marks a failure that certainly happened before any byte of
	// the request reached the peer, so another endpoint may be tried.
	notSent bool
	// callerDone marks a failure caused by the caller's context, which says
	// nothing about the peer's health.
	callerDone bool
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("peer %s", e.Target)
	if e.Endpoint != "" {
		msg += " at " + e.Endpoint
	}
	msg += ": " + e.Code
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ClientMessage is a message safe to send to a client: it names the module
// and the kind of failure, never an address or a cause.
func (e *Error) ClientMessage() string {
	switch e.Code {
	case CodeTimeout:
		return fmt.Sprintf("module %s did not answer in time", e.Target)
	case CodeCanceled:
		return fmt.Sprintf("call to module %s was canceled", e.Target)
	case CodeNotConfigured:
		return fmt.Sprintf("module %s is not available in this deployment", e.Target)
	case CodeUnavailable:
		return fmt.Sprintf("module %s is unavailable", e.Target)
	default:
		return fmt.Sprintf("module %s failed to answer", e.Target)
	}
}

// HTTPStatus is the status a module should answer its own client with when it
// cannot do its work because of this failure: 504 for a timeout, 503 otherwise.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeTimeout {
		return http.StatusGatewayTimeout
	}
	return http.StatusServiceUnavailable
}
