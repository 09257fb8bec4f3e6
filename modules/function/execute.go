package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/function/nodeworker"
	"github.com/ack-dev/ack/modules/function/script"
)

// Stable error codes of failed responses (DynamicResponse.ErrorCode). The
// ExceptionText beside them is safe to show; causes and stacks are logged
// with the GlobalID.
const (
	CodeBadRequest   = "function.bad_request"
	CodeUnauthorized = "function.unauthorized"
	CodeReturnType   = "function.unsupported_return_type"
	CodeNotFound     = "function.not_found"
	CodeParameter    = "function.parameter"
	CodeUnsupported  = "function.unsupported_language"
	CodeRuntime      = "function.runtime_unavailable"
	CodeFailed       = "function.failed"
	CodeTimeout      = "function.timeout"
	CodeMemory       = "function.memory_limit"
	CodeResult       = "function.invalid_result"
	CodeCanceled     = "function.canceled"
)

// failure is a request failure: a code, a client-safe message and the cause
// for the log.
type failure struct {
	code, msg string
	err       error
}

func (f *failure) Error() string { return f.msg }

// Execute runs a DynamicRequest: each QueryObject calls one function command
// in order, and the results are shaped as HandStack's function module does.
// A failure is an in-band answer (Acknowledge 0).
func (m *Module) Execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, error) {
	if req == nil {
		return wire.Fail("", CodeBadRequest, "빈 요청. 요청 정보 확인 필요 (empty request)"), nil
	}
	resp, f := m.execute(ctx, req)
	if f != nil {
		m.log.Warn("function request failed", "global_id", req.GlobalID, "code", f.code, "message", f.msg, "err", f.err)
		return wire.Fail(req.GlobalID, f.code, f.msg), nil
	}
	return resp, nil
}

func (m *Module) execute(ctx context.Context, req *wire.DynamicRequest) (*wire.DynamicResponse, *failure) {
	if req.ReturnType != wire.ReturnJSON && req.ReturnType != wire.ReturnDynamicJSON {
		return nil, &failure{code: CodeReturnType, msg: fmt.Sprintf("지원하지 않는 결과 타입 (unsupported result type %s)", req.ReturnType)}
	}
	if req.RequestID == "" {
		req.RequestID = "SELF_ack" + time.Now().Format("20060102150405.000")
	}
	if req.GlobalID == "" {
		req.GlobalID = req.RequestID
	}
	set := m.store.Load() // one generation for the whole request
	cmds := make([]*Command, len(req.DynamicObjects))
	for i, obj := range req.DynamicObjects {
		c, ok := set.Get(obj.QueryID)
		if !ok {
			return nil, &failure{code: CodeNotFound, msg: fmt.Sprintf("FunctionID - %s에 대한 매핑 정보 필요 (no function for this QueryID)", obj.QueryID)}
		}
		cmds[i] = c
	}
	var sh shaper
	var dynamic *string
	for i := range req.DynamicObjects {
		obj, cmd := &req.DynamicObjects[i], cmds[i]
		params, f := bind(req, obj, cmd, sh.lastRow)
		if f != nil {
			return nil, f
		}
		text, f := m.call(ctx, req, obj, cmd, params)
		if f != nil {
			return nil, f
		}
		if text == "" {
			continue
		}
		switch {
		case obj.IgnoreResult:
			tables, err := parseTables(text)
			if err != nil {
				return nil, resultFailure(req, obj, err)
			}
			sh.remember(tables)
		case req.ReturnType == wire.ReturnDynamicJSON:
			dynamic = &text
		default:
			tables, err := parseTables(text)
			if err != nil {
				return nil, resultFailure(req, obj, err)
			}
			if err := sh.add(obj, tables); err != nil {
				return nil, resultFailure(req, obj, err)
			}
		}
	}
	resp := &wire.DynamicResponse{Acknowledge: 1, CorrelationID: req.GlobalID, Informations: []string{}, ResultMeta: []string{}}
	if req.ReturnType == wire.ReturnDynamicJSON {
		if dynamic != nil {
			raw, err := json.Marshal(*dynamic) // HandStack sends the raw text as a JSON string
			if err != nil {
				return nil, &failure{code: CodeResult, msg: "the function result cannot be encoded", err: err}
			}
			resp.ResultJSON = raw
		}
		return resp, nil
	}
	raw, meta, err := sh.result()
	if err != nil {
		return nil, &failure{code: CodeResult, msg: "the function result cannot be encoded", err: err}
	}
	resp.ResultJSON, resp.ResultMeta = raw, meta
	return resp, nil
}

