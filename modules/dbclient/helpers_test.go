package dbclient_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/dbclient"
)

// probe is a module that calls dbclient the way transact does in the same
// process: through the executor the host's peers hand out.
type probe struct{ exec module.Executor }

func (p *probe) Provision(_ context.Context, h module.Host) error {
	e, err := h.Peers().Executor(module.DBClient, "")
	p.exec = e
	return err
}
func (p *probe) Start(context.Context) error { return nil }
func (p *probe) Routes() []module.Route      { return nil }
func (p *probe) Stop(context.Context) error  { return nil }

// env is a running host with dbclient and a probe.
type env struct {
	*acktest.Host
	exec module.Executor
}

// start runs dbclient in a host whose home is a new temporary directory,
// with moduleConfig.dbclient set to cfg and the given contract files
// written under contracts/dbclient.
func start(t testing.TB, cfg map[string]any, files map[string]string) *env {
	t.Helper()
	home := t.TempDir()
	for rel, text := range files {
		acktest.WriteFile(t, filepath.Join(home, "contracts", "dbclient", filepath.FromSlash(rel)), text)
	}
	p := &probe{}
	h := acktest.Start(t, acktest.Options{
		Home:    home,
		Modules: []module.Info{dbclient.Info(), {ID: "probe", Calls: []module.ID{module.DBClient}, New: func() module.Module { return p }}},
		Settings: func(s *config.Settings) {
			for k, v := range cfg {
				acktest.SetModuleConfig(t, s, "dbclient", k, v)
			}
		},
	})
	return &env{Host: h, exec: p.exec}
}

// call runs one request through the in-process executor.
func (e *env) call(t testing.TB, req *wire.DynamicRequest) *wire.DynamicResponse {
	t.Helper()
	resp, err := e.exec.Execute(t.Context(), req)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return resp
}

// ok runs req and fails the test unless it is acknowledged.
func (e *env) ok(t testing.TB, req *wire.DynamicRequest) *wire.DynamicResponse {
	t.Helper()
	resp := e.call(t, req)
	if resp.Acknowledge != 1 {
		t.Fatalf("%s: Acknowledge 0: %s (%s)", req.DynamicObjects[0].QueryID, resp.ExceptionText, resp.ErrorCode)
	}
	return resp
}

// q builds a QueryObject with String parameters (as transact sends them).
func q(queryID string, jsonObjects []wire.JSONObjectType, params ...string) wire.QueryObject {
	o := wire.QueryObject{QueryID: queryID, JSONObjects: jsonObjects}
	for i := 0; i+1 < len(params); i += 2 {
		o.Parameters = append(o.Parameters, wire.DynamicParameter{ParameterName: params[i], Value: params[i+1], DbType: "String", Length: -1})
	}
	return o
}

func request(objs ...wire.QueryObject) *wire.DynamicRequest {
	return &wire.DynamicRequest{GlobalID: "G-test", DynamicObjects: objs}
}

// item is one ResultJson entry.
type item struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

func items(t testing.TB, resp *wire.DynamicResponse) []item {
	t.Helper()
	var out []item
	if err := json.Unmarshal(resp.ResultJSON, &out); err != nil {
		t.Fatalf("ResultJson %s: %v", resp.ResultJSON, err)
	}
	return out
}

// grid decodes the rows of entry id.
func grid(t testing.TB, resp *wire.DynamicResponse, id string) []map[string]any {
	t.Helper()
	for _, it := range items(t, resp) {
		if it.ID == id {
			var rows []map[string]any
			if err := json.Unmarshal(it.Value, &rows); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return rows
		}
	}
	t.Fatalf("no %s in %s", id, resp.ResultJSON)
	return nil
}

// form decodes the object of entry id.
func form(t *testing.T, resp *wire.DynamicResponse, id string) map[string]any {
	t.Helper()
	for _, it := range items(t, resp) {
		if it.ID == id {
			var row map[string]any
			if err := json.Unmarshal(it.Value, &row); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return row
		}
	}
	t.Fatalf("no %s in %s", id, resp.ResultJSON)
	return nil
}
