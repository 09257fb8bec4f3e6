package contract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"path/filepath"
	"slices"
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
	entries map[string]slot[T]
	keys    []string // sorted
}

// slot is an entry with the version of the unit content it came from, so that
// a reload can tell changed entries from carried-over ones without comparing
// values of an unknown type.
type slot[T any] struct {
	val T
	ver uint64
}

// Get returns the entry with key.
func (s *Set[T]) Get(key string) (T, bool) {
	sl, ok := s.entries[key]
	return sl.val, ok
}

// Keys returns every key in order. The slice must not be modified.
func (s *Set[T]) Keys() []string { return s.keys }

// Len is the number of entries.
func (s *Set[T]) Len() int { return len(s.keys) }

// Generation increases by one with every published change.
func (s *Set[T]) Generation() uint64 { return s.gen }

// fileKey names a file or unit: a root (its index in the store's roots) and
// a slash-separated path relative to it.
type fileKey struct {
	root int
	rel  string
}

// fileState is what the store last read of one matched file.
type fileState struct {
	size   int64
	mtime  time.Time
	sum    [sha256.Size]byte
	statOK bool // false after a failed read, so that the next look reads again
}

// unit is one parsed unit: its entries, or its error with its last good entries.
type unit[T any] struct {
	files   []string // rel of every matched file of the unit, sorted
	entries []T
	ver     uint64     // changes whenever entries do; 0 when there never were any
	err     *FileError // read or parse error; entries are then the last good ones
	// readFailed says err is a read error: the file sums are then not what
	// the entries came from.
	readFailed bool
}

