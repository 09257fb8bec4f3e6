package zerodowntime

import (
	"fmt"
	"strings"
	"time"
)

// Row is one event's result for one transaction.
type Row struct {
	Event       string
	Transaction string
	Rate        int           // requested req/s
	Took        time.Duration // from the event's start to its end (new process ready, old one gone, ...)
	Steady      Stats         // the window before the event
	During      Stats         // from the event's start to the end of the tail after it
	Note        string
}

// Ratio is the event window's p99 over the steady state's.
func (r Row) Ratio() float64 {
	if r.Steady.P99 <= 0 {
		return 0
	}
	return float64(r.During.P99) / float64(r.Steady.P99)
}

// Table renders rows as a Markdown table.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| Event | Transaction | Rate | Event took | Sent | Transport errors | Non-2xx | Acknowledge 0 | Steady p50 / p99 | Event p50 / p99 | p99 ratio | Note |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d (%.0f sent/s) | %s | %d | %d | %d | %d | %s / %s | %s / %s | %.2f | %s |\n",
			r.Event, r.Transaction, r.Rate, r.During.Rate(), r.Took.Round(time.Millisecond), r.During.Sent,
			r.During.Transport, r.During.Status, r.During.Refused,
			ms(r.Steady.P50), ms(r.Steady.P99), ms(r.During.P50), ms(r.During.P99), r.Ratio(), r.Note)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
