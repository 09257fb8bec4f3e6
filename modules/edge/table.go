package edge

import (
	"strings"
	"sync"
	"time"
)

// table is one immutable routing snapshot. A request reads the current
// table once; a reload or a blue-green switch publishes a new one in a
// single atomic store, so a request in flight keeps the pool and color it
// started with.
type table struct {
	routes    []*route // longest prefix first
	pools     map[string]*pool
	upstreams []*upstream // every distinct upstream, for the health checks
}

type route struct {
	prefix  string
	pool    *pool
	timeout time.Duration
}

type pool struct {
	name         string
	active       string // "", blue or green
	activeSource string // "file" or "switch"; "" without colors
	sticky       Sticky
	groups       map[string]*group // by color; "" for a pool without colors
}

// group is the upstreams of one color (or of a pool without colors), with
// the state of the smooth weighted round robin.
type group struct {
	mu      sync.Mutex
	members []*member
}

type member struct {
	name    string
	weight  int
	current int // smooth weighted round robin state, under group.mu
	up      *upstream
}

// match returns the route of the longest prefix of path, matched without
// regard to case as HandStack's paths are.
func (t *table) match(path string) *route {
	for _, r := range t.routes {
		if len(path) >= len(r.prefix) && strings.EqualFold(path[:len(r.prefix)], r.prefix) {
			return r
		}
	}
	return nil
}

// activeGroup is the group new requests go to.
func (p *pool) activeGroup() *group { return p.groups[p.active] }

// anyUsable reports whether some member can take a request now.
func (g *group) anyUsable() bool {
	for _, m := range g.members {
		if m.weight > 0 && m.up.usable() {
			return true
		}
	}
	return false
}

// othersUsable reports whether a member other than u can take a request.
func (g *group) othersUsable(u *upstream) bool {
	for _, m := range g.members {
		if m.up != u && m.weight > 0 && m.up.usable() {
			return true
		}
	}
	return false
}

// byName returns the usable member called name, whatever its weight (a
// weight of 0 keeps an upstream dark except to clients pinned to it).
func (g *group) byName(name string) *member {
	for _, m := range g.members {
		if m.name == name && m.up.usable() {
			return m
		}
	}
	return nil
}

// pick chooses a usable member not in tried by nginx's smooth weighted round
// robin: every candidate gains its weight, the highest is chosen and loses
// the total. Over any window the shares follow the weights, without bursts.
func (g *group) pick(tried []*upstream) *member {
	g.mu.Lock()
	defer g.mu.Unlock()
	var best *member
	total := 0
	for _, m := range g.members {
		if m.weight == 0 || !m.up.usable() || contains(tried, m.up) {
			continue
		}
		m.current += m.weight
		total += m.weight
		if best == nil || m.current > best.current {
			best = m
		}
	}
	if best != nil {
		best.current -= total
	}
	return best
}

func contains(list []*upstream, u *upstream) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

// buildTable compiles routing into a table. An upstream already in prev (by
// URL) is kept, so that its health survives a reload; newUpstream makes the
// others. overrides are the colors switched at runtime, by pool.
func buildTable(r *Routing, prev *table, overrides map[string]string, newUpstream func(url string) *upstream) *table {
	known := map[string]*upstream{}
	for _, u := range prev.upstreams {
		known[u.url] = u
	}
	t := &table{pools: make(map[string]*pool, len(r.Pools))}
	seen := map[*upstream]bool{}
	for name, ps := range r.Pools {
		p := &pool{name: name, active: ps.Active, sticky: ps.Sticky, groups: map[string]*group{}}
		if ps.Active != "" {
			p.activeSource = "file"
			if c, ok := overrides[name]; ok {
				p.active, p.activeSource = c, "switch"
			}
		}
		for _, color := range ps.Colors() {
			g := &group{}
			for _, us := range ps.Members(color) {
				u, ok := known[us.URL]
				if !ok {
					u = newUpstream(us.URL)
					known[us.URL] = u
				}
				if !seen[u] {
					seen[u] = true
					t.upstreams = append(t.upstreams, u)
				}
				g.members = append(g.members, &member{name: us.Name, weight: us.Weight, up: u})
			}
			p.groups[color] = g
		}
		t.pools[name] = p
	}
	for _, rs := range r.Routes {
		t.routes = append(t.routes, &route{prefix: rs.Prefix, pool: t.pools[rs.Pool], timeout: rs.Timeout})
	}
	return t
}