// Store loads, watches and serves one Kind of contract.
type Store[T any] struct {
	kind  Kind[T]
	roots []string
	opts  Options
	log   *slog.Logger

	current atomic.Pointer[Set[T]]

	// mu serialises reloads and guards the fields below it.
	mu      sync.Mutex
	files   map[fileKey]*fileState
	units   map[fileKey]*unit[T]
	order   []fileKey // unit keys by precedence (root, then path); nil when stale
	dupErrs map[fileKey]FileError
	dirErrs map[fileKey]FileError
	lastVer uint64
	onSwap  []func(old, new *Set[T])

	// stmu guards what Status and metrics read, so that they never wait for
	// a reload in progress.
	stmu        sync.Mutex
	status      Status
	reloadsOK   uint64
	reloadsFail uint64
	lastSuccess time.Time
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
	clean := make([]string, len(roots))
	for i, r := range roots {
		clean[i] = filepath.Clean(r)
	}
	s := &Store[T]{
		kind:    k,
		roots:   clean,
		opts:    opts,
		log:     log.With("contract_kind", k.Name),
		files:   map[fileKey]*fileState{},
		units:   map[fileKey]*unit[T]{},
		dupErrs: map[fileKey]FileError{},
		dirErrs: map[fileKey]FileError{},
	}
	s.current.Store(&Set[T]{entries: map[string]slot[T]{}})
	s.status = Status{Kind: k.Name, Module: k.Module, Roots: clean, Errors: []FileError{}}
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

// Status returns the store's current state. It does not wait for a reload in
// progress.
func (s *Store[T]) Status() Status {
	s.stmu.Lock()
	defer s.stmu.Unlock()
	st := s.status
	st.Roots = slices.Clone(s.status.Roots)
	st.Errors = slices.Clone(s.status.Errors)
	return st
}

// Reload rescans every root, reading every file again, and publishes a new
// generation if anything changed. Units whose files hash the same are not
// parsed again.
func (s *Store[T]) Reload(ctx context.Context) (Report, error) {
	rep, _, err := s.reload(ctx, s.wholeRoots(), readAll)
	return rep, err
}

// Refresh reloads what is at rel (a file or a directory, slash- or
// backslash-separated, relative to the roots) in every root: the file's unit
// is parsed again, or its entries dropped when it is gone. It is what
// HandStack's .../refresh endpoints call. Absolute paths and ".." are
// rejected.
func (s *Store[T]) Refresh(ctx context.Context, rel string) (Report, error) {
	clean, err := cleanRel(rel)
	if err != nil {
		return Report{Kind: s.kind.Name, Generation: s.Load().gen}, fmt.Errorf("contract %s: refresh: %w", s.kind.Name, err)
	}
	scopes := make([]scope, len(s.roots))
	for i := range s.roots {
		scopes[i] = scope{root: i, rel: clean}
	}
	rep, _, err := s.reload(ctx, scopes, readNamed)
	return rep, err
}

// cleanRel turns a client-supplied relative path into a clean slash path,
// or rejects it. "" and "." mean the whole root.
func cleanRel(rel string) (string, error) {
	if filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" {
		return "", fmt.Errorf("path %q is absolute", rel)
	}
	r := strings.ReplaceAll(rel, `\`, "/")
	if strings.HasPrefix(r, "/") {
		return "", fmt.Errorf("path %q is absolute", rel)
	}
	for _, elem := range strings.Split(r, "/") {
		if elem == ".." {
			return "", fmt.Errorf("path %q leaves the contract root", rel)
		}
	}
	r = path.Clean(r)
	if r == "." {
		return "", nil
	}
	if strings.ContainsRune(r, 0) {
		return "", fmt.Errorf("path %q is invalid", rel)
	}
	return r, nil
}

func (s *Store[T]) wholeRoots() []scope {
	scopes := make([]scope, len(s.roots))
	for i := range s.roots {
		scopes[i] = scope{root: i}
	}
	return scopes
}

// unitOf maps a matched file to its unit.
func (s *Store[T]) unitOf(rel string) string {
	if s.kind.Unit == nil {
		return rel
	}
	return s.kind.Unit(rel)
}

func (s *Store[T]) abs(k fileKey) string {
	if k.rel == "" {
		return s.roots[k.root]
	}
	return filepath.Join(s.roots[k.root], filepath.FromSlash(k.rel))
}

// readPolicy says which files a reload reads again to compare their content.
// Files the store does not know, and files that failed to read, are always
// read.
type readPolicy int

const (
	// readChanged reads files whose size or mtime differ (resync).
	readChanged readPolicy = iota
	// readNamed also reads files a scope names exactly (a file event or a
	// Refresh): two writes within one mtime tick can leave size and mtime
	// unchanged.
	readNamed
	// readAll reads every file (Reload).
	readAll
)

// reload looks at scopes, re-reads what may have changed (see readPolicy),
// parses the affected units in parallel and publishes the result. It returns
// the directories it walked, for the watcher.
func (s *Store[T]) reload(ctx context.Context, scopes []scope, policy readPolicy) (Report, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	obs, err := s.observe(ctx, scopes)
	if err != nil {
		return Report{Kind: s.kind.Name, Generation: s.Load().gen}, nil, fmt.Errorf("contract %s: scan: %w", s.kind.Name, err)
	}
	jobs := s.plan(obs, policy)
	results := make([]jobResult[T], len(jobs))
	err = parallel(ctx, len(jobs), func(i int) { results[i] = s.run(jobs[i]) })
	if err != nil {
		return Report{Kind: s.kind.Name, Generation: s.Load().gen}, nil, fmt.Errorf("contract %s: load: %w", s.kind.Name, err)
	}

	prevErrs := s.errorPaths()
	touched := map[string]bool{}
	var changes []unitChange[T]
	for i, j := range jobs {
		if s.apply(j, results[i]) {
			changes = append(changes, unitChange[T]{prev: j.prev, cur: s.units[j.key]})
		}
		if !results[i].unchanged {
			touched[s.abs(j.key)] = true
			for _, rel := range results[i].present {
				touched[s.abs(fileKey{j.key.root, rel})] = true
			}
		}
	}
	dirsChanged := s.applyDirErrors(obs)

	s.stmu.Lock()
	loaded := s.status.Loaded
	s.stmu.Unlock()
	rep := Report{Kind: s.kind.Name, Generation: s.Load().gen}
	if len(changes) > 0 || !loaded {
		rep = s.publish(!loaded, changes)
	}
	failed := s.currentErrors()
	rep.Failed = failed

	worked := len(touched) > 0 || dirsChanged || !loaded
	failure := false
	for _, fe := range failed {
		if touched[fe.Path] || !prevErrs[fe.Path] {
			failure = true
			if worked {
				s.log.Warn("contract failed to load; its last good version keeps serving", "file", fe.Path, "line", fe.Line, "err", fe.Message)
			}
		}
	}
	s.record(rep, failed, worked, failure)
	return rep, obs.dirs, nil
}

// job is one unit to read and maybe parse again.
type job[T any] struct {
	key   fileKey
	files []string // the unit's files as seen now, sorted
	prev  *unit[T]
}

type jobResult[T any] struct {
	states    map[string]fileState // files read (or failed to read)
	present   []string             // files that exist, sorted
	unchanged bool                 // same files and content as last time, or the same read error
	entries   []T
	err       *FileError
	readFail  bool
}

// plan compares what observe saw with what the store knows and returns the
// units to read again.
func (s *Store[T]) plan(obs *observation, policy readPolicy) []job[T] {
	named := map[scope]bool{}
	if policy == readNamed {
		for _, sc := range obs.scopes {
			named[sc] = true
		}
	}
	dirty := map[fileKey]bool{} // unit keys
	for fk, ob := range obs.files {
		st := s.files[fk]
		if st == nil || policy == readAll || !st.statOK || named[scope(fk)] {
			dirty[fileKey{fk.root, s.unitOf(fk.rel)}] = true
			continue
		}
		info, err := ob.stat()
		if err != nil || info.Size() != st.size || !info.ModTime().Equal(st.mtime) {
			dirty[fileKey{fk.root, s.unitOf(fk.rel)}] = true
		}
	}
	gone := map[fileKey]bool{}
	for fk := range s.files {
		if _, seen := obs.files[fk]; !seen && obs.covers(fk) {
			gone[fk] = true
			dirty[fileKey{fk.root, s.unitOf(fk.rel)}] = true
		}
	}
	if len(dirty) == 0 {
		return nil
	}
	files := map[fileKey][]string{}
	for fk := range obs.files {
		uk := fileKey{fk.root, s.unitOf(fk.rel)}
		if dirty[uk] {
			files[uk] = append(files[uk], fk.rel)
		}
	}
	jobs := make([]job[T], 0, len(dirty))
	for uk := range dirty {
		j := job[T]{key: uk, prev: s.units[uk], files: files[uk]}
		if j.prev != nil {
			// Files of the unit outside the scope looked at are still there.
			for _, rel := range j.prev.files {
				fk := fileKey{uk.root, rel}
				if _, seen := obs.files[fk]; !seen && !gone[fk] {
					j.files = append(j.files, rel)
				}
			}
		}
		slices.Sort(j.files)
		j.files = slices.Compact(j.files)
		jobs = append(jobs, j)
	}
	return jobs
}

// run reads a unit's files and parses it unless its content is unchanged.
// It runs in parallel with other units: it only reads store state.
func (s *Store[T]) run(j job[T]) jobResult[T] {
	res := jobResult[T]{states: make(map[string]fileState, len(j.files))}
	data := make(map[string][]byte, len(j.files))
	var readErr *FileError
	for _, rel := range j.files {
		fk := fileKey{j.key.root, rel}
		b, st, err := readFile(s.abs(fk))
		switch {
		case isNotExist(err):
			continue // removed while we looked
		case err != nil:
			if prev := s.files[fk]; prev != nil {
				st.sum = prev.sum
			}
			res.states[rel] = st
			res.present = append(res.present, rel)
			if readErr == nil {
				readErr = &FileError{Kind: s.kind.Name, Path: s.abs(fk), Message: "cannot read: " + pathErrorText(err)}
			}
			continue
		}
		res.states[rel] = st
		res.present = append(res.present, rel)
		data[rel] = b
	}
	if len(res.present) == 0 {
		return res
	}
	if readErr != nil {
		res.err, res.readFail = readErr, true
		res.unchanged = j.prev != nil && j.prev.readFailed && *j.prev.err == *readErr
		return res
	}
	// The same bytes parse the same way (a broken file included), so they
	// are not parsed again.
	if j.prev != nil && !j.prev.readFailed && slices.Equal(j.prev.files, res.present) {
		same := true
		for _, rel := range res.present {
			if old := s.files[fileKey{j.key.root, rel}]; old == nil || old.sum != res.states[rel].sum {
				same = false
				break
			}
		}
		if same {
			res.unchanged = true
			return res
		}
	}
	// A file is empty for a moment while a writer truncates and rewrites it
	// in place; its last good version keeps serving until the content lands.
	// Deleting the file is how contracts are removed.
	for _, rel := range res.present {
		if len(bytes.TrimSpace(data[rel])) == 0 {
			res.err = &FileError{Kind: s.kind.Name, Path: s.abs(fileKey{j.key.root, rel}),
				Message: "empty file (still being written?); delete the file to remove its contracts"}
			return res
		}
	}
	res.entries, res.err = s.parse(j.key, data, res.states)
	return res
}

// apply records a job's result in the store's state and reports whether the
// unit's published entries may have changed.
func (s *Store[T]) apply(j job[T], r jobResult[T]) bool {
	if j.prev != nil {
		for _, rel := range j.prev.files {
			delete(s.files, fileKey{j.key.root, rel})
		}
	}
	for _, rel := range r.present {
		st := r.states[rel]
		s.files[fileKey{j.key.root, rel}] = &st
	}
	switch {
	case len(r.present) == 0:
		if j.prev == nil {
			return false
		}
		delete(s.units, j.key)
		delete(s.dupErrs, j.key)
		s.order = nil
		return true
	case r.unchanged:
		return false
	}
	u := &unit[T]{files: r.present, err: r.err, readFailed: r.readFail}
	if r.err == nil {
		s.lastVer++
		u.entries, u.ver = r.entries, s.lastVer
	} else if j.prev != nil {
		u.entries, u.ver = j.prev.entries, j.prev.ver // the last good version keeps serving
	}
	if j.prev == nil {
		s.order = nil
	}
	s.units[j.key] = u
	return j.prev == nil || u.ver != j.prev.ver
}

// applyDirErrors replaces the directory errors inside the observed scopes and
// reports whether they changed.
func (s *Store[T]) applyDirErrors(obs *observation) bool {
	changed := false
	for k := range s.dirErrs {
		if _, still := obs.dirErrs[k]; !still && obs.coversDir(k) {
			delete(s.dirErrs, k)
			changed = true
		}
	}
	for k, fe := range obs.dirErrs {
		if _, had := s.dirErrs[k]; !had {
			changed = true
		}
		s.dirErrs[k] = fe
	}
	return changed
}

// unitChange is a unit whose entries changed in a reload: prev is nil for a
// new unit, cur nil for a removed one.
type unitChange[T any] struct {
	prev, cur *unit[T]
}

// publish builds the next Set, swaps it in and reports the change. The next
// Set is the current one with the changed units' entries replaced (copy on
// write), or, when duplicate keys are involved, rebuilt from every unit.
func (s *Store[T]) publish(first bool, changes []unitChange[T]) Report {
	old := s.current.Load()
	var entries map[string]slot[T]
	var rep Report
	ok := false
	if !first {
		entries, rep, ok = s.patch(old, changes)
	}
	if !ok {
		entries, rep = s.rebuild(old)
	}
	if len(rep.Added)+len(rep.Changed)+len(rep.Removed) == 0 && !first {
		return rep
	}
	slices.Sort(rep.Added)
	slices.Sort(rep.Changed)
	slices.Sort(rep.Removed)
	set := &Set[T]{gen: old.gen + 1, entries: entries, keys: mergeKeys(old.keys, rep.Added, rep.Removed)}
	s.current.Store(set)
	rep.Generation = set.gen
	for _, fn := range s.onSwap {
		fn(old, set)
	}
	s.log.Info("contracts reloaded", "generation", set.gen, "entries", len(set.keys),
		"added", len(rep.Added), "changed", len(rep.Changed), "removed", len(rep.Removed))
	return rep
}

// patch applies changes to a copy of old's entries. It declines (false) when
// a duplicate key is or may become involved, since precedence then depends
// on every unit.
func (s *Store[T]) patch(old *Set[T], changes []unitChange[T]) (map[string]slot[T], Report, bool) {
	rep := Report{Kind: s.kind.Name, Generation: old.gen}
	if len(s.dupErrs) > 0 {
		return nil, rep, false
	}
	claimed := map[string]*unit[T]{}
	for _, c := range changes {
		if c.cur == nil {
			continue
		}
		for _, e := range c.cur.entries {
			k := s.kind.Key(e)
			if sl, ok := old.entries[k]; ok && (c.prev == nil || sl.ver != c.prev.ver) {
				return nil, rep, false // defined by another unit
			}
			if u, ok := claimed[k]; ok && u != c.cur {
				return nil, rep, false // defined by two changed units
			}
			claimed[k] = c.cur
		}
	}
	entries := maps.Clone(old.entries)
	touched := map[string]bool{}
	for _, c := range changes {
		if c.prev == nil {
			continue
		}
		for _, e := range c.prev.entries {
			// A unit rejected as a duplicate (and now removed) owns nothing.
			if k := s.kind.Key(e); entries[k].ver == c.prev.ver {
				delete(entries, k)
				touched[k] = true
			}
		}
	}
	for _, c := range changes {
		if c.cur == nil {
			continue
		}
		for _, e := range c.cur.entries {
			k := s.kind.Key(e)
			entries[k] = slot[T]{val: e, ver: c.cur.ver}
			touched[k] = true
		}
	}
	for k := range touched {
		s.diff(&rep, k, old.entries, entries)
	}
	return entries, rep, true
}

// rebuild builds the entries from every unit in precedence order. A unit
// defining a key an earlier unit defines is rejected whole.
func (s *Store[T]) rebuild(old *Set[T]) (map[string]slot[T], Report) {
	if s.order == nil {
		s.order = make([]fileKey, 0, len(s.units))
		for k := range s.units {
			s.order = append(s.order, k)
		}
		slices.SortFunc(s.order, func(a, b fileKey) int {
			if a.root != b.root {
				return a.root - b.root
			}
			return strings.Compare(a.rel, b.rel)
		})
	}
	n := 0
	for _, u := range s.units {
		n += len(u.entries)
	}
	entries := make(map[string]slot[T], n)
	clear(s.dupErrs)
	for _, uk := range s.order {
		u := s.units[uk]
		if k, ok := s.firstTaken(u, entries); ok {
			s.dupErrs[uk] = FileError{Kind: s.kind.Name, Path: s.abs(uk),
				Message: fmt.Sprintf("%s is already defined in %s", k, s.definedIn(k, u.ver))}
			continue
		}
		for _, e := range u.entries {
			entries[s.kind.Key(e)] = slot[T]{val: e, ver: u.ver}
		}
	}
	rep := Report{Kind: s.kind.Name, Generation: old.gen}
	for k := range entries {
		s.diff(&rep, k, old.entries, entries)
	}
	for k := range old.entries {
		if _, ok := entries[k]; !ok {
			rep.Removed = append(rep.Removed, k)
		}
	}
	return entries, rep
}

// diff records what happened to key k between two generations' entries
// (a removal only when k is in old).
func (s *Store[T]) diff(rep *Report, k string, old, cur map[string]slot[T]) {
	was, inOld := old[k]
	now, inNew := cur[k]
	switch {
	case inNew && !inOld:
		rep.Added = append(rep.Added, k)
	case inOld && !inNew:
		rep.Removed = append(rep.Removed, k)
	case inOld && was.ver != now.ver:
		rep.Changed = append(rep.Changed, k)
	}
}

// mergeKeys returns the sorted keys of old without removed and with added
// (both sorted), sharing old when nothing was added or removed.
func mergeKeys(old, added, removed []string) []string {
	if len(added)+len(removed) == 0 {
		return old
	}
	out := make([]string, 0, len(old)+len(added)-len(removed))
	for _, k := range old {
		if _, gone := slices.BinarySearch(removed, k); gone {
			continue
		}
		for len(added) > 0 && added[0] < k {
			out = append(out, added[0])
			added = added[1:]
		}
		out = append(out, k)
	}
	return append(out, added...)
}

// firstTaken returns the first key of u that an earlier unit already defines.
func (s *Store[T]) firstTaken(u *unit[T], entries map[string]slot[T]) (string, bool) {
	for _, e := range u.entries {
		k := s.kind.Key(e)
		if _, ok := entries[k]; ok {
			return k, true
		}
	}
	return "", false
}

// definedIn names the unit that defines key, for a duplicate's message.
func (s *Store[T]) definedIn(key string, notVer uint64) string {
	for _, uk := range s.order {
		u := s.units[uk]
		if u.ver == notVer {
			continue
		}
		if _, dup := s.dupErrs[uk]; dup {
			continue
		}
		for _, e := range u.entries {
			if s.kind.Key(e) == key {
				return s.abs(uk)
			}
		}
	}
	return "another file"
}

// currentErrors lists every failing unit and unreadable directory, by path.
func (s *Store[T]) currentErrors() []FileError {
	out := []FileError{}
	for _, u := range s.units {
		if u.err != nil {
			out = append(out, *u.err)
		}
	}
	for _, fe := range s.dupErrs {
		out = append(out, fe)
	}
	for _, fe := range s.dirErrs {
		out = append(out, fe)
	}
	slices.SortFunc(out, func(a, b FileError) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func (s *Store[T]) errorPaths() map[string]bool {
	s.stmu.Lock()
	defer s.stmu.Unlock()
	out := make(map[string]bool, len(s.status.Errors))
	for _, fe := range s.status.Errors {
		out[fe.Path] = true
	}
	return out
}

// record updates status and metrics after a reload. worked says whether the
// reload found anything to do; a reload that found nothing is not counted.
func (s *Store[T]) record(rep Report, failed []FileError, worked, failure bool) {
	set := s.Load()
	now := time.Now()
	s.stmu.Lock()
	defer s.stmu.Unlock()
	s.status.Loaded = true
	s.status.Generation = set.gen
	s.status.Entries = set.Len()
	s.status.Units = len(s.units)
	s.status.Errors = failed
	s.status.LastReload = now
	if !worked {
		return
	}
	if failure {
		s.reloadsFail++
		return
	}
	s.reloadsOK++
	s.lastSuccess = now
}

var (
	_ Handle        = (*Store[int])(nil)
	_ defaulter     = (*Store[int])(nil)
	_ metricsSource = (*Store[int])(nil)
)
