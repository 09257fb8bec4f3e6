package wwwroot

import (
	"io"
	"os"
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