func resultFailure(req *wire.DynamicRequest, obj *wire.QueryObject, err error) *failure {
	return &failure{code: CodeResult, err: err,
		msg: fmt.Sprintf("GlobalID: %s, QueryID: %s, Exception: 'the function result is not a JSON object of tables: %v'", req.GlobalID, obj.QueryID, err)}
}

// parameter is what a function receives in `parameters` (camelCase, a null
// value omitted).
type parameter struct {
	ParameterName string `json:"parameterName"`
	Value         any    `json:"value,omitempty"`
	DbType        string `json:"dbType"`
	Length        int    `json:"length"`
}

// bind builds the function's parameters: BaseFieldMappings from the
// previous result, then each declared parameter in contract order (undeclared
// ones are dropped), then GlobalID.
func bind(req *wire.DynamicRequest, obj *wire.QueryObject, cmd *Command, lastRow map[string]json.RawMessage) ([]parameter, *failure) {
	given := obj.Parameters
	if len(obj.BaseFieldMappings) > 0 && len(given) > 0 {
		if lastRow == nil {
			return nil, &failure{code: CodeParameter, msg: fmt.Sprintf("BaseFieldMappings - %s에 대한 매핑 정보 필요 (no previous row)", obj.QueryID)}
		}
		given = append([]wire.DynamicParameter(nil), given...)
		for _, bm := range obj.BaseFieldMappings {
			v, ok := lastRow[bm.SourceFieldID]
			if !ok {
				return nil, &failure{code: CodeParameter, msg: fmt.Sprintf("BaseFieldMappings - %s에 대한 SourceFieldID %s 컬럼 정보 필요", obj.QueryID, bm.SourceFieldID)}
			}
			j := indexParam(given, bm.TargetFieldID)
			if j < 0 {
				return nil, &failure{code: CodeParameter, msg: fmt.Sprintf("BaseFieldMappings - %s에 대한 TargetFieldID %s 컬럼 정보 필요", obj.QueryID, bm.TargetFieldID)}
			}
			var val any
			if err := json.Unmarshal(v, &val); err != nil {
				return nil, &failure{code: CodeParameter, msg: "BaseFieldMappings value", err: err}
			}
			given[j].Value = val
		}
	}
	out := make([]parameter, 0, len(cmd.Params)+1)
	var missing []string
	for _, p := range cmd.Params {
		name := p.Name
		if name != "" && strings.ContainsRune("@:$#", rune(name[0])) {
			name = name[1:]
		}
		var value any
		dbType := "String"
		if j := indexParam(given, name); j >= 0 {
			value, dbType = given[j].Value, given[j].DbType
		} else if len(given) > 0 {
			// HandStack checks presence only when the request carries
			// parameters; ack reports every missing one at once.
			missing = append(missing, name)
			continue
		}
		if value == nil && p.Default != nil && *p.Default != "NULL" {
			value = *p.Default
		}
		if p.Type != "" {
			dbType = p.Type
		}
		out = append(out, parameter{ParameterName: name, Value: value, DbType: dbType, Length: lengthOf(p.Length)})
	}
	if len(missing) > 0 {
		return nil, &failure{code: CodeParameter, msg: fmt.Sprintf("ParameterMap - %s에 대한 매핑 정보 필요 (missing parameters)", strings.Join(missing, ", "))}
	}
	out = append(out, parameter{ParameterName: "GlobalID", Value: req.GlobalID, DbType: "String", Length: -1})
	return out, nil
}

