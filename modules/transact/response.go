package transact

import (
	"context"
	"log/slog"
	"time"

	"github.com/ack-dev/ack/internal/httpx"
	"github.com/ack-dev/ack/internal/wire"
)

const (
	successText      = "(성공): 서버가 요청을 제대로 처리"
	acceptTimeLayout = "2006-01-02T15:04:05.9999999-07:00"
)

// newResponse starts the envelope: echoed fields, the hops with this server
// written into the last one (one is added when the client sent none), and an
// empty result. pathName stays "event" until the app passes the allow-list.
func (m *Module) newResponse(r *run) *wire.TransactionResponse {
	req := r.req
	routes := make([]wire.ResponseRoute, 0, len(req.System.Routes)+1)
	for _, rt := range req.System.Routes {
		routes = append(routes, wire.ResponseRoute{
			SystemID: string(rt.SystemID), HostName: string(rt.HostName), Environment: string(rt.Environment),
			RequestTick: int64(rt.RequestTick), AcceptTick: int64(rt.AcceptTick), ResponseTick: int64(rt.ResponseTick),
		})
	}
	if len(routes) == 0 {
		routes = append(routes, wire.ResponseRoute{RequestTick: r.accept.UnixMilli()})
	}
	last := &routes[len(routes)-1]
	last.SystemID = m.cfg.SystemID
	last.HostName = m.cfg.HostName
	last.Environment = string(req.Environment)
	last.AcceptTick = r.accept.UnixMilli()

	t := req.Transaction
	dataFormat := string(t.DataFormat)
	if dataFormat == "" {
		dataFormat = "J"
	}
	return &wire.TransactionResponse{
		System: wire.ResponseSystem{
			ProgramID: r.app,
			Routes:    routes,
			LocaleID:  string(req.System.LocaleID),
			HostName:  m.cfg.HostName,
			PathName:  "event",
		},
		Transaction: wire.ResponseTransaction{
			GlobalID: string(t.GlobalID), BusinessID: string(t.BusinessID), TransactionID: string(t.TransactionID),
			FunctionID: string(t.FunctionID), CommandType: string(t.CommandType), SimulationType: string(t.SimulationType),
			TerminalGroupID: string(t.TerminalGroupID), OperatorID: string(t.OperatorID), ScreenID: string(t.ScreenID),
			StartTraceID: string(t.StartTraceID), DataFormat: dataFormat, CompressionYN: string(t.CompressionYN),
		},
		Message: wire.Message{Additions: []wire.Addition{}},
		Result: wire.Result{
			DataSetMeta:  []string{},
			DataMapCount: []int{},
			DataSet:      []wire.DataSetItem{},
		},
		AcceptDateTime: r.accept.Format(acceptTimeLayout),
		CorrelationID:  string(req.RequestID),
		LoadOptions:    map[string]string{},
		Version:        string(req.Version),
		Environment:    string(req.Environment),
	}
}

// finish completes the envelope and logs the transaction once, with its
// globalID; failure details go to the log, never to the client.
func (m *Module) finish(ctx context.Context, r *run, err *txError) {
	now := time.Now()
	resp := r.resp
	routes := resp.System.Routes
	routes[len(routes)-1].ResponseTick = now.UnixMilli()
	attrs := []slog.Attr{
		slog.String("global_id", resp.Transaction.GlobalID),
		slog.String("transaction", r.app+"|"+resp.Transaction.BusinessID+"|"+resp.Transaction.TransactionID+"|"+resp.Transaction.FunctionID),
		slog.Duration("duration", now.Sub(r.accept)),
	}
	if err == nil {
		resp.Acknowledge = 1
		resp.Message.ResponseStatus = "N"
		resp.Message.MainCode = "T200"
		resp.Message.MainText = successText
		resp.ResponseID = m.cfg.SystemID + m.cfg.HostName + resp.Environment + now.Format("20060102150405")
		m.metrics.observe(r, "ok", now)
		// A success adds to the request's access-log line instead of a line of its own.
		for _, a := range attrs[:2] {
			httpx.Annotate(ctx, a.Key, a.Value.String())
		}
		return
	}
	// A failure answers the empty result, whatever was shaped before it.
	resp.Result = wire.Result{DataSetMeta: []string{}, DataMapCount: []int{}, DataSet: []wire.DataSetItem{}}
	resp.Message = wire.Message{Additions: []wire.Addition{}}
	resp.Raw, resp.RawType = nil, ""
	resp.Acknowledge = 0
	resp.ErrorCode = err.code
	resp.ExceptionText = err.text
	if m.cfg.SecurityHardening.SanitizeErrorText {
		resp.ExceptionText = "요청을 처리할 수 없습니다. 참조 ID: " + resp.Transaction.GlobalID
	}
	attrs = append(attrs, slog.String("error_code", err.code), slog.String("error", err.Error()))
	m.metrics.observe(r, err.code, now)
	m.log.LogAttrs(ctx, slog.LevelWarn, "transaction failed", attrs...)
}
