package function

import (
	"fmt"
	"path/filepath"
	"strings"
)

// nodeArgs are the workers' node flags: the configured ones and the heap cap.
func nodeArgs(n NodeConfig) []string {
	args := strings.Fields(n.NodeAndV8Options)
	return append(args, fmt.Sprintf("--max-old-space-size=%d", n.MaxOldSpaceMB))
}

// nodeEnv is the workers' extra environment: HandStack's "k=v;k2=v2" list,
// and NODE_PATH at HOME/node_modules, where HandStack installs packages.
func nodeEnv(n NodeConfig, home string) []string {
	env := []string{"NODE_PATH=" + filepath.Join(home, "node_modules")}
	for _, kv := range strings.Split(n.EnvironmentVariables, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k != "" {
			env = append(env, strings.TrimSpace(k)+"="+strings.TrimSpace(v))
		}
	}
	return env
}
