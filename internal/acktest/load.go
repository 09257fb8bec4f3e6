package acktest

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// LoadOptions describe a closed-loop load run: each client sends its next
// request as soon as it has read the previous answer.
type LoadOptions struct {
	// URL is where Body is POSTed as application/json.
	URL  string
	Body []byte
	// Clients is the number of concurrent clients. Default: 16.
	Clients int
	// Check judges each answer; an error fails the benchmark. Default: the
	// status must be 200.
	Check func(status int, body []byte) error
	// Rate names the throughput metric. Default: "req/s".
	Rate string
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Requests int
	Elapsed  time.Duration
	P50, P99 time.Duration
	// CPU is the process CPU time the run used: client and server together
	// when they share the process.
	CPU time.Duration
}

// Throughput is requests per second.
func (r LoadResult) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Load sends b.N requests and reports p50-ms, p99-ms, the throughput (Rate)
// and cpu-us/op, the CPU per request, which other load on the machine does
// not inflate as it does wall time.
func Load(b *testing.B, opts LoadOptions) LoadResult {
	b.Helper()
	clients := opts.Clients
	if clients <= 0 {
		clients = 16
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	cpu := ProcessCPU()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/clients+1)
			var answer bytes.Buffer
			for range work {
				start := time.Now()
				resp, err := client.Post(opts.URL, "application/json", bytes.NewReader(opts.Body))
				if err != nil {
					b.Error(err)
					return
				}
				answer.Reset()
				_, err = answer.ReadFrom(resp.Body)
				resp.Body.Close()
				if err == nil {
					err = check(opts.Check, resp.StatusCode, answer.Bytes())
				}
				if err != nil {
					b.Errorf("%s: %v", opts.URL, err)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	res := LoadResult{Requests: len(lat), Elapsed: b.Elapsed(), CPU: ProcessCPU() - cpu}
	if len(lat) == 0 {
		return res
	}
	slices.Sort(lat)
	res.P50, res.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	rate := opts.Rate
	if rate == "" {
		rate = "req/s"
	}
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(res.Throughput(), rate)
	b.ReportMetric(float64(res.CPU.Microseconds())/float64(len(lat)), "cpu-us/op")
	return res
}

func check(f func(int, []byte) error, status int, body []byte) error {
	if f != nil {
		return f(status, body)
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %s", status, body)
	}
	return nil
}
