package logger_test

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

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
			msgs[j] = benchRecord(i, j)
		}
		if err := mod.InsertLogs(b.Context(), msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInsertHTTP measures the same through POST /logger/api/log/insert,
// the path a process without a local logger uses.
func BenchmarkInsertHTTP(b *testing.B) {
	for _, bk := range backends {
		for _, batch := range []int{500, 1} {
			b.Run(fmt.Sprintf("%s/batch=%d", bk.name, batch), func(b *testing.B) {
				h, _ := startLogger(b, "", bk.config(b))
				msgs := make([]wire.LogMessage, batch)
				b.ResetTimer()
				for i := 0; i < b.N; i += batch {
					for j := range msgs {
						msgs[j] = benchRecord(i, j)
					}
					resp := h.Post(b, "/logger/api/log/insert", msgs)
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

func benchRecord(i, j int) wire.LogMessage {
	return wire.LogMessage{ApplicationID: "BENCH", RecordID: fmt.Sprintf("r-%d-%d", i, j), ModuleID: []string{"dbclient", "transact", "function"}[j%3],
		GlobalID: fmt.Sprintf("G%d", i+j), Level: []string{"I", "I", "I", "W", "E"}[j%5], Message: "a log message of a typical length, a few words long",
		Properties: `{"rows":3,"elapsed":"1.2ms"}`}
}

// BenchmarkList measures the admin console's queries on a table of 200 000
// records: each filter must use an index, not scan.
func BenchmarkList(b *testing.B) {
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			cfg := bk.config(b)
			h, mod := startLogger(b, "", cfg)
			const rows, batch = 200000, 1000
			msgs := make([]wire.LogMessage, batch)
			for i := 0; i < rows; i += batch {
				for j := range msgs {
					msgs[j] = benchRecord(i, j)
				}
				if err := mod.InsertLogs(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
			}
			if bk.name == "postgres" {
				// A long-lived table has planner statistics (autovacuum
				// analyzes it); a table filled a second ago has none yet.
				db, err := sql.Open("pgx", os.Getenv("ACK_TEST_PG_DSN"))
				if err != nil {
					b.Fatal(err)
				}
				table := cfg["DataSource"].([]map[string]any)[0]["TableName"].(string)
				if _, err := db.Exec("ANALYZE " + table); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			since := url.QueryEscape(time.Now().Add(-time.Minute).Format(time.RFC3339))
			for _, q := range []string{
				"newest=applicationID=BENCH&limit=100",
				"level=applicationID=BENCH&level=E&limit=100",
				"module=applicationID=BENCH&module=function&limit=100",
				"globalID=applicationID=BENCH&globalID=G777",
				"time=applicationID=BENCH&limit=100&startedAt=" + since,
				"page=applicationID=BENCH&limit=100&before=100000",
			} {
				name, query, _ := strings.Cut(q, "=")
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						resp := h.Get(b, "/logger/api/log/list?"+query)
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("status %d", resp.StatusCode)
						}
					}
				})
			}
		})
	}
}
