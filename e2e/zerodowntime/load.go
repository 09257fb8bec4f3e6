// Package zerodowntime measures what clients see while ack changes under them:
// it drives constant-rate, open-loop load at a transaction (vegeta), while the
// tests in this package edit contracts, upgrade the binary, restart processes
// and stop databases, and it reports each event's failures and latencies
// against the steady state just before it. See docs/zero-downtime.md.
package zerodowntime

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Outcome classifies one request as a client sees it.
type Outcome int

const (
	// OK is a 2xx answer with acknowledge 1.
	OK Outcome = iota
	// Transport is no HTTP answer at all: refused, reset, timed out.
	Transport
	// Status is an HTTP answer outside 2xx.
	Status
	// Refused is a 2xx answer with acknowledge 0 (HandStack's in-band failure).
	Refused
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Transport:
		return "transport error"
	case Status:
		return "non-2xx"
	case Refused:
		return "acknowledge 0"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Sample is one request: when it was sent, how long it took, how it ended.
type Sample struct {
	Sent    time.Time
	Latency time.Duration
	Outcome Outcome
	Detail  string // for failures: the error, status or exceptionText
}

// End is when the answer (or the error) arrived.
func (s Sample) End() time.Time { return s.Sent.Add(s.Latency) }

// maxBody bounds what is kept of an answer: enough for a small transaction's
// JSON, whose acknowledge decides the outcome.
const maxBody = 64 << 10

// Classify turns a vegeta result into a Sample.
func Classify(r *vegeta.Result) Sample {
	s := Sample{Sent: r.Timestamp, Latency: r.Latency}
	switch {
	case r.Code == 0:
		s.Outcome, s.Detail = Transport, cmp.Or(r.Error, "no answer")
	case r.Code < 200 || r.Code > 299:
		s.Outcome, s.Detail = Status, fmt.Sprintf("HTTP %d: %s", r.Code, clip(string(r.Body)))
	default:
		var answer struct {
			Acknowledge   *int   `json:"acknowledge"`
			ExceptionText string `json:"exceptionText"`
		}
		if err := json.Unmarshal(r.Body, &answer); err != nil || answer.Acknowledge == nil {
			s.Outcome, s.Detail = Refused, "not a transaction answer: "+clip(string(r.Body))
		} else if *answer.Acknowledge != 1 {
			s.Outcome, s.Detail = Refused, cmp.Or(clip(answer.ExceptionText), fmt.Sprintf("acknowledge %d, no exceptionText", *answer.Acknowledge))
		}
	}
	return s
}

func clip(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Load is one running attack.
type Load struct {
	attacker *vegeta.Attacker
	done     chan struct{}

	mu      sync.Mutex
	samples []Sample
}

// Start sends a POST of body to url at rate requests per second, open loop
// (a slow answer does not delay the next request), over keep-alive
// connections with vegeta's default workers, until Stop.
func Start(url string, body []byte, rate int) *Load {
	l := &Load{
		attacker: vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.MaxBody(maxBody)),
		done:     make(chan struct{}),
	}
	target := vegeta.NewStaticTargeter(vegeta.Target{
		Method: http.MethodPost,
		URL:    url,
		Body:   body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	})
	results := l.attacker.Attack(target, vegeta.Rate{Freq: rate, Per: time.Second}, 0, "ackzdt")
	go func() {
		defer close(l.done)
		for r := range results {
			s := Classify(r)
			l.mu.Lock()
			l.samples = append(l.samples, s)
			l.mu.Unlock()
		}
	}()
	return l
}

// Samples returns a copy of what has been answered so far.
func (l *Load) Samples() []Sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.samples)
}

// Stop ends the attack, waits for the requests in flight and returns every
// sample ordered by the time it was sent.
func (l *Load) Stop() []Sample {
	l.attacker.Stop()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.SliceStable(l.samples, func(i, j int) bool { return l.samples[i].Sent.Before(l.samples[j].Sent) })
	return l.samples
}

// Stats summarise the samples of one window.
type Stats struct {
	Sent      int
	Transport int
	Status    int
	Refused   int
	P50, P99  time.Duration // over every request of the window
	Seconds   float64       // the window's length
	Failures  []Sample      // in the order sent
}

// Failed counts every request that did not succeed.
func (s Stats) Failed() int { return s.Transport + s.Status + s.Refused }

// Rate is the achieved rate of requests sent.
func (s Stats) Rate() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Seconds
}

// Window summarises the samples sent in [from, to).
func Window(samples []Sample, from, to time.Time) Stats {
	st := Stats{Seconds: to.Sub(from).Seconds()}
	var lat []time.Duration
	for _, s := range samples {
		if s.Sent.Before(from) || !s.Sent.Before(to) {
			continue
		}
		st.Sent++
		lat = append(lat, s.Latency)
		switch s.Outcome {
		case Transport:
			st.Transport++
		case Status:
			st.Status++
		case Refused:
			st.Refused++
		}
		if s.Outcome != OK {
			st.Failures = append(st.Failures, s)
		}
	}
	st.P50, st.P99 = Percentile(lat, 50), Percentile(lat, 99)
	return st
}

// Percentile returns the p-th percentile (nearest rank) of d, 0 when empty.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// WriteCSV writes one line per sample: seconds since at (when sent),
// latency in milliseconds, outcome and detail; for plotting and for finding
// what happened when.
func WriteCSV(w io.Writer, samples []Sample, at time.Time) error {
	c := csv.NewWriter(w)
	if err := c.Write([]string{"sent_s", "latency_ms", "outcome", "detail"}); err != nil {
		return err
	}
	for _, s := range samples {
		rec := []string{
			strconv.FormatFloat(s.Sent.Sub(at).Seconds(), 'f', 4, 64),
			strconv.FormatFloat(float64(s.Latency)/float64(time.Millisecond), 'f', 3, 64),
			s.Outcome.String(), s.Detail,
		}
		if err := c.Write(rec); err != nil {
			return err
		}
	}
	c.Flush()
	return c.Error()
}

// Describe lists up to n failures with their time relative to at, for a
// report that says which requests failed and when.
func Describe(failures []Sample, at time.Time, n int) string {
	var b strings.Builder
	for i, f := range failures {
		if i == n {
			fmt.Fprintf(&b, "  ... and %d more\n", len(failures)-n)
			break
		}
		fmt.Fprintf(&b, "  sent %+.3fs, after %v: %s: %s\n", f.Sent.Sub(at).Seconds(), f.Latency.Round(time.Millisecond), f.Outcome, f.Detail)
	}
	return b.String()
}
