package logship_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ack-dev/ack/internal/logship"
	"github.com/ack-dev/ack/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink records what it accepts; it fails while fail is set and waits while
// gate is set.
type sink struct {
	mu    sync.Mutex
	got   []wire.LogMessage
	calls int
	fail  error
	gate  chan struct{}
}

func (s *sink) store(ctx context.Context, msgs []wire.LogMessage) error {
	s.mu.Lock()
	gate := s.gate
	s.calls++
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, msgs...)
	return nil
}

func (s *sink) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *sink) received() []wire.LogMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]wire.LogMessage(nil), s.got...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// start runs q until the test ends (or stop is called) and returns stop,
// which waits for Run to return.
func start(t *testing.T, q *logship.Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func newQueue(t *testing.T, o logship.Options) *logship.Queue {
	t.Helper()
	if o.RetryInterval == 0 {
		o.RetryInterval = 10 * time.Millisecond
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 5 * time.Millisecond
	}
	q, err := logship.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func msg(i int) wire.LogMessage {
	return wire.LogMessage{ApplicationID: "T", Message: strconv.Itoa(i)}
}

// assertSequence checks that got holds messages 0..n-1 exactly once, in order.
func assertSequence(t *testing.T, got []wire.LogMessage, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d records, want %d", len(got), n)
	}
	ids := map[string]bool{}
	for i, m := range got {
		if m.Message != strconv.Itoa(i) {
			t.Fatalf("record %d is %q: order broken", i, m.Message)
		}
		if m.RecordID == "" || ids[m.RecordID] {
			t.Fatalf("record %d has RecordID %q (empty or repeated)", i, m.RecordID)
		}
		ids[m.RecordID] = true
	}
}

func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "spill-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestNewRequiresSinkAndSpillDir(t *testing.T) {
	if _, err := logship.New(logship.Options{SpillDir: t.TempDir()}); err == nil {
		t.Fatal("want an error without Sink")
	}
	if _, err := logship.New(logship.Options{Sink: (&sink{}).store}); err == nil {
		t.Fatal("want an error without SpillDir")
	}
}

func TestShipsInOrderAndStamps(t *testing.T) {
	s := &sink{}
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: t.TempDir(), BatchSize: 7, ServerID: "web1"})
	start(t, q)
	const n = 100
	for i := range n {
		q.Enqueue(msg(i))
	}
	q.Enqueue(wire.LogMessage{Message: "last"})
	eventually(t, "all records shipped", func() bool { return len(s.received()) == n+1 })
	got := s.received()
	assertSequence(t, got[:n], n)
	last := got[n]
	if last.ApplicationID != logship.DefaultApplicationID || last.ServerID != "web1" || last.CreatedAt == "" {
		t.Fatalf("record not stamped: %+v", last)
	}
	if _, err := time.Parse(time.RFC3339Nano, last.CreatedAt); err != nil {
		t.Fatalf("CreatedAt %q: %v", last.CreatedAt, err)
	}
	if st := q.Stats(); st.Enqueued != n+1 || st.Shipped != n+1 || st.Spilled != 0 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFullQueueSpillsThenReplaysInOrder(t *testing.T) {
	s := &sink{gate: make(chan struct{})} // the sink hangs until the gate opens
	dir := t.TempDir()
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: dir, QueueSize: 10, BatchSize: 4})
	start(t, q)
	const n = 200
	for i := range n {
		q.Enqueue(msg(i)) // must not block although the sink is stuck
	}
	if st := q.Stats(); st.Spilled == 0 {
		t.Fatalf("a full queue did not spill: %+v", st)
	}
	close(s.gate)
	eventually(t, "spilled records replayed", func() bool { return len(s.received()) >= n })
	assertSequence(t, s.received(), n)
	eventually(t, "spill files removed", func() bool { return len(spillFiles(t, dir)) == 0 })
	// Back to memory: a new record is shipped without touching the disk.
	spilled := q.Stats().Spilled
	q.Enqueue(msg(n))
	eventually(t, "record after replay", func() bool { return len(s.received()) == n+1 })
	if q.Stats().Spilled != spilled {
		t.Fatal("queue still spilling after the replay finished")
	}
}

