package zerodowntime

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ack-dev/ack/internal/acktest"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name   string
		result vegeta.Result
		want   Outcome
		detail string
	}{
		{"success", vegeta.Result{Code: 200, Body: []byte(`{"acknowledge":1,"exceptionText":null}`)}, OK, ""},
		{"in-band failure", vegeta.Result{Code: 200, Body: []byte(`{"exceptionText":"no such service","acknowledge":0}`)}, Refused, "no such service"},
		{"no answer", vegeta.Result{Code: 0, Error: "connection refused"}, Transport, "connection refused"},
		{"server error", vegeta.Result{Code: 503, Body: []byte(`draining`)}, Status, "HTTP 503: draining"},
		{"redirect", vegeta.Result{Code: 302}, Status, "HTTP 302: "},
		{"not JSON", vegeta.Result{Code: 200, Body: []byte(`<html>`)}, Refused, "not a transaction answer: <html>"},
		{"no acknowledge", vegeta.Result{Code: 200, Body: []byte(`{}`)}, Refused, "not a transaction answer: {}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(&c.result)
			if got.Outcome != c.want || got.Detail != c.detail {
				t.Errorf("Classify = %v %q, want %v %q", got.Outcome, got.Detail, c.want, c.detail)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(uint16(200), []byte(`{"acknowledge":1}`))
	f.Add(uint16(200), []byte(`{"acknowledge":0,"exceptionText":"x"}`))
	f.Add(uint16(200), []byte(`{"acknowledge":"1"}`))
	f.Add(uint16(500), []byte(`oops`))
	f.Add(uint16(0), []byte(nil))
	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		s := Classify(&vegeta.Result{Code: code, Body: body})
		if (s.Outcome == OK) != (s.Detail == "") {
			t.Fatalf("outcome %v with detail %q", s.Outcome, s.Detail)
		}
		if s.Outcome == OK && (code < 200 || code > 299) {
			t.Fatalf("code %d counted as success", code)
		}
		if len(s.Detail) > 300 {
			t.Fatalf("detail not clipped: %d bytes", len(s.Detail))
		}
	})
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		d := make([]time.Duration, len(n))
		for i, v := range n {
			d[i] = time.Duration(v) * time.Millisecond
		}
		return d
	}
	cases := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 100, 5 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 0, 1 * time.Millisecond},
		// 100 values 1..100 ms: the 99th by nearest rank is 99 ms.
		{func() []time.Duration {
			d := make([]time.Duration, 100)
			for i := range d {
				d[i] = time.Duration(100-i) * time.Millisecond
			}
			return d
		}(), 99, 99 * time.Millisecond},
	}
	for _, c := range cases {
		if got := Percentile(c.in, c.p); got != c.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
	}
}

func TestWindow(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	samples := []Sample{
		{Sent: at(0), Latency: time.Millisecond, Outcome: Transport, Detail: "before"},
		{Sent: at(100), Latency: 2 * time.Millisecond, Outcome: OK},
		{Sent: at(200), Latency: 4 * time.Millisecond, Outcome: Status, Detail: "HTTP 503"},
		{Sent: at(300), Latency: 8 * time.Millisecond, Outcome: Refused, Detail: "ack 0"},
		{Sent: at(1100), Latency: time.Millisecond, Outcome: Transport, Detail: "after"},
	}
	st := Window(samples, at(100), at(1100))
	if st.Sent != 3 || st.Transport != 0 || st.Status != 1 || st.Refused != 1 || st.Failed() != 2 {
		t.Fatalf("Window = %+v, want 3 sent, 1 non-2xx, 1 acknowledge 0", st)
	}
	if st.P50 != 4*time.Millisecond || st.P99 != 8*time.Millisecond {
		t.Errorf("p50 %v p99 %v, want 4ms 8ms", st.P50, st.P99)
	}
	if st.Rate() != 3 {
		t.Errorf("rate %v, want 3 per second", st.Rate())
	}
	if len(st.Failures) != 2 || st.Failures[0].Detail != "HTTP 503" || st.Failures[1].Detail != "ack 0" {
		t.Errorf("failures %+v", st.Failures)
	}
}

// TestLoadAgainstAServer runs real load at a real HTTP server that answers
// success, acknowledge 0 and 500 in turn.
func TestLoadAgainstAServer(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		switch n.Add(1) % 3 {
		case 0:
			_, _ = w.Write([]byte(`{"acknowledge":1}`))
		case 1:
			_, _ = w.Write([]byte(`{"acknowledge":0,"exceptionText":"refused"}`))
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	from := time.Now()
	l := Start(srv.URL, []byte(`{}`), 300)
	acktest.Eventually(t, 20*time.Second, "90 answers", func() bool { return len(l.Samples()) >= 90 })
	samples := l.Stop()
	st := Window(samples, from, time.Now())
	if st.Sent != len(samples) || int64(st.Sent) != n.Load() {
		t.Fatalf("window counts %d, load kept %d, server saw %d", st.Sent, len(samples), n.Load())
	}
	ok := st.Sent - st.Failed()
	if st.Transport != 0 || st.Refused < st.Sent/3-1 || st.Status < st.Sent/3-1 || ok < st.Sent/3-1 {
		t.Errorf("outcomes: %d ok, %+v; want a third each and no transport errors", ok, st)
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].Sent.Before(samples[i-1].Sent) {
			t.Fatalf("samples not ordered by time sent at %d", i)
		}
	}
}
