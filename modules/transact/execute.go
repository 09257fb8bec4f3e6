package transact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/wire"
)

const executePath = "/transact/api/transaction/execute"

// call is one transaction request and where it came from.
type call struct {
	req *wire.TransactionRequest
	// path is the HTTP path, or "event" for an in-process call.
	path string
	// trusted skips per-service role checks: in-process callers and clients
	// matched by BypassAuthorizeIP.
	trusted bool
}

// run is the state of one transaction through the pipeline.
type run struct {
	call
	accept   time.Time
	app      string // programID after the app-id override
	workID   string
	contract *Contract
	service  *Service
	resp     *wire.TransactionResponse
}

// execute runs one transaction to its response: HandStack's pipeline
// (reference §6), every failure in-band. It never returns nil.
func (m *Module) execute(ctx context.Context, c call) *wire.TransactionResponse {
	r := &run{call: c, accept: time.Now()}
	req := c.req
	r.app = string(req.System.ProgramID)
	if v := req.LoadOptions["app-id"]; v != "" {
		r.app = v
	}
	r.workID = req.LoadOptions["work-id"]
	r.resp = m.newResponse(r)
	err := m.pipeline(ctx, r)
	m.finish(ctx, r, err)
	return r.resp
}

func (m *Module) pipeline(ctx context.Context, r *run) *txError {
	req, cfg := r.req, &m.cfg
	h := cfg.SecurityHardening
	if n := len(req.System.Routes); n > h.MaxRoutes {
		return fail(CodeLimit, "요청 경로 수 한도 초과(%d > %d)", n, h.MaxRoutes)
	}
	if n := len(req.PayLoad.DataMapSet) + len(req.PayLoad.DataMapSetRaw); n > h.MaxDataMapSetCount {
		return fail(CodeLimit, "입력 데이터맵 수 한도 초과(%d > %d)", n, h.MaxDataMapSetCount)
	}
	project := string(req.Transaction.BusinessID)
	if !cfg.appAllowed(r.app, project) {
		return fail(CodeAppDenied, "애플리케이션 ID: '%s', 프로젝트 ID: %s 요청 가능 거래 매핑 정보 확인 필요", r.app, project)
	}
	r.resp.System.PathName = r.path

	switch strings.ToUpper(string(req.Transaction.DataFormat)) {
	case "", "J":
	default:
		return fail(CodeDataFormat, "데이터 포맷 '%s' 확인 필요", req.Transaction.DataFormat)
	}
	if parseBool(string(req.Transaction.CompressionYN)) || len(req.PayLoad.DataMapSetRaw) > 0 {
		return fail(CodeDataFormat, "입력 데이터 맵 정보 확인 필요").with(errors.New("compressed (LZString) payloads are not supported; send compressionYN N"))
	}
	env := string(req.Environment)
	if env == "" {
		return fail(CodeEnvironment, "입력 전문 '' 환경정보 구분코드 확인 필요")
	}
	if !slicesContainsFold(cfg.AvailableEnvironment, env) {
		return fail(CodeEnvironment, "'%s' 환경정보 구분코드 허용 안됨", env)
	}

	tx, fn := string(req.Transaction.TransactionID), string(req.Transaction.FunctionID)
	ct, ok := m.store.Load().Get(contractKey(r.app, project, tx))
	if !ok {
		return fail(CodeContractNotFound, "ProgramID '%s', BusinessID '%s', TransactionID '%s' 거래 Transaction 입력 전문 확인 필요", r.app, project, tx)
	}
	r.contract = ct
	svc, ok := ct.Service(fn)
	if !ok {
		return fail(CodeServiceNotFound, "FunctionID '%s' 거래 매핑 정보 확인 필요", fn)
	}
	r.service = svc
	r.resp.Transaction.CommandType = svc.CommandType
	if svc.AccessScreenID.Null && string(req.Transaction.ScreenID) != ct.TransactionID ||
		!svc.AccessScreenID.Null && !cfg.screenAllowed(ct, svc, string(req.Transaction.ScreenID)) {
		return fail(CodeScreenDenied, "ScreenID '%s' 요청 가능화면 거래 매핑 정보 확인 필요", req.Transaction.ScreenID)
	}
	token, terr := cfg.authorize(req, ct, svc, r.trusted, r.accept)
	if terr != nil {
		return terr
	}
	id := strings.Join([]string{r.app, project, tx, fn}, "|")
	b, terr := bindInputs(ct, svc, &req.PayLoad, id)
	if terr != nil {
		return terr
	}
	if extra := tokenParameters(token); len(extra) > 0 {
		for _, g := range b.groups {
			for i := range g {
				g[i] = withTokenParameters(g[i], extra)
			}
		}
	}
	if strings.EqualFold(actionOf(req), "PSH") {
		// Fire and forget: answer now, run on a worker with its own envelope.
		bg := *r
		bg.resp = m.newResponse(&bg)
		bg.resp.System.PathName = r.path
		bg.resp.Transaction.CommandType = svc.CommandType
		select {
		case m.push <- pushJob{r: &bg, b: b, id: id}:
			return nil
		default:
			return fail(CodeBusy, "PSH 동시 처리 한도 초과")
		}
	}
	return m.dispatch(ctx, r, b, id)
}

