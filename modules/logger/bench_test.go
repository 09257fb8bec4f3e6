package logger_test

import (
	"fmt"
	"testing"

	"github.com/ack-dev/ack/internal/wire"
)

// BenchmarkInsert measures sustained inserts into each backend through
// InsertLogs (the in-process path the host's shipper uses), with batches of
// 500 records and with one record per call. b.N counts records; the
// records/s metric is the number to compare.
func BenchmarkInsert(b *testing.B) {
	for _, bk := range backends {
		for _, batch := range []int{500, 1} {
			b.Run(fmt.Sprintf("%s/batch=%d", bk.name, batch), func(b *testing.B) {
				benchInsert(b, bk, batch)
			})
		}
	}
}

func benchInsert(b *testing.B, bk backend, batch int) {
	cfg := bk.config(b)
	_, mod := startLogger(b, "", cfg)
	msgs := make([]wire.LogMessage, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		for j := range msgs {
			msgs[j] = wire.LogMessage{ApplicationID: "BENCH", RecordID: fmt.Sprintf("r-%d-%d", i, j), ModuleID: "bench",
				GlobalID: fmt.Sprintf("G%d", i), Level: "I", Message: "a log message of a typical length, a few words long",
				Properties: `{"rows":3,"elapsed":"1.2ms"}`}
		}
		if err := mod.InsertLogs(b.Context(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
