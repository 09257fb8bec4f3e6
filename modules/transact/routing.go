package transact

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"

	"github.com/ack-dev/ack/internal/module"
)

// commandModules maps a CommandType to the ack module that runs it. G, C
// and P (graphclient, command, prompter) have no ack module.
var commandModules = map[string]module.ID{"D": module.DBClient, "F": module.Function}

// target is one resolved destination of module calls.
type target struct {
	module module.ID
	url    string          // as configured, for logs only
	exec   module.Executor // nil when unavailable
	// unavailable explains why exec is nil (logged, not sent to clients).
	unavailable string
}

// router resolves HandStack's route keys "App|Project|Cmd|Env" to executors.
// It is built once at Provision; requests only read it.
type router struct {
	table    map[string]*target // RoutingCommandUri, resolved
	fallback map[string]*target // by CommandType, when the table is empty
	// unavailable lists the table keys whose module ack does not have, for
	// `ack check`.
	unavailable []string
}

// newRouter resolves every RoutingCommandUri entry through peers. An entry
// naming an ack module that cannot be reached fails the start; an entry for a
// module ack does not have (graphclient, command, prompter) is kept as
// unavailable, so that only the requests needing it fail. With no table,
// dbclient is required (through the host's peers) and function is optional.
func newRouter(table map[string]string, peers module.Peers, log *slog.Logger) (*router, error) {
	r := &router{table: map[string]*target{}, fallback: map[string]*target{}}
	var errs []error
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw := table[key]
		id, err := urlModule(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("RoutingCommandUri[%q]: %w", key, err))
			continue
		}
		t := &target{module: id, url: raw}
		if !knownModule(id) {
			t.unavailable = fmt.Sprintf("module %q is not part of ack", id)
			log.Warn("route names a module ack does not have; transactions using it will fail", "route", key, "url", raw)
			r.unavailable = append(r.unavailable, key)
			r.table[key] = t
			continue
		}
		exec, err := peers.Executor(id, raw) // event:// means in-process only
		if err != nil {
			errs = append(errs, fmt.Errorf("RoutingCommandUri[%q]: %w", key, err))
			continue
		}
		t.exec = exec
		r.table[key] = t
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(table) > 0 {
		return r, nil
	}
	for _, cmd := range []string{"D", "F"} {
		id := commandModules[cmd]
		t := &target{module: id}
		exec, err := peers.Executor(id, "")
		switch {
		case err == nil:
			t.exec = exec
		case cmd == "D":
			return nil, fmt.Errorf("transact needs dbclient: it is not loaded in this process and no peer or RoutingCommandUri names it: %w", err)
		default:
			t.unavailable = fmt.Sprintf("module %s is neither loaded nor configured as a peer", id)
		}
		r.fallback[cmd] = t
	}
	return r, nil
}

func knownModule(id module.ID) bool {
	for _, m := range commandModules {
		if m == id {
			return true
		}
	}
	return false
}

// urlModule names the module a HandStack URL points at: the first path
// segment of http(s)://host/dbclient/api/query, or the first dotted part of
// event://dbclient.Events.DbClientRequest.
func urlModule(raw string) (module.ID, error) {
	if rest, ok := strings.CutPrefix(raw, "event://"); ok {
		id, _, _ := strings.Cut(rest, ".")
		if id == "" {
			return "", fmt.Errorf("%q: no module in the event name", raw)
		}
		return module.ID(strings.ToLower(id)), nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) or event:// URL", raw)
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if seg == "" {
		return "", fmt.Errorf("%q has no module in its path (want /dbclient/... or /function/...)", raw)
	}
	return module.ID(strings.ToLower(seg)), nil
}

// routeKey builds HandStack's routeSegmentID.
func routeKey(workID, app, project, cmd, env string) string {
	k := app + "|" + project + "|" + cmd + "|" + env
	if workID != "" {
		k = workID + "|" + k
	}
	return k
}

// resolve finds the target for a route key: the exact key, then the key with
// the project replaced by "*". With no table, the CommandType's module
// through the host's peers.
func (r *router) resolve(workID, app, project, cmd, env string) (*target, string, bool) {
	key := routeKey(workID, app, project, cmd, env)
	if len(r.table) == 0 {
		t, ok := r.fallback[cmd]
		return t, key, ok
	}
	if t, ok := r.table[key]; ok {
		return t, key, true
	}
	t, ok := r.table[routeKey(workID, app, "*", cmd, env)]
	return t, key, ok
}
