package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"
)

// localBackend keeps files under one directory. Every access goes through an
// os.Root, so no key, however crafted, reaches outside that directory
// (including through symbolic links).
type localBackend struct {
	root *os.Root
}

func openLocal(dir string) (*localBackend, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("repository: create storage directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("repository: open storage directory: %w", err)
	}
	return &localBackend{root: root}, nil
}

func (b *localBackend) Close() error { return b.root.Close() }

func (b *localBackend) Stage(ctx context.Context, r io.Reader) (staged, error) {
	if err := b.root.MkdirAll(tempDir, 0o750); err != nil {
		return nil, fmt.Errorf("repository: create temporary directory: %w", err)
	}
	name := tempName()
	f, err := b.root.OpenFile(filepath.FromSlash(name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("repository: create temporary file: %w", err)
	}
	s := &localStaged{root: b.root, name: name}
	_, err = io.Copy(f, r)
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = f.Sync() // the data is on disk before the rename makes it visible
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		_ = s.Discard(ctx)
		return nil, err
	}
	return s, nil
}

type localStaged struct {
	root *os.Root
	name string
}

func (s *localStaged) Commit(_ context.Context, key string) error {
	dir := path.Dir(key)
	if err := s.root.MkdirAll(filepath.FromSlash(dir), 0o750); err != nil {
		return fmt.Errorf("repository: create directory: %w", err)
	}
	if err := s.root.Rename(filepath.FromSlash(s.name), filepath.FromSlash(key)); err != nil {
		return fmt.Errorf("repository: publish file: %w", err)
	}
	// Make the rename itself durable.
	if d, err := s.root.Open(filepath.FromSlash(dir)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (s *localStaged) Discard(context.Context) error {
	err := s.root.Remove(filepath.FromSlash(s.name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("repository: remove temporary file: %w", err)
	}
	return nil
}

func (b *localBackend) Open(_ context.Context, key string) (object, error) {
	f, err := b.root.Open(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("repository: open file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("repository: stat file: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, errNotFound
	}
	return &localObject{File: f, info: st}, nil
}

type localObject struct {
	*os.File
	info fs.FileInfo
}

func (o *localObject) Size() int64        { return o.info.Size() }
func (o *localObject) ModTime() time.Time { return o.info.ModTime() }

func (b *localBackend) Exists(_ context.Context, key string) (bool, error) {
	_, err := b.root.Stat(filepath.FromSlash(key))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("repository: stat file: %w", err)
	}
}

func (b *localBackend) Remove(_ context.Context, key string) error {
	err := b.root.Remove(filepath.FromSlash(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("repository: remove file: %w", err)
	}
	return nil
}

func (b *localBackend) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	entries, err := fs.ReadDir(b.root.FS(), tempDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("repository: list temporary files: %w", err)
	}
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue // gone already, or an upload still being written
		}
		if err := b.root.RemoveAll(filepath.Join(tempDir, e.Name())); err == nil {
			n++
		}
	}
	return n, nil
}
