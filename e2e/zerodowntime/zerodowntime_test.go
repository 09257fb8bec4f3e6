package zerodowntime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// params size the run. The defaults are the short CI run; the full run is
// documented in docs/zero-downtime.md.
type params struct {
	rate   int           // ACK_ZDT_RATE, requests per second in total
	steady time.Duration // ACK_ZDT_STEADY, the steady-state window before each event
	tail   time.Duration // ACK_ZDT_TAIL, how long the load runs on after an event ends
}

func readParams(t *testing.T) params {
	p := params{rate: 400, steady: 2 * time.Second, tail: 2 * time.Second}
	if v := os.Getenv("ACK_ZDT_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("ACK_ZDT_RATE=%q: want a positive number of requests per second", v)
		}
		p.rate = n
	}
	for name, d := range map[string]*time.Duration{"ACK_ZDT_STEADY": &p.steady, "ACK_ZDT_TAIL": &p.tail} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				t.Fatalf("%s=%q: want a positive Go duration", name, v)
			}
		}
	}
	return p
}

// warmup is load sent before the steady window and left out of it: the first
// requests open connections and pools.
const warmup = time.Second

// target is one transaction under load.
type target struct {
	name string // for the report
	url  string
	body []byte
	rate int
}

// measured is one target's samples around one event.
type measured struct {
	Row
	samples []Sample
	start   time.Time // the event's start
}

var report struct {
	sync.Mutex
	rows []Row
}

