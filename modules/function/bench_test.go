package function_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
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
	acktest.Load(b, acktest.LoadOptions{URL: url, Body: body, Rate: "calls/s", Check: func(status int, answer []byte) error {
		if status != 200 || !bytes.Contains(answer, []byte(want)) {
			return fmt.Errorf("status %d: %s", status, answer)
		}
		return nil
	}})
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
