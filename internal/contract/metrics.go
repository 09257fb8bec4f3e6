package contract

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeMetrics is a snapshot of one store's counters, for the collector.
type storeMetrics struct {
	kind        string
	reloadsOK   uint64
	reloadsFail uint64
	generation  uint64
	entries     int
	errors      int
	lastSuccess time.Time
}

// metricsSource is implemented by Store; the registry sees stores only as
// Handles.
type metricsSource interface {
	metrics() storeMetrics
}

func (s *Store[T]) metrics() storeMetrics {
	s.stmu.Lock()
	defer s.stmu.Unlock()
	return storeMetrics{
		kind:        s.kind.Name,
		reloadsOK:   s.reloadsOK,
		reloadsFail: s.reloadsFail,
		generation:  s.status.Generation,
		entries:     s.status.Entries,
		errors:      len(s.status.Errors),
		lastSuccess: s.lastSuccess,
	}
}

var (
	descReloads = prometheus.NewDesc("ack_contract_reloads_total",
		"Contract reloads that found a change, by result (failure: a unit it parsed, or one newly rejected, is failing).",
		[]string{"kind", "result"}, nil)
	descGeneration = prometheus.NewDesc("ack_contract_generation",
		"Generation of the contract set being served.", []string{"kind"}, nil)
	descEntries = prometheus.NewDesc("ack_contract_entries",
		"Entries in the contract set being served.", []string{"kind"}, nil)
	descLoadErrors = prometheus.NewDesc("ack_contract_load_errors",
		"Contract files (units) and directories currently failing to load.", []string{"kind"}, nil)
	descLastSuccess = prometheus.NewDesc("ack_contract_last_success_timestamp_seconds",
		"Time of the last successful reload, in seconds since the epoch (0: none yet).", []string{"kind"}, nil)
)

// collector exports every registered store's metrics at scrape time, so
// that stores registered later are included and nothing is kept twice.
type collector struct{ r *Registry }

// Collector returns a Prometheus collector of every store in the registry:
// ack_contract_reloads_total{kind,result}, ack_contract_generation{kind},
// ack_contract_entries{kind}, ack_contract_load_errors{kind} and
// ack_contract_last_success_timestamp_seconds{kind}. Register it once.
func (r *Registry) Collector() prometheus.Collector { return collector{r} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReloads, descGeneration, descEntries, descLoadErrors, descLastSuccess} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.r.Handles() {
		src, ok := h.(metricsSource)
		if !ok {
			continue
		}
		m := src.metrics()
		var last float64
		if !m.lastSuccess.IsZero() {
			last = float64(m.lastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(m.reloadsOK), m.kind, "success")
		ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(m.reloadsFail), m.kind, "failure")
		ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(m.generation), m.kind)
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(m.entries), m.kind)
		ch <- prometheus.MustNewConstMetric(descLoadErrors, prometheus.GaugeValue, float64(m.errors), m.kind)
		ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, last, m.kind)
	}
}
