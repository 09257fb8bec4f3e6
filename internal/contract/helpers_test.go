package contract_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

// entry is one "key=value" line of a .kv test contract.
type entry struct {
	Key, Value, Unit string
}

// kvKind reads *.kv files: one "key=value" per line, "#" comments. A line
// without "=" is an error at that line.
func kvKind() contract.Kind[entry] {
	return contract.Kind[entry]{
		Name:   "test.kv",
		Module: "test",
		Match:  func(rel string) bool { return strings.HasSuffix(rel, ".kv") },
		Parse: func(fsys fs.FS, unit string) ([]entry, error) {
			data, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, err
			}
			return parseKV(data, unit)
		},
		Key: func(e entry) string { return e.Key },
	}
}

func parseKV(data []byte, unit string) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &contract.ParseError{Path: unit, Line: n, Err: fmt.Errorf("missing '=' in %q", line)}
		}
		out = append(out, entry{Key: k, Value: v, Unit: unit})
	}
	return out, nil
}

// fnKind is a two-file unit like HandStack functions: fn/<name>/meta.kv
// holds the keys and fn/<name>/main.js must exist beside it; both map to
// the meta.kv unit. Each entry's Value is the meta value + "|" + main.js.
func fnKind() contract.Kind[entry] {
	return contract.Kind[entry]{
		Name:   "test.fn",
		Module: "test",
		Match: func(rel string) bool {
			return path.Base(rel) == "meta.kv" || path.Base(rel) == "main.js"
		},
		Unit: func(rel string) string { return path.Join(path.Dir(rel), "meta.kv") },
		Parse: func(fsys fs.FS, unit string) ([]entry, error) {
			meta, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, err
			}
			main, err := fs.ReadFile(fsys, path.Join(path.Dir(unit), "main.js"))
			if err != nil {
				return nil, errors.New("main.js is missing")
			}
			es, err := parseKV(meta, unit)
			for i := range es {
				es[i].Value += "|" + strings.TrimSpace(string(main))
			}
			return es, err
		},
		Key: func(e entry) string { return e.Key },
	}
}

// writeOver saves like an editor: write a temporary file, rename it over.
func writeOver(t testing.TB, name, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp")
	acktest.WriteFile(t, tmp, content)
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func remove(t testing.TB, name string) {
	t.Helper()
	if err := os.RemoveAll(name); err != nil {
		t.Fatal(err)
	}
}

func reload[T any](t testing.TB, s *contract.Store[T]) contract.Report {
	t.Helper()
	rep, err := s.Reload(context.Background())
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return rep
}

// value returns the value of key in the store's current set, or "<none>".
func value(s *contract.Store[entry], key string) string {
	e, ok := s.Load().Get(key)
	if !ok {
		return "<none>"
	}
	return e.Value
}

func wantValue(t testing.TB, s *contract.Store[entry], key, want string) {
	t.Helper()
	if got := value(s, key); got != want {
		t.Fatalf("%s = %q, want %q", key, got, want)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func eventuallyValue(t testing.TB, s *contract.Store[entry], key, want string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s = %q (now %q)", key, want, value(s, key)), func() bool { return value(s, key) == want })
}

// run starts s.Run until the test ends and checks that it returns nil.
func run[T any](t *testing.T, s *contract.Store[T]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// swaps counts OnSwap calls.
func swaps[T any](s *contract.Store[T]) *atomic.Int64 {
	var n atomic.Int64
	s.OnSwap(func(old, new *contract.Set[T]) { n.Add(1) })
	return &n
}

func errorsOf[T any](s *contract.Store[T]) []contract.FileError { return s.Status().Errors }
