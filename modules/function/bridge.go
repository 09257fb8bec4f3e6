package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
)

// bridge answers what a function asks of ack (syn.$d), on behalf of one
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
