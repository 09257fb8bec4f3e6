// Package logship ships log records to the logger module without making the
// caller wait. Enqueue never blocks: records go to a bounded in-memory queue
// that one loop (Run) sends to a sink in batches; when the queue is full or
// the sink fails, records go to append-only spill files on local disk, which
// the loop replays in order as soon as the sink answers again (and at the
// next start, for files left by an earlier run).
//
// The guarantee is at-least-once: every record handed to Enqueue reaches the
// sink or stays in a spill file, except records still in memory or in an
// unsynced spill buffer when the process dies without a graceful stop (at
// most QueueSize records plus one FlushInterval of spilled ones). A batch may
// reach the sink more than once (a timeout after the sink committed, a replay
// after a crash); each record carries a RecordID so the sink can store it
// once.
package logship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/ack-dev/ack/internal/wire"
)

// DefaultApplicationID is the ApplicationID of records that come without one
// (ack's own logs): the logger module needs one to pick a table.
const DefaultApplicationID = "ack"

// Options configure a Queue. Sink and SpillDir are required.
type Options struct {
	// Sink stores a batch; it must be idempotent per RecordID. An error
	// wrapped with Rejected drops the records it names instead of retrying
	// them (the sink will never accept them: an HTTP 4xx).
	Sink func(ctx context.Context, msgs []wire.LogMessage) error
	// SpillDir holds the spill files. One queue per directory: two processes
	// must not share it.
	SpillDir string
	// QueueSize is the number of records held in memory. Default: 10000.
	QueueSize int
	// BatchSize is the most records per Sink call. Default: 500.
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill, and
	// the period of spill file fsyncs. Default: 200ms.
	FlushInterval time.Duration
	// RetryInterval is how often a failing sink is tried again. Default: 1s.
	RetryInterval time.Duration
	// SinkTimeout bounds one Sink call, and the final flush at stop. Default: 10s.
	SinkTimeout time.Duration
	// ServerID fills records that have none. Default: the host name.
	ServerID string
	// Logger reports the queue's own trouble (spilling, sink down). It must
	// not ship to this queue. Default: discard.
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Sink == nil {
		return errors.New("logship: Options.Sink is required")
	}
	if o.SpillDir == "" {
		return errors.New("logship: Options.SpillDir is required")
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.SinkTimeout <= 0 {
		o.SinkTimeout = 10 * time.Second
	}
	if o.ServerID == "" {
		o.ServerID, _ = os.Hostname()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Stats counts records since New.
type Stats struct {
	Enqueued uint64 // handed to Enqueue
	Shipped  uint64 // accepted by the sink (a replayed record counts again)
	Spilled  uint64 // written to a spill file
	Dropped  uint64 // rejected by the sink, or lost because the spill file could not be written
}

// Queue is a bounded, batching, spilling log queue. Its methods are safe for
// concurrent use; Run must be called once.
type Queue struct {
	o    Options
	ch   chan wire.LogMessage
	wake chan struct{} // tells Run that spilling started

	// mu guards the mode and the spill files. Enqueue's fast path holds it
	// shared, so that switching to spilling (exclusive) orders every record.
	mu sync.RWMutex
	// spilling sends new records to the spill tail instead of ch. It is set
	// when ch is full or the sink failed, and cleared by Run once the spill
	// files are replayed and removed.
	spilling bool
	// closed is set when Run stops: records then go straight to disk.
	closed bool
	spill  *spill

	enqueued, shipped, spilled, dropped atomic.Uint64
}

// New opens the spill directory (creating it) and finds spill files left by
// an earlier run; Run replays them before anything newer.
func New(o Options) (*Queue, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	sp, err := openSpill(o.SpillDir)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		o:     o,
		ch:    make(chan wire.LogMessage, o.QueueSize),
		wake:  make(chan struct{}, 1),
		spill: sp,
	}
	if n := sp.count(); n > 0 {
		q.spilling = true
		o.Logger.Info("log spill files found, replaying them first", "dir", o.SpillDir, "files", n)
	}
	return q, nil
}

// Stats returns the counters.
func (q *Queue) Stats() Stats {
	return Stats{
		Enqueued: q.enqueued.Load(),
		Shipped:  q.shipped.Load(),
		Spilled:  q.spilled.Load(),
		Dropped:  q.dropped.Load(),
	}
}

// Enqueue hands a record to the queue and returns at once. It fills
// RecordID, CreatedAt, ServerID and ApplicationID when they are empty.
func (q *Queue) Enqueue(m wire.LogMessage) {
	q.stamp(&m)
	q.enqueued.Add(1)
	q.mu.RLock()
	if !q.spilling && !q.closed {
		select {
		case q.ch <- m:
			q.mu.RUnlock()
			return
		default:
		}
	}
	q.mu.RUnlock()

	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.spilling && !q.closed {
		select {
		case q.ch <- m:
			return
		default:
		}
		q.startSpillingLocked("queue full")
	}
	q.appendLocked([]wire.LogMessage{m})
	if q.closed {
		// Run is gone: nobody syncs later, so this write is synced now.
		q.syncLocked()
	}
}

func (q *Queue) stamp(m *wire.LogMessage) {
	if m.RecordID == "" {
		m.RecordID = uuid.NewString()
	}
	if m.CreatedAt == "" {
		m.CreatedAt = time.Now().UTC().Format(time.RFC3339Nano)
	}
	if m.ServerID == "" {
		m.ServerID = q.o.ServerID
	}
	if m.ApplicationID == "" {
		m.ApplicationID = DefaultApplicationID
	}
}

// startSpillingLocked switches new records to disk and wakes Run.
func (q *Queue) startSpillingLocked(reason string) {
	q.spilling = true
	q.o.Logger.Warn("log shipping: spilling records to disk", "reason", reason, "dir", q.o.SpillDir)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// appendLocked writes records to the spill tail; a record that cannot be
// written is counted as dropped and reported, the only way one is lost.
func (q *Queue) appendLocked(msgs []wire.LogMessage) {
	if err := q.spill.append(msgs); err != nil {
		q.dropped.Add(uint64(len(msgs)))
		q.o.Logger.Error("log shipping: cannot write spill file; records lost", "records", len(msgs), "err", err)
		return
	}
	q.spilled.Add(uint64(len(msgs)))
}

// prependLocked writes records that are older than every spill file.
func (q *Queue) prependLocked(msgs []wire.LogMessage) {
	if err := q.spill.prepend(msgs); err != nil {
		q.dropped.Add(uint64(len(msgs)))
		q.o.Logger.Error("log shipping: cannot write spill file; records lost", "records", len(msgs), "err", err)
		return
	}
	q.spilled.Add(uint64(len(msgs)))
}

func (q *Queue) syncLocked() {
	if err := q.spill.sync(); err != nil {
		q.o.Logger.Error("log shipping: sync spill file", "err", err)
	}
}

// Run sends queued records to the sink until ctx ends, then sends what it
// can within SinkTimeout and spills the rest. It returns nil.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	syncCtx, stopSync := context.WithCancel(ctx)
	wg.Go(func() { q.syncLoop(syncCtx) })
	defer wg.Wait()
	defer stopSync()

	var pending []wire.LogMessage
	for ctx.Err() == nil {
		q.mu.RLock()
		spilling := q.spilling
		q.mu.RUnlock()
		if spilling {
			q.replay(ctx)
			continue
		}
		batch := q.collect(ctx)
		if len(batch) == 0 {
			continue
		}
		if err := q.send(ctx, batch); err != nil {
			if ctx.Err() != nil {
				pending = batch
				break
			}
			q.mu.Lock()
			// The batch is older than anything in ch, and ch older than
			// anything enqueued from now on. If the queue overflowed to disk
			// while the batch was in flight, both go before those files.
			older := append(batch, q.drain(0)...)
			if q.spilling {
				q.prependLocked(older)
			} else {
				q.appendLocked(older)
				q.startSpillingLocked("sink failed: " + err.Error())
				q.syncLocked()
			}
			q.mu.Unlock()
		}
	}
	q.shutdown(ctx, pending)
	return nil
}

// syncLoop makes spilled records durable every FlushInterval.
func (q *Queue) syncLoop(ctx context.Context) {
	t := time.NewTicker(q.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// The fsync runs outside the lock: Enqueue waits at most for a
			// buffer write, never for the disk.
			q.mu.Lock()
			f, err := q.spill.flush()
			q.mu.Unlock()
			if err == nil && f != nil {
				err = f.Sync()
				if errors.Is(err, os.ErrClosed) {
					err = nil // closed meanwhile, and synced by whoever closed it
				}
			}
			if err != nil {
				q.o.Logger.Error("log shipping: sync spill file", "err", err)
			}
		}
	}
}

// collect waits for a first record, then fills a batch until BatchSize or
// FlushInterval. It returns early (maybe empty) when ctx ends or spilling
// starts.
func (q *Queue) collect(ctx context.Context) []wire.LogMessage {
	var batch []wire.LogMessage
	select {
	case m := <-q.ch:
		batch = append(batch, m)
	case <-q.wake:
		return nil
	case <-ctx.Done():
		return nil
	}
	timer := time.NewTimer(q.o.FlushInterval)
	defer timer.Stop()
	for len(batch) < q.o.BatchSize {
		select {
		case m := <-q.ch:
			batch = append(batch, m)
		case <-timer.C:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

// drain takes up to max records (0: all) from ch without waiting.
func (q *Queue) drain(max int) []wire.LogMessage {
	var out []wire.LogMessage
	for max == 0 || len(out) < max {
		select {
		case m := <-q.ch:
			out = append(out, m)
		default:
			return out
		}
	}
	return out
}

// send calls the sink once under SinkTimeout. Records the sink rejects for
// good are dropped (and reported); the result is nil then.
func (q *Queue) send(ctx context.Context, batch []wire.LogMessage) error {
	sctx, cancel := context.WithTimeout(ctx, q.o.SinkTimeout)
	defer cancel()
	err := q.o.Sink(sctx, batch)
	var rej *rejectedError
	switch {
	case err == nil:
		q.shipped.Add(uint64(len(batch)))
		return nil
	case errors.As(err, &rej) && len(batch) > 1:
		// One bad record must not take its batch down: try them one by one.
		for i := range batch {
			if err := q.send(ctx, batch[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	case errors.As(err, &rej):
		q.dropped.Add(1)
		q.o.Logger.Error("log shipping: sink rejected a record; dropped", "record_id", batch[0].RecordID, "err", err)
		return nil
	default:
		return err
	}
}

// replay sends what spilling left behind, oldest first: records still in ch,
// then each spill file. It retries every RetryInterval while the sink fails
// and returns when everything is sent (spilling is then off) or ctx ends.
func (q *Queue) replay(ctx context.Context) {
	for ctx.Err() == nil {
		// Nothing enters ch while spilling, so what is there predates the files.
		batch := q.drain(q.o.BatchSize)
		if len(batch) == 0 {
			break
		}
		if err := q.send(ctx, batch); err != nil {
			// Keep them on disk, ahead of the files, and retry from there.
			q.mu.Lock()
			q.prependLocked(append(batch, q.drain(0)...))
			q.mu.Unlock()
			break
		}
	}
	for ctx.Err() == nil {
		q.mu.Lock()
		seg, ok := q.spill.oldest()
		if !ok {
			q.endSpillingLocked()
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if err := q.replaySegment(ctx, seg); err != nil {
			return
		}
	}
}

// endSpillingLocked goes back to the memory queue once no file is left, in
// the same critical section that removed the last one.
func (q *Queue) endSpillingLocked() {
	if q.spilling && q.spill.count() == 0 && !q.closed {
		q.spilling = false
		q.o.Logger.Info("log shipping: spill replayed, back to the memory queue")
	}
}

// replaySegment sends one spill file in batches, retrying each batch until
// it is accepted, then removes the file. It fails only when ctx ends.
func (q *Queue) replaySegment(ctx context.Context, seg segment) error {
	r, err := seg.open()
	if err != nil {
		q.o.Logger.Error("log shipping: cannot read spill file; skipped", "file", seg.path, "err", err)
		q.mu.Lock()
		q.spill.remove(seg)
		q.mu.Unlock()
		return nil
	}
	defer r.close()
	for {
		batch, done := r.next(q.o.BatchSize, func(line int, err error) {
			q.dropped.Add(1)
			q.o.Logger.Error("log shipping: unreadable spill record; skipped", "file", seg.path, "line", line, "err", err)
		})
		if len(batch) > 0 {
			if err := q.sendRetrying(ctx, batch); err != nil {
				return err
			}
		}
		if done {
			break
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.spill.remove(seg); err != nil {
		// Left in place it would be sent again at the next start: harmless.
		q.o.Logger.Error("log shipping: remove replayed spill file", "file", seg.path, "err", err)
	}
	q.endSpillingLocked()
	return nil
}

// sendRetrying sends batch, trying again every RetryInterval until the sink
// accepts it or ctx ends.
func (q *Queue) sendRetrying(ctx context.Context, batch []wire.LogMessage) error {
	failing := false
	for {
		err := q.send(ctx, batch)
		if err == nil {
			if failing {
				q.o.Logger.Info("log shipping: sink answers again, replaying spill")
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !failing {
			q.o.Logger.Warn("log shipping: sink failing, retrying", "every", q.o.RetryInterval, "err", err)
			failing = true
		}
		t := time.NewTimer(q.o.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// shutdown runs when ctx has ended: from now on records go to disk; what was
// queued in memory is sent within SinkTimeout if the sink was healthy, and
// spilled ahead of everything else otherwise.
func (q *Queue) shutdown(ctx context.Context, pending []wire.LogMessage) {
	q.mu.Lock()
	wasSpilling := q.spilling
	q.closed = true
	q.spilling = true
	q.mu.Unlock()

	rest := append(pending, q.drain(0)...)
	if !wasSpilling && len(rest) > 0 {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.o.SinkTimeout)
		for len(rest) > 0 {
			n := min(q.o.BatchSize, len(rest))
			if err := q.send(fctx, rest[:n]); err != nil {
				q.o.Logger.Warn("log shipping: sink failed at stop; spilling", "records", len(rest), "err", err)
				break
			}
			rest = rest[n:]
		}
		cancel()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(rest) > 0 {
		q.prependLocked(rest)
	}
	if err := q.spill.closeTail(); err != nil {
		q.o.Logger.Error("log shipping: close spill file", "err", err)
	}
}

// Rejected marks err as a permanent refusal of the records sent: the queue
// drops them (and reports it) instead of retrying. A sink that speaks HTTP
// wraps 4xx answers with it.
func Rejected(err error) error {
	if err == nil {
		return nil
	}
	return &rejectedError{err}
}

type rejectedError struct{ err error }

func (e *rejectedError) Error() string { return fmt.Sprintf("rejected: %v", e.err) }
func (e *rejectedError) Unwrap() error { return e.err }
