package peer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// metrics are the ack_peer_* collectors of one Resolver.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	state    *stateCollector
}

func newMetrics(r *Resolver, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ack_peer_requests_total",
			Help: "Attempts to call a peer module, by target module, endpoint and result (ok, breaker_open, unavailable, timeout, canceled, bad_status, bad_response, transport).",
		}, []string{"target", "endpoint", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ack_peer_request_duration_seconds",
			Help:    "Duration of calls to a peer module, retries included, by target module.",
			Buckets: prometheus.DefBuckets,
		}, []string{"target"}),
		state: &stateCollector{
			r: r,
			breaker: prometheus.NewDesc("ack_peer_breaker_state",
				"Circuit breaker state of a peer endpoint: 0 closed, 1 half-open, 2 open.",
				[]string{"target", "endpoint"}, nil),
			up: prometheus.NewDesc("ack_peer_endpoint_up",
				"1 when a peer endpoint is usable (breaker not open, health check not failing), else 0.",
				[]string{"target", "endpoint"}, nil),
		},
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.state} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("peer: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) request(ep *endpoint, result string) {
	m.requests.WithLabelValues(string(ep.target), ep.base, result).Inc()
}

// stateCollector reads breaker and health state at scrape time, so that an
// open breaker that has become half-open is reported as such.
type stateCollector struct {
	r           *Resolver
	breaker, up *prometheus.Desc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.breaker
	ch <- c.up
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ep := range c.r.allEndpoints() {
		target := string(ep.target)
		ch <- prometheus.MustNewConstMetric(c.breaker, prometheus.GaugeValue, breakerValue(ep.breaker.State()), target, ep.base)
		up := 0.0
		if ep.usable() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, target, ep.base)
	}
}

// breakerValue is the ack_peer_breaker_state value of a state.
func breakerValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	default:
		return 0
	}
}
