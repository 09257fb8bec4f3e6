package wwwroot

import (
	"net/http"

	"github.com/ack-dev/ack/internal/callerauth"
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
func (m *Module) clientIP(r *http.Request) string {
	ip := callerauth.ClientIP(r, m.proxies)
	if !ip.IsValid() {
		return "0.0.0.0"
	}
	return ip.String()
}
