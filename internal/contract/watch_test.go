package contract_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

// watched returns a loaded store over roots with Run watching them. The
// resync is long, so that only events can explain what the tests see.
func watched(t *testing.T, k contract.Kind[entry], roots ...string) *contract.Store[entry] {
	t.Helper()
	s := contract.NewStore(k, roots, contract.Options{Watch: true, Debounce: 20 * time.Millisecond, Resync: time.Hour})
	reload(t, s)
	loaded := s.Status().LastReload
	run(t, s)
	// Run's first look (after its watches are in place) reads files written
	// within the last moments again; writing while it does could let it
	// parse a half-written file, which is not what these tests are about.
	eventually(t, "Run's first resync", func() bool { return s.Status().LastReload.After(loaded) })
	return s
}

func TestWatchAddChangeDelete(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := watched(t, kvKind(), root)

	acktest.WriteFile(t, filepath.Join(root, "b.kv"), "b=1")
	eventuallyValue(t, s, "b", "1")
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=2")
	eventuallyValue(t, s, "a", "2")
	remove(t, filepath.Join(root, "a.kv"))
	eventuallyValue(t, s, "a", "<none>")
	wantValue(t, s, "b", "1")
}

func TestWatchRenameOver(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := watched(t, kvKind(), root)
	n := swaps(s)
	writeOver(t, filepath.Join(root, "a.kv"), "a=2")
	eventuallyValue(t, s, "a", "2")
	// The editor's temporary file is hidden, so its entries never appear.
	if got := s.Load().Keys(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("keys = %v", got)
	}
	reload(t, s) // settles any reload still pending: none may swap again
	if n.Load() != 1 {
		t.Fatalf("swaps = %d for one save, want 1", n.Load())
	}
}

func TestWatchOneSwapPerChange(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=0")
	s := watched(t, kvKind(), root)
	n := swaps(s)
	// Several writes to one file in a burst are one change.
	f, err := os.OpenFile(filepath.Join(root, "a.kv"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"\nb=1", "\nc=1", "\nd=1"} {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	eventuallyValue(t, s, "d", "1")
	reload(t, s)
	if n.Load() != 1 {
		t.Fatalf("swaps = %d, want 1", n.Load())
	}
}

func TestWatchDirectories(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	s := watched(t, kvKind(), root)

	// A new directory tree, made fast (mkdir -p and writes race the watch).
	acktest.WriteFile(t, filepath.Join(root, "x/y/z/a.kv"), "a=1")
	eventuallyValue(t, s, "a", "1")
	// Files added later in the new directories are seen by events.
	acktest.WriteFile(t, filepath.Join(root, "x/y/z/b.kv"), "b=1")
	eventuallyValue(t, s, "b", "1")

	// A whole tree moved in (no event for its files, only the directory).
	acktest.WriteFile(t, filepath.Join(outside, "tree/p/q/c.kv"), "c=1")
	acktest.WriteFile(t, filepath.Join(outside, "tree/d.kv"), "d=1")
	if err := os.Rename(filepath.Join(outside, "tree"), filepath.Join(root, "tree")); err != nil {
		t.Fatal(err)
	}
	eventuallyValue(t, s, "c", "1")
	eventuallyValue(t, s, "d", "1")
	// It is watched: a change deep inside is seen.
	acktest.WriteFile(t, filepath.Join(root, "tree/p/q/c.kv"), "c=2")
	eventuallyValue(t, s, "c", "2")

	// Moved within the root: the old paths are forgotten, the new watched.
	if err := os.Rename(filepath.Join(root, "tree"), filepath.Join(root, "x/moved")); err != nil {
		t.Fatal(err)
	}
	acktest.WriteFile(t, filepath.Join(root, "x/moved/p/q/c.kv"), "c=3")
	eventuallyValue(t, s, "c", "3")
	if errs := errorsOf(s); len(errs) != 0 {
		t.Fatalf("errors = %+v", errs)
	}

	// Moved out: its entries go.
	if err := os.Rename(filepath.Join(root, "x/moved"), filepath.Join(outside, "gone")); err != nil {
		t.Fatal(err)
	}
	eventuallyValue(t, s, "c", "<none>")
	eventuallyValue(t, s, "d", "<none>")
	// Changes in the moved-out tree are not ours any more.
	acktest.WriteFile(t, filepath.Join(outside, "gone/p/q/e.kv"), "e=1")
	acktest.WriteFile(t, filepath.Join(root, "x/y/z/f.kv"), "f=1")
	eventuallyValue(t, s, "f", "1")
	wantValue(t, s, "e", "<none>")

	// A removed directory drops its entries.
	remove(t, filepath.Join(root, "x"))
	eventuallyValue(t, s, "a", "<none>")
	if got := s.Load().Keys(); len(got) != 0 {
		t.Fatalf("keys = %v", got)
	}
}

func TestWatchBrokenThenFixed(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a.kv")
	acktest.WriteFile(t, a, "a=1")
	s := watched(t, kvKind(), root)

	acktest.WriteFile(t, a, "a=2\nbad")
	eventually(t, "the error in status", func() bool { return len(errorsOf(s)) == 1 })
	if e := errorsOf(s)[0]; e.Path != a || e.Line != 2 {
		t.Fatalf("error = %+v", e)
	}
	wantValue(t, s, "a", "1")
	acktest.WriteFile(t, a, "a=3")
	eventuallyValue(t, s, "a", "3")
	if errs := errorsOf(s); len(errs) != 0 {
		t.Fatalf("errors after the fix = %+v", errs)
	}
}

func TestWatchRootCreatedAfterStart(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "contracts", "test")
	s := watched(t, kvKind(), root)
	acktest.WriteFile(t, filepath.Join(root, "sub/a.kv"), "a=1")
	eventuallyValue(t, s, "a", "1")
	acktest.WriteFile(t, filepath.Join(root, "sub/b.kv"), "b=1")
	eventuallyValue(t, s, "b", "1")

	// The root removed and made again.
	remove(t, filepath.Join(base, "contracts"))
	eventuallyValue(t, s, "a", "<none>")
	acktest.WriteFile(t, filepath.Join(root, "c.kv"), "c=1")
	eventuallyValue(t, s, "c", "1")
	acktest.WriteFile(t, filepath.Join(root, "c.kv"), "c=2")
	eventuallyValue(t, s, "c", "2")
}

func TestWatchMultiFileUnit(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "fn/one/meta.kv"), "one=m")
	acktest.WriteFile(t, filepath.Join(root, "fn/one/main.js"), "v1")
	s := watched(t, fnKind(), root)
	acktest.WriteFile(t, filepath.Join(root, "fn/one/main.js"), "v2")
	eventuallyValue(t, s, "one", "m|v2")
}

