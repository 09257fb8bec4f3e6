package function

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/module"
)

// Config is the function ModuleConfig (module.json, overlaid by ack.json's
// moduleConfig.function). Keys match without regard to case; HandStack keys
// ack does not use are ignored.
type Config struct {
	// AuthorizationKey, when set, is accepted in the AuthorizationKey header
	// (from loopback also in the query string). Default: "".
	AuthorizationKey string
	// AllowClientIP lists client IPs and CIDR prefixes ("localhost" for every
	// loopback address) served without the key; "*" serves everyone
	// (HandStack's default, not ack's). Default: ["127.0.0.1", "::1"].
	AllowClientIP []string
	// DefaultDataSourceID is used when a contract header names none.
	DefaultDataSourceID string
	// FunctionSource lists the data sources whose provider, connection
	// string and working directory are passed to functions in dataContext.
	FunctionSource []FunctionSource
	// Runtime runs JavaScript functions that do not choose: "embedded"
	// (goja, in process) or "node" (a pool of Node.js workers). Default:
	// "embedded".
	Runtime string
	// TimeoutSecond bounds a call whose command has no Timeout (<= 0).
	// 0 means no limit. Default: 30.
	TimeoutSecond *int
	// MemoryLimitMB is the process heap above which the embedded runtime
	// stops the longest-running call. 0 turns the guard off. Default: 1024.
	MemoryLimitMB *int
	// MaxConcurrent bounds embedded calls running at once. Default: 64.
	MaxConcurrent int
	// MaxQueryConns bounds the open connections of each FunctionSource
	// database that syn.$d.query uses. Default: 16.
	MaxQueryConns int
	// NodeFunctionConfig configures the Node.js runtime.
	NodeFunctionConfig NodeConfig

	// access is AuthorizationKey and AllowClientIP, parsed.
	access callerauth.Rule
}

// NodeConfig configures the Node.js workers (HandStack's keys plus ack's).
type NodeConfig struct {
	// ExecutablePath is the node binary. Default: "node" from PATH.
	ExecutablePath string
	// NodeAndV8Options are extra command-line flags ("--inspect").
	NodeAndV8Options string
	// EnvironmentVariables are extra variables, written "k=v;k2=v2".
	EnvironmentVariables string
	// TimeoutMS bounds every Node call when > 0, on top of command timeouts.
	TimeoutMS int
	// PoolSize is the number of worker processes (ack). Default: GOMAXPROCS, at least 2.
	PoolSize int
	// MaxOldSpaceMB is each worker's V8 heap limit (ack). Default: 512.
	MaxOldSpaceMB int
}

// FunctionSource is a data source offered to functions.
type FunctionSource struct {
	ApplicationID        string
	ProjectID            string // "*" or a comma list
	DataSourceID         string
	DataProvider         string
	ConnectionString     string
	IsEncryption         string
	WorkingDirectoryPath string
	Comment              string
}

func loadConfig(h module.Host) (Config, error) {
	var c Config
	if err := h.Config().Decode(&c); err != nil {
		return c, err
	}
	if c.AllowClientIP == nil {
		c.AllowClientIP = []string{"127.0.0.1", "::1"}
	}
	var err error
	if c.access, err = callerauth.New(c.AuthorizationKey, c.AllowClientIP); err != nil {
		return c, err
	}
	if c.Runtime, err = runtimeName(c.Runtime, runtimeEmbedded); err != nil {
		return c, err
	}
	if c.TimeoutSecond == nil {
		v := 30
		c.TimeoutSecond = &v
	}
	if c.MemoryLimitMB == nil {
		v := 1024
		c.MemoryLimitMB = &v
	}
	if c.MaxQueryConns <= 0 {
		c.MaxQueryConns = 16
	}
	n := &c.NodeFunctionConfig
	if n.PoolSize <= 0 {
		n.PoolSize = max(2, runtime.GOMAXPROCS(0))
	}
	if n.MaxOldSpaceMB <= 0 {
		n.MaxOldSpaceMB = 512
	}
	if *c.TimeoutSecond < 0 || *c.MemoryLimitMB < 0 || c.MaxConcurrent < 0 {
		return c, fmt.Errorf("TimeoutSecond, MemoryLimitMB and MaxConcurrent must not be negative")
	}
	for i := range c.FunctionSource {
		s := &c.FunctionSource[i]
		if strings.EqualFold(strings.TrimSpace(s.IsEncryption), "Y") {
			return c, fmt.Errorf("FunctionSource %s|%s: encrypted connection strings are not supported; use an environment reference", s.ApplicationID, s.DataSourceID)
		}
	}
	return c, nil
}

// timeout is the limit of one call of cmd.
func (c Config) timeout(cmd *Command) time.Duration {
	if cmd.Timeout > 0 {
		return time.Duration(cmd.Timeout) * time.Second
	}
	return time.Duration(*c.TimeoutSecond) * time.Second
}

// source finds the FunctionSource of dataSourceID for a command's app and project.
func (c Config) source(app, project, dataSourceID string) (FunctionSource, bool) {
	for _, s := range c.FunctionSource {
		if s.ApplicationID != app || s.DataSourceID != dataSourceID {
			continue
		}
		if strings.TrimSpace(s.ProjectID) == "*" {
			return s, true
		}
		for _, p := range strings.Split(s.ProjectID, ",") {
			if strings.TrimSpace(p) == project {
				return s, true
			}
		}
	}
	return FunctionSource{}, false
}

// runtimeName normalises a Runtime setting (module or contract); empty
// means dflt.
func runtimeName(s, dflt string) (string, error) {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "":
		return dflt, nil
	case runtimeEmbedded, runtimeNode:
		return s, nil
	}
	return s, fmt.Errorf("Runtime %q: want %q or %q", s, runtimeEmbedded, runtimeNode)
}
