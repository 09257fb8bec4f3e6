// Package transact is ack's transact module: HandStack's transaction API.
// A browser (syn.js) posts a TransactionRequest naming a contract
// (contracts/transact/{App}/{Project}/{Tx}.json) and one of its services;
// transact checks the request against the contract, sends the statements to
// the module that runs them (dbclient, function) through module.Executor,
// and answers HandStack's TransactionResponse envelope.
package transact

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/internal/wire"
)

// Info describes the transact module to the host.
func Info() module.Info {
	return module.Info{
		ID:    module.Transact,
		Calls: []module.ID{module.DBClient, module.Function, module.Logger},
		New:   func() module.Module { return &Module{} },
	}
}

// Module is the transact module.
type Module struct {
	host    module.Host
	log     *slog.Logger
	cfg     Config
	store   *contract.Store[*Contract]
	router  *router
	metrics *metrics

	// push queues PSH (fire-and-forget) transactions for the workers.
	push chan pushJob
}

// pushJob is a PSH transaction that passed every check and waits to run.
type pushJob struct {
	r  *run
	b  *bound
	id string
}

// Provision reads the settings, registers the contract store and resolves
// every route, so that an unreachable executor fails the start.
func (m *Module) Provision(ctx context.Context, h module.Host) error {
	m.host = h
	m.log = h.Logger()
	cfg, err := loadConfig(h.Config(), h.Paths())
	if err != nil {
		return err
	}
	m.cfg = cfg
	roots, err := h.Config().ContractRoots()
	if err != nil {
		return fmt.Errorf("transact: %w", err)
	}
	m.store = contract.NewStore(contractKind(), roots, contract.Options{Logger: m.log})
	if err := h.Contracts().Register(m.store); err != nil {
		return fmt.Errorf("transact: %w", err)
	}
	if m.router, err = newRouter(cfg.RoutingCommandUri, h.Peers(), m.log); err != nil {
		return fmt.Errorf("transact: %w", err)
	}
	if m.metrics, err = newMetrics(h.Metrics()); err != nil {
		return fmt.Errorf("transact: metrics: %w", err)
	}
	m.push = make(chan pushJob, cfg.SecurityHardening.MaxConcurrentPushTasks)
	return nil
}

// Start runs the PSH workers.
func (m *Module) Start(ctx context.Context) error {
	workers := m.cfg.SecurityHardening.MaxConcurrentPushTasks
	m.host.Go("transact.push", func(ctx context.Context) error {
		g, ctx := errgroup.WithContext(ctx)
		for range workers {
			g.Go(func() error {
				for {
					select {
					case <-ctx.Done():
						return nil
					case job := <-m.push:
						err := m.dispatch(ctx, job.r, job.b, job.id)
						m.finish(ctx, job.r, err)
					}
				}
			})
		}
		return g.Wait()
	})
	return nil
}

// Stop has nothing to release: the host ends the PSH workers.
func (m *Module) Stop(ctx context.Context) error { return nil }

// Transact runs one transaction for another module of this process (the
// in-process entry HandStack calls event://transact.Events.TransactRequest).
// The caller is trusted like a BypassAuthorizeIP client: contracts, screens
// and inputs are checked, per-service roles are not. Failures are in-band
// (Acknowledge 0); a raw return type fills Raw and RawType. The error is
// reserved for a module that is not provisioned.
func (m *Module) Transact(ctx context.Context, req *wire.TransactionRequest) (*wire.TransactionResponse, error) {
	if m.store == nil {
		return nil, fmt.Errorf("transact: not provisioned")
	}
	return m.execute(ctx, call{req: req, path: "event", trusted: true}), nil
}

// Diagnose reports, for `ack check`, the RoutingCommandUri entries that name
// a module ack does not have (graphclient, command, prompter): transactions
// routed there fail.
func (m *Module) Diagnose(context.Context) []module.Diagnostic {
	if m.router == nil {
		return nil
	}
	var out []module.Diagnostic
	for _, key := range m.router.unavailable {
		t := m.router.table[key]
		out = append(out, module.Diagnostic{File: m.host.Config().File, Severity: "warning",
			Message: fmt.Sprintf("RoutingCommandUri[%q] = %s: %s; transactions routed there fail", key, t.url, t.unavailable)})
	}
	return out
}

var (
	_ module.Module    = (*Module)(nil)
	_ module.Diagnoser = (*Module)(nil)
)
