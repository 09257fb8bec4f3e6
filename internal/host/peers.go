package host

import (
	"fmt"

	"github.com/ack-dev/ack/internal/module"
)

// localPeers resolves only modules loaded in this process. It stands in until
// internal/peer provides the HTTP transport.
type localPeers struct{ local map[module.ID]module.Module }

func newPeers(h *Host, local map[module.ID]module.Module) (module.Peers, error) {
	return &localPeers{local: local}, nil
}

func (p *localPeers) Executor(id module.ID, url string) (module.Executor, error) {
	if m, ok := p.local[id]; ok {
		if ex, ok := m.(module.Executor); ok {
			return ex, nil
		}
		return nil, fmt.Errorf("module %s cannot execute requests", id)
	}
	return nil, fmt.Errorf("module %s is not loaded in this process and no endpoint is configured (peers.%s in ack.json or ACK_PEER_%s)", id, id, id)
}

func (p *localPeers) Local(id module.ID) (module.Module, bool) {
	m, ok := p.local[id]
	return m, ok
}

func (p *localPeers) Remote(id module.ID) (module.Remote, error) {
	return nil, fmt.Errorf("module %s: no endpoint configured", id)
}