func TestSinkFailureSpillsAndRetries(t *testing.T) {
	s := &sink{fail: errors.New("logger down")}
	dir := t.TempDir()
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: dir, BatchSize: 5})
	start(t, q)
	const n = 60
	for i := range n / 2 {
		q.Enqueue(msg(i))
	}
	eventually(t, "records spilled after the sink failed", func() bool { return len(spillFiles(t, dir)) > 0 })
	for i := n / 2; i < n; i++ {
		q.Enqueue(msg(i))
	}
	eventually(t, "several retries", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.calls >= 3
	})
	if len(s.received()) != 0 {
		t.Fatal("sink accepted records while failing")
	}
	s.setFail(nil)
	eventually(t, "replay after the sink came back", func() bool { return len(s.received()) >= n })
	assertSequence(t, s.received(), n)
	eventually(t, "spill files removed", func() bool { return len(spillFiles(t, dir)) == 0 })
}

func TestStopFlushesQueuedRecords(t *testing.T) {
	s := &sink{}
	// Batches never fill and the flush interval never passes: only the stop sends them.
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: t.TempDir(), BatchSize: 1000, FlushInterval: time.Hour})
	stop := start(t, q)
	const n = 50
	for i := range n {
		q.Enqueue(msg(i))
	}
	stop()
	assertSequence(t, s.received(), n)
}

func TestStopWithSinkDownSpillsAndNextRunReplays(t *testing.T) {
	down := &sink{fail: errors.New("down")}
	dir := t.TempDir()
	q := newQueue(t, logship.Options{Sink: down.store, SpillDir: dir, BatchSize: 8, SinkTimeout: 50 * time.Millisecond})
	stop := start(t, q)
	const n = 40
	for i := range n / 2 {
		q.Enqueue(msg(i))
	}
	eventually(t, "first spill", func() bool { return len(spillFiles(t, dir)) > 0 })
	for i := n / 2; i < n; i++ {
		q.Enqueue(msg(i))
	}
	stop()
	// A record logged after the stop still goes to disk, after the others.
	q.Enqueue(msg(n))
	if len(spillFiles(t, dir)) == 0 {
		t.Fatal("no spill file after stopping with the sink down")
	}

	up := &sink{}
	q2 := newQueue(t, logship.Options{Sink: up.store, SpillDir: dir})
	start(t, q2)
	q2.Enqueue(msg(n + 1)) // newer than everything spilled: must come last
	eventually(t, "restart replay", func() bool { return len(up.received()) >= n+2 })
	assertSequence(t, up.received(), n+2)
	eventually(t, "spill files removed", func() bool { return len(spillFiles(t, dir)) == 0 })
}

func TestRestartWhileSpillingKeepsMemoryRecordsFirst(t *testing.T) {
	s := &sink{gate: make(chan struct{})}
	dir := t.TempDir()
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: dir, QueueSize: 5, BatchSize: 2, SinkTimeout: 20 * time.Millisecond})
	stop := start(t, q)
	const n = 30
	for i := range n {
		q.Enqueue(msg(i))
	}
	stop() // records 0..~6 are in memory or in flight, the rest on disk
	up := &sink{}
	q2 := newQueue(t, logship.Options{Sink: up.store, SpillDir: dir})
	start(t, q2)
	eventually(t, "replay", func() bool { return len(up.received()) >= n })
	assertSequence(t, up.received(), n)
}

func TestRejectedRecordIsDroppedAlone(t *testing.T) {
	var mu sync.Mutex
	var got []string
	store := func(_ context.Context, msgs []wire.LogMessage) error {
		for _, m := range msgs {
			if m.Message == "bad" {
				return logship.Rejected(fmt.Errorf("400: %s", m.Message))
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			got = append(got, m.Message)
		}
		return nil
	}
	q := newQueue(t, logship.Options{Sink: store, SpillDir: t.TempDir(), BatchSize: 10, FlushInterval: time.Hour})
	stop := start(t, q)
	for _, m := range []string{"a", "bad", "b"} {
		q.Enqueue(wire.LogMessage{Message: m})
	}
	stop()
	if fmt.Sprint(got) != "[a b]" {
		t.Fatalf("got %v, want [a b]", got)
	}
	if st := q.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v: want one dropped", st)
	}
}

