package jsruntime

import (
	"context"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/ack-dev/ack/modules/function/script"
)

// heapMetric is the memory held by live and not yet swept heap objects.
const heapMetric = "/memory/classes/heap/objects:bytes"

// Guard protects the process from runaway allocations until ctx ends. goja
// has no heap limit, so the guard samples the Go heap while calls run; above
// Options.MemoryLimit it collects garbage and, if the heap is still above,
// stops the longest-running call with script.ErrMemory (its runtime is then
// discarded and its garbage collected on the next tick). The heap is the
// whole process's, so the guard cannot know which call allocated: it bets on
// the oldest, which is the runaway in practice because ordinary calls are
// short. Run returns nil when ctx ends; with no limit it returns at once.
func (e *Engine) Guard(ctx context.Context) error {
	if e.opts.MemoryLimit == 0 {
		return nil
	}
	sample := []metrics.Sample{{Name: heapMetric}}
	t := time.NewTicker(e.opts.GuardInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !e.busy() || heap(sample) <= e.opts.MemoryLimit {
			continue
		}
		runtime.GC()
		if h := heap(sample); h > e.opts.MemoryLimit {
			if ok := e.stopOldest(); ok {
				e.log.Warn("function stopped: the process heap exceeded the function memory limit",
					"heap_bytes", h, "limit_bytes", e.opts.MemoryLimit)
			}
		}
	}
}

func heap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func (e *Engine) busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.active) > 0
}

// stopOldest interrupts the longest-running call not already stopped.
func (e *Engine) stopOldest() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	var oldest *activeCall
	for ac := range e.active {
		if !ac.stopped && (oldest == nil || ac.start.Before(oldest.start)) {
			oldest = ac
		}
	}
	if oldest == nil {
		return false
	}
	oldest.stopped = true
	oldest.stop(script.ErrMemory)
	return true
}
