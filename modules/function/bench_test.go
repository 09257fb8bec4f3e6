package function_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/modules/dbclient"
	"github.com/ack-dev/ack/modules/function"
	"github.com/ack-dev/ack/modules/transact"
)

// A trivial function (FNT010 GF01) called through transact over HTTP from 16
// clients, on the embedded runtime and on the Node.js workers.
//
//	go test -run '^$' -bench BenchmarkFunctionThroughTransact -benchtime 5s ./modules/function/
func BenchmarkFunctionThroughTransact(b *testing.B) {
	for _, rt := range []string{"embedded", "node"} {
		b.Run(rt, func(b *testing.B) {
			if rt == "node" {
				if _, err := exec.LookPath("node"); err != nil {
					b.Skip("node is not installed")
				}
			}
			h := startHost(b, transactHome(b, rt), nil, dbclient.Info(), function.Info(), transact.Info())
			body, _ := json.Marshal(transactRequest())
			runClients(b, h.URL+"/transact/api/transaction/execute", body, `"Greeting":"hi ack"`)
		})
	}
}

// runClients posts body b.N times from 16 clients and reports calls/s, p50
// and p99; every answer must contain want.
func runClients(b *testing.B, url string, body []byte, want string) {
	const clients = 16
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
	cpu := processCPU()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, b.N/clients+1)
			for range work {
				start := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(data), want) {
					b.Errorf("status %d: %s", resp.StatusCode, data)
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
	cpu = processCPU() - cpu
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "calls/s")
		// Client and server share the process: the CPU per request of both,
		// which other load on the machine does not inflate as it does wall time.
		b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-us/op")
	}
}

// The same function through POST /function/api/execution (no transact), and
// its in-process cost without HTTP.
//
//	go test -run '^$' -bench 'BenchmarkFunction(Execution|InProcess)' -benchtime 5s ./modules/function/
func BenchmarkFunctionExecution(b *testing.B) {
	h := startHost(b, transactHome(b, "embedded"), nil)
	body, _ := json.Marshal(request("HDS|TST|FNT010|GF0100", map[string]any{"Name": "ack"}))
	runClients(b, h.URL+"/function/api/execution", body, `"Greeting":"hi ack"`)
}

func BenchmarkFunctionInProcess(b *testing.B) {
	home := transactHome(b, "embedded")
	p := &probe{}
	startHost(b, home, nil, function.Info(), probeInfo(p))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := p.exec.Execute(b.Context(), request("HDS|TST|FNT010|GF0100", map[string]any{"Name": "ack"}))
			if err != nil || resp.Acknowledge != 1 {
				b.Fatalf("%v %+v", err, resp)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
