package logger

import (
	"context"
	"time"
)

// purgeTimeout bounds the retention delete of one table, as HandStack does.
const purgeTimeout = 60 * time.Second

// retain deletes expired records at start and then every
// LogDeleteRepeatSecond until ctx ends.
func (m *Module) retain(ctx context.Context) {
	tick := time.NewTicker(m.cfg.retentionEvery())
	defer tick.Stop()
	for {
		m.purgeAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// purgeAll deletes, in every table, records older than its RemovePeriod.
// Failures are logged and retried at the next run.
func (m *Module) purgeAll(ctx context.Context) {
	for _, t := range m.allTables() {
		if ctx.Err() != nil {
			return
		}
		if err := t.ensure(ctx); err != nil {
			m.log.Warn("log retention: store not reachable", "table", t.name, "err", err)
			continue
		}
		cutoff := time.Now().AddDate(0, 0, -t.keepDays)
		pctx, cancel := context.WithTimeout(ctx, purgeTimeout)
		n, err := t.purge(pctx, cutoff)
		cancel()
		if n > 0 {
			m.purged.Add(float64(n))
			m.log.Info("log retention: deleted old records", "table", t.name, "records", n, "before", cutoff.Format(time.RFC3339))
		}
		if err != nil && ctx.Err() == nil {
			m.log.Warn("log retention failed", "table", t.name, "err", err)
		}
	}
}

// allTables lists each table once (data sources may share one).
func (m *Module) allTables() []*table {
	out := []*table{m.fallback}
	seen := map[*table]bool{m.fallback: true}
	for _, t := range m.tables {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
