package contract_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

func TestInitialLoad(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a1=1\na2=2\n")
	acktest.WriteFile(t, filepath.Join(root, "sub/deep/b.kv"), "# comment\nb=3\n")
	acktest.WriteFile(t, filepath.Join(root, "sub/readme.txt"), "not=matched\n")
	acktest.WriteFile(t, filepath.Join(root, ".git/c.kv"), "hidden=dir\n")
	acktest.WriteFile(t, filepath.Join(root, "node_modules/d.kv"), "node=modules\n")
	acktest.WriteFile(t, filepath.Join(root, "sub/.e.kv"), "hidden=file\n")

	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	if s.Status().Loaded || s.Load().Len() != 0 {
		t.Fatal("store is loaded before its first load")
	}
	n := swaps(s)
	rep := reload(t, s)

	set := s.Load()
	if got, want := set.Keys(), []string{"a1", "a2", "b"}; !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
	if set.Generation() != 1 || rep.Generation != 1 || n.Load() != 1 {
		t.Fatalf("generation %d, report %d, swaps %d; want 1, 1, 1", set.Generation(), rep.Generation, n.Load())
	}
	if !slices.Equal(rep.Added, []string{"a1", "a2", "b"}) {
		t.Fatalf("added = %v", rep.Added)
	}
	wantValue(t, s, "b", "3")
	st := s.Status()
	if !st.Loaded || st.Entries != 3 || st.Units != 2 || len(st.Errors) != 0 || st.Generation != 1 {
		t.Fatalf("status = %+v", st)
	}
}

func TestEmptyAndMissingRoots(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "not", "yet")
	s := contract.NewStore(kvKind(), []string{empty, missing}, contract.Options{})
	rep := reload(t, s)
	if s.Load().Len() != 0 || len(rep.Failed) != 0 || !s.Status().Loaded {
		t.Fatalf("report %+v, status %+v", rep, s.Status())
	}
	// The first load publishes generation 1 even when empty, so that
	// readiness can tell "loaded, nothing there" from "not loaded".
	if s.Load().Generation() != 1 {
		t.Fatalf("generation = %d, want 1", s.Load().Generation())
	}
	acktest.WriteFile(t, filepath.Join(missing, "a.kv"), "a=1")
	reload(t, s)
	wantValue(t, s, "a", "1")
}

func TestNoChangeNoSwap(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	n := swaps(s)
	reload(t, s)
	rep := reload(t, s)
	if rep.Generation != 1 || s.Load().Generation() != 1 || n.Load() != 1 {
		t.Fatalf("generation %d/%d after an unchanged reload, swaps %d", rep.Generation, s.Load().Generation(), n.Load())
	}
	// Touching a file (new mtime, same content) is no change either.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, "a.kv"), later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(context.Background(), "a.kv"); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	if s.Load().Generation() != 1 || n.Load() != 1 {
		t.Fatalf("generation %d, swaps %d after a touch", s.Load().Generation(), n.Load())
	}
}

