package dbclient

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient/sqlmap"
)

// maxBody bounds a query request body.
const maxBody = 32 << 20

// Routes are HandStack's dbclient endpoints.
func (m *Module) Routes() []module.Route {
	return []module.Route{
		{Pattern: "POST /dbclient/api/query", Handler: m.handleQuery},
		{Pattern: "GET /dbclient/api/query/has", Handler: m.guard(m.handleHas)},
		{Pattern: "GET /dbclient/api/query/refresh", Handler: m.guard(m.handleRefresh)},
		{Pattern: "GET /dbclient/api/query/retrieve", Handler: m.guard(m.handleRetrieve)},
		{Pattern: "GET /dbclient/api/query/meta", Handler: m.guard(m.handleMeta)},
		{Pattern: "GET /dbclient/api/query/reports", Handler: m.guard(m.handleReports)},
		{Pattern: "GET /dbclient/api/managed/reset-contract", Handler: m.guard(m.handleReset)},
		{Pattern: "GET /dbclient/api/base64/encode", Handler: m.guard(m.handleBase64(true))},
		{Pattern: "GET /dbclient/api/base64/decode", Handler: m.guard(m.handleBase64(false))},
		{Pattern: "GET /dbclient/api/index", Handler: func(w http.ResponseWriter, _ *http.Request) error {
			_, err := io.WriteString(w, "dbclient")
			return err
		}},
	}
}

func (m *Module) guard(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !m.cfg.access.Allows(r) {
			return module.Errorf(http.StatusBadRequest, CodeUnauthorized, callerauth.Refused, nil)
		}
		return h(w, r)
	}
}

// handleQuery is POST /dbclient/api/query: always HTTP 200 with a
// DynamicResponse, except for a body that is not JSON (400, as ASP.NET).
func (m *Module) handleQuery(w http.ResponseWriter, r *http.Request) error {
	if !m.cfg.access.Allows(r) {
		return httpx.WriteJSON(w, http.StatusOK, wire.Fail("", CodeUnauthorized, callerauth.Refused))
	}
	var req *wire.DynamicRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.UseNumber() // keep big integers exact
	if err := dec.Decode(&req); err != nil {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "the body is not a DynamicRequest JSON object", err)
	}
	if req != nil && req.ReturnType == wire.ReturnSQLText && m.cfg.servesEveryone() && !m.cfg.access.HasKey(r) {
		// SQLText shows SQL and bound values: with AllowClientIP "*" the IP
		// rule admits anyone, so it takes the key.
		return httpx.WriteJSON(w, http.StatusOK, wire.Fail(req.GlobalID, CodeUnauthorized, "SQLText requires the AuthorizationKey when AllowClientIP contains \"*\""))
	}
	resp, err := m.Execute(r.Context(), req)
	if err != nil {
		return err
	}
	return writeResponse(w, resp)
}

func (m *Module) handleHas(w http.ResponseWriter, r *http.Request) error {
	id := httpx.Query(r, "applicationID") + "|" + httpx.Query(r, "projectID") + "|" + httpx.Query(r, "transactionID") + "|" + httpx.Query(r, "functionID")
	_, ok := m.store.Load().Get(id)
	return httpx.WriteJSON(w, http.StatusOK, ok)
}

