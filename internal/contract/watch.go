package contract

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxDebounces bounds how long a steady stream of events can postpone a
// reload, in units of Options.Debounce.
const maxDebounces = 20

// Run watches the roots until ctx ends, reloading the units touched by file
// events after Options.Debounce of quiet, and rescanning every root each
// Options.Resync (comparing size and mtime) to catch what events missed. It
// returns nil when ctx ends; reload failures are logged and kept in Status,
// never returned. Run must not be called twice at the same time.
func (s *Store[T]) Run(ctx context.Context) error {
	var w *watcher
	if s.opts.Watch {
		var err error
		if w, err = newWatcher(s.roots, s.log); err != nil {
			s.log.Warn("contract file watching unavailable; changes are seen at the periodic resync", "err", err, "resync", s.opts.Resync)
		} else {
			defer w.close()
		}
	}
	pending := map[scope]bool{}
	var since time.Time // when the first pending change arrived
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	schedule := func(scopes []scope) {
		if len(scopes) == 0 {
			return
		}
		for _, sc := range scopes {
			pending[sc] = true
		}
		now := time.Now()
		if since.IsZero() {
			since = now
		}
		timer.Reset(min(s.opts.Debounce, max(0, since.Add(maxDebounces*s.opts.Debounce).Sub(now))))
	}

	// Watches are in place before this first look, so nothing changed since
	// the first load (or during this look) is missed.
	schedule(s.resync(ctx, w))
	ticker := time.NewTicker(s.opts.Resync)
	defer ticker.Stop()

	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.fs.Events, w.fs.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			schedule(w.handle(ev))
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.log.Warn("contract file watcher", "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				schedule(s.wholeRoots())
			}
		case <-timer.C:
			scopes := make([]scope, 0, len(pending))
			for sc := range pending {
				scopes = append(scopes, sc)
			}
			clear(pending)
			since = time.Time{}
			if _, _, err := s.reload(ctx, scopes, readNamed); err != nil && ctx.Err() == nil {
				s.log.Warn("contract reload failed", "err", err)
			}
		case <-ticker.C:
			schedule(s.resync(ctx, w))
		}
	}
}

// resync rescans every root comparing size and mtime. With a watcher, it
// also attaches roots that appeared and watches directories that were
// missed; those are returned to be read at the next reload.
func (s *Store[T]) resync(ctx context.Context, w *watcher) []scope {
	if w != nil {
		w.attachMissing() // before the walk, which then covers what appeared
	}
	_, dirs, err := s.reload(ctx, s.wholeRoots(), readChanged)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("contract resync failed", "err", err)
		}
		return nil
	}
	if w == nil {
		return nil
	}
	return w.sync(dirs)
}

// watcher keeps fsnotify watches on every directory of the roots (fsnotify
// is not recursive), and on the nearest existing ancestor of a root that
// does not exist yet. It is used by Run's goroutine only.
type watcher struct {
	fs     *fsnotify.Watcher
	roots  []string
	log    *slog.Logger
	tree   map[string]bool // directories watched inside roots
	anchor map[int]string  // missing root → the existing ancestor watched for it
	full   bool            // the watch limit was hit (logged once)
}

func newWatcher(roots []string, log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{fs: fw, roots: roots, log: log, tree: map[string]bool{}, anchor: map[int]string{}}
	for i := range roots {
		w.attach(i)
	}
	return w, nil
}

func (w *watcher) close() { _ = w.fs.Close() }

// handle updates the watches after an event and returns the scopes it
// touches.
func (w *watcher) handle(ev fsnotify.Event) []scope {
	name := filepath.Clean(ev.Name)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		w.removeTree(name)
	}
	if (ev.Has(fsnotify.Create) || ev.Has(fsnotify.Chmod)) && !w.tree[name] && w.tree[filepath.Dir(name)] && !skipped(filepath.Base(name)) {
		// A directory made or moved in (or made readable): watch its whole
		// tree now, before the reload walks it, so that nothing created
		// inside is missed.
		if info, err := os.Lstat(name); err == nil && info.IsDir() {
			w.addTree(name)
		}
	}
	var out []scope
	for i, root := range w.roots {
		if rel, ok := relUnder(root, name); ok {
			out = append(out, scope{i, rel})
		}
		// A missing root, or an ancestor of it, may have appeared, or the
		// root itself gone.
		if !w.tree[root] && (w.anchor[i] == "" || name == root || isUnder(root, name)) && w.attach(i) {
			out = append(out, scope{root: i})
		}
	}
	return out
}

