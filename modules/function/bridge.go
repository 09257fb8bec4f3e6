package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
)

// bridge answers what a function asks of ack (syn.$d, syn.$w), on behalf of one
// command of one request.
type bridge struct {
	m   *Module
	cmd *Command
	req *wire.DynamicRequest
}

// executeArg is the argument of syn.$d.execute.
type executeArg struct {
	QueryID    string                  `json:"queryID"`
	Parameters []wire.DynamicParameter `json:"parameters"`
}

// Invoke runs op. Its errors are shown to the function (and may reach the
// client through it), so they carry no internal detail.
func (b *bridge) Invoke(ctx context.Context, op string, arg json.RawMessage) (json.RawMessage, error) {
	switch op {
	case "dbclient.execute":
		var a executeArg
		if err := json.Unmarshal(arg, &a); err != nil {
			return nil, fmt.Errorf("syn.$d.execute: bad arguments: %v", err)
		}
		return b.dbExecute(ctx, a)
	case "datasource.query":
		var a queryArg
		if err := json.Unmarshal(arg, &a); err != nil {
			return nil, fmt.Errorf("syn.$d.query: bad arguments: %v", err)
		}
		return b.dbQuery(ctx, a)
	case "transact.execute":
		var d directObject
		if err := json.Unmarshal(arg, &d); err != nil {
			return nil, fmt.Errorf("syn.$w.transactionDirect: bad arguments: %v", err)
		}
		return b.transact(ctx, d)
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

// dbExecute runs a dbclient statement of the function's own application and
// returns its result sets, each as an array of rows.
func (b *bridge) dbExecute(ctx context.Context, a executeArg) (json.RawMessage, error) {
	if b.m.db == nil {
		b.m.log.Warn("syn.$d.execute: dbclient unavailable", "err", b.m.dbErr)
		return nil, errors.New("syn.$d.execute: the dbclient module is not available")
	}
	app, _, _ := strings.Cut(a.QueryID, "|")
	if strings.Count(a.QueryID, "|") != 3 || app != b.cmd.ApplicationID {
		return nil, fmt.Errorf("syn.$d.execute: %q must be a statement of application %s (App|Project|Transaction|StatementID)", a.QueryID, b.cmd.ApplicationID)
	}
	for i := range a.Parameters {
		if a.Parameters[i].DbType == "" {
			a.Parameters[i].DbType = "String"
		}
		if a.Parameters[i].Length == 0 {
			a.Parameters[i].Length = -1
		}
	}
	req := &wire.DynamicRequest{
		AccessToken: b.req.AccessToken, Version: b.req.Version, RequestID: b.req.RequestID,
		LoadOptions: b.req.LoadOptions, Action: b.req.Action, Environment: b.req.Environment,
		ReturnType: wire.ReturnJSON, GlobalID: b.req.GlobalID,
		DynamicObjects: []wire.QueryObject{{QueryID: a.QueryID, JSONObject: wire.GridJSON, Parameters: a.Parameters}},
	}
	resp, err := b.m.db.Execute(ctx, req)
	if err != nil {
		b.m.log.Warn("syn.$d.execute failed", "global_id", b.req.GlobalID, "statement", a.QueryID, "err", err)
		return nil, errors.New("syn.$d.execute: the dbclient module did not answer")
	}
	if resp.Acknowledge != 1 {
		return nil, fmt.Errorf("syn.$d.execute: %s", resp.ExceptionText)
	}
	var entries []struct {
		Value json.RawMessage `json:"Value"`
	}
	if len(resp.ResultJSON) > 0 {
		if err := json.Unmarshal(resp.ResultJSON, &entries); err != nil {
			return nil, errors.New("syn.$d.execute: unexpected answer from dbclient")
		}
	}
	tables := make([]json.RawMessage, 0, len(entries))
	for _, e := range entries {
		tables = append(tables, e.Value)
	}
	return json.Marshal(tables)
}

// directObject is the argument of syn.$w.transactionDirect.
type directObject struct {
	ProgramID        string `json:"programID"`
	BusinessID       string `json:"businessID"`
	TransactionID    string `json:"transactionID"`
	FunctionID       string `json:"functionID"`
	DataMapInterface string `json:"dataMapInterface"`
	InputObjects     []struct {
		Prop string          `json:"prop"`
		Val  json.RawMessage `json:"val"`
	} `json:"inputObjects"`
}

// transact runs a transaction of the function's own application through the
// co-located transact module, as a trusted in-process caller.
func (b *bridge) transact(ctx context.Context, d directObject) (json.RawMessage, error) {
	t, err := b.m.transact()
	if err != nil {
		return nil, fmt.Errorf("syn.$w.transactionDirect: %v", err)
	}
	if d.ProgramID == "" {
		d.ProgramID = b.cmd.ApplicationID
	}
	if d.ProgramID != b.cmd.ApplicationID {
		return nil, fmt.Errorf("syn.$w.transactionDirect: the transaction must belong to application %s", b.cmd.ApplicationID)
	}
	if d.DataMapInterface == "" {
		d.DataMapInterface = "Row|Form"
	}
	row := make([]wire.DataMapItem, 0, len(d.InputObjects))
	for _, in := range d.InputObjects {
		val := in.Val
		if len(val) == 0 {
			val = json.RawMessage("null")
		}
		row = append(row, wire.DataMapItem{ID: wire.FlexString(in.Prop), Value: val})
	}
	req := &wire.TransactionRequest{
		AccessToken: wire.FlexString(b.req.AccessToken), Action: "SYN", Kind: "BIZ",
		LoadOptions: wire.LoadOptions(b.req.LoadOptions), RequestID: wire.FlexString(b.req.RequestID),
		Version: "001", Environment: wire.FlexString(b.req.Environment),
		System: wire.System{ProgramID: wire.FlexString(d.ProgramID), ModuleID: "function", PathName: "event"},
		Transaction: wire.Transaction{
			GlobalID: wire.FlexString(b.req.GlobalID), BusinessID: wire.FlexString(d.BusinessID),
			TransactionID: wire.FlexString(d.TransactionID), FunctionID: wire.FlexString(d.FunctionID),
			SimulationType: "P", ScreenID: wire.FlexString(d.TransactionID), DataFormat: "J", CompressionYN: "N",
		},
		PayLoad: wire.PayLoad{Property: json.RawMessage("{}"), DataMapInterface: wire.FlexString(d.DataMapInterface),
			DataMapCount: []wire.FlexInt{1}, DataMapSet: [][]wire.DataMapItem{row}},
	}
	resp, err := t.Transact(ctx, req)
	if err != nil {
		b.m.log.Warn("syn.$w.transactionDirect failed", "global_id", b.req.GlobalID, "err", err)
		return nil, errors.New("syn.$w.transactionDirect: the transact module did not answer")
	}
	return json.Marshal(resp)
}
