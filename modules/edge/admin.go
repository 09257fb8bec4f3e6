package edge

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/module"
)

// admin guards a management endpoint the way the host guards /ack/*: the
// token ("Authorization: Bearer <token>", compared in constant time) always
// works; a read-only endpoint is also open to loopback callers.
func (m *Module) admin(write bool, next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		if !write && isLoopback(r.RemoteAddr) {
			return next(w, r)
		}
		if m.cfg.AdminToken == "" {
			return module.Errorf(http.StatusForbidden, "admin.disabled",
				"edge management needs a token: set AdminToken in the edge's settings or ACK_ADMIN_TOKEN", nil)
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !tokenEqual(given, m.cfg.AdminToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ack"`)
			return module.Errorf(http.StatusUnauthorized, "admin.unauthorized", "missing or wrong management token", nil)
		}
		return next(w, r)
	}
}

// tokenEqual compares digests so that neither content nor length leaks through timing.
func tokenEqual(a, b string) bool {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}

// isLoopback reports whether the TCP peer (never a forwarded header) is local.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type statusJSON struct {
	Generation uint64       `json:"generation"` // of routes.json
	Routes     []routeJSON  `json:"routes"`
	Pools      []poolStatus `json:"pools"`
}

type poolStatus struct {
	Name         string           `json:"name"`
	Active       string           `json:"active,omitempty"`
	ActiveSource string           `json:"activeSource,omitempty"` // "file" or "switch"
	Sticky       *Sticky          `json:"sticky,omitempty"`
	Upstreams    []upstreamStatus `json:"upstreams,omitempty"`
	Blue         []upstreamStatus `json:"blue,omitempty"`
	Green        []upstreamStatus `json:"green,omitempty"`
}

type upstreamStatus struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Weight int    `json:"weight"`
	healthStatus
}

func (m *Module) handleStatus(w http.ResponseWriter, r *http.Request) error {
	t := m.current.Load()
	st := statusJSON{Generation: m.store.Load().Generation(), Routes: []routeJSON{}, Pools: []poolStatus{}}
	for _, rt := range t.routes {
		st.Routes = append(st.Routes, routeJSON{Prefix: rt.prefix, Pool: rt.pool.name, Timeout: config.Duration(m.timeout(rt))})
	}
	for _, p := range t.pools {
		st.Pools = append(st.Pools, p.status())
	}
	sort.Slice(st.Pools, func(i, j int) bool { return st.Pools[i].Name < st.Pools[j].Name })
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (p *pool) status() poolStatus {
	ps := poolStatus{Name: p.name, Active: p.active, ActiveSource: p.activeSource}
	if p.sticky != (Sticky{}) {
		s := p.sticky
		ps.Sticky = &s
	}
	list := func(color string) []upstreamStatus {
		out := []upstreamStatus{}
		for _, mem := range p.groups[color].members {
			out = append(out, upstreamStatus{Name: mem.name, URL: mem.up.url, Weight: mem.weight, healthStatus: mem.up.status()})
		}
		return out
	}
	if p.active == "" {
		ps.Upstreams = list("")
	} else {
		ps.Blue, ps.Green = list(blue), list(green)
	}
	return ps
}

// handleSwitch is POST /edge/switch?pool=NAME&color=blue|green[&force=true].
func (m *Module) handleSwitch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	force, _ := strconv.ParseBool(q.Get("force"))
	p, err := m.switchColor(q.Get("pool"), q.Get("color"), force)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, p.status())
	return nil
}