func TestRunWithoutPriorLoad(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{Watch: true, Resync: time.Hour})
	run(t, s)
	eventually(t, "the first load", func() bool { return s.Status().Loaded })
	wantValue(t, s, "a", "1")
}

// Without watching, the periodic resync alone picks changes up.
func TestResyncWithoutWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := t.TempDir()
		acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
		s := contract.NewStore(kvKind(), []string{root}, contract.Options{Resync: time.Minute})
		reload(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		synctest.Wait()

		acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=2 and longer")
		acktest.WriteFile(t, filepath.Join(root, "b.kv"), "b=1")
		time.Sleep(59 * time.Second)
		synctest.Wait()
		wantValue(t, s, "a", "1") // not before the resync is due
		time.Sleep(2 * time.Second)
		synctest.Wait()
		wantValue(t, s, "a", "2 and longer")
		wantValue(t, s, "b", "1")

		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

func TestRunStopsCleanly(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "d/a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root, filepath.Join(root, "missing")}, contract.Options{Watch: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	eventually(t, "the first load", func() bool { return s.Status().Loaded })
	acktest.WriteFile(t, filepath.Join(root, "d/b.kv"), "b=1") // an event in flight while stopping
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	// TestMain's goleak check fails the package if the watcher or a worker
	// is left running.
}

// The registry's options (the host's settings) win over the module's.
func TestRegistryDefaultsTurnWatchingOn(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{Watch: false, Resync: time.Hour})
	reg := contract.NewRegistry(contract.Options{Watch: true, Debounce: 5 * time.Millisecond})
	if err := reg.Register(s); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(contract.NewStore(kvKind(), nil, contract.Options{})); err == nil {
		t.Fatal("a kind registered twice")
	}
	reload(t, s)
	run(t, s)
	acktest.WriteFile(t, filepath.Join(root, "b.kv"), "b=1") // only a watcher sees it within the hour
	eventuallyValue(t, s, "b", "1")
}
