package logship

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ack-dev/ack/internal/wire"
)

// GlobalIDKey is the attribute that becomes a record's GlobalID (the
// HandStack transaction identifier), so logs of one request can be found.
const GlobalIDKey = "global_id"

// Handler returns a slog.Handler that passes every record to next and also
// enqueues it as a LogMessage of module: Level from the slog level, Message
// from the message, Properties from the attributes as a JSON object, and
// GlobalID from a top-level global_id attribute. It never waits on shipping.
func (q *Queue) Handler(next slog.Handler, module string) slog.Handler {
	return &handler{next: next, q: q, module: module}
}

type handler struct {
	next   slog.Handler
	q      *Queue
	module string
	groups []string      // open groups, outermost first
	preset []groupedAttr // attributes from WithAttrs
}

type groupedAttr struct {
	groups []string
	attr   slog.Attr
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	props := map[string]any{}
	var globalID string
	add := func(groups []string, a slog.Attr) {
		if len(groups) == 0 && a.Key == GlobalIDKey {
			globalID = a.Value.Resolve().String()
		}
		addAttr(props, groups, a)
	}
	for _, p := range h.preset {
		add(p.groups, p.attr)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(h.groups, a)
		return true
	})
	created := r.Time
	if created.IsZero() {
		created = time.Now()
	}
	h.q.Enqueue(wire.LogMessage{
		ProgramName: "ack",
		ModuleID:    h.module,
		GlobalID:    globalID,
		Type:        "A",
		Flow:        "N",
		Level:       levelCode(r.Level),
		Format:      "P",
		Message:     r.Message,
		Properties:  propertiesJSON(props),
		CreatedAt:   created.UTC().Format(time.RFC3339Nano),
	})
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	c.preset = append([]groupedAttr(nil), h.preset...)
	for _, a := range attrs {
		c.preset = append(c.preset, groupedAttr{groups: h.groups, attr: a})
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.groups = append(append([]string(nil), h.groups...), name)
	return &c
}

// levelCode maps slog levels to HandStack's one-letter levels.
func levelCode(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "V"
	case l < slog.LevelInfo:
		return "D"
	case l < slog.LevelWarn:
		return "I"
	case l < slog.LevelError:
		return "W"
	case l < slog.LevelError+4:
		return "E"
	default:
		return "F"
	}
}

// addAttr puts a under its groups in props, following slog's rules: empty
// attributes are dropped, a group with an empty key is inlined.
func addAttr(props map[string]any, groups []string, a slog.Attr) {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if v.Kind() == slog.KindGroup {
		attrs := v.Group()
		if len(attrs) == 0 {
			return
		}
		inner := groups
		if a.Key != "" {
			inner = append(append([]string(nil), groups...), a.Key)
		}
		for _, ga := range attrs {
			addAttr(props, inner, ga)
		}
		return
	}
	m := props
	for _, g := range groups {
		sub, ok := m[g].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[g] = sub
		}
		m = sub
	}
	m[a.Key] = plainValue(v)
}

func plainValue(v slog.Value) any {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindAny:
		a := v.Any()
		if err, ok := a.(error); ok {
			return err.Error()
		}
		if _, err := json.Marshal(a); err != nil {
			return fmt.Sprint(a)
		}
		return a
	default:
		return v.Any()
	}
}

func propertiesJSON(props map[string]any) string {
	if len(props) == 0 {
		return ""
	}
	data, err := json.Marshal(props)
	if err != nil {
		// A float NaN or Inf: keep the text rather than lose the attributes.
		return fmt.Sprint(props)
	}
	return string(data)
}
