package wwwroot

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/module"
)

// place is one candidate location of a requested file.
type place struct {
	root, rel string
}

// serveStatic serves GET / and everything not claimed by a more specific
// route: DIR/wwwroot, then WWWRootBasePath, then, for /<module>/..., the
// module's own DIR/modules/<module>/wwwroot/<module>/ folder.
func (m *Module) serveStatic(w http.ResponseWriter, r *http.Request) error {
	if err := readOnly(w, r); err != nil {
		return err
	}
	if f, err := m.openSharedFor(r.URL.Path); err != nil {
		return err
	} else if f != nil {
		defer f.Close()
		return m.serveFile(w, r, f, m.staticCacheControl())
	}
	rel, dir, ok := cleanPath(r.URL.Path)
	if !ok {
		return m.notFound(w)
	}
	first, _, _ := strings.Cut(rel, "/")
	// Screens never leak out of the static roots, whatever their casing.
	if strings.EqualFold(first, m.cfg.ContractRequestPath) {
		return m.notFound(w)
	}
	places := make([]place, 0, len(m.static)+1)
	for _, root := range m.static {
		places = append(places, place{root, rel})
	}
	if first != "" && first != string(module.WWWRoot) {
		if _, loaded := m.h.Peers().Local(module.ID(first)); loaded {
			places = append(places, place{path.Join(m.h.Paths().Modules, first, "wwwroot"), rel})
		}
	}
	return m.serve(w, r, places, dir, m.staticCacheControl())
}

// serveScreen serves /<ContractRequestPath>/<rest>: first from
// <contract root>/<ApplicationID>/<rest> (HandStack's mapping), then from
// <contract root>/<rest>, which makes /view/<App>/<Project>/<Screen>.html
// work for every application.
func (m *Module) serveScreen(w http.ResponseWriter, r *http.Request) error {
	if err := readOnly(w, r); err != nil {
		return err
	}
	rest := strings.TrimPrefix(r.URL.Path, "/"+m.cfg.ContractRequestPath)
	rel, dir, ok := cleanPath(rest)
	if !ok {
		return m.notFound(w)
	}
	places := make([]place, 0, 2*len(m.screens))
	for _, root := range m.screens {
		places = append(places, place{root, path.Join(m.cfg.ApplicationID, rel)})
	}
	if rel != "" {
		for _, root := range m.screens {
			places = append(places, place{root, rel})
		}
	}
	return m.serve(w, r, places, dir, "no-cache")
}

// openSharedFor opens the file the shared files catalog maps urlPath to, if
// any. A broken catalog is logged and the request goes on to the roots.
func (m *Module) openSharedFor(urlPath string) (*openedFile, error) {
	host, err := m.shared.lookup(urlPath)
	if err != nil {
		m.h.Logger().Warn("shared files catalog", "err", err)
	}
	if host == "" {
		return nil, nil
	}
	f, err := openShared(host)
	if err != nil {
		return nil, fmt.Errorf("wwwroot: shared file: %w", err)
	}
	return f, nil
}

// readOnly refuses every method but GET and HEAD.
func readOnly(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return module.Errorf(http.StatusMethodNotAllowed, "method_not_allowed", "only GET and HEAD are served here", nil)
	}
	return nil
}

// serve answers with the first place that holds the file.
func (m *Module) serve(w http.ResponseWriter, r *http.Request, places []place, dir bool, cacheControl string) error {
	for _, p := range places {
		f, res, err := openFile(p.root, p.rel, dir)
		if err != nil {
			return fmt.Errorf("wwwroot: %w", err)
		}
		switch res {
		case addSlash:
			return m.redirectToDir(w, r)
		case found:
			defer f.Close()
			return m.serveFile(w, r, f, cacheControl)
		}
	}
	return m.notFound(w)
}

// serveFile writes one file with its validators, letting net/http answer
// conditional (304, 412) and Range (206, 416) requests.
func (m *Module) serveFile(w http.ResponseWriter, r *http.Request, f *openedFile, cacheControl string) error {
	ctype := m.types.lookup(f.info.Name())
	h := w.Header()
	m.securityHeaders(h, ctype)
	h.Set("Content-Type", ctype)
	if strings.Contains(r.URL.Path, "syn.loader.") {
		// HandStack's loader must never be cached: it decides what else loads.
		cacheControl = "no-cache, no-store"
		h.Set("Expires", "-1")
	}
	h.Set("Cache-Control", cacheControl)

	size := f.info.Size()
	if compressible(ctype) && size >= gzipMinSize && size <= gzipMaxSize {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			data, info, err := m.gzipCache.compressed(f)
			if err != nil {
				return fmt.Errorf("wwwroot: %w", err)
			}
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Length", strconv.Itoa(len(data)))
			h.Set("ETag", etag(info, "-gz"))
			http.ServeContent(w, r, "", info.ModTime(), bytes.NewReader(data))
			return nil
		}
	}
	h.Set("ETag", etag(f.info, ""))
	http.ServeContent(w, r, "", f.info.ModTime(), f)
	return nil
}

// etag is a strong validator from size and modification time (nanoseconds):
// any edit changes it, without hashing the file on every request. The gzip
// copy is another representation and gets its own tag.
func etag(fi fs.FileInfo, suffix string) string {
	return `"` + strconv.FormatInt(fi.Size(), 36) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 36) + suffix + `"`
}

func (m *Module) staticCacheControl() string {
	if m.cfg.StaticFileCacheMaxAge > 0 {
		return "public, max-age=" + strconv.Itoa(m.cfg.StaticFileCacheMaxAge)
	}
	return "no-cache"
}

// securityHeaders adds the frame policy and, on HTML, the configured CSP
// (without replacing what a handler set). The host adds nosniff and
// Referrer-Policy to every response.
func (m *Module) securityHeaders(h http.Header, ctype string) {
	setDefault := func(k, v string) {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	if m.cfg.XFrameOptions != "ALLOW" {
		setDefault("X-Frame-Options", m.cfg.XFrameOptions)
	}
	if m.cfg.ContentSecurityPolicy != "" && strings.HasPrefix(ctype, "text/html") {
		setDefault("Content-Security-Policy", m.cfg.ContentSecurityPolicy)
	}
}

func (m *Module) notFound(w http.ResponseWriter) error {
	m.securityHeaders(w.Header(), "")
	return module.Errorf(http.StatusNotFound, "not_found", "file not found", nil)
}

// redirectToDir sends /dir to /dir/ so that the index page's relative links
// resolve. The Location is relative, so it cannot point at another host.
func (m *Module) redirectToDir(w http.ResponseWriter, r *http.Request) error {
	m.securityHeaders(w.Header(), "")
	target := url.PathEscape(path.Base(r.URL.Path)) + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
	return nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// or "*", with a q-value other than 0.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		ok := qNonZero(params)
		if name == "*" {
			star = ok
			continue
		}
		return ok
	}
	return star
}

// qNonZero reports whether parameters (";q=0.5") leave the coding acceptable.
func qNonZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}