func TestChangeAddDelete(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1\nshared=a")
	acktest.WriteFile(t, filepath.Join(root, "b.kv"), "b=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	n := swaps(s)
	reload(t, s)

	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=2\nnew=x")
	rep := reload(t, s)
	if !slices.Equal(rep.Changed, []string{"a"}) || !slices.Equal(rep.Added, []string{"new"}) || !slices.Equal(rep.Removed, []string{"shared"}) {
		t.Fatalf("report = %+v", rep)
	}
	wantValue(t, s, "a", "2")
	if n.Load() != 2 || s.Load().Generation() != 2 {
		t.Fatalf("swaps %d, generation %d; want 2, 2", n.Load(), s.Load().Generation())
	}

	remove(t, filepath.Join(root, "a.kv"))
	rep = reload(t, s)
	if !slices.Equal(rep.Removed, []string{"a", "new"}) || len(rep.Added)+len(rep.Changed) != 0 {
		t.Fatalf("report after delete = %+v", rep)
	}
	if got := s.Load().Keys(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("keys after delete = %v, want exactly b's", got)
	}
}

func TestBrokenFileKeepsLastGoodVersion(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a.kv")
	acktest.WriteFile(t, a, "a=1\nb=2\n")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	n := swaps(s)
	reload(t, s)

	acktest.WriteFile(t, a, "a=changed\nb=2\nbroken line\n")
	rep := reload(t, s)
	wantValue(t, s, "a", "1")
	if len(rep.Failed) != 1 || n.Load() != 1 {
		t.Fatalf("failed = %+v, swaps %d", rep.Failed, n.Load())
	}
	errs := errorsOf(s)
	if len(errs) != 1 || errs[0].Path != a || errs[0].Line != 3 || !strings.Contains(errs[0].Message, "broken line") {
		t.Fatalf("status errors = %+v, want %s line 3", errs, a)
	}
	if errs[0].String() != a+":3: "+errs[0].Message {
		t.Fatalf("String() = %q", errs[0].String())
	}

	acktest.WriteFile(t, a, "a=fixed\nb=2\n")
	rep = reload(t, s)
	wantValue(t, s, "a", "fixed")
	if len(rep.Failed) != 0 || len(errorsOf(s)) != 0 {
		t.Fatalf("errors after the fix: %+v / %+v", rep.Failed, errorsOf(s))
	}
}

func TestBrokenNewFileServesNothing(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "oops")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	if s.Load().Len() != 0 || len(errorsOf(s)) != 1 || errorsOf(s)[0].Line != 1 {
		t.Fatalf("len %d, errors %+v", s.Load().Len(), errorsOf(s))
	}
}

func TestParsePanicIsContained(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	k := kvKind()
	parse := k.Parse
	k.Parse = func(fsys fs.FS, unit string) ([]entry, error) {
		data, _ := fs.ReadFile(fsys, unit)
		if strings.Contains(string(data), "panic") {
			panic("parser bug")
		}
		return parse(fsys, unit)
	}
	s := contract.NewStore(k, []string{root}, contract.Options{})
	reload(t, s)
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=panic")
	reload(t, s)
	wantValue(t, s, "a", "1")
	if errs := errorsOf(s); len(errs) != 1 || !strings.Contains(errs[0].Message, "parser bug") {
		t.Fatalf("errors = %+v", errs)
	}
}