func TestTornSpillLineIsSkipped(t *testing.T) {
	dir := t.TempDir()
	good, _ := json.Marshal(wire.LogMessage{ApplicationID: "T", Message: "0", RecordID: "r0"})
	data := append(append(good, '\n'), []byte(`{"ApplicationID":"T","Mess`)...)
	if err := os.WriteFile(filepath.Join(dir, "spill-0000001099511627776.jsonl"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: dir})
	start(t, q)
	eventually(t, "replay", func() bool { return len(spillFiles(t, dir)) == 0 })
	got := s.received()
	if len(got) != 1 || got[0].RecordID != "r0" {
		t.Fatalf("got %+v", got)
	}
	if q.Stats().Dropped != 1 {
		t.Fatalf("stats %+v: the torn line should count as dropped", q.Stats())
	}
}

func TestHandlerShipsSlogRecords(t *testing.T) {
	s := &sink{}
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: t.TempDir()})
	stop := start(t, q)
	var text bytes.Buffer
	log := slog.New(q.Handler(slog.NewTextHandler(&text, &slog.HandlerOptions{Level: slog.LevelInfo}), "dbclient"))
	log = log.With("global_id", "G-1").WithGroup("req")
	log.Info("query done", "rows", 3, slog.Group("db", "name", "main"), "err", errors.New("boom"))
	log.Debug("filtered out by the next handler's level")
	log.Error("failed")
	stop()

	if !bytes.Contains(text.Bytes(), []byte("query done")) {
		t.Fatalf("next handler did not get the record: %s", text.String())
	}
	got := s.received()
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2 (debug is disabled)", len(got))
	}
	m := got[0]
	if m.ModuleID != "dbclient" || m.GlobalID != "G-1" || m.Level != "I" || m.Message != "query done" || m.Format != "P" {
		t.Fatalf("record %+v", m)
	}
	var props map[string]any
	if err := json.Unmarshal([]byte(m.Properties), &props); err != nil {
		t.Fatalf("Properties %q: %v", m.Properties, err)
	}
	want := `map[global_id:G-1 req:map[db:map[name:main] err:boom rows:3]]`
	if fmt.Sprint(props) != want {
		t.Fatalf("Properties = %v, want %v", props, want)
	}
	if got[1].Level != "E" {
		t.Fatalf("error level code %q", got[1].Level)
	}
}

// TestSlowThenFailingSinkKeepsOrder: the queue overflows to disk while a
// batch is in flight, then that batch fails. It must be replayed before the
// records spilled meanwhile, although they reached the disk first.
func TestSlowThenFailingSinkKeepsOrder(t *testing.T) {
	s := &sink{gate: make(chan struct{}), fail: errors.New("down")}
	dir := t.TempDir()
	q := newQueue(t, logship.Options{Sink: s.store, SpillDir: dir, QueueSize: 10, BatchSize: 4})
	start(t, q)
	q.Enqueue(msg(0))
	eventually(t, "the first batch in flight", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.calls == 1
	})
	const n = 100
	for i := 1; i < n; i++ {
		q.Enqueue(msg(i))
	}
	if q.Stats().Spilled == 0 {
		t.Fatal("no overflow while the batch was in flight")
	}
	s.mu.Lock()
	gate := s.gate
	s.gate = nil // later calls answer at once (with the error)
	s.mu.Unlock()
	close(gate) // the batch in flight fails now
	eventually(t, "retries", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.calls >= 3
	})
	s.setFail(nil)
	eventually(t, "everything delivered", func() bool { return len(s.received()) >= n })
	assertSequence(t, s.received(), n)
}
