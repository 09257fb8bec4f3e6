package transact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// Routes are HandStack's transact endpoints that browsers and operators use.
func (m *Module) Routes() []module.Route {
	return []module.Route{
		{Pattern: "POST " + executePath, Handler: m.handleExecute},
		{Pattern: "POST /transact/api/workflow/execute", Handler: m.handleWorkflow},
		{Pattern: "GET /transact/api/transaction/test", Handler: func(w http.ResponseWriter, r *http.Request) error { return nil }},
		{Pattern: "GET /transact/api/index", Handler: m.handleIndex},
		{Pattern: "GET /transact/api/transaction/has", Handler: m.metadata(m.handleHas)},
		{Pattern: "GET /transact/api/transaction/refresh", Handler: m.metadata(m.handleRefresh)},
		{Pattern: "GET /transact/api/transaction/retrieve", Handler: m.metadata(m.handleRetrieve)},
		{Pattern: "GET /transact/api/transaction/meta", Handler: m.metadata(m.handleMeta)},
		{Pattern: "GET /transact/api/transaction/get", Handler: m.metadata(m.handleGet)},
		{Pattern: "GET /transact/api/transaction/cache-clear", Handler: m.metadata(func(w http.ResponseWriter, r *http.Request) error { return nil })},
		{Pattern: "GET /transact/api/transaction/cache-keys", Handler: m.metadata(func(w http.ResponseWriter, r *http.Request) error { return writeJSON(w, []string{}) })},
		{Pattern: "GET /transact/api/managed/reset-contract", Handler: m.metadata(m.handleReset)},
		{Pattern: "GET /transact/api/managed/verify", Handler: m.metadata(m.handleVerify)},
	}
}

// decodeRequest reads a TransactionRequest body. Malformed JSON and wrong
// types are a 400, as HandStack's binder answers them.
func (m *Module) decodeRequest(w http.ResponseWriter, r *http.Request) (*wire.TransactionRequest, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/json" && mt != "text/json" && !strings.HasSuffix(mt, "+json") && mt != "text/plain" {
			return nil, module.Errorf(http.StatusUnsupportedMediaType, CodeBadRequest, "Content-Type must be application/json", nil)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, m.cfg.MaxRequestBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, module.Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit), err)
		}
		return nil, module.Errorf(http.StatusBadRequest, CodeBadRequest, "request body could not be read", err)
	}
	req, err := DecodeRequest(body)
	if err != nil {
		return nil, module.Errorf(http.StatusBadRequest, CodeBadRequest, err.Error(), nil)
	}
	return req, nil
}

// DecodeRequest parses a TransactionRequest body, with an error message fit
// for a client: it says which property was wrong, never how Go sees it.
func DecodeRequest(body []byte) (*wire.TransactionRequest, error) {
	var req wire.TransactionRequest
	if err := wire.UnmarshalTransactionRequest(body, &req); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, se)
		case errors.As(err, &te) && te.Field != "":
			return nil, fmt.Errorf("property %s: expected %s, got JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &te):
			return nil, fmt.Errorf("expected a JSON object, got JSON %s", te.Value)
		default:
			return nil, fmt.Errorf("malformed TransactionRequest: %v", err)
		}
	}
	return &req, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

func (m *Module) handleExecute(w http.ResponseWriter, r *http.Request) error {
	req, err := m.decodeRequest(w, r)
	if err != nil {
		return err
	}
	trusted := m.cfg.bypass.Contains(callerauth.Caller(r))
	resp := m.execute(r.Context(), call{req: req, path: r.URL.Path, trusted: trusted})
	return writeResponse(w, resp)
}

// handleWorkflow answers HandStack's workflow endpoint in-band: ack does
// not run CommandType W services yet.
func (m *Module) handleWorkflow(w http.ResponseWriter, r *http.Request) error {
	req, err := m.decodeRequest(w, r)
	if err != nil {
		return err
	}
	rn := &run{call: call{req: req, path: r.URL.Path}, accept: time.Now(), app: string(req.System.ProgramID)}
	rn.resp = m.newResponse(rn)
	m.finish(r.Context(), rn, fail(CodeCommandType, "동적 Workflow 매핑 정보 확인 필요").with(errors.New("workflow services are not supported by ack")))
	return writeResponse(w, rn.resp)
}

