package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/ack-dev/ack/internal/host"
	"github.com/ack-dev/ack/internal/module"
)

// check loads every setting and contract of the selected modules without
// serving, prints each problem as file:line: message, and fails when any is
// an error (warnings are printed but pass).
func check(cfg host.Config, env Env) int {
	ctx := context.Background()
	// The diagnostics are the output; the modules' own log lines about the
	// same problems would only repeat them.
	quiet := cfg.Settings.Log
	quiet.Level = "error"
	cfg.Logger = newLogger(quiet, env.Stderr)
	h, err := host.New(cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 1
	}
	diags, err := h.Check(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ack: %v\n", err)
		return 1
	}
	sort.SliceStable(diags, func(i, j int) bool {
		if diags[i].File != diags[j].File {
			return diags[i].File < diags[j].File
		}
		return diags[i].Line < diags[j].Line
	})
	failed := 0
	for _, d := range diags {
		if d.Severity == "error" {
			failed++
		}
		fmt.Fprintln(env.Stdout, format(d))
	}
	if failed > 0 {
		fmt.Fprintf(env.Stdout, "%d error(s)\n", failed)
		return 1
	}
	fmt.Fprintln(env.Stdout, "ok")
	return 0
}

func format(d module.Diagnostic) string {
	loc := d.File
	if loc == "" {
		loc = "settings"
	}
	if d.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, d.Line)
	}
	if d.Severity == "warning" {
		return fmt.Sprintf("%s: warning: %s", loc, d.Message)
	}
	return fmt.Sprintf("%s: %s", loc, d.Message)
}