// dispatch runs the service by CommandType and shapes its result.
func (m *Module) dispatch(ctx context.Context, r *run, b *bound, id string) *txError {
	svc := r.service
	if svc.RoutingCommandUri != "" {
		return fail(CodeCommandType, "거래 라우팅 경로 확인 필요").with(errors.New("per-service RoutingCommandUri forwarding is not supported"))
	}
	switch svc.returnType {
	case wire.ReturnSQLText, wire.ReturnSchemeOnly:
		return fail(CodeReturnType, "ReturnType 확인 필요")
	}
	var res *wire.DynamicResponse
	var terr *txError
	switch svc.CommandType {
	case "D", "F", "G", "C", "P":
		dreq := m.dynamicRequest(r, svc.CommandType, svc.returnType, b.inputs, b.outputs, b.groups, r.txApp(), r.contract.TransactionProjectID, r.contract.TransactionID, svc.ServiceID)
		res, terr = m.callModule(ctx, r, svc.CommandType, dreq)
	case "R":
		res, terr = m.dummy(r)
	case "S":
		return m.sequential(ctx, r, b, id)
	default:
		return fail(CodeCommandType, "CommandType 확인 필요")
	}
	if terr != nil {
		return terr
	}
	return m.shape(r, res, b, id)
}

// shape turns a successful module answer into the response.
func (m *Module) shape(r *run, res *wire.DynamicResponse, b *bound, id string) *txError {
	svc := r.service
	if body, ctype, ok := rawBody(svc.returnType, res); ok {
		r.resp.Raw, r.resp.RawType = body, ctype
		return nil
	}
	r.resp.Result.ResponseType = strconv.Itoa(int(svc.returnType))
	if svc.returnType == wire.ReturnCodeHelp {
		name := "CodeHelp"
		for _, g := range b.groups {
			for _, row := range g {
				for _, p := range row {
					if s, ok := p.Value.(string); ok && p.ParameterName == "CodeHelpID" && s != "" {
						name = s
					}
				}
			}
		}
		v := res.ResultJSON
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		r.resp.Result.DataSet = append(r.resp.Result.DataSet, wire.DataSetItem{ID: name, Value: v})
		return nil
	}
	return shapeJSON(res, b.outputs, r.contract, id, r.resp)
}

func (r *run) txApp() string {
	if r.contract.TransactionApplicationID != "" {
		return r.contract.TransactionApplicationID
	}
	return r.app
}

// dynamicRequest builds what a module receives: one QueryObject per input
// row, QueryID "App|Project|Tx|ServiceNN" where NN is the input's index.
func (m *Module) dynamicRequest(r *run, cmd string, rt wire.ReturnType, inputs []Input, outputs []Output, groups [][]row, app, project, tx, service string) *wire.DynamicRequest {
	req := r.req
	objects := make([]wire.JSONObjectType, len(outputs))
	jsonObject := wire.FormJSON
	var relations []*wire.BaseFieldRelation
	for i, o := range outputs {
		objects[i] = outputObject(o.Type)
		if o.Type == "Addition" {
			jsonObject = wire.AdditionJSON
		}
		if o.BaseFieldRelation != nil {
			relations = append(relations, o.BaseFieldRelation)
		}
	}
	if relations == nil {
		relations = []*wire.BaseFieldRelation{}
	}
	prefix := app + "|" + project + "|" + tx + "|" + service
	var qos []wire.QueryObject
	for i, g := range groups {
		qo := wire.QueryObject{
			QueryID:            fmt.Sprintf("%s%02d", prefix, i),
			JSONObject:         jsonObject,
			JSONObjects:        objects,
			DecryptParameters:  []string{},
			BaseFieldMappings:  []wire.BaseFieldMapping{},
			BaseFieldRelations: relations,
		}
		if len(inputs) == 0 {
			qo.Parameters = []wire.DynamicParameter{}
			if len(g) > 0 {
				qo.Parameters = g[0]
			}
			qos = append(qos, qo)
			continue
		}
		in := inputs[i]
		if in.BaseFieldMappings != nil {
			qo.BaseFieldMappings = in.BaseFieldMappings
		}
		qo.IgnoreResult = bool(in.IgnoreResult)
		// An input sent with no rows runs nothing (HandStack ran the
		// statement once without parameters).
		for _, row := range g {
			qo.Parameters = row
			qos = append(qos, qo)
		}
	}
	if qos == nil {
		qos = []wire.QueryObject{}
	}
	return &wire.DynamicRequest{
		AccessToken:    string(req.AccessToken),
		Version:        string(req.Version),
		RequestID:      string(req.RequestID),
		LoadOptions:    req.LoadOptions,
		Action:         actionOf(req),
		Environment:    string(req.Environment),
		ReturnType:     rt,
		GlobalID:       string(req.Transaction.GlobalID),
		IsTransaction:  bool(r.service.TransactionScope),
		DynamicObjects: qos,
	}
}

