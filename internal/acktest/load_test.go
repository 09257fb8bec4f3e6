package acktest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestLoad(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		served.Add(1)
		w.Write(bytes.ToUpper(body))
	}))
	defer srv.Close()

	var last LoadResult
	var lastN int
	var sent int64
	res := testing.Benchmark(func(b *testing.B) {
		last = Load(b, LoadOptions{URL: srv.URL, Body: []byte("ping"), Clients: 4, Rate: "calls/s",
			Check: func(status int, body []byte) error {
				if status != 200 || string(body) != "PING" {
					return errors.New("unexpected answer")
				}
				return nil
			}})
		lastN = b.N
		sent += int64(b.N)
	})
	if last.Requests != lastN || lastN == 0 {
		t.Errorf("%d requests measured, want b.N = %d", last.Requests, lastN)
	}
	if served.Load() != sent {
		t.Errorf("the server saw %d requests, Load was asked for %d", served.Load(), sent)
	}
	if last.P50 <= 0 || last.P50 > last.P99 || last.Throughput() <= 0 {
		t.Errorf("p50 %v, p99 %v, %f/s", last.P50, last.P99, last.Throughput())
	}
	for _, m := range []string{"p50-ms", "p99-ms", "calls/s", "cpu-us/op"} {
		if _, ok := res.Extra[m]; !ok {
			t.Errorf("metric %s not reported: %v", m, res.Extra)
		}
	}
}
