package host

import (
	"context"
	"time"

	"github.com/ack-dev/ack/internal/module"
)

// Check provisions every module and loads every contract without starting
// anything, and returns the problems found: contract files that fail to load
// and what modules report through module.Diagnoser. A module that cannot be
// provisioned is reported as an error, not returned, so that one bad setting
// does not hide the other problems.
func (h *Host) Check(ctx context.Context) ([]module.Diagnostic, error) {
	var diags []module.Diagnostic
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.stopModules(sctx)
		h.wg.Wait()
	}()
	if err := h.Provision(ctx); err != nil {
		diags = append(diags, module.Diagnostic{Severity: "error", Message: err.Error()})
	}
	for _, c := range h.contracts.Handles() {
		for _, fe := range c.Status().Errors {
			diags = append(diags, module.Diagnostic{File: fe.Path, Line: fe.Line, Severity: "error", Message: fe.Message})
		}
	}
	for _, mh := range h.mods {
		if d, ok := mh.mod.(module.Diagnoser); ok {
			diags = append(diags, d.Diagnose(ctx)...)
		}
	}
	return diags, nil
}
