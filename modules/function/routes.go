package function

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// maxBody bounds an execution request body.
const maxBody = 32 << 20

// Routes are HandStack's function endpoints (execution and its newer
// duplicate under query/).
func (m *Module) Routes() []module.Route {
	var routes []module.Route
	for _, base := range []string{"/function/api/execution", "/function/api/query"} {
		exec := base
		if base == "/function/api/query" {
			exec = base + "/execute"
		}
		routes = append(routes,
			module.Route{Pattern: "POST " + exec, Handler: m.handleExecute},
			module.Route{Pattern: "GET " + base + "/refresh", Handler: m.guard(m.handleRefresh)},
			module.Route{Pattern: "POST " + base + "/refresh", Handler: m.guard(m.handleRefresh)},
			module.Route{Pattern: "GET " + base + "/has", Handler: m.guard(m.handleHas)},
			module.Route{Pattern: "GET " + base + "/meta", Handler: m.guard(m.handleMeta)},
		)
	}
	return routes
}

func (m *Module) handleExecute(w http.ResponseWriter, r *http.Request) error {
	if !m.cfg.access.Allows(r) {
		return httpx.WriteJSON(w, http.StatusOK, wire.Fail("", CodeUnauthorized, callerauth.Refused))
	}
	var req wire.DynamicRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		return httpx.WriteJSON(w, http.StatusOK, wire.Fail("", CodeBadRequest, "요청 정보 확인 필요 (the body is not a DynamicRequest)"))
	}
	resp, err := m.Execute(r.Context(), &req)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, resp)
}

// handleRefresh reloads the contracts after a change to filePath (relative
// to a contract root), as HandStack's file-sync requests do.
func (m *Module) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	file := httpx.Query(r, "filePath")
	if file == "" || httpx.Query(r, "changeType") == "" {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "changeType and filePath are required", nil)
	}
	rep, err := m.store.Refresh(r.Context(), file)
	if err != nil {
		m.log.Warn("function refresh failed", "file", file, "err", err)
		return httpx.WriteJSON(w, http.StatusOK, false)
	}
	return httpx.WriteJSON(w, http.StatusOK, len(rep.Failed) == 0)
}

func (m *Module) handleHas(w http.ResponseWriter, r *http.Request) error {
	key := httpx.Query(r, "applicationID") + "|" + httpx.Query(r, "projectID") + "|" + httpx.Query(r, "transactionID") + "|" + httpx.Query(r, "functionID")
	_, ok := m.store.Load().Get(key)
	return httpx.WriteJSON(w, http.StatusOK, ok)
}

func (m *Module) handleMeta(w http.ResponseWriter, r *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, m.store.Load().Keys())
}

// guard answers 400 to callers that are not authorized.
func (m *Module) guard(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !m.cfg.access.Allows(r) {
			return module.Errorf(http.StatusBadRequest, CodeUnauthorized, callerauth.Refused, nil)
		}
		return h(w, r)
	}
}
