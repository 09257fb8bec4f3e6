package host

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/httpx"
)

// hostRoutes are the endpoints of the host itself.
func (h *Host) hostRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /livez":         h.health.LiveHandler(),
		"GET /readyz":        h.health.ReadyHandler(),
		"GET /metrics":       h.metricsHandler(),
		"GET /ack/status":    h.admin(readOnly, h.statusHandler),
		"GET /ack/contracts": h.admin(readOnly, h.contractsHandler),
		"POST /ack/reload":   h.admin(write, h.reloadHandler),
	}
}

type access int

const (
	// readOnly endpoints are open to loopback callers, and to others with the token.
	readOnly access = iota
	// write endpoints always need the token.
	write
)

// admin guards a management endpoint with the admin token
// ("Authorization: Bearer <token>"), compared in constant time.
func (h *Host) admin(level access, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		token := h.cfg.Settings.Admin.Token
		if level == readOnly && isLocal(r) {
			next(w, r)
			return
		}
		if token == "" {
			httpx.WriteJSON(w, http.StatusForbidden, httpx.Problem{Status: 403, Code: "admin.disabled",
				Message: "management endpoints need a token: set admin.token in ack.json or ACK_ADMIN_TOKEN"})
			return
		}
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !tokenEqual(given, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ack"`)
			httpx.WriteJSON(w, http.StatusUnauthorized, httpx.Problem{Status: 401, Code: "admin.unauthorized", Message: "missing or wrong management token"})
			return
		}
		next(w, r)
	})
}

// tokenEqual compares digests so that neither content nor length leaks through timing.
func tokenEqual(a, b string) bool {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}

// isLocal reports whether the request comes from this machine itself, and
// not through a proxy on it (see callerauth.Caller).
func isLocal(r *http.Request) bool { return callerauth.Caller(r).IsLoopback() }

type statusBody struct {
	PID       int                 `json:"pid"`
	Version   string              `json:"version"`
	State     string              `json:"state"`
	Started   time.Time           `json:"started"`
	Uptime    string              `json:"uptime"`
	Modules   []string            `json:"modules"`
	Peers     map[string][]string `json:"peers,omitempty"`
	Contracts []contract.Status   `json:"contracts"`
}

func (h *Host) statusBody() statusBody {
	var sts []contract.Status
	for _, c := range h.contracts.Handles() {
		st := c.Status()
		st.Errors = nil // the error list is at /ack/contracts
		sts = append(sts, st)
	}
	return statusBody{
		PID:     os.Getpid(),
		Version: h.cfg.Version, State: h.health.State().String(), Started: h.started,
		Uptime: time.Since(h.started).Round(time.Second).String(), Modules: h.moduleIDs(),
		Peers: h.cfg.Settings.Peers, Contracts: sts,
	}
}

func (h *Host) statusHandler(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, h.statusBody())
}

// contractsHandler lists every contract kind with its failing files.
func (h *Host) contractsHandler(w http.ResponseWriter, r *http.Request) {
	var sts []contract.Status
	for _, c := range h.contracts.Handles() {
		sts = append(sts, c.Status())
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"contracts": sts})
}

// reloadHandler rescans every contract root (or one module's, ?module=id).
func (h *Host) reloadHandler(w http.ResponseWriter, r *http.Request) {
	reps, err := h.contracts.ReloadAll(r.Context(), r.URL.Query().Get("module"))
	if err != nil {
		h.log.Warn("reload failed", "err", err)
		httpx.WriteJSON(w, http.StatusInternalServerError, map[string]any{"reports": reps, "error": "reload failed; see the server log"})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"reports": reps})
}