func actionOf(req *wire.TransactionRequest) string {
	if a := string(req.Action); a != "" {
		return a
	}
	return "SYN"
}

// callModule sends a DynamicRequest to the module routed for cmd.
func (m *Module) callModule(ctx context.Context, r *run, cmd string, dreq *wire.DynamicRequest) (*wire.DynamicResponse, *txError) {
	env := string(r.req.Environment)
	t, key, ok := m.router.resolve(r.workID, r.txApp(), r.contract.TransactionProjectID, cmd, env)
	if !ok {
		return nil, fail(CodeRouteNotFound, "routeSegmentID: %s 환경변수 확인", key)
	}
	if t.exec == nil {
		return nil, fail(CodeRouteUnavailable, "routeSegmentID: %s 환경변수 확인 - CommandType %s module %s is not available", key, cmd, t.module).with(errors.New(t.unavailable))
	}
	res, err := t.exec.Execute(ctx, dreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fail(CodeTransport, "AP X-Requested Transfort Error: request cancelled or timed out").with(err)
		}
		return nil, fail(CodeTransport, "AP X-Requested Transfort Error: module %s could not be reached", t.module).with(fmt.Errorf("%s: %w", t.url, err))
	}
	if res == nil {
		return nil, fail(CodeModule, "GlobalID: %s 거래 확인 필요", r.req.Transaction.GlobalID).with(errors.New("module returned no response"))
	}
	if res.Acknowledge != 1 {
		code := res.ErrorCode
		if code == "" {
			code = CodeModule
		}
		text := res.ExceptionText
		if text == "" {
			text = fmt.Sprintf("GlobalID: %s 거래 확인 필요", r.req.Transaction.GlobalID)
		}
		return nil, &txError{code: code, text: text}
	}
	return res, nil
}

// dummy answers a CommandType R service from
// {DummyFileBasePath}/{App}/{Project}/{Tx}/{ServiceID}.dat.
func (m *Module) dummy(r *run) (*wire.DynamicResponse, *txError) {
	ct, svc := r.contract, r.service
	rel := path.Join(ct.ApplicationID, ct.ProjectID, ct.TransactionID, svc.ServiceID+".dat")
	name := fmt.Sprintf("DummyFile: %s/%s/%s/%s.dat 확인 필요", ct.ApplicationID, ct.ProjectID, ct.TransactionID, svc.ServiceID)
	if !fs.ValidPath(rel) {
		return nil, fail(CodeDummyFile, "%s", name).with(errors.New("identity is not a plain path"))
	}
	root, err := os.OpenRoot(m.cfg.DummyFileBasePath)
	if err != nil {
		return nil, fail(CodeDummyFile, "%s", name).with(err)
	}
	defer root.Close()
	data, err := fs.ReadFile(root.FS(), rel)
	if err != nil {
		return nil, fail(CodeDummyFile, "%s", name).with(err)
	}
	res := &wire.DynamicResponse{Acknowledge: 1, ResultMeta: []string{}}
	switch svc.returnType {
	case wire.ReturnScalar, wire.ReturnXML:
		res.ResultObject = string(data)
	case wire.ReturnNonQuery:
		n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return nil, fail(CodeDummyFile, "%s", name).with(err)
		}
		res.ResultInteger = n
	default:
		if !json.Valid(data) {
			return nil, fail(CodeDummyFile, "%s", name).with(errors.New("not JSON"))
		}
		res.ResultJSON = data
	}
	return res, nil
}

func slicesContainsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
