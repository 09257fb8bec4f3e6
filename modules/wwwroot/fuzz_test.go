package wwwroot

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

var pathSeeds = []string{
	"", "/", "/index.html", "/view/BOD/BOD010.html", "/a/b/", "/../x", "/%2e%2e/x", "..", "a/../../b",
	"/a\\..\\b", "/x\x00y", "//etc/passwd", "/.git/config", "/.well-known/security.txt", "/a//b", "/./a",
	"/C:/Windows/win.ini", "/a/..", "/...", "/..../x",
}

// FuzzCleanPath checks that every accepted path stays inside its root.
func FuzzCleanPath(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, dir, ok := cleanPath(p)
		if !ok {
			return
		}
		if strings.ContainsAny(rel, "\x00\\") || strings.HasPrefix(rel, "/") {
			t.Fatalf("cleanPath(%q) = %q", p, rel)
		}
		for seg := range strings.SplitSeq(rel, "/") {
			if rel != "" && (seg == "" || seg == "." || seg == ".." || (strings.HasPrefix(seg, ".") && seg != ".well-known")) {
				t.Fatalf("cleanPath(%q) = %q has segment %q", p, rel, seg)
			}
		}
		if rel != "" && !filepath.IsLocal(filepath.FromSlash(rel)) {
			t.Fatalf("cleanPath(%q) = %q is not local", p, rel)
		}
		// Clean output maps to itself.
		suffix := ""
		if dir {
			suffix = "/"
		}
		if rel2, dir2, ok2 := cleanPath("/" + rel + suffix); !ok2 || rel2 != rel || dir2 != dir {
			t.Fatalf("cleanPath not idempotent on %q: %q %v %v", rel, rel2, dir2, ok2)
		}
	})
}

// FuzzOpenFile maps arbitrary request paths onto a real root that has a
// secret beside it and symlinks pointing out, and checks that whatever opens
// is a file inside the root, never the secret.
func FuzzOpenFile(f *testing.F) {
	for _, s := range append(pathSeeds, "/out/secret.txt", "/link", "/dirlink/secret.txt", "/sub/INDEX.HTML") {
		f.Add(s)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	for name, content := range map[string]string{
		"secret.txt":          "SECRET",
		"root/index.html":     "home",
		"root/sub/index.html": "sub",
		"root/sub/page.html":  "page",
	} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink("../secret.txt", filepath.Join(root, "link")); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(root, "dirlink")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, dir, ok := cleanPath(p)
		if !ok {
			return
		}
		file, res, err := openFile(root, rel, dir)
		if err != nil {
			t.Fatalf("openFile(%q): %v", rel, err)
		}
		if res != found {
			return
		}
		defer file.Close()
		if !strings.HasPrefix(file.path, root+string(filepath.Separator)) {
			t.Fatalf("%q opened %s outside %s", p, file.path, root)
		}
		data, err := io.ReadAll(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) == "SECRET" {
			t.Fatalf("%q reached the secret", p)
		}
	})
}

// FuzzAcceptsGzip checks that no header crashes the parser and that an
// explicit refusal is honoured.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"", "gzip", "br, gzip;q=0.8", "gzip;q=0", "*", "*;q=0", "identity", "GZIP ; Q=1", "gzip;q=abc", ",;=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		// "*" may allow gzip, but an explicit gzip;q=0 must win.
		if !strings.Contains(strings.ToLower(h), "gzip") && acceptsGzip(h+", gzip;q=0") {
			t.Fatalf("acceptsGzip(%q + gzip;q=0) = true", h)
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip": true, "br, gzip;q=0.8": true, "gzip;q=0": false, "gzip; q=0.0": false,
		"*": true, "*;q=0": false, "identity": false, "x-gzip": true, "GZip": true, "*, gzip;q=0": false, "gzip;q=bad": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct {
		in      string
		rel     string
		dir, ok bool
	}{
		{"", "", true, true},
		{"/", "", true, true},
		{"/a/b.html", "a/b.html", false, true},
		{"/a//b/", "a/b", true, true},
		{"/.well-known/x", ".well-known/x", false, true},
		{"/../x", "", false, false},
		{"/a/./b", "", false, false},
		{"/a\\b", "", false, false},
		{"/a\x00", "", false, false},
		{"/.env", "", false, false},
	} {
		rel, dir, ok := cleanPath(tc.in)
		if rel != tc.rel || dir != tc.dir || ok != tc.ok {
			t.Errorf("cleanPath(%q) = %q, %v, %v; want %q, %v, %v", tc.in, rel, dir, ok, tc.rel, tc.dir, tc.ok)
		}
	}
}

// FuzzParseCatalog checks that any catalog text either fails cleanly or
// yields absolute host paths for request paths that start with a slash.
func FuzzParseCatalog(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"requestPath":"/a.css","hostFilePath":"../shared/a.css"}]}`,
		`{"items":[{"requestPath":"b.js","hostFilePath":"C:\\shared\\b.js"},]} // comment`,
		`{"items":[{"requestPath":"","hostFilePath":"x"}]}`, `{"items": null}`, `[]`, `{`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseCatalog("shared_files.json", data, "/home/app")
		if err != nil {
			return
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.RequestPath, "/") || !filepath.IsAbs(e.HostFile) {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}

// FuzzContentTypes checks that any contenttype.json text loads or fails
// cleanly, and that loaded overrides are looked up by their extension.
func FuzzContentTypes(f *testing.F) {
	for _, s := range []string{`{"apk": "application/vnd.android.package-archive"}`, `{".X": "a/b", "": "c/d"}`, `{"a": 1}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		name := filepath.Join(dir, "contenttype.json")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := newContentTypes()
		if err := c.loadFile(name); err != nil {
			return
		}
		for ext, typ := range c.overrides {
			if !strings.HasPrefix(ext, ".") || typ == "" {
				t.Fatalf("override %q → %q", ext, typ)
			}
			if strings.ContainsAny(ext, "/") {
				continue // not an extension path.Ext can produce
			}
			if got := c.lookup("file" + ext); got != typ && path.Ext("file"+ext) == ext {
				t.Fatalf("lookup(file%s) = %q, want %q", ext, got, typ)
			}
		}
	})
}
