// Package module defines what a module of ack is and what the host offers it.
// It holds interfaces and small value types only; the host (internal/host)
// implements Host, and each module under modules/ implements Module.
//
// Lifecycle of a module, in the order the host calls it:
//
//  1. Info().New() builds the value. New has no side effects.
//  2. Provision(ctx, host): decode settings, build contract stores and register
//     them with host.Contracts(), resolve peers through host.Peers(). No
//     goroutines, no sockets. An error aborts the start with that message.
//  3. The host loads every registered contract store once (the first load) and
//     starts watching it.
//  4. Start(ctx): open what the module needs to serve (pools, workers). Long
//     running work goes through host.Go so the host owns it. Modules start in
//     dependency order (Info.Calls): a module starts after the co-located
//     modules it calls.
//  5. Routes() is mounted under /<id>/ (wwwroot may claim root paths), and the
//     module serves until the host drains.
//  6. Stop(ctx): release everything; idempotent; also called after a failed
//     Provision or Start; honours ctx's deadline. Modules stop in reverse order.
package module

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/wire"
)

// ID names a module: lowercase, the --modules token and its URL prefix.
type ID string

// The built-in module IDs.
const (
	WWWRoot    ID = "wwwroot"
	Transact   ID = "transact"
	DBClient   ID = "dbclient"
	Function   ID = "function"
	Repository ID = "repository"
	Logger     ID = "logger"
	Edge       ID = "edge"
)

// Info describes a module to the host.
type Info struct {
	ID ID
	// Calls lists the modules this one may call. When they run in the same
	// process they start before it and stop after it; when they do not, the
	// module resolves them through Host.Peers at Provision.
	Calls []ID
	// New returns a fresh, unprovisioned module. It must not have side effects.
	New func() Module
	// Explicit modules run only when --modules names them, never in the
	// default "every module" selection (edge fronts other processes and
	// cannot share "/" with wwwroot).
	Explicit bool
}

// Module is one feature of ack (see the package comment for the lifecycle).
type Module interface {
	Provision(ctx context.Context, h Host) error
	Start(ctx context.Context) error
	Routes() []Route
	Stop(ctx context.Context) error
}

// Route is one HTTP endpoint of a module.
type Route struct {
	// Pattern is a net/http ServeMux pattern. Paths are absolute
	// ("POST /dbclient/api/query"); the host rejects a module route outside
	// /<id>/ unless the module is wwwroot, which owns the root.
	Pattern string
	// Handler serves the route. An error it returns before writing anything
	// is answered by the host: *Error with its status and code, anything else
	// as 500 with a generic message (the error is logged, never sent).
	Handler func(w http.ResponseWriter, r *http.Request) error
}

// ReadyChecker is implemented by modules whose readiness depends on more than
// being started (a data source reachable, a worker pool up). The host calls
// Ready for /readyz with a short deadline.
type ReadyChecker interface {
	Ready(ctx context.Context) error
}

// Executor runs a DynamicRequest: what transact calls on dbclient and function.
// A failure of the statement or function itself is an in-band answer
// (Acknowledge 0); the error return is for transport or internal failures.
type Executor interface {
	Execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, error)
}

// LogSink stores log records: the logger module implements it, and the
// host's log shipper calls it directly when the logger runs in-process.
// InsertLogs is idempotent per RecordID, so a batch may be retried.
type LogSink interface {
	InsertLogs(ctx context.Context, msgs []wire.LogMessage) error
}

// Peers resolves the modules this one calls. Local modules are called
// directly; others over HTTP at their configured endpoints. Modules never know
// which: this is the only place the deployment layout matters.
type Peers interface {
	// Executor returns the executor of module id. url, when not empty, is an
	// endpoint named by HandStack settings (RoutingCommandUri); it is used
	// only when id is not loaded in this process. It fails when id is neither
	// local nor reachable through a configured endpoint.
	Executor(id ID, url string) (Executor, error)
	// Local returns module id when it is loaded in this process, for
	// module-specific interfaces (a log sink); callers type-assert it.
	Local(id ID) (Module, bool)
	// Remote returns an HTTP client for module id's configured endpoints, or
	// an error when none is configured.
	Remote(id ID) (Remote, error)
}

// Remote is a resilient HTTP client for one peer module (timeouts, breaker per
// endpoint, health-aware choice among several endpoints).
type Remote interface {
	// PostJSON sends in as JSON to path (e.g. "/logger/api/log/insert") on a
	// healthy endpoint and decodes a 2xx answer into out (when out is not nil).
	PostJSON(ctx context.Context, path string, in, out any) error
}

// Host is what a module can use of the process it runs in. It is narrow on
// purpose; everything in it is safe for concurrent use.
type Host interface {
	// Logger is tagged with module=<id>.
	Logger() *slog.Logger
	// Config is this module's settings (module.json ModuleConfig merged with
	// ack.json and environment overrides).
	Config() *config.Module
	// Paths are the home directories every module shares.
	Paths() config.Paths
	// Metrics registers collectors; they are exported at /metrics.
	Metrics() prometheus.Registerer
	// Contracts registers this module's contract stores so that the host
	// loads, watches, reports and reloads them.
	Contracts() *contract.Registry
	// Peers resolves the modules this one calls.
	Peers() Peers
	// Go runs fn until the host stops; ctx ends when it does. A non-nil error
	// other than context.Canceled is fatal: the host drains and exits non-zero.
	Go(name string, fn func(ctx context.Context) error)
}

// Error is a failure with an HTTP status and a stable code, safe to show to a
// client. Handlers return it for bad input; the host writes it as JSON.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error // the cause, logged but never sent
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error.
func Errorf(status int, code, message string, cause error) *Error {
	return &Error{Status: status, Code: code, Message: message, Err: cause}
}

// Diagnoser is implemented by modules that have more to report to `ack check`
// than contract parse errors (an implicit data source, a contract in a
// language ack cannot run).
type Diagnoser interface {
	Diagnose(ctx context.Context) []Diagnostic
}

// Diagnostic is one problem found by `ack check`, printed as file:line: message.
type Diagnostic struct {
	File     string // absolute path, or "" for a setting
	Line     int    // 1-based, 0 when unknown
	Severity string // "error" fails `ack check`; "warning" does not
	Message  string
}
