// Package httpx holds the small HTTP pieces that the host and the modules
// share: request-scoped access-log attributes, JSON answers, and the one place
// that turns a handler error into a response.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/ack-dev/ack/internal/module"
)

type logAttrsKey struct{}

// LogAttrs collects attributes for a request's access-log line.
type LogAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// WithLogAttrs returns a context that collects access-log attributes.
func WithLogAttrs(ctx context.Context) (context.Context, *LogAttrs) {
	la := &LogAttrs{}
	return context.WithValue(ctx, logAttrsKey{}, la), la
}

// Annotate adds an attribute (such as global_id) to the access-log line of
// the request that ctx belongs to. Without a collector it does nothing.
func Annotate(ctx context.Context, key string, value any) {
	if la, ok := ctx.Value(logAttrsKey{}).(*LogAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, slog.Any(key, value))
		la.mu.Unlock()
	}
}

// Attrs returns the collected attributes.
func (la *LogAttrs) Attrs() []slog.Attr {
	la.mu.Lock()
	defer la.mu.Unlock()
	return append([]slog.Attr(nil), la.attrs...)
}

// WriteJSON writes v as JSON with status code. The error is the encoder's:
// once the status is sent, it only tells a handler that the client is gone.
func WriteJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// Problem is the JSON body of an error answer.
type Problem struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers err: a *module.Error with its status, code and message;
// anything else as 500 with a generic message. The cause is logged, never sent.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var me *module.Error
	if !errors.As(err, &me) {
		me = &module.Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
	}
	level := slog.LevelInfo
	if me.Status >= 500 {
		level = slog.LevelError
	}
	log.LogAttrs(r.Context(), level, "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", me.Status), slog.String("code", me.Code), slog.String("err", err.Error()))
	WriteJSON(w, me.Status, Problem{Status: me.Status, Code: me.Code, Message: me.Message})
}
