package host

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/health"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/peer"
)

// newPeers builds the one resolver of the process: modules loaded here are
// called directly, the others over HTTP at the configured endpoints.
func newPeers(h *Host, local map[module.ID]module.Module) (*peer.Resolver, error) {
	s := h.cfg.Settings
	endpoints := map[module.ID][]string{}
	for id, urls := range s.Peers {
		endpoints[module.ID(strings.ToLower(id))] = urls
	}
	var self []string
	if s.Port > 0 {
		port := strconv.Itoa(s.Port)
		self = []string{"http://" + net.JoinHostPort("localhost", port), "http://" + net.JoinHostPort("127.0.0.1", port)}
	}
	return peer.NewResolver(peer.Options{
		Local:            local,
		Endpoints:        endpoints,
		Self:             self,
		Timeout:          s.PeerTimeout.D(),
		HealthInterval:   s.PeerHealthInterval.D(),
		AuthorizationKey: s.AuthorizationKey,
		Logger:           h.log.With("component", "peer"),
		Metrics:          h.registry,
	})
}

// peerCheck fails readiness while a remote module this process calls has no
// usable endpoint.
func peerCheck(r *peer.Resolver) health.Check {
	detail := func() any {
		if cs := r.Checks(); len(cs) > 0 {
			return cs
		}
		return nil
	}
	return health.Check{Name: "peers", Detail: detail, Fn: func(context.Context) error {
		var down []string
		for _, c := range r.Checks() {
			if c.Ready {
				continue
			}
			var eps []string
			for _, e := range c.Endpoints {
				eps = append(eps, fmt.Sprintf("%s breaker %s health %s", e.URL, e.Breaker, e.Health))
			}
			down = append(down, fmt.Sprintf("%s: no usable endpoint (%s)", c.Target, strings.Join(eps, "; ")))
		}
		if len(down) > 0 {
			return fmt.Errorf("%s", strings.Join(down, "; "))
		}
		return nil
	}}
}
