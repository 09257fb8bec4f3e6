// Package script defines one call of a HandStack function independently of
// the runtime that runs it (the embedded goja runtime or a Node.js worker),
// and holds the JavaScript both runtimes share: ack's own small `syn`
// library and the calling convention.
package script

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Library is ack's `syn` library: a function expression that takes a host
// object {log(level, message), invoke(op, argJSON) -> Promise<string>},
// installs the globals HandStack functions use ($array, $string, $object,
// $date, $number) and returns the object `require('syn')` answers.
//
//go:embed syn.js
var Library string

// Invoker is a function expression (exports, exportName, args, done) that
// calls module.exports[exportName] the way HandStack does: an async function
// as (moduleID, parameters, dataContext), any other as (callback, moduleID,
// parameters, dataContext). It calls done(null, null, resultText) once with
// the result as text (a string passes through, anything else is
// JSON.stringify'd), or done(message, stack) on failure.
//
//go:embed invoke.js
var Invoker string

// Call is one invocation of a function export.
type Call struct {
	// Key identifies the program (its contract unit) for caches.
	Key string
	// Name is the file name shown in stack traces and, for Node, the path
	// relative requires resolve against.
	Name string
	// Export is the property of module.exports to call (the command ID).
	Export string
	// Args is the JSON array [moduleID, parameters, dataContext].
	Args json.RawMessage
	// Context, when set, is a JSON object whose properties are added to
	// dataContext (Args[2]): the part that is the same for every call of a
	// command. A runtime may parse it once per ContextKey and share it,
	// frozen, between calls.
	Context    json.RawMessage
	ContextKey string
	// Timeout bounds the call; zero means none beyond ctx.
	Timeout time.Duration
	// Log receives console.* and syn.$l output, tagged with the GlobalID.
	Log *slog.Logger
	// Host answers syn.$d and syn.$w calls.
	Host Host
}

// Host runs the operations a function asks of ack (a dbclient statement, a
// transaction). arg and the answer are JSON.
type Host interface {
	Invoke(ctx context.Context, op string, arg json.RawMessage) (json.RawMessage, error)
}

// Error is a failure raised by the function itself: a thrown error, a
// rejected promise or callback(err). Message is safe to return to the client;
// Stack is for the logs.
type Error struct {
	Message string
	Stack   string
}

func (e *Error) Error() string { return e.Message }

// ErrTimeout is returned when a call outlives its timeout and was stopped.
var ErrTimeout = errors.New("function timed out")

// ErrMemory is returned when a call was stopped to protect the process from
// a runaway allocation.
var ErrMemory = errors.New("function stopped: memory limit exceeded")

// ErrNoResult is returned when a function finished without returning a
// value or calling its callback, and nothing is left that could.
var ErrNoResult = errors.New("function finished without calling back or returning a result")

// Level maps a log level named by a function (console.* or HandStack's
// syn.$l levels: Verbose, Debug, Information, Warning, Error, Fatal) to slog.
func Level(name string) slog.Level {
	switch strings.ToLower(name) {
	case "debug", "verbose", "trace":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error", "fatal":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
