package contract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// scope is a part of one root to look at: a file, a directory, or the whole
// root when rel is "".
type scope struct {
	root int
	rel  string
}

// observation is what a look at some scopes found.
type observation struct {
	scopes  []scope
	files   map[fileKey]*observed // matched files
	dirs    []string              // absolute directories walked
	dirErrs map[fileKey]FileError // directories that could not be read
}

type observed struct {
	d    fs.DirEntry // from a directory listing, or nil
	info fs.FileInfo // known already, or nil
}

func (ob *observed) stat() (fs.FileInfo, error) {
	if ob.info != nil {
		return ob.info, nil
	}
	return ob.d.Info()
}

// within reports whether rel is prefix or lies under it ("" is everything).
func within(rel, prefix string) bool {
	return prefix == "" || rel == prefix || strings.HasPrefix(rel, prefix+"/")
}

// coversDir reports whether k lies inside one of the observed scopes.
func (o *observation) coversDir(k fileKey) bool {
	for _, sc := range o.scopes {
		if sc.root == k.root && within(k.rel, sc.rel) {
			return true
		}
	}
	return false
}

// covers reports whether the observation saw all there is at fk: it lies in
// a scope and not under a directory that could not be read (what was there
// is unknown, so it is kept).
func (o *observation) covers(fk fileKey) bool {
	if !o.coversDir(fk) {
		return false
	}
	for d := range o.dirErrs {
		if d.root == fk.root && within(fk.rel, d.rel) {
			return false
		}
	}
	return true
}

// skipped reports whether a file or directory name is never looked into:
// hidden entries (editor and VCS files) and node_modules.
func skipped(name string) bool {
	return strings.HasPrefix(name, ".") || name == "node_modules"
}

func skippedRel(rel string) bool {
	return slices.ContainsFunc(strings.Split(rel, "/"), skipped)
}

