package contract

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Registry holds every store of a process, so that the host can load, watch,
// list and reload them in one place without knowing their entry types.
type Registry struct {
	defaults Options
	mu       sync.Mutex
	handles  []Handle
}

// NewRegistry returns an empty registry whose stores watch, debounce and
// resync as defaults says (the host's settings), whatever their module passed.
func NewRegistry(defaults Options) *Registry { return &Registry{defaults: defaults} }

// defaulter is implemented by Store: the registry applies the host's watch
// settings and logger to every store registered with it.
type defaulter interface{ applyDefaults(Options) }

// Register adds a store. Names must be unique.
func (r *Registry) Register(h Handle) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.handles {
		if o.Name() == h.Name() {
			return fmt.Errorf("contract kind %q registered twice", h.Name())
		}
	}
	if d, ok := h.(defaulter); ok {
		d.applyDefaults(r.defaults)
	}
	r.handles = append(r.handles, h)
	return nil
}

// Handles returns the registered stores ordered by name.
func (r *Registry) Handles() []Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Handle(nil), r.handles...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Module returns the stores owned by module id.
func (r *Registry) Module(id string) []Handle {
	var out []Handle
	for _, h := range r.Handles() {
		if h.Module() == id {
			out = append(out, h)
		}
	}
	return out
}

// ReloadAll reloads every store (or those of one module when module is not
// empty) and returns their reports.
func (r *Registry) ReloadAll(ctx context.Context, module string) ([]Report, error) {
	var reps []Report
	var errs []error
	for _, h := range r.Handles() {
		if module != "" && h.Module() != module {
			continue
		}
		rep, err := h.Reload(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", h.Name(), err))
			continue
		}
		reps = append(reps, rep)
	}
	return reps, errors.Join(errs...)
}
