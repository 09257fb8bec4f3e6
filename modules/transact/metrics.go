package transact

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts transactions by command type and result (ok or an error code).
type metrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ack_transact_transactions_total",
			Help: "Transactions answered, by command type and result (ok or the error code).",
		}, []string{"command_type", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ack_transact_duration_seconds",
			Help:    "Time from accepting a transaction to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"command_type"}),
	}
	for _, c := range []prometheus.Collector{m.total, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(r *run, result string, now time.Time) {
	cmd := ""
	if r.service != nil {
		cmd = r.service.CommandType
	}
	m.total.WithLabelValues(cmd, result).Inc()
	m.duration.WithLabelValues(cmd).Observe(now.Sub(r.accept).Seconds())
}