// observe lists the matched files in scopes.
func (s *Store[T]) observe(ctx context.Context, scopes []scope) (*observation, error) {
	o := &observation{scopes: scopes, files: map[fileKey]*observed{}, dirErrs: map[fileKey]FileError{}}
	for _, sc := range scopes {
		if err := s.observeScope(ctx, sc, o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (s *Store[T]) observeScope(ctx context.Context, sc scope, o *observation) error {
	if sc.rel != "" && skippedRel(sc.rel) {
		return nil
	}
	key := fileKey{sc.root, sc.rel}
	abs := s.abs(key)
	// A root may be a symlink; inside a root, symlinked directories are not
	// followed (no loops, no escaping the root).
	stat := os.Lstat
	if sc.rel == "" {
		stat = os.Stat
	}
	info, err := stat(abs)
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		o.dirErrs[key] = FileError{Kind: s.kind.Name, Path: abs, Message: "cannot read: " + pathErrorText(err)}
		return nil
	case info.IsDir():
		return s.walkDir(ctx, key, o)
	case sc.rel != "":
		s.observeFile(key, info, nil, o)
	}
	return nil
}

// observeFile records a regular file, or a symlink to one, when it matches.
func (s *Store[T]) observeFile(key fileKey, info fs.FileInfo, d fs.DirEntry, o *observation) {
	if !s.kind.Match(key.rel) {
		return
	}
	var mode fs.FileMode
	if d != nil {
		mode = d.Type()
	} else {
		mode = info.Mode()
	}
	if mode&fs.ModeSymlink != 0 {
		target, err := os.Stat(s.abs(key))
		if err != nil || !target.Mode().IsRegular() {
			return // dangling, or a directory: not followed
		}
		o.files[key] = &observed{info: target}
		return
	}
	if mode.IsRegular() {
		o.files[key] = &observed{d: d, info: info}
	}
}

func (s *Store[T]) walkDir(ctx context.Context, dir fileKey, o *observation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	abs := s.abs(dir)
	ents, err := os.ReadDir(abs)
	if err != nil {
		if !isNotExist(err) {
			o.dirErrs[dir] = FileError{Kind: s.kind.Name, Path: abs, Message: "cannot read directory: " + pathErrorText(err)}
		}
		return nil
	}
	o.dirs = append(o.dirs, abs)
	for _, d := range ents {
		if skipped(d.Name()) {
			continue
		}
		child := fileKey{dir.root, path.Join(dir.rel, d.Name())}
		if d.IsDir() {
			if err := s.walkDir(ctx, child, o); err != nil {
				return err
			}
			continue
		}
		s.observeFile(child, nil, d, o)
	}
	return nil
}

// readFile reads a file once and fingerprints it, so that a unit is hashed
// and parsed from the same bytes.
func readFile(name string) ([]byte, fileState, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fileState{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fileState{}, err
	}
	if !info.Mode().IsRegular() {
		return nil, fileState{}, &fs.PathError{Op: "read", Path: name, Err: errors.New("not a regular file")}
	}
	// Read the size fstat gave, no more: a file that grows meanwhile has a
	// new size, which the next event or resync sees.
	data := make([]byte, max(info.Size(), 0))
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, fileState{}, err
	}
	data = data[:n]
	// A file modified within racyWindow of this read may change again with
	// the same size and mtime (timestamps are coarse), so size and mtime
	// cannot vouch for it until it has been read once more (as git does).
	racy := time.Since(info.ModTime()) < racyWindow
	return data, fileState{size: info.Size(), mtime: info.ModTime(), sum: sha256.Sum256(data), statOK: !racy}, nil
}

// racyWindow exceeds the mtime granularity of common file systems.
const racyWindow = 2 * time.Second

func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// pathErrorText is an I/O error without the path it carries, which the
// FileError already holds.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// parse runs the kind's parser over the bytes already read, containing a
// parser panic as an error on the unit.
func (s *Store[T]) parse(key fileKey, data map[string][]byte, states map[string]fileState) (entries []T, fe *FileError) {
	abs := s.abs(key)
	defer func() {
		// A parser bug must not take down the process or the last good version.
		if r := recover(); r != nil {
			entries, fe = nil, &FileError{Kind: s.kind.Name, Path: abs, Message: fmt.Sprintf("parser failed: %v", r)}
		}
	}()
	fsys := &unitFS{dir: os.DirFS(s.roots[key.root]), data: data, states: states}
	entries, err := s.kind.Parse(fsys, key.rel)
	if err == nil {
		return entries, nil
	}
	fe = &FileError{Kind: s.kind.Name, Path: abs, Message: err.Error()}
	var pe *ParseError
	if errors.As(err, &pe) {
		fe.Line = pe.Line
		fe.Message = pe.Err.Error()
		if pe.Path != "" && fs.ValidPath(pe.Path) {
			fe.Path = s.abs(fileKey{key.root, pe.Path})
		}
	}
	return nil, fe
}

// unitFS serves a unit's files from the bytes already read and anything else
// from the root directory.
type unitFS struct {
	dir    fs.FS
	data   map[string][]byte
	states map[string]fileState
}

func (u *unitFS) Open(name string) (fs.File, error) {
	if b, ok := u.data[name]; ok {
		return &memFile{Reader: bytes.NewReader(b), info: u.info(name)}, nil
	}
	return u.dir.Open(name)
}

// ReadFile returns a copy: callers may modify what it returns.
func (u *unitFS) ReadFile(name string) ([]byte, error) {
	if b, ok := u.data[name]; ok {
		return slices.Clone(b), nil
	}
	return fs.ReadFile(u.dir, name)
}

func (u *unitFS) Stat(name string) (fs.FileInfo, error) {
	if _, ok := u.data[name]; ok {
		return u.info(name), nil
	}
	return fs.Stat(u.dir, name)
}

func (u *unitFS) info(name string) memInfo {
	st := u.states[name]
	return memInfo{name: path.Base(name), size: int64(len(u.data[name])), mtime: st.mtime}
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name  string
	size  int64
	mtime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return i.mtime }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// parallel runs fn(0..n-1) on at most GOMAXPROCS goroutines and stops early
// when ctx ends.
func parallel(ctx context.Context, n int, fn func(i int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

var _ interface {
	fs.ReadFileFS
	fs.StatFS
} = (*unitFS)(nil)