// measure runs load at every target, runs act as the event after the steady
// window, keeps the load on for the tail, and returns a row per target.
func measure(t *testing.T, p params, event string, targets []target, act func() string) []measured {
	t.Helper()
	loads := make([]*Load, len(targets))
	for i, tg := range targets {
		loads[i] = Start(tg.url, tg.body, tg.rate)
	}
	stopped := false
	stop := func() [][]Sample {
		stopped = true
		all := make([][]Sample, len(loads))
		for i, l := range loads {
			all[i] = l.Stop()
		}
		return all
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	hold(t, warmup)
	steadyFrom := time.Now()
	hold(t, p.steady)
	start := time.Now()
	note := act()
	end := time.Now()
	hold(t, p.tail)
	until := time.Now()
	all := stop()

	out := make([]measured, len(targets))
	for i, tg := range targets {
		row := Row{
			Event: event, Transaction: tg.name, Rate: tg.rate, Took: end.Sub(start),
			Steady: Window(all[i], steadyFrom, start), During: Window(all[i], start, until), Note: note,
		}
		out[i] = measured{Row: row, samples: all[i], start: start}
		saveSamples(t, event, tg.name, all[i], start)
		t.Logf("%s, %s: started %s UTC; %d sent, %d failed; steady p50 %v p99 %v; event p50 %v p99 %v; event took %v; %s",
			event, tg.name, start.UTC().Format("15:04:05.000"), row.During.Sent, row.During.Failed(), row.Steady.P50, row.Steady.P99,
			row.During.P50, row.During.P99, row.Took.Round(time.Millisecond), note)
	}
	return out
}

// record adds rows to the report of the whole run.
func record(ms ...measured) {
	report.Lock()
	defer report.Unlock()
	for _, m := range ms {
		report.rows = append(report.rows, m.Row)
	}
}

// saveSamples writes the samples as CSV under ACK_ZDT_SAMPLES when set, one
// file per event and transaction, times relative to the event's start.
func saveSamples(t *testing.T, event, tx string, samples []Sample, start time.Time) {
	dir := os.Getenv("ACK_ZDT_SAMPLES")
	if dir == "" {
		return
	}
	name := fileName(event + " " + tx)
	var b bytes.Buffer
	if err := WriteCSV(&b, samples, start); err != nil {
		t.Errorf("samples: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".csv"), b.Bytes(), 0o644); err != nil {
		t.Errorf("samples: %v", err)
	}
}

// hold lets the load run for d.
func hold(t *testing.T, d time.Duration) {
	select {
	case <-time.After(d):
	case <-t.Context().Done():
	}
}

// noFailures records m and fails the test when any of its requests failed,
// listing them.
func noFailures(t *testing.T, m measured) {
	t.Helper()
	record(m)
	if n := m.Steady.Failed(); n > 0 {
		t.Errorf("%s: %d of %d requests failed in the steady state before the event:\n%s",
			m.Transaction, n, m.Steady.Sent, Describe(m.Steady.Failures, m.start, 20))
	}
	if n := m.During.Failed(); n > 0 {
		t.Errorf("%s: %d of %d requests failed (transport %d, non-2xx %d, acknowledge 0 %d), times relative to the event's start:\n%s",
			m.Transaction, n, m.During.Sent, m.During.Transport, m.During.Status, m.During.Refused,
			Describe(m.During.Failures, m.start, 20))
	}
	if m.During.Sent == 0 {
		t.Errorf("%s: no request was sent during the event", m.Transaction)
	}
}

// TestZeroDowntime drives constant-rate load at a transaction through each
// event and checks that clients see no failure; the PostgreSQL event checks
// that only the transaction using it fails, fast, and recovers. The table of
// every event is logged, and written to ACK_ZDT_REPORT when set.
func TestZeroDowntime(t *testing.T) {
	if testing.Short() {
		t.Skip("real processes under load; not with -short")
	}
	p := readParams(t)
	events := []struct {
		name string
		run  func(*testing.T, params)
	}{
		{"a-edit-contract", editContract},
		{"b-invalid-contract", invalidContract},
		{"c-in-place-upgrade", inPlaceUpgrade},
		{"d-restart-one-dbclient", restartOneDBClient},
		{"e-rolling-restart", rollingRestart},
		{"f-postgres-restart", postgresRestart},
	}
	for _, e := range events {
		t.Run(e.name, func(t *testing.T) { e.run(t, p) })
	}

	report.Lock()
	defer report.Unlock()
	table := Table(report.rows)
	t.Logf("rate %d req/s, steady %v, tail %v, %d CPUs:\n%s", p.rate, p.steady, p.tail, runtime.NumCPU(), table)
	if path := os.Getenv("ACK_ZDT_REPORT"); path != "" {
		head := fmt.Sprintf("Run %s: rate %d req/s, steady window %v, tail %v, %d CPUs, GOMAXPROCS %d.\n\n",
			time.Now().UTC().Format(time.RFC3339), p.rate, p.steady, p.tail, runtime.NumCPU(), runtime.GOMAXPROCS(0))
		if err := os.WriteFile(path, []byte(head+table), 0o644); err != nil {
			t.Errorf("write the report: %v", err)
		}
	}
}

// (a) Contract edits under load: each new version is served, nothing fails.
func editContract(t *testing.T, p params) {
	h := newHome(t)
	ack := start(t, "ack", acktest.ProcessOptions{Home: h.dir})
	tg := target{"ZDT010 (SQLite)", ack.URL + executePath, request(t, "ZDT010"), p.rate}
	m := measure(t, p, "(a) edit a contract", []target{tg}, func() string {
		// Renamed into place and written in place (truncate, then write).
		replace := func(t *testing.T, path, content string) { acktest.ReplaceFile(t, path, content) }
		writes := []func(*testing.T, string, string){replace, writeInPlace, replace, writeInPlace}
		for i, write := range writes {
			v := fmt.Sprintf("v%d", i+2)
			write(t, h.sqlPath("ZDT010"), sqlContract("ZDT010", "DB01", v))
			acktest.Eventually(t, 10*time.Second, v+" to be served", func() bool { return served(t, ack.URL, "ZDT010") == v })
		}
		return fmt.Sprintf("%d edits (renamed, in place), each served", len(writes))
	})
	noFailures(t, m[0])
}

// (b) Invalid contracts under load: the last good version keeps serving.
func invalidContract(t *testing.T, p params) {
	h := newHome(t)
	ack := start(t, "ack", acktest.ProcessOptions{Home: h.dir})
	tg := target{"ZDT010 (SQLite)", ack.URL + executePath, request(t, "ZDT010"), p.rate}
	m := measure(t, p, "(b) write an invalid contract", []target{tg}, func() string {
		acktest.ReplaceFile(t, h.sqlPath("ZDT010"), "<mapper><header>broken")
		acktest.ReplaceFile(t, h.txPath("ZDT010"), `{"ApplicationID": "ZDT", "Services": [`)
		acktest.Eventually(t, 10*time.Second, "both broken files to be reported", func() bool {
			body := get(ack.URL, "/ack/contracts")
			return strings.Contains(body, "ZDT010.xml") && strings.Contains(body, "ZDT010.json")
		})
		return "broken SQL and transaction files reported, last good kept"
	})
	noFailures(t, m[0])
	if got := served(t, ack.URL, "ZDT010"); got != "v1" {
		t.Errorf("after the broken writes ZDT010 answers %q, want the last good v1", got)
	}
}

// (c) In-place binary upgrade (SIGHUP) of the process receiving the load.
func inPlaceUpgrade(t *testing.T, p params) {
	h := newHome(t)
	ack := startUpgradable(t, acktest.ProcessOptions{Home: h.dir})
	tg := target{"ZDT010 (SQLite)", ack.URL + executePath, request(t, "ZDT010"), p.rate}
	m := measure(t, p, "(c) in-place binary upgrade", []target{tg}, func() string {
		oldPID, newPID := ack.upgrade(t)
		return fmt.Sprintf("PID %d -> %d", oldPID, newPID)
	})
	noFailures(t, m[0])
}

// (d) Split layout: restart one of the two dbclient processes.
func restartOneDBClient(t *testing.T, p params) {
	s := startSplit(t, newHome(t))
	tg := target{"ZDT010 (SQLite, via peer)", s.front.URL + executePath, request(t, "ZDT010"), p.rate}
	m := measure(t, p, "(d) restart one of two dbclients", []target{tg}, func() string {
		s.restartDBClient(t, 0)
		return "SIGTERM (drain 6s), start on the same port, used again by the front"
	})
	noFailures(t, m[0])
}

// (e) Split layout: replace every process one at a time.
func rollingRestart(t *testing.T, p params) {
	s := startSplit(t, newHome(t))
	tg := target{"ZDT010 (SQLite, via peer)", s.front.URL + executePath, request(t, "ZDT010"), p.rate}
	m := measure(t, p, "(e) rolling restart of every process", []target{tg}, func() string {
		s.restartDBClient(t, 0)
		s.restartDBClient(t, 1)
		oldPID, newPID := s.front.upgrade(t)
		return fmt.Sprintf("dbclient 1 and 2 restarted, front upgraded in place (PID %d -> %d)", oldPID, newPID)
	})
	noFailures(t, m[0])
}

// Targets for (f), checked by the CI run with a bound generous for a shared
// machine; the real numbers go to the report.
const (
	recoveryTarget = 2 * time.Second        // PostgreSQL transactions succeed again within this of its return
	failFastCI     = 500 * time.Millisecond // p99 latency of the failed ones (the target is 100 ms), or twice the healthy transaction's p99 when the machine is slower than that
)

// (f) Stop and start PostgreSQL: the SQLite transaction is untouched, the
// PostgreSQL one fails fast while it is down and recovers soon after.
func postgresRestart(t *testing.T, p params) {
	pg := startPostgres(t)
	h := newHome(t)
	h.writeTransaction(t, "ZDT020", "PG01", "pg")
	settings := fmt.Sprintf(`{"moduleConfig": {"dbclient": {"DataSource": [
		{"ApplicationID": "ZDT", "ProjectID": "*", "DataSourceID": "PG01", "DataProvider": "PostgreSQL",
		 "ConnectionString": %q, "TransactionIsolationLevel": "ReadCommitted"}]}}}`, pg.ConnectionString())
	if err := os.WriteFile(h.dir+"/ack.json", []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	ack := start(t, "ack", acktest.ProcessOptions{Home: h.dir})
	if got := served(t, ack.URL, "ZDT020"); got != "pg" {
		t.Fatalf("ZDT020 on PostgreSQL answers %q before the event, want pg", got)
	}
	down := max(p.tail, 2*time.Second)
	var stopped, back time.Time
	targets := []target{
		{"ZDT010 (SQLite)", ack.URL + executePath, request(t, "ZDT010"), (p.rate + 1) / 2},
		{"ZDT020 (PostgreSQL)", ack.URL + executePath, request(t, "ZDT020"), p.rate / 2},
	}
	// The tail must cover the recovery target and more.
	tailed := p
	tailed.tail = max(p.tail, recoveryTarget+time.Second)
	m := measure(t, tailed, "(f) stop and start PostgreSQL", targets, func() string {
		pg.stop(t)
		stopped = time.Now()
		hold(t, down)
		pg.start(t)
		back = time.Now()
		return fmt.Sprintf("down %v", back.Sub(stopped).Round(time.Millisecond))
	})
	noFailures(t, m[0])

	pgm := m[1]
	var failLat []time.Duration
	var lastFailure time.Time
	late := 0 // failures sent after the recovery target
	for _, s := range pgm.samples {
		if s.Outcome == OK {
			continue
		}
		failLat = append(failLat, s.Latency)
		if s.End().After(lastFailure) {
			lastFailure = s.End()
		}
		if s.Sent.After(back.Add(recoveryTarget)) {
			late++
		}
	}
	recovery := max(lastFailure.Sub(back), 0)
	p50, p99, worst := Percentile(failLat, 50), Percentile(failLat, 99), Percentile(failLat, 100)
	pgm.Note = fmt.Sprintf("down %v; %d failed, latency p50 %s p99 %s max %s; last failure %s after its return",
		back.Sub(stopped).Round(time.Millisecond), len(failLat), ms(p50), ms(p99), ms(worst), ms(recovery))
	t.Logf("ZDT020 (PostgreSQL): %s", pgm.Note)
	record(pgm)
	if len(failLat) == 0 {
		t.Fatalf("no ZDT020 request failed while PostgreSQL was down for %v: was it stopped?", down)
	}
	t.Logf("what a client saw while PostgreSQL was down: %s: %s", pgm.During.Failures[0].Outcome, pgm.During.Failures[0].Detail)
	if late > 0 {
		t.Errorf("%d ZDT020 requests sent more than %v after PostgreSQL returned failed", late, recoveryTarget)
	}
	// A failure that waited for a timeout (the default connect timeout is 15 s)
	// stands out; a contended machine slows the healthy transaction as much.
	if bound := max(failFastCI, 2*m[0].During.P99); p99 > bound {
		t.Errorf("ZDT020 failures took p99 %v while PostgreSQL was down, want < %v (target 100 ms; ZDT010 p99 %v):\n%s",
			p99, bound, m[0].During.P99, Describe(pgm.During.Failures, pgm.start, 10))
	}
	if recovery > recoveryTarget {
		t.Errorf("ZDT020 last failed %v after PostgreSQL returned, want within %v", recovery, recoveryTarget)
	}
}
