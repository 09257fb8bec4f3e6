package function_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/function"
)

// write writes files (paths relative to home) into home.
func write(t testing.TB, home string, files map[string]string) {
	t.Helper()
	for rel, text := range files {
		acktest.WriteFile(t, filepath.Join(home, filepath.FromSlash(rel)), text)
	}
}

// startHost runs the given modules with function's settings overlaid by cfg.
func startHost(t testing.TB, home string, cfg map[string]any, mods ...module.Info) *acktest.Host {
	t.Helper()
	if len(mods) == 0 {
		mods = []module.Info{function.Info()}
	}
	return acktest.Start(t, acktest.Options{
		Home:    home,
		Modules: mods,
		Settings: func(s *config.Settings) {
			for k, v := range cfg {
				acktest.SetModuleConfig(t, s, "function", k, v)
			}
		},
	})
}

// execute posts a one-object request to /function/api/execution.
func execute(t testing.TB, h *acktest.Host, queryID string, params map[string]any, mutate ...func(*wire.DynamicRequest)) *wire.DynamicResponse {
	t.Helper()
	req := request(queryID, params)
	for _, f := range mutate {
		f(req)
	}
	return post(t, h, req)
}

func request(queryID string, params map[string]any) *wire.DynamicRequest {
	obj := wire.QueryObject{QueryID: queryID, JSONObjects: []wire.JSONObjectType{wire.FormJSON}}
	for k, v := range params {
		obj.Parameters = append(obj.Parameters, wire.DynamicParameter{ParameterName: k, Value: v, DbType: "String", Length: -1})
	}
	return &wire.DynamicRequest{GlobalID: "G1", RequestID: "R1", Environment: "D", DynamicObjects: []wire.QueryObject{obj}}
}

func post(t testing.TB, h *acktest.Host, req *wire.DynamicRequest) *wire.DynamicResponse {
	t.Helper()
	res := h.Post(t, "/function/api/execution", req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	var out wire.DynamicResponse
	acktest.ReadJSON(t, res, &out)
	return &out
}

func mustOK(t testing.TB, resp *wire.DynamicResponse) {
	t.Helper()
	if resp.Acknowledge != 1 {
		t.Fatalf("Acknowledge 0: %s (%s)", resp.ExceptionText, resp.ErrorCode)
	}
}

func mustFail(t testing.TB, resp *wire.DynamicResponse, code, text string) {
	t.Helper()
	if resp.Acknowledge != 0 || resp.ErrorCode != code || !strings.Contains(resp.ExceptionText, text) {
		t.Fatalf("got Acknowledge %d, %s %q; want %s containing %q", resp.Acknowledge, resp.ErrorCode, resp.ExceptionText, code, text)
	}
}

// probe calls function the way transact does in the same process.
type probe struct{ exec module.Executor }

func probeInfo(p *probe) module.Info {
	return module.Info{ID: "probe", Calls: []module.ID{module.Function}, New: func() module.Module { return p }}
}

func (p *probe) Provision(_ context.Context, h module.Host) error {
	e, err := h.Peers().Executor(module.Function, "")
	p.exec = e
	return err
}
func (p *probe) Start(context.Context) error { return nil }
func (p *probe) Routes() []module.Route      { return nil }
func (p *probe) Stop(context.Context) error  { return nil }