func writeResponse(w http.ResponseWriter, resp *wire.TransactionResponse) error {
	if resp.Raw != nil || resp.RawType != "" {
		w.Header().Set("Content-Type", resp.RawType)
		_, err := w.Write(resp.Raw)
		return err
	}
	bp := envelopes.Get().(*[]byte)
	body, err := resp.AppendJSON((*bp)[:0])
	defer func() {
		if cap(body) <= maxPooledEnvelope {
			*bp = body[:0]
			envelopes.Put(bp)
		}
	}()
	if err != nil {
		return fmt.Errorf("transact: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(body)
	return err
}

// envelopes recycles the buffers responses are encoded in; one larger than
// maxPooledEnvelope is left to the garbage collector.
var envelopes = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledEnvelope = 4 << 20

func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("transact: encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(body)
	return err
}

// metadata guards HandStack's metadata endpoints: the AuthorizationKey, or
// a client address in AllowClientIP ("*" by default).
func (m *Module) metadata(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if m.cfg.access.Allows(r) {
			return next(w, r)
		}
		return module.Errorf(http.StatusForbidden, CodeForbidden, "metadata endpoints need the AuthorizationKey header or an allowed client address", nil)
	}
}

func (m *Module) handleIndex(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, "transact IndexController")
	return err
}

func (m *Module) handleHas(w http.ResponseWriter, r *http.Request) error {
	n := 0
	if _, ok := m.store.Load().Get(contractKey(httpx.Query(r, "applicationID"), httpx.Query(r, "projectID"), httpx.Query(r, "transactionID"))); ok {
		n = 1
	}
	return writeJSON(w, n)
}

// handleRefresh reloads after an operator changed a contract file
// (changeType Created, Changed or Deleted; filePath relative to a root).
func (m *Module) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	switch httpx.Query(r, "changeType") {
	case "Created", "Changed", "Deleted":
	default:
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "changeType must be Created, Changed or Deleted", nil)
	}
	rel := strings.TrimPrefix(strings.ReplaceAll(httpx.Query(r, "filePath"), `\`, "/"), "/")
	rep, err := m.store.Refresh(r.Context(), rel)
	if err != nil {
		m.log.Warn("contract refresh failed", "file", rel, "err", err)
		return writeJSON(w, false)
	}
	return writeJSON(w, len(rep.Failed) == 0)
}

func (m *Module) handleRetrieve(w http.ResponseWriter, r *http.Request) error {
	app, project, tx := httpx.Query(r, "applicationID"), httpx.Query(r, "projectID"), httpx.Query(r, "transactionID")
	if app == "" {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "applicationID is required", nil)
	}
	set := m.store.Load()
	out := []*Contract{}
	for _, k := range set.Keys() {
		c, _ := set.Get(k)
		if c.ApplicationID == app &&
			(project == "" || c.ProjectID == project) &&
			(tx == "" || c.TransactionID == tx) {
			out = append(out, c)
		}
	}
	return writeJSON(w, out)
}

// handleMeta lists the loaded contract keys (HandStack listed absolute file
// paths, which ack does not disclose).
func (m *Module) handleMeta(w http.ResponseWriter, r *http.Request) error {
	keys := m.store.Load().Keys()
	if keys == nil {
		keys = []string{}
	}
	return writeJSON(w, keys)
}

func (m *Module) handleGet(w http.ResponseWriter, r *http.Request) error {
	// A '+' of Base64 sent unescaped arrives as a space.
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(httpx.Query(r, "base64Json"), " ", "+"))
	var id struct{ ApplicationID, ProjectID, TransactionID string }
	if err == nil {
		err = json.Unmarshal(raw, &id)
	}
	if err != nil {
		return module.Errorf(http.StatusBadRequest, CodeBadRequest, "base64Json must be Base64 of {ApplicationID, ProjectID, TransactionID}", err)
	}
	c, ok := m.store.Load().Get(contractKey(id.ApplicationID, id.ProjectID, id.TransactionID))
	if !ok {
		return module.Errorf(http.StatusNotFound, CodeNotFound, "no such contract", nil)
	}
	return writeJSON(w, c)
}

func (m *Module) handleReset(w http.ResponseWriter, r *http.Request) error {
	rep, err := m.store.Reload(r.Context())
	if err != nil {
		return fmt.Errorf("transact: reload contracts: %w", err)
	}
	return writeJSON(w, rep)
}

func (m *Module) handleVerify(w http.ResponseWriter, r *http.Request) error {
	st := m.store.Status()
	return writeJSON(w, map[string]any{
		"moduleID":    "transact",
		"isConfigure": true,
		"activeCount": st.Entries,
		"totalCount":  st.Units,
		"failedCount": len(st.Errors),
	})
}
