package contract

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Set is one immutable generation of a store's entries. A request takes a Set
// once (Store.Load) and uses it to the end, so a reload never changes what a
// request in flight sees.
type Set[T any] struct {
	gen     uint64
	entries map[string]T
	keys    []string // sorted
}

// Get returns the entry with key.
func (s *Set[T]) Get(key string) (T, bool) {
	v, ok := s.entries[key]
	return v, ok
}

// Keys returns every key in order. The slice must not be modified.
func (s *Set[T]) Keys() []string { return s.keys }

// Len is the number of entries.
func (s *Set[T]) Len() int { return len(s.keys) }

// Generation increases by one with every published change.
func (s *Set[T]) Generation() uint64 { return s.gen }

// unit is one parsed unit: its entries, or its error with its last good entries.
type unit[T any] struct {
	root    int
	rel     string
	sum     [sha256.Size]byte
	entries []T
	err     *FileError
}

// Store loads, watches and serves one Kind of contract.
type Store[T any] struct {
	kind  Kind[T]
	roots []string
	opts  Options
	log   *slog.Logger

	current atomic.Pointer[Set[T]]

	mu      sync.Mutex // serialises reloads
	units   map[string]*unit[T]
	status  Status
	onSwap  []func(old, new *Set[T])
}

// NewStore returns a store of kind k over roots (absolute directories, in
// priority order; a missing root is allowed and watched for).
func NewStore[T any](k Kind[T], roots []string, opts Options) *Store[T] {
	if opts.Debounce <= 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store[T]{
		kind:  k,
		roots: roots,
		opts:  opts,
		log:   log.With("contract_kind", k.Name),
		units: map[string]*unit[T]{},
	}
	s.current.Store(&Set[T]{entries: map[string]T{}})
	s.status = Status{Kind: k.Name, Module: k.Module, Roots: roots, Errors: []FileError{}}
	return s
}

// applyDefaults takes the registry's watch settings, and its logger when the
// module gave none. It runs before Run starts.
func (s *Store[T]) applyDefaults(d Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Watch = d.Watch
	if d.Debounce > 0 {
		s.opts.Debounce = d.Debounce
	}
	if d.Resync > 0 {
		s.opts.Resync = d.Resync
	}
	if s.opts.Logger == nil && d.Logger != nil {
		s.log = d.Logger.With("contract_kind", s.kind.Name)
	}
}

// Name is the kind's name.
func (s *Store[T]) Name() string { return s.kind.Name }

// Module is the owning module's ID.
func (s *Store[T]) Module() string { return s.kind.Module }

// Load returns the current generation. It never blocks.
func (s *Store[T]) Load() *Set[T] { return s.current.Load() }

// OnSwap registers fn to run after each published change, before Reload
// returns. fn must be quick; it runs with reloads serialised.
func (s *Store[T]) OnSwap(fn func(old, new *Set[T])) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSwap = append(s.onSwap, fn)
}

// Status returns the store's current state.
func (s *Store[T]) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Errors = append([]FileError(nil), s.status.Errors...)
	return st
}

// Reload rescans every root and publishes a new generation if anything
// changed. Unchanged files are not parsed again.
func (s *Store[T]) Reload(ctx context.Context) (Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked(ctx)
}

// Refresh reloads after a change to one file (rel is relative to any root).
// It is what HandStack's .../refresh endpoints call.
func (s *Store[T]) Refresh(ctx context.Context, rel string) (Report, error) {
	if !fs.ValidPath(strings.TrimPrefix(filepath.ToSlash(rel), "/")) {
		return Report{}, fmt.Errorf("refresh %q: invalid path", rel)
	}
	return s.Reload(ctx)
}

// Run watches the roots until ctx ends, reloading after changes.
func (s *Store[T]) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("contract resync failed", "err", err)
			}
		}
	}
}

func (s *Store[T]) reloadLocked(ctx context.Context) (Report, error) {
	found, err := s.scan(ctx)
	if err != nil {
		return Report{Kind: s.kind.Name}, err
	}
	next := make(map[string]*unit[T], len(found))
	for id, f := range found {
		prev := s.units[id]
		if prev != nil && prev.sum == f.sum {
			next[id] = prev
			continue
		}
		u := &unit[T]{root: f.root, rel: f.rel, sum: f.sum}
		entries, perr := s.parse(f.root, f.rel)
		if perr != nil {
			u.err = perr
			if prev != nil {
				u.entries = prev.entries // the last good version keeps serving
			}
		} else {
			u.entries = entries
		}
		next[id] = u
	}
	return s.publish(next), nil
}

type scanned struct {
	root int
	rel  string
	sum  [sha256.Size]byte
}

