package edge

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the edge's Prometheus series.
type metrics struct {
	requests *prometheus.CounterVec
	retries  *prometheus.CounterVec
	upDesc   *prometheus.Desc
	current  func() *table
}

func newMetrics(current func() *table) *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ack_edge_requests_total",
			Help: "Requests proxied by the edge, by pool, upstream that answered (empty when none did) and status code.",
		}, []string{"pool", "upstream", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ack_edge_retries_total",
			Help: "Tries that failed and were sent to another upstream, by pool and the upstream that failed.",
		}, []string{"pool", "upstream"}),
		upDesc: prometheus.NewDesc("ack_edge_upstream_up",
			"1 when the upstream takes traffic (not marked down), by pool and upstream.", []string{"pool", "upstream"}, nil),
		current: current,
	}
}

func (m *metrics) count(pool, upstream string, code int) {
	m.requests.WithLabelValues(pool, upstream, strconv.Itoa(code)).Inc()
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.retries.Describe(ch)
	ch <- m.upDesc
}

// Collect reads upstream health from the current table at scrape time, so
// an upstream removed from routes.json disappears from the series.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.retries.Collect(ch)
	for _, p := range m.current().pools {
		for _, g := range p.groups {
			for _, mem := range g.members {
				v := 0.0
				if mem.up.usable() {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(m.upDesc, prometheus.GaugeValue, v, p.name, mem.up.url)
			}
		}
	}
}