func TestDuplicateKeyRejectsTheLaterUnit(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a.kv"), filepath.Join(root, "b.kv")
	acktest.WriteFile(t, a, "k=from-a")
	acktest.WriteFile(t, b, "k=from-b\nonly-b=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)

	wantValue(t, s, "k", "from-a")
	wantValue(t, s, "only-b", "<none>") // the later unit is rejected whole
	errs := errorsOf(s)
	if len(errs) != 1 || errs[0].Path != b || !strings.Contains(errs[0].Message, "k is already defined in "+a) {
		t.Fatalf("errors = %+v", errs)
	}

	// Once the earlier definition goes, the later file loads.
	remove(t, a)
	reload(t, s)
	wantValue(t, s, "k", "from-b")
	wantValue(t, s, "only-b", "1")
	if len(errorsOf(s)) != 0 {
		t.Fatalf("errors = %+v", errorsOf(s))
	}
}

func TestDuplicateKeyAcrossRoots(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	acktest.WriteFile(t, filepath.Join(second, "a.kv"), "k=second")
	acktest.WriteFile(t, filepath.Join(first, "z.kv"), "k=first")
	s := contract.NewStore(kvKind(), []string{first, second}, contract.Options{})
	reload(t, s)
	wantValue(t, s, "k", "first") // roots in order, before paths
	if errs := errorsOf(s); len(errs) != 1 || errs[0].Path != filepath.Join(second, "a.kv") {
		t.Fatalf("errors = %+v", errs)
	}
}

func TestMultiFileUnit(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "fn/one/meta.kv"), "one=meta1")
	acktest.WriteFile(t, filepath.Join(root, "fn/one/main.js"), "code1")
	acktest.WriteFile(t, filepath.Join(root, "fn/two/meta.kv"), "two=meta2")
	acktest.WriteFile(t, filepath.Join(root, "fn/two/main.js"), "code2")
	s := contract.NewStore(fnKind(), []string{root}, contract.Options{})
	reload(t, s)
	wantValue(t, s, "one", "meta1|code1")
	if st := s.Status(); st.Units != 2 {
		t.Fatalf("units = %d, want 2 (main.js belongs to meta.kv's unit)", st.Units)
	}

	// A change to the second file of a unit parses the unit again.
	acktest.WriteFile(t, filepath.Join(root, "fn/one/main.js"), "code1 v2")
	rep := reload(t, s)
	wantValue(t, s, "one", "meta1|code1 v2")
	if !slices.Equal(rep.Changed, []string{"one"}) {
		t.Fatalf("changed = %v, want only one", rep.Changed)
	}

	// Removing it breaks the unit, which keeps its last good version.
	remove(t, filepath.Join(root, "fn/one/main.js"))
	reload(t, s)
	wantValue(t, s, "one", "meta1|code1 v2")
	if errs := errorsOf(s); len(errs) != 1 || errs[0].Path != filepath.Join(root, "fn/one/meta.kv") || errs[0].Message != "main.js is missing" {
		t.Fatalf("errors = %+v", errs)
	}
	// Refreshing by the changed file's own path reaches the unit.
	acktest.WriteFile(t, filepath.Join(root, "fn/one/main.js"), "code1 v3")
	if _, err := s.Refresh(context.Background(), "fn/one/main.js"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "one", "meta1|code1 v3")

	// Removing the whole unit drops it.
	remove(t, filepath.Join(root, "fn/one"))
	reload(t, s)
	if got := s.Load().Keys(); !slices.Equal(got, []string{"two"}) {
		t.Fatalf("keys = %v", got)
	}
}

func TestInFlightSetIsUnchangedBySwap(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1\nb=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	held := s.Load()

	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=2\nc=2")
	reload(t, s)
	if e, _ := held.Get("a"); e.Value != "1" {
		t.Fatalf("held set sees a=%q", e.Value)
	}
	if _, ok := held.Get("c"); ok || !slices.Equal(held.Keys(), []string{"a", "b"}) || held.Generation() != 1 {
		t.Fatalf("held set changed: keys %v, generation %d", held.Keys(), held.Generation())
	}
	if cur := s.Load(); cur == held || !slices.Equal(cur.Keys(), []string{"a", "c"}) {
		t.Fatalf("current keys = %v", cur.Keys())
	}
}

func TestOnSwapSeesOldAndNew(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	var gens [][2]uint64
	s.OnSwap(func(old, new *contract.Set[entry]) {
		if new != s.Load() {
			t.Error("OnSwap ran before the new set was published")
		}
		gens = append(gens, [2]uint64{old.Generation(), new.Generation()})
	})
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=2")
	reload(t, s)
	reload(t, s)
	if !slices.Equal(gens, [][2]uint64{{1, 2}}) {
		t.Fatalf("OnSwap calls = %v, want one (1→2)", gens)
	}
}

func TestRefreshReloadsOnlyThatUnit(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "HDS/ZZD/a.kv"), "a=1")
	acktest.WriteFile(t, filepath.Join(root, "HDS/ZZD/b.kv"), "b=1")
	acktest.WriteFile(t, filepath.Join(other, "c.kv"), "c=1")
	s := contract.NewStore(kvKind(), []string{root, other}, contract.Options{})
	reload(t, s)

	acktest.WriteFile(t, filepath.Join(root, "HDS/ZZD/a.kv"), "a=2")
	acktest.WriteFile(t, filepath.Join(root, "HDS/ZZD/b.kv"), "b=2")
	rep, err := s.Refresh(context.Background(), "HDS/ZZD/a.kv")
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "a", "2")
	wantValue(t, s, "b", "1") // not refreshed
	if !slices.Equal(rep.Changed, []string{"a"}) {
		t.Fatalf("changed = %v", rep.Changed)
	}

	// Windows-style separators, as HandStack clients may send them.
	if _, err := s.Refresh(context.Background(), `HDS\ZZD\b.kv`); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "b", "2")

	// A refresh of a deleted file drops its entries; of a file in another root too.
	remove(t, filepath.Join(root, "HDS/ZZD/a.kv"))
	remove(t, filepath.Join(other, "c.kv"))
	if _, err := s.Refresh(context.Background(), "HDS/ZZD/a.kv"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "a", "<none>")
	wantValue(t, s, "c", "1")
	if _, err := s.Refresh(context.Background(), "c.kv"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "c", "<none>")

	// A directory refreshes what is under it.
	acktest.WriteFile(t, filepath.Join(root, "HDS/ZZD/new.kv"), "new=1")
	if _, err := s.Refresh(context.Background(), "HDS"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "new", "1")
}

