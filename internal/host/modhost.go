package host

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
)

// moduleHost is the module.Host one module sees.
type moduleHost struct {
	host    *Host
	info    module.Info
	mod     module.Module
	log     *slog.Logger
	cfg     *config.Module
	started bool
}

var _ module.Host = (*moduleHost)(nil)

func (m *moduleHost) Logger() *slog.Logger          { return m.log }
func (m *moduleHost) Config() *config.Module        { return m.cfg }
func (m *moduleHost) Paths() config.Paths           { return m.host.cfg.Paths }
func (m *moduleHost) Contracts() *contract.Registry { return m.host.contracts }
func (m *moduleHost) Peers() module.Peers           { return m.host.peers }
func (m *moduleHost) Go(name string, fn func(ctx context.Context) error) {
	m.host.Go(string(m.info.ID)+" "+name, fn)
}

func (m *moduleHost) Metrics() prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"module": string(m.info.ID)}, m.host.registry)
}