// scan walks the roots and fingerprints every unit by the content of all the
// files that map to it.
func (s *Store[T]) scan(ctx context.Context) (map[string]scanned, error) {
	type acc struct {
		root  int
		rel   string
		files []string
	}
	units := map[string]*acc{}
	for ri, root := range s.roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			name := d.Name()
			if d.IsDir() {
				if p != root && (strings.HasPrefix(name, ".") || name == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if !s.kind.Match(rel) {
				return nil
			}
			u := rel
			if s.kind.Unit != nil {
				u = s.kind.Unit(rel)
			}
			id := fmt.Sprintf("%d:%s", ri, u)
			a := units[id]
			if a == nil {
				a = &acc{root: ri, rel: u}
				units[id] = a
			}
			a.files = append(a.files, p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", root, err)
		}
	}
	out := make(map[string]scanned, len(units))
	for id, a := range units {
		sort.Strings(a.files)
		h := sha256.New()
		for _, f := range a.files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue // removed while scanning; the next event or resync settles it
			}
			fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
			h.Write(data)
		}
		var sum [sha256.Size]byte
		copy(sum[:], h.Sum(nil))
		out[id] = scanned{root: a.root, rel: a.rel, sum: sum}
	}
	return out, nil
}

func (s *Store[T]) parse(root int, rel string) (entries []T, fe *FileError) {
	abs := filepath.Join(s.roots[root], filepath.FromSlash(rel))
	defer func() {
		// A parser bug must not take down the process or the last good version.
		if r := recover(); r != nil {
			entries, fe = nil, &FileError{Kind: s.kind.Name, Path: abs, Message: fmt.Sprintf("parser failed: %v", r)}
		}
	}()
	entries, err := s.kind.Parse(os.DirFS(s.roots[root]), rel)
	if err != nil {
		fe = &FileError{Kind: s.kind.Name, Path: abs, Message: err.Error()}
		var pe *ParseError
		if errors.As(err, &pe) {
			fe.Line = pe.Line
			fe.Message = pe.Err.Error()
		}
		return nil, fe
	}
	return entries, nil
}

// publish builds the next Set from units, swaps it in and reports the change.
func (s *Store[T]) publish(next map[string]*unit[T]) Report {
	ids := make([]string, 0, len(next))
	for id := range next {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := next[ids[i]], next[ids[j]]
		if a.root != b.root {
			return a.root < b.root
		}
		return a.rel < b.rel
	})
	entries := map[string]T{}
	owner := map[string]string{}
	var failed []FileError
	for _, id := range ids {
		u := next[id]
		abs := filepath.Join(s.roots[u.root], filepath.FromSlash(u.rel))
		var dup *FileError
		for _, e := range u.entries {
			k := s.kind.Key(e)
			if o, ok := owner[k]; ok && o != id {
				dup = &FileError{Kind: s.kind.Name, Path: abs, Message: fmt.Sprintf("%s is already defined in %s", k, path.Join(s.roots[next[o].root], next[o].rel))}
				break
			}
		}
		if dup != nil {
			u.err = dup
			continue
		}
		for _, e := range u.entries {
			k := s.kind.Key(e)
			entries[k] = e
			owner[k] = id
		}
		if u.err != nil {
			failed = append(failed, *u.err)
		}
	}
	old := s.current.Load()
	rep := Report{Kind: s.kind.Name, Generation: old.gen, Failed: failed}
	for k := range entries {
		if _, ok := old.entries[k]; !ok {
			rep.Added = append(rep.Added, k)
		}
	}
	for k := range old.entries {
		if _, ok := entries[k]; !ok {
			rep.Removed = append(rep.Removed, k)
		}
	}
	for id, u := range next {
		if prev := s.units[id]; prev != nil && prev.sum != u.sum && u.err == nil {
			for _, e := range u.entries {
				if k := s.kind.Key(e); old.entries != nil {
					if _, ok := old.entries[k]; ok {
						rep.Changed = append(rep.Changed, k)
					}
				}
			}
		}
	}
	sort.Strings(rep.Added)
	sort.Strings(rep.Removed)
	sort.Strings(rep.Changed)
	changed := len(rep.Added)+len(rep.Removed)+len(rep.Changed) > 0 || !s.status.Loaded
	s.units = next
	if changed {
		keys := make([]string, 0, len(entries))
		for k := range entries {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		set := &Set[T]{gen: old.gen + 1, entries: entries, keys: keys}
		s.current.Store(set)
		rep.Generation = set.gen
		for _, fn := range s.onSwap {
			fn(old, set)
		}
	}
	for _, f := range failed {
		s.log.Warn("contract failed to load; its last good version keeps serving", "file", f.Path, "line", f.Line, "err", f.Message)
	}
	s.status.Loaded = true
	s.status.Generation = s.current.Load().gen
	s.status.Entries = len(entries)
	s.status.Units = len(next)
	s.status.Errors = append([]FileError{}, failed...)
	s.status.LastReload = time.Now()
	return rep
}

var _ Handle = (*Store[int])(nil)