func lengthOf(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func indexParam(ps []wire.DynamicParameter, name string) int {
	for i, p := range ps {
		if p.ParameterName == name {
			return i
		}
	}
	return -1
}

// requestContext is the part of a function's dataContext (its third
// argument) that changes with each request (camelCase, as HandStack sends).
type requestContext struct {
	AccessToken string            `json:"accessToken"`
	LoadOptions map[string]string `json:"loadOptions,omitempty"`
	GlobalID    string            `json:"globalID"`
	Environment string            `json:"environment"`
}

// commandContext is the rest of dataContext, the same for every call of a
// command: encoded once and shared (see script.Call.Context).
type commandContext struct {
	Platform             string         `json:"platform"`
	DataProvider         string         `json:"dataProvider,omitempty"`
	ConnectionString     string         `json:"connectionString,omitempty"`
	WorkingDirectoryPath string         `json:"workingDirectoryPath,omitempty"`
	FeatureMeta          featureMeta    `json:"featureMeta"`
	FunctionHeader       map[string]any `json:"functionHeader,omitempty"`
	FileDirectory        string         `json:"fileDirectory"`
	FeatureSQLPath       string         `json:"featureSQLPath"`
}

type featureMeta struct {
	ApplicationID              string        `json:"applicationID"`
	ProjectID                  string        `json:"projectID"`
	TransactionID              string        `json:"transactionID"`
	DataSourceID               string        `json:"dataSourceID"`
	ScriptID                   string        `json:"scriptID"`
	ExportName                 string        `json:"exportName"`
	Seq                        int           `json:"seq"`
	LanguageType               string        `json:"languageType"`
	ProgramPath                string        `json:"programPath"`
	Description                string        `json:"description,omitempty"`
	Timeout                    int           `json:"timeout"`
	BeforeTransactionCommand   string        `json:"beforeTransactionCommand,omitempty"`
	AfterTransactionCommand    string        `json:"afterTransactionCommand,omitempty"`
	FallbackTransactionCommand string        `json:"fallbackTransactionCommand,omitempty"`
	ModuleParameters           []moduleParam `json:"moduleParameters"`
	OutputMetas                []string      `json:"outputMetas,omitempty"`
	ModifiedAt                 string        `json:"modifiedAt,omitempty"`
}

type moduleParam struct {
	Name         string  `json:"name"`
	DefaultValue *string `json:"defaultValue,omitempty"`
	DbType       string  `json:"dbType"`
	Length       int     `json:"length"`
}

// commandContext returns the encoded commandContext of cmd, built on first use.
func (m *Module) commandContext(cmd *Command) (json.RawMessage, error) {
	if b, ok := m.contexts.Load(cmd); ok {
		return b.(json.RawMessage), nil
	}
	file := m.file(cmd.Code)
	dc := commandContext{Platform: platform(), FunctionHeader: cmd.Header, FileDirectory: filepath.ToSlash(filepath.Dir(file))}
	dsID := cmd.DataSourceID
	if strings.TrimSpace(dsID) == "" {
		dsID = m.cfg.DefaultDataSourceID
	}
	var providers, conns, dirs []string
	for _, id := range strings.Split(dsID, ",") {
		if s, ok := m.cfg.source(cmd.ApplicationID, cmd.ProjectID, strings.TrimSpace(id)); ok {
			providers = append(providers, s.DataProvider)
			conns = append(conns, s.ConnectionString)
			dirs = append(dirs, s.WorkingDirectoryPath)
		}
	}
	dc.DataProvider, dc.ConnectionString, dc.WorkingDirectoryPath = strings.Join(providers, "|"), strings.Join(conns, "|"), strings.Join(dirs, "|")
	if sql := filepath.Join(filepath.Dir(file), "featureSQL.xml"); strings.HasSuffix(cmd.Code.File, "/featureMain.js") {
		if _, err := os.Stat(sql); err == nil {
			dc.FeatureSQLPath = filepath.ToSlash(sql)
		}
	}
	params := make([]moduleParam, 0, len(cmd.Params))
	for _, p := range cmd.Params {
		params = append(params, moduleParam{Name: p.Name, DefaultValue: p.Default, DbType: p.Type, Length: p.Length})
	}
	dc.FeatureMeta = featureMeta{
		ApplicationID: cmd.ApplicationID, ProjectID: cmd.ProjectID, TransactionID: cmd.TransactionID,
		DataSourceID: dsID, ScriptID: cmd.ScriptID, ExportName: cmd.ExportName, Seq: cmd.Seq,
		LanguageType: cmd.Language, ProgramPath: filepath.ToSlash(file), Description: cmd.Description,
		Timeout: cmd.Timeout, BeforeTransactionCommand: cmd.Before, AfterTransactionCommand: cmd.After,
		FallbackTransactionCommand: cmd.Fallback, ModuleParameters: params, OutputMetas: cmd.OutputMetas,
		ModifiedAt: cmd.ModifiedAt,
	}
	b, err := json.Marshal(dc)
	if err != nil {
		return nil, err
	}
	m.contexts.Store(cmd, json.RawMessage(b))
	return b, nil
}

func platform() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows"
	case "darwin":
		return "MacOS"
	}
	return "Linux"
}

