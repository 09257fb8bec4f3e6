package wwwroot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ack-dev/ack/internal/config"
)

// sharedFiles is HandStack's "shared files" catalog (SharedFileConfigPath):
// {"items": [{"requestPath": "/assets/common.css", "hostFilePath": "../shared/common.css"}]}
// maps single URL paths to files anywhere on the host. HandStack reads it once
// at start; ack re-reads it when the file changes (checked on each use).
type sharedFiles struct {
	path string // the catalog file; "" when not configured
	base string // relative hostFilePath values resolve against it (DIR/app)

	mu      sync.Mutex
	size    int64
	modTime time.Time
	entries []sharedFile
}

type sharedFile struct {
	RequestPath string `json:"requestPath"`
	HostFile    string `json:"hostFilePath"`
}

// current returns the catalog's entries, re-reading the file when its size or
// modification time changed. A missing file is an empty catalog; a broken one
// keeps the last good entries, and its error is returned once per version.
func (s *sharedFiles) current() ([]sharedFile, error) {
	if s.path == "" {
		return nil, nil
	}
	fi, err := os.Stat(s.path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		s.entries, s.size, s.modTime = nil, -1, time.Time{}
		return nil, nil
	}
	if err != nil {
		return s.entries, fmt.Errorf("shared files catalog: %w", err)
	}
	if fi.Size() == s.size && fi.ModTime().Equal(s.modTime) {
		return s.entries, nil
	}
	s.size, s.modTime = fi.Size(), fi.ModTime()
	data, err := os.ReadFile(s.path)
	if err != nil {
		return s.entries, fmt.Errorf("shared files catalog: %w", err)
	}
	entries, err := parseCatalog(s.path, data, s.base)
	if err != nil {
		return s.entries, err
	}
	s.entries = entries
	return entries, nil
}

// parseCatalog reads the catalog file's JSON (comments and trailing commas
// allowed); entries without both paths are skipped.
func parseCatalog(path string, data []byte, base string) ([]sharedFile, error) {
	var catalog struct {
		Items []sharedFile `json:"items"`
	}
	clean := config.StripJSONC(data)
	if err := json.Unmarshal(clean, &catalog); err != nil {
		if line := config.JSONErrorLine(clean, err); line > 0 {
			return nil, fmt.Errorf("shared files catalog %s:%d: %w", path, line, err)
		}
		return nil, fmt.Errorf("shared files catalog %s: %w", path, err)
	}
	var entries []sharedFile
	for _, it := range catalog.Items {
		req := strings.TrimSpace(it.RequestPath)
		host := strings.ReplaceAll(config.ExpandEnv(strings.TrimSpace(it.HostFile)), `\`, "/")
		if req == "" || host == "" {
			continue
		}
		if !strings.HasPrefix(req, "/") {
			req = "/" + req
		}
		if !filepath.IsAbs(host) {
			host = filepath.Join(base, host)
		}
		entries = append(entries, sharedFile{RequestPath: req, HostFile: filepath.Clean(host)})
	}
	return entries, nil
}

// lookup returns the host file catalogued for a request path (any case).
func (s *sharedFiles) lookup(urlPath string) (string, error) {
	entries, err := s.current()
	for _, e := range entries {
		if strings.EqualFold(e.RequestPath, urlPath) {
			return e.HostFile, err
		}
	}
	return "", err
}

// serveManifest answers GET /shared-files/manifest with the catalogued
// request paths (never the host paths), which HandStack's loader adds to
// every page.
func (m *Module) serveManifest(w http.ResponseWriter, r *http.Request) error {
	if err := readOnly(w, r); err != nil {
		return err
	}
	entries, err := m.shared.current()
	if err != nil {
		m.h.Logger().Warn("shared files catalog", "err", err)
	}
	type item struct {
		RequestPath string `json:"requestPath"`
	}
	list := make([]item, 0, len(entries))
	for _, e := range entries {
		list = append(list, item{e.RequestPath})
	}
	body, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("wwwroot: manifest: %w", err)
	}
	h := w.Header()
	m.securityHeaders(h, "")
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	return nil
}

// openShared opens a catalogued host file. A missing one falls through to the
// static roots, as in HandStack.
func openShared(path string) (*openedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, openErr(filepath.Dir(path), filepath.Base(path), err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil
	}
	return &openedFile{File: f, info: fi, path: path}, nil
}