func TestRefreshRejectsEscapingPaths(t *testing.T) {
	root := t.TempDir()
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	for _, rel := range []string{"/etc/passwd", filepath.Join(root, "a.kv"), "../a.kv", "HDS/../../a.kv", `..\a.kv`, `\a.kv`, "a\x00.kv"} {
		if _, err := s.Refresh(context.Background(), rel); err == nil {
			t.Errorf("Refresh(%q) succeeded", rel)
		}
	}
}

func TestFileVanishingMidScan(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "b.kv"), "b=1")
	acktest.WriteFile(t, filepath.Join(root, "c.kv"), "c=1")
	k := kvKind()
	match := k.Match
	k.Match = func(rel string) bool {
		if rel == "b.kv" {
			// The directory is listed already: c.kv vanishes between the
			// listing and the read.
			_ = os.Remove(filepath.Join(root, "c.kv"))
		}
		return match(rel)
	}
	s := contract.NewStore(k, []string{root}, contract.Options{})
	reload(t, s)
	if got := s.Load().Keys(); !slices.Equal(got, []string{"b"}) || len(errorsOf(s)) != 0 {
		t.Fatalf("keys %v, errors %+v", got, errorsOf(s))
	}
}

func TestSymlinks(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "dir/a.kv"), "a=1")
	acktest.WriteFile(t, filepath.Join(outside, "linked.kv"), "linked=1")
	acktest.WriteFile(t, filepath.Join(outside, "sub/far.kv"), "far=1")
	for _, l := range [][2]string{
		{filepath.Join(root, "dir"), filepath.Join(root, "dir/loop")}, // a loop
		{filepath.Join(outside, "sub"), filepath.Join(root, "away")},  // a directory elsewhere
		{filepath.Join(outside, "linked.kv"), filepath.Join(root, "linked.kv")},
		{filepath.Join(root, "nowhere.kv"), filepath.Join(root, "dangling.kv")},
	} {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	// A root that is itself a symlink is followed.
	linkRoot := filepath.Join(t.TempDir(), "root")
	if err := os.Symlink(root, linkRoot); err != nil {
		t.Fatal(err)
	}
	s := contract.NewStore(kvKind(), []string{linkRoot}, contract.Options{})
	reload(t, s)
	if got := s.Load().Keys(); !slices.Equal(got, []string{"a", "linked"}) || len(errorsOf(s)) != 0 {
		t.Fatalf("keys %v, errors %+v; want a and the symlinked file only", got, errorsOf(s))
	}
}

func TestUnreadableFileAndDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("permissions are not enforced for root")
	}
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	acktest.WriteFile(t, filepath.Join(root, "d/b.kv"), "b=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	if err := os.Chmod(filepath.Join(root, "a.kv"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "d"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "d"), 0o755) })
	reg := contract.NewRegistry(contract.Options{})
	if err := reg.Register(s); err != nil {
		t.Fatal(err)
	}
	prom := prometheus.NewPedanticRegistry()
	prom.MustRegister(reg.Collector())
	rep := reload(t, s)
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b", "1") // what the unreadable directory held is kept
	if len(rep.Failed) != 2 || !strings.Contains(rep.Failed[0].Message, "permission denied") {
		t.Fatalf("failed = %+v", rep.Failed)
	}
	// The same errors again are not another failed reload.
	reload(t, s)
	const failures = "ack_contract_reloads_total{kind=test.kv,result=failure}"
	if got := gather(t, prom)[failures]; got != 1 {
		t.Fatalf("%s = %v, want 1", failures, got)
	}
	if err := os.Chmod(filepath.Join(root, "a.kv"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	if errs := errorsOf(s); len(errs) != 0 {
		t.Fatalf("errors after fixing permissions: %+v", errs)
	}
}

func TestReloadHonoursContext(t *testing.T) {
	root := t.TempDir()
	acktest.WriteFile(t, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Reload(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reload with a cancelled context: %v", err)
	}
	if s.Status().Loaded || s.Load().Len() != 0 {
		t.Fatal("a cancelled reload published something")
	}
}

// After any sequence of valid edits, what the store serves (incrementally
// patched or rebuilt) equals a fresh load of the same files, duplicates and
// their errors included.
func TestIncrementalMatchesFreshLoad(t *testing.T) {
	// Few keys: duplicates all the time (rebuilds); many: mostly patches.
	for _, nkeys := range []int{6, 200} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("keys=%d/seed=%d", nkeys, seed), func(t *testing.T) {
				incrementalMatchesFreshLoad(t, nkeys, seed)
			})
		}
	}
}

func incrementalMatchesFreshLoad(t *testing.T, nkeys int, seed uint64) {
	roots := []string{t.TempDir(), t.TempDir()}
	files := []string{"a.kv", "b.kv", "d/c.kv", "d/e/f.kv"}
	var keys []string
	for i := range nkeys {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	s := contract.NewStore(kvKind(), roots, contract.Options{})
	reload(t, s)
	for step := range 200 {
		name := filepath.Join(roots[rng.IntN(len(roots))], files[rng.IntN(len(files))])
		if rng.IntN(4) == 0 {
			remove(t, name)
		} else {
			var b strings.Builder
			for range rng.IntN(3) + 1 {
				fmt.Fprintf(&b, "%s=%d\n", keys[rng.IntN(len(keys))], step)
			}
			acktest.WriteFile(t, name, b.String())
		}
		if rng.IntN(2) == 0 {
			reload(t, s)
		} else {
			rel, _ := filepath.Rel(filepath.Dir(filepath.Dir(name)), name)
			for _, root := range roots {
				if r, err := filepath.Rel(root, name); err == nil && !strings.HasPrefix(r, "..") {
					rel = r
				}
			}
			if _, err := s.Refresh(context.Background(), filepath.ToSlash(rel)); err != nil {
				t.Fatal(err)
			}
		}

		fresh := contract.NewStore(kvKind(), roots, contract.Options{})
		reload(t, fresh)
		got, want := s.Load(), fresh.Load()
		if !slices.Equal(got.Keys(), want.Keys()) {
			t.Fatalf("step %d: keys %v, fresh load %v", step, got.Keys(), want.Keys())
		}
		for _, k := range want.Keys() {
			g, _ := got.Get(k)
			w, _ := want.Get(k)
			if g != w {
				t.Fatalf("step %d: %s = %+v, fresh load %+v", step, k, g, w)
			}
		}
		if g, w := errorsOf(s), errorsOf(fresh); !slices.Equal(g, w) {
			t.Fatalf("step %d: errors %+v, fresh load %+v", step, g, w)
		}
	}
}

func TestEmptyFileKeepsLastGoodVersion(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "a.kv")
	acktest.WriteFile(t, a, "a=1\n")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(t, s)
	acktest.WriteFile(t, a, "")
	rep := reload(t, s)
	wantValue(t, s, "a", "1")
	if len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Message, "empty file") {
		t.Fatalf("an empty file must be reported and keep its entries: %+v", rep.Failed)
	}
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	reload(t, s)
	if s.Load().Len() != 0 || len(errorsOf(s)) != 0 {
		t.Fatalf("after delete: len %d, errors %+v", s.Load().Len(), errorsOf(s))
	}
}
