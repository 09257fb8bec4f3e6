package logship_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/logship"
	"github.com/ack-dev/ack/internal/wire"
)

// BenchmarkEnqueue is what logging costs a request: the record is stamped
// and handed over, never sent inline. The timer stops while the queue
// drains, so this is the in-memory path, not the overload (spill) path.
func BenchmarkEnqueue(b *testing.B) {
	q := benchQueue(b)
	m := wire.LogMessage{ApplicationID: "B", Message: "request done", Level: "I"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		q.Enqueue(m)
		if n++; n%1000 == 0 {
			b.StopTimer()
			waitDrained(b, q)
			b.StartTimer()
		}
	}
	if st := q.Stats(); st.Spilled != 0 {
		b.Fatalf("the benchmark overflowed the queue: %+v", st)
	}
}

// waitDrained waits until the sink has every record enqueued so far.
func waitDrained(b *testing.B, q *logship.Queue) {
	for {
		st := q.Stats()
		if st.Shipped == st.Enqueued {
			return
		}
		runtime.Gosched()
	}
}

// BenchmarkHandler is the cost of one slog call through the shipping
// handler (the next handler writes to io.Discard).
func BenchmarkHandler(b *testing.B) {
	q := benchQueue(b)
	log := slog.New(q.Handler(slog.NewJSONHandler(io.Discard, nil), "bench")).With("global_id", "G1")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		log.Info("request done", "rows", 3, "path", "/transact/api/transaction/execute")
		if n++; n%1000 == 0 {
			b.StopTimer()
			waitDrained(b, q)
			b.StartTimer()
		}
	}
}

func benchQueue(b *testing.B) *logship.Queue {
	q, err := logship.New(logship.Options{
		Sink:          func(context.Context, []wire.LogMessage) error { return nil },
		SpillDir:      b.TempDir(),
		FlushInterval: time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	return q
}
