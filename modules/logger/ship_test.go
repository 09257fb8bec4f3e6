package logger_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/logship"
	"github.com/ack-dev/ack/internal/wire"
)

// httpSink posts batches to the logger at the URL target holds, the way a
// process without a local logger ships its logs.
func httpSink(target *atomic.Pointer[string]) func(context.Context, []wire.LogMessage) error {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context, msgs []wire.LogMessage) error {
		body, err := json.Marshal(msgs)
		if err != nil {
			return logship.Rejected(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target.Load()+"/logger/api/log/insert", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode == http.StatusOK:
			return nil
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			return logship.Rejected(fmt.Errorf("logger answered %d: %s", resp.StatusCode, text))
		default:
			return fmt.Errorf("logger answered %d: %s", resp.StatusCode, text)
		}
	}
}

// TestShippingSurvivesLoggerRestart ships records under load from a logship
// queue to a real logger over HTTP, stops the logger mid-stream while
// producers keep logging, starts it again on the same home, and counts:
// every record stored, none twice.
func TestShippingSurvivesLoggerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a host under load")
	}
	home := t.TempDir()
	first, _ := startLogger(t, home, nil)
	var target atomic.Pointer[string]
	target.Store(&first.URL)

	q, err := logship.New(logship.Options{
		Sink:          httpSink(&target),
		SpillDir:      t.TempDir(),
		QueueSize:     2000,
		BatchSize:     200,
		FlushInterval: 20 * time.Millisecond,
		RetryInterval: 50 * time.Millisecond,
		SinkTimeout:   10 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(tlogWriter{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- q.Run(ctx) }()
	defer func() {
		cancel()
		<-ran
	}()

	// Producers log through the slog handler at a steady pace until told to stop.
	// (slog.DiscardHandler would disable every level, and the shipper follows the next handler's level.)
	log := slog.New(q.Handler(slog.NewTextHandler(io.Discard, nil), "loadtest"))
	var produced atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				for range 2 {
					n := produced.Add(1) - 1
					log.Info("rec "+strconv.FormatInt(n, 10), "seq", n)
				}
			}
		})
	}
	stopProducers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopProducers()

	waitFor := func(what string, cond func() bool) { acktest.Eventually(t, 60*time.Second, what, cond) }
	waitFor("records shipped to the first logger", func() bool { return q.Stats().Shipped >= 2000 })

	sctx, scancel := context.WithTimeout(t.Context(), 15*time.Second)
	if err := first.Host.Shutdown(sctx); err != nil {
		t.Fatalf("stop the first logger: %v", err)
	}
	scancel()
	spilledAtStop := q.Stats().Spilled
	waitFor("records spilled while the logger is down", func() bool { return q.Stats().Spilled >= spilledAtStop+2000 })

	second, _ := startLogger(t, home, nil)
	target.Store(&second.URL)
	shippedAtRestart := q.Stats().Shipped
	waitFor("shipping to resume", func() bool { return q.Stats().Shipped >= shippedAtRestart+3000 })
	stopProducers()
	total := produced.Load()

	// Poll with a cheap count on the SQLite file; then walk every row once
	// through the list route.
	db, err := sql.Open("sqlite", filepath.Join(home, "data", "logger", "logger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(fmt.Sprintf("all %d records stored", total), func() bool {
		var n int64
		if err := db.QueryRow("SELECT COUNT(DISTINCT Message) FROM TransactLog WHERE ModuleID = 'loadtest'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == total
	})
	seen := map[int64]int{}
	query := "applicationID=ack&module=loadtest&limit=1000&withMessage=1"
	for {
		rows := list(t, second, query)
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			n, err := strconv.ParseInt(strings.TrimPrefix(*r.Message, "rec "), 10, 64)
			if err != nil {
				t.Fatalf("unexpected message %q", *r.Message)
			}
			seen[n]++
		}
		query = fmt.Sprintf("applicationID=ack&module=loadtest&limit=1000&withMessage=1&before=%d", rows[len(rows)-1].LogNo)
	}
	for n := range total {
		if seen[n] != 1 {
			t.Fatalf("record %d stored %d times", n, seen[n])
		}
	}
	if int64(len(seen)) != total {
		t.Fatalf("%d distinct records stored, %d produced", len(seen), total)
	}
	st := q.Stats()
	if st.Dropped != 0 || st.Spilled == 0 || st.Enqueued != uint64(total) {
		t.Fatalf("stats %+v for %d records", st, total)
	}
	t.Logf("%d records, %d spilled while the logger was down, %d sent (replays included)", total, st.Spilled, st.Shipped)
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