// handleRefresh reloads after a change to one contract file (filePath is
// relative to a contract root). The store reloads every changed file, so a
// deleted file drops exactly its statements.
func (m *Module) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	path := strings.TrimPrefix(strings.ReplaceAll(httpx.Query(r, "filePath"), `\`, "/"), "/")
	if path == "" || !sqlmap.IsContract(path) {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "filePath must name a contract file (.xml or .dbc) relative to a contract root", nil)
	}
	if strings.HasPrefix(path, "../") || strings.Contains(path, "/../") {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "filePath must stay inside the contract roots", nil)
	}
	rep, err := m.store.Refresh(r.Context(), path)
	if err != nil {
		return fmt.Errorf("dbclient: refresh %s: %w", path, err)
	}
	for _, f := range rep.Failed {
		if strings.HasSuffix(filepathToSlash(f.Path), "/"+path) {
			return httpx.WriteJSON(w, http.StatusOK, false)
		}
	}
	return httpx.WriteJSON(w, http.StatusOK, !strings.EqualFold(httpx.Query(r, "changeType"), "Deleted"))
}

func filepathToSlash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// statementMap is HandStack's StatementMap, as /retrieve returns it.
type statementMap struct {
	ApplicationID             string
	ProjectID                 string
	TransactionID             string
	DataSourceID              string
	TransactionIsolationLevel string
	StatementID               string
	Seq                       int
	Description               string
	NativeDataClient          bool
	SQL                       string
	TransactionLog            bool
	Timeout                   int
	DbParameters              []dbParameter
	OutputMetas               []string
}

type dbParameter struct {
	Name         string
	DefaultValue string
	Transform    string
	TestValue    string
	IsRequired   bool
	DbType       string
	Length       int
	Direction    string
}

func (m *Module) handleRetrieve(w http.ResponseWriter, r *http.Request) error {
	app, project := httpx.Query(r, "applicationID"), httpx.Query(r, "projectID")
	if app == "" || project == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, err := io.WriteString(w, "필수 항목 확인")
		return err
	}
	tx, fn := httpx.Query(r, "transactionID"), httpx.Query(r, "functionID")
	out := []statementMap{}
	for _, st := range m.statements() {
		if st.ApplicationID != app || st.ProjectID != project || (tx != "" && st.TransactionID != tx) || (fn != "" && !strings.HasPrefix(st.ID, fn)) {
			continue
		}
		out = append(out, m.statementMap(st))
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

func (m *Module) statementMap(st *sqlmap.Statement) statementMap {
	sm := statementMap{
		ApplicationID: st.ApplicationID, ProjectID: st.ProjectID, TransactionID: st.TransactionID,
		DataSourceID: m.dataSourceID(st), TransactionIsolationLevel: st.Isolation, StatementID: st.StatementID(),
		Seq: st.Seq, Description: st.Description, NativeDataClient: st.Native, SQL: st.Raw, Timeout: st.Timeout,
		DbParameters: []dbParameter{}, OutputMetas: append([]string{}, st.OutputMetas...),
	}
	for _, p := range st.Params {
		sm.DbParameters = append(sm.DbParameters, dbParameter{Name: p.ID, DefaultValue: p.Default, Transform: p.Transform,
			TestValue: p.TestValue, IsRequired: p.Required, DbType: p.Type, Length: p.Length, Direction: p.Direction})
	}
	return sm
}

func (m *Module) handleMeta(w http.ResponseWriter, _ *http.Request) error {
	return httpx.WriteJSON(w, http.StatusOK, append([]string{}, m.store.Load().Keys()...))
}

type report struct {
	CommandType   string
	ApplicationID string
	ProjectID     string
	TransactionID string
	ServiceID     string
	Seq           int
	Description   string
	Parameters    []reportParam
	OutputMetas   []string
}

type reportParam struct {
	Name         string
	DefaultValue string
	DbType       string
	Length       int
	IsRequired   bool
}

func (m *Module) handleReports(w http.ResponseWriter, r *http.Request) error {
	var filters []string
	for _, f := range strings.Split(httpx.Query(r, "queryIDs"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			filters = append(filters, strings.ToLower(f))
		}
	}
	out := []report{}
	for _, st := range m.statements() {
		if len(filters) > 0 && !matchesAny(strings.ToLower(st.QueryID()), filters) {
			continue
		}
		rep := report{CommandType: "D", ApplicationID: st.ApplicationID, ProjectID: st.ProjectID, TransactionID: st.TransactionID,
			ServiceID: st.ID, Seq: st.Seq, Description: st.Description, Parameters: []reportParam{}, OutputMetas: append([]string{}, st.OutputMetas...)}
		for _, p := range st.Params {
			rep.Parameters = append(rep.Parameters, reportParam{Name: strings.TrimLeft(p.ID, "@:$#"), DefaultValue: p.Default, DbType: p.Type, Length: p.Length, IsRequired: p.Required})
		}
		out = append(out, rep)
	}
	return httpx.WriteJSON(w, http.StatusOK, out)
}

// matchesAny reports whether id ("a|p|t|sid") starts with one of the
// filters, each a prefix of whole segments (the last may be a StatementID prefix).
func matchesAny(id string, filters []string) bool {
	for _, f := range filters {
		if id == f || strings.HasPrefix(id, f) && (strings.Count(f, "|") == 3 || id[len(f)] == '|') {
			return true
		}
	}
	return false
}

func (m *Module) handleReset(w http.ResponseWriter, r *http.Request) error {
	if _, err := m.store.Reload(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (m *Module) handleBase64(encode bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := httpx.Query(r, "value")
		if encode {
			return httpx.WriteJSON(w, http.StatusOK, base64.StdEncoding.EncodeToString([]byte(v)))
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return module.Errorf(http.StatusBadRequest, CodeBadRequest, "value is not base64", err)
		}
		return httpx.WriteJSON(w, http.StatusOK, string(b))
	}
}
