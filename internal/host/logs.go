package host

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ack-dev/ack/internal/logship"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
	"github.com/ack-dev/ack/internal/wire"
)

// logShipping sends every module's logs, and the access-log line of each
// transaction, to the logger module: in process when it is loaded here, over
// HTTP when a peer runs it. A request never waits on it (internal/logship).
type logShipping struct {
	queue  *logship.Queue
	cancel context.CancelFunc
	done   chan struct{}
	// access holds one shipping access logger per module label, built once
	// rather than on every transaction.
	access sync.Map // string -> *slog.Logger
}

// newLogShipping returns nil when no logger module is reachable: logs then
// stay on the console only.
func newLogShipping(h *Host) (*logShipping, error) {
	m, local := h.peers.Local(module.Logger)
	if local {
		if _, ok := m.(module.LogSink); !ok {
			local = false
		}
	}
	_, remote := h.cfg.Settings.Peers[string(module.Logger)]
	if !local && !remote {
		return nil, nil
	}
	q, err := logship.New(logship.Options{
		Sink:     h.shipLogs,
		SpillDir: filepath.Join(h.cfg.Paths.Data, "logship"),
		Logger:   h.log.With("component", "logship"),
	})
	if err != nil {
		return nil, err
	}
	return &logShipping{queue: q}, nil
}

// shipLogs is the queue's sink.
func (h *Host) shipLogs(ctx context.Context, msgs []wire.LogMessage) error {
	if m, ok := h.peers.Local(module.Logger); ok {
		return m.(module.LogSink).InsertLogs(ctx, msgs) // checked by newLogShipping
	}
	r, err := h.peers.Remote(module.Logger)
	if err != nil {
		return err
	}
	err = r.PostJSON(ctx, "/logger/api/log/insert", msgs, nil)
	var pe *peer.Error
	if errors.As(err, &pe) && pe.Code == peer.CodeBadStatus && pe.Status >= 400 && pe.Status < 500 {
		return logship.Rejected(err) // the logger will never take these records
	}
	return err
}

// moduleLogger is the logger a module gets: console, and shipped when a
// logger module is reachable.
func (h *Host) moduleLogger(id module.ID) *slog.Logger {
	if h.ship == nil {
		return h.log.With("module", string(id))
	}
	return slog.New(h.ship.queue.Handler(h.log.Handler(), string(id))).With("module", string(id))
}

// start runs the queue until stop; it must outlive the modules' requests.
func (s *logShipping) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.queue.Run(ctx)
	}()
}

// stop flushes what it can and spills the rest for the next start. It runs
// after the HTTP drain and before the modules stop, so that a local logger
// module still stores the last records.
func (s *logShipping) stop() {
	if s == nil || s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
}

// accessLogger picks where a request's access-log line goes: a transaction's
// line (it carries a global_id) is also shipped, under the request's module.
func (h *Host) accessLogger(mod string, attrs []slog.Attr) *slog.Logger {
	if h.ship == nil {
		return h.log
	}
	for _, a := range attrs {
		if strings.EqualFold(a.Key, logship.GlobalIDKey) {
			if l, ok := h.ship.access.Load(mod); ok {
				return l.(*slog.Logger)
			}
			l, _ := h.ship.access.LoadOrStore(mod, slog.New(h.ship.queue.Handler(h.log.Handler(), mod)))
			return l.(*slog.Logger)
		}
	}
	return h.log
}
