package wwwroot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path"
	"strings"

	"github.com/ack-dev/ack/internal/config"
)

// builtinTypes fixes the media types of the files a web front end is made of,
// so that they do not depend on the machine's /etc/mime.types.
var builtinTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".map":         "application/json; charset=utf-8",
	".json":        "application/json; charset=utf-8",
	".xml":         "application/xml; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".eot":         "application/vnd.ms-fontobject",
	".wasm":        "application/wasm",
	".pdf":         "application/pdf",
	".zip":         "application/zip",
	".webmanifest": "application/manifest+json",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".mp3":         "audio/mpeg",
}

// contentTypes maps file extensions to media types: overrides first
// (contenttype.json, then the ContentTypes setting), then the built-in table,
// then the system's table. Unknown types are served as octet streams, as
// HandStack does (ServeUnknownFileTypes).
type contentTypes struct {
	overrides map[string]string // by lower-case extension with its dot
}

func newContentTypes() *contentTypes { return &contentTypes{overrides: map[string]string{}} }

// loadFile reads HandStack's contenttype.json ({"apk": "application/..."}).
// A missing file is fine.
func (c *contentTypes) loadFile(name string) error {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var m map[string]string
	clean := config.StripJSONC(data)
	if err := json.Unmarshal(clean, &m); err != nil {
		if line := config.JSONErrorLine(clean, err); line > 0 {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	c.add(m)
	return nil
}

// add records overrides. HandStack's own file writes extensions without the
// dot ("apk"), which its .NET provider then never matches; both spellings
// work here.
func (c *contentTypes) add(m map[string]string) {
	for ext, typ := range m {
		ext = strings.ToLower(strings.TrimSpace(ext))
		if ext == "" || typ == "" {
			continue
		}
		if !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
		c.overrides[ext] = typ
	}
}

// lookup returns the media type of a file name.
func (c *contentTypes) lookup(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := c.overrides[ext]; ok {
		return t
	}
	if t, ok := builtinTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressible reports whether a media type is text-like enough for gzip to
// pay off. Images, fonts (woff/woff2), archives and media are already packed.
func compressible(mediaType string) bool {
	t, _, _ := strings.Cut(mediaType, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	switch {
	case strings.HasPrefix(t, "text/"):
		return true
	case strings.HasSuffix(t, "+json"), strings.HasSuffix(t, "+xml"):
		return true
	}
	switch t {
	case "application/json", "application/javascript", "application/x-javascript", "application/xml",
		"application/wasm", "image/x-icon", "font/ttf", "font/otf", "application/vnd.ms-fontobject":
		return true
	}
	return false
}
