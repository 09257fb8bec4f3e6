// Package function is ack's function module: HandStack server-side
// functions (featureMeta.json + featureMain.js, or the single-file {Tx}.xml)
// run as business transactions. JavaScript runs on the embedded goja runtime
// by default, or on a pool of Node.js workers; C# and Python contracts are
// listed as diagnostics and answered with a clear error.
package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
	"github.com/ack-dev/ack/modules/function/jsruntime"
	"github.com/ack-dev/ack/modules/function/nodeworker"
)

// Info describes the function module to the host. It calls dbclient; it
// reaches transact (which calls it) only at request time, through
// Peers().Local, so that the start order has no cycle.
func Info() module.Info {
	return module.Info{
		ID:    module.Function,
		Calls: []module.ID{module.DBClient},
		New:   func() module.Module { return &Module{} },
	}
}

// Module is the function module.
type Module struct {
	host    module.Host
	log     *slog.Logger
	cfg     Config
	roots   []string
	store   *contract.Store[*Command]
	engine  *jsruntime.Engine
	node    *nodeworker.Pool // nil until Start, and without node functions or a node binary
	nodeErr error            // why node is nil when a node function is called
	db      module.Executor  // nil when no dbclient is reachable
	dbErr   error
	// sources are the FunctionSource databases syn.$d.query runs SQL on;
	// sourcesErr lists the entries left out.
	sources    *datasource.Registry
	sourcesErr error

	files    sync.Map // *Code → absolute path of its file
	contexts sync.Map // *Command → its encoded commandContext
}

// Provision reads the settings, registers the contract store and resolves
// dbclient.
func (m *Module) Provision(ctx context.Context, h module.Host) error {
	m.host = h
	m.log = h.Logger()
	cfg, err := loadConfig(h)
	if err != nil {
		return fmt.Errorf("function: %w", err)
	}
	m.cfg = cfg
	if m.roots, err = h.Config().ContractRoots(); err != nil {
		return fmt.Errorf("function: %w", err)
	}
	m.engine = jsruntime.New(jsruntime.Options{
		MaxConcurrent: cfg.MaxConcurrent,
		MemoryLimit:   uint64(*cfg.MemoryLimitMB) << 20,
		Logger:        m.log,
	})
	m.store = contract.NewStore(newKind(cfg.Runtime), m.roots, contract.Options{Logger: m.log})
	m.store.OnSwap(m.swapped)
	if err := h.Contracts().Register(m.store); err != nil {
		return fmt.Errorf("function: %w", err)
	}
	m.db, m.dbErr = h.Peers().Executor(module.DBClient, "")
	if m.sources, m.sourcesErr = newSources(h, cfg); m.sourcesErr != nil {
		m.log.Warn("FunctionSource entries left out of syn.$d.query", "err", m.sourcesErr)
	}
	return nil
}

// swapped runs after each contract change: runtimes drop retired module
// instances, Node workers forget retired versions, and the load is logged
// for contracts ack cannot run.
func (m *Module) swapped(old, cur *contract.Set[*Command]) {
	m.engine.NewEpoch()
	for _, key := range old.Keys() {
		if prev, _ := old.Get(key); prev != nil {
			if c, ok := cur.Get(key); !ok || c != prev {
				m.contexts.Delete(prev)
			}
			if c, ok := cur.Get(key); !ok || c.Code != prev.Code {
				m.files.Delete(prev.Code)
			}
		}
	}
	for _, key := range cur.Keys() {
		c, _ := cur.Get(key)
		if prev, ok := old.Get(key); ok && prev.Code == c.Code {
			continue
		}
		if c.Language != langJavaScript {
			m.log.Warn("function contract cannot run on ack; its calls answer an error", "query_id", key, "language", c.Language, "file", c.Code.File)
		}
	}
}

