package wwwroot

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// checkIP answers GET /checkip with the client's IP address as text, which
// HandStack's browser library asks for (FindClientIPServer).
func (m *Module) checkIP(w http.ResponseWriter, r *http.Request) error {
	if err := readOnly(w, r); err != nil {
		return err
	}
	h := w.Header()
	m.securityHeaders(h, "")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte(m.clientIP(r)))
	}
	return nil
}

// clientIP is the peer address, or the first address of X-Forwarded-For when
// the peer is a trusted proxy (loopback, or listed in TrustedProxies).
// HandStack believes the header from anyone; that lets any client claim any
// address, so ack does not.
func (m *Module) clientIP(r *http.Request) string {
	peer := remoteAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return "0.0.0.0"
	}
	if m.trusted(peer) {
		first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
		if a, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
			return a.Unmap().String()
		}
	}
	return peer.String()
}

func (m *Module) trusted(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, p := range m.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