// call runs one command and returns its result text, or the failure as the
// client sees it.
func (m *Module) call(ctx context.Context, req *wire.DynamicRequest, obj *wire.QueryObject, cmd *Command, params []parameter) (string, *failure) {
	if cmd.Language != langJavaScript {
		return "", &failure{code: CodeUnsupported, msg: fmt.Sprintf("%s is a %s function: ack runs JavaScript functions only", obj.QueryID, languageName(cmd.Language))}
	}
	shared, err := m.commandContext(cmd)
	if err != nil {
		return "", &failure{code: CodeFailed, msg: "the function context cannot be encoded", err: err}
	}
	rc := requestContext{AccessToken: req.AccessToken, LoadOptions: req.LoadOptions, GlobalID: req.GlobalID, Environment: req.Environment}
	args, err := json.Marshal([]any{obj.QueryID, params, rc})
	if err != nil {
		return "", &failure{code: CodeParameter, msg: "the parameters cannot be encoded", err: err}
	}
	log := m.log.With("global_id", req.GlobalID, "query_id", obj.QueryID)
	c := script.Call{
		Key: cmd.ApplicationID + "|" + cmd.ProjectID + "|" + cmd.TransactionID, Name: m.file(cmd.Code), Export: cmd.ExportName,
		Args: args, Context: shared, ContextKey: cmd.Key() + "|" + cmd.Code.Version, Timeout: m.cfg.timeout(cmd), Log: log, Host: &bridge{m: m, cmd: cmd, req: req},
	}
	start := time.Now()
	var text string
	switch cmd.Code.Runtime {
	case runtimeNode:
		if m.node == nil {
			return "", &failure{code: CodeRuntime, msg: fmt.Sprintf("%s needs the Node.js runtime, which is not available on this server", obj.QueryID), err: m.nodeErr}
		}
		if n := m.cfg.NodeFunctionConfig.TimeoutMS; n > 0 && (c.Timeout == 0 || time.Duration(n)*time.Millisecond < c.Timeout) {
			c.Timeout = time.Duration(n) * time.Millisecond
		}
		text, err = m.node.Run(ctx, nodeworker.Call{Call: c, Version: cmd.Code.Version, Source: cmd.Code.Text})
	default:
		text, err = m.engine.Run(ctx, cmd.Code.Program, c)
	}
	if err == nil {
		log.Debug("function call", "duration", time.Since(start))
		return text, nil
	}
	prefix := fmt.Sprintf("GlobalID: %s, QueryID: %s, Exception: ", req.GlobalID, obj.QueryID)
	var se *script.Error
	switch {
	case errors.As(err, &se):
		log.Warn("function failed", "message", se.Message, "stack", se.Stack)
		return "", &failure{code: CodeFailed, msg: prefix + "'" + se.Message + "'"}
	case errors.Is(err, script.ErrTimeout):
		return "", &failure{code: CodeTimeout, msg: fmt.Sprintf("TimeoutException - '%d' 실행 시간 초과 (the function was stopped after %v)", c.Timeout.Milliseconds(), c.Timeout)}
	case errors.Is(err, script.ErrMemory):
		return "", &failure{code: CodeMemory, msg: prefix + "'the function was stopped: the server's memory limit for functions was exceeded'"}
	case errors.Is(err, nodeworker.ErrWorkerExited):
		log.Warn("function crashed its Node.js worker", "err", err)
		return "", &failure{code: CodeFailed, msg: prefix + "'the Node.js worker exited during the call; it was replaced'"}
	case errors.Is(err, script.ErrNoResult):
		return "", &failure{code: CodeFailed, msg: prefix + "'" + err.Error() + "'"}
	case ctx.Err() != nil:
		return "", &failure{code: CodeCanceled, msg: prefix + "'the request was canceled'", err: err}
	}
	return "", &failure{code: CodeFailed, msg: prefix + "'스크립트 실행 중 오류가 발생했습니다. (the function could not run)'", err: err}
}