// attach watches root i's tree when it exists, else its nearest existing
// ancestor, and reports whether the root is watched.
func (w *watcher) attach(i int) bool {
	root := w.roots[i]
	for {
		if info, err := os.Stat(root); err == nil && info.IsDir() {
			w.setAnchor(i, "")
			w.addTree(root)
			return w.tree[root]
		}
		anc := nearestDir(root)
		if anc == w.anchor[i] {
			return false
		}
		// Look again once the watch is in place: a directory made in
		// between would otherwise go unnoticed.
		w.setAnchor(i, anc)
	}
}

// attachMissing attaches the roots that are not watched.
func (w *watcher) attachMissing() {
	for i, root := range w.roots {
		if !w.tree[root] {
			w.attach(i)
		}
	}
}

func (w *watcher) setAnchor(i int, dir string) {
	old := w.anchor[i]
	if dir == "" {
		delete(w.anchor, i)
	} else {
		w.anchor[i] = dir
		w.add(dir)
	}
	if old != "" && old != dir {
		w.unwatchUnused(old)
	}
}

// drop stops watching a directory of a root's tree.
func (w *watcher) drop(dir string) {
	delete(w.tree, dir)
	w.unwatchUnused(dir)
}

func (w *watcher) unwatchUnused(dir string) {
	if w.tree[dir] {
		return
	}
	for _, a := range w.anchor {
		if a == dir {
			return
		}
	}
	_ = w.fs.Remove(dir)
}

// addTree watches dir and every directory under it, except hidden ones,
// node_modules and symlinks.
func (w *watcher) addTree(dir string) {
	if !w.tree[dir] {
		if !w.add(dir) {
			return
		}
		w.tree[dir] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // gone, or unreadable: the reload reports it
	}
	for _, d := range ents {
		if d.IsDir() && !skipped(d.Name()) {
			w.addTree(filepath.Join(dir, d.Name()))
		}
	}
}

// removeTree forgets the watches at and under p (removed or moved away: a
// moved directory's watches would keep reporting its old path).
func (w *watcher) removeTree(p string) {
	for d := range w.tree {
		if d == p || isUnder(d, p) {
			w.drop(d)
		}
	}
}

func (w *watcher) add(dir string) bool {
	err := w.fs.Add(dir)
	switch {
	case err == nil:
		return true
	case errors.Is(err, syscall.ENOSPC):
		if !w.full {
			w.full = true
			w.log.Warn("contract file watch limit reached (raise fs.inotify.max_user_watches); some changes are seen only at the periodic resync", "dir", dir)
		}
	case !isNotExist(err):
		w.log.Warn("cannot watch contract directory", "dir", dir, "err", err)
	}
	return false
}

// sync watches the directories a full walk found unwatched and drops watches
// on directories it did not find. It returns the newly watched directories
// as scopes, since changes in them may have been missed.
func (w *watcher) sync(dirs []string) []scope {
	seen := make(map[string]bool, len(dirs))
	var out []scope
	for _, d := range dirs {
		seen[d] = true
		if w.tree[d] || !w.add(d) {
			continue
		}
		w.tree[d] = true
		for i, root := range w.roots {
			if rel, ok := relUnder(root, d); ok {
				out = append(out, scope{i, rel})
			}
		}
	}
	for d := range w.tree {
		if !seen[d] {
			w.drop(d)
		}
	}
	return out
}

// relUnder returns name relative to root (slash-separated) when it lies in
// root and is not skipped.
func relUnder(root, name string) (string, bool) {
	if name == root {
		return "", true
	}
	if !isUnder(name, root) {
		return "", false
	}
	rel, err := filepath.Rel(root, name)
	if err != nil {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	return rel, !skippedRel(rel)
}

// isUnder reports whether p lies strictly inside dir.
func isUnder(p, dir string) bool {
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(p, dir)
}

// nearestDir returns the nearest existing ancestor directory of p.
func nearestDir(p string) string {
	d := filepath.Dir(p)
	for {
		if info, err := os.Stat(d); err == nil && info.IsDir() {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return d
		}
		d = parent
	}
}
