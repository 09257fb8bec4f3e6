// Package contract is the one generic, hot-reloaded store of contract files
// that every module uses. A Kind says which files belong to it and how to parse
// them; a Store loads them from one or more root directories into an immutable
// Set, watches the roots, and publishes a new Set atomically after each change
// (build, validate, swap). A file that fails to parse keeps its last good
// entries serving and is reported with its line; a deleted file drops exactly
// its entries.
package contract

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"
)

// Kind describes one kind of contract file.
type Kind[T any] struct {
	// Name identifies the kind in logs, metrics and status ("dbclient.sql").
	Name string
	// Module is the ID of the module that owns the kind.
	Module string
	// Match reports whether a file (slash-separated path relative to a root)
	// belongs to this kind.
	Match func(rel string) bool
	// Unit maps a matched file to the unit that is parsed for it, when one
	// unit spans several files (a function directory's featureMain.js belongs
	// to its featureMeta.json). Nil means every matched file is its own unit.
	Unit func(rel string) string
	// Parse reads the unit (and any sibling it needs) from fsys, rooted at the
	// unit's root, and returns its entries. It must not keep fsys. Return a
	// *ParseError to point at a line. Parse is called for several units at
	// once and must be safe for concurrent use. The unit's matched files are
	// served from the bytes the store has already read and hashed; other
	// files come from disk (a change to them is noticed only if Match covers
	// them).
	Parse func(fsys fs.FS, unit string) ([]T, error)
	// Key identifies an entry. Two units defining the same key is an error
	// reported on the later one (roots in order, then paths in order).
	Key func(T) string
}

// Options tune a Store.
type Options struct {
	Logger *slog.Logger
	// Watch turns on file watching in Run. Without it Run only resyncs.
	Watch bool
	// Debounce is the quiet time after file events before reloading. Default 50ms.
	Debounce time.Duration
	// Resync is the period of the full rescan (size and mtime compared, content
	// hashed only on a difference) that catches lost events. Default 30s.
	Resync time.Duration
}

// ParseError locates a problem in a contract file.
type ParseError struct {
	Path string // slash-separated, relative to its root
	Line int    // 1-based; 0 when unknown
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// FileError is a unit that failed to load, as status and reports show it.
type FileError struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"` // absolute path of the unit
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// String formats the error as file:line: message.
func (e FileError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Message)
}

// Report says what one reload changed.
type Report struct {
	Kind       string      `json:"kind"`
	Generation uint64      `json:"generation"`
	Added      []string    `json:"added,omitempty"`   // entry keys
	Changed    []string    `json:"changed,omitempty"` // entry keys
	Removed    []string    `json:"removed,omitempty"` // entry keys
	Failed     []FileError `json:"failed,omitempty"`  // every unit failing after the reload
}

// Status is a store's current state.
type Status struct {
	Kind       string      `json:"kind"`
	Module     string      `json:"module"`
	Roots      []string    `json:"roots"`
	Loaded     bool        `json:"loaded"` // the first load finished
	Generation uint64      `json:"generation"`
	Entries    int         `json:"entries"`
	Units      int         `json:"units"`
	Errors     []FileError `json:"errors"` // units currently failing
	LastReload time.Time   `json:"lastReload"`
}

// Handle is a Store seen without its entry type, so that the host can load,
// run, list and reload every kind in one place.
type Handle interface {
	Name() string
	Module() string
	Reload(ctx context.Context) (Report, error)
	Refresh(ctx context.Context, rel string) (Report, error)
	Run(ctx context.Context) error
	Status() Status
}