// Start runs the memory guard and, when a node function exists or node is
// the default runtime, the Node.js worker pool.
func (m *Module) Start(ctx context.Context) error {
	m.host.Go("function.memory-guard", m.engine.Guard)
	if !m.needsNode() {
		return nil
	}
	n := m.cfg.NodeFunctionConfig
	pool, err := nodeworker.New(nodeworker.Options{
		Executable: n.ExecutablePath,
		Args:       nodeArgs(n),
		Env:        nodeEnv(n, m.host.Paths().Home),
		Size:       n.PoolSize,
		Dir:        m.host.Paths().Home,
		Logger:     m.log,
	})
	if err != nil {
		// Embedded functions keep working; node functions answer this error.
		m.nodeErr = err
		m.log.Error("Node.js runtime unavailable; node functions will answer an error", "err", err)
		return nil
	}
	m.node = pool
	return nil
}

func (m *Module) needsNode() bool {
	if m.cfg.Runtime == runtimeNode {
		return true
	}
	set := m.store.Load()
	for _, k := range set.Keys() {
		if c, _ := set.Get(k); c.Code.Runtime == runtimeNode {
			return true
		}
	}
	return false
}

// Stop stops the Node.js workers and closes the query pools.
func (m *Module) Stop(ctx context.Context) error {
	var err error
	if m.node != nil {
		err = m.node.Close(ctx)
	}
	if m.sources != nil {
		err = errors.Join(err, m.sources.Close())
	}
	return err
}

// Ready reports the Node.js pool when node is the default runtime.
func (m *Module) Ready(ctx context.Context) error {
	if m.cfg.Runtime == runtimeNode && m.node == nil && m.nodeErr != nil {
		return fmt.Errorf("function: Node.js runtime: %w", m.nodeErr)
	}
	return nil
}

// Diagnose lists contracts ack cannot run (C#, Python).
func (m *Module) Diagnose(ctx context.Context) []module.Diagnostic {
	var out []module.Diagnostic
	seen := map[*Code]bool{}
	set := m.store.Load()
	for _, k := range set.Keys() {
		c, _ := set.Get(k)
		if c.Language == langJavaScript || seen[c.Code] {
			continue
		}
		seen[c.Code] = true
		out = append(out, module.Diagnostic{
			File:     m.file(c.Code),
			Severity: "warning",
			Message:  fmt.Sprintf("%s|%s|%s is a %s function: ack cannot run it, and its calls answer an error", c.ApplicationID, c.ProjectID, c.TransactionID, languageName(c.Language)),
		})
	}
	if m.sourcesErr != nil {
		out = append(out, module.Diagnostic{Severity: "warning", Message: fmt.Sprintf("function: syn.$d.query cannot use some FunctionSource entries: %v", m.sourcesErr)})
	}
	if m.cfg.Runtime == runtimeNode || m.needsNode() {
		if _, err := nodeworker.Find(m.cfg.NodeFunctionConfig.ExecutablePath); err != nil {
			out = append(out, module.Diagnostic{Severity: "error", Message: fmt.Sprintf("function: node functions are configured but %v", err)})
		}
	}
	return out
}

func languageName(lang string) string {
	switch lang {
	case langCSharp:
		return "C#"
	case langPython:
		return "Python"
	}
	return lang
}

// file returns the absolute path of code's file: the first contract root
// that holds it.
func (m *Module) file(code *Code) string {
	if p, ok := m.files.Load(code); ok {
		return p.(string)
	}
	p := filepath.Join(m.roots[0], filepath.FromSlash(code.File))
	for _, root := range m.roots {
		candidate := filepath.Join(root, filepath.FromSlash(code.File))
		if _, err := os.Stat(candidate); err == nil {
			p = candidate
			break
		}
	}
	m.files.Store(code, p)
	return p
}

// transacter is transact's in-process entry.
type transacter interface {
	Transact(ctx context.Context, req *wire.TransactionRequest) (*wire.TransactionResponse, error)
}

// transact returns the co-located transact module.
func (m *Module) transact() (transacter, error) {
	t, ok := m.host.Peers().Local(module.Transact)
	if !ok {
		return nil, errors.New("the transact module does not run in this process")
	}
	tr, ok := t.(transacter)
	if !ok {
		return nil, errors.New("the transact module has no in-process entry")
	}
	return tr, nil
}

var (
	_ module.Module       = (*Module)(nil)
	_ module.Executor     = (*Module)(nil)
	_ module.ReadyChecker = (*Module)(nil)
	_ module.Diagnoser    = (*Module)(nil)
)
