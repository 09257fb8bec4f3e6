package wwwroot_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/wwwroot"
)

const secret = "TOP-SECRET-OUTSIDE-THE-ROOT"

// write creates a file under dir with its parents.
func write(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	acktest.WriteFile(t, p, content)
	return p
}

// newHome builds a home with static files, screens, a module's static
// folder, and a secret beside (outside) every served root.
func newHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	write(t, home, "secret.txt", secret)
	write(t, home, "wwwroot/index.html", "<h1>home</h1>")
	write(t, home, "wwwroot/css/site.css", "body{color:red}")
	write(t, home, "wwwroot/js/app.js", strings.Repeat("console.log('ack');\n", 200))
	write(t, home, "wwwroot/js/syn.loader.js", "// loader")
	write(t, home, "wwwroot/docs/index.html", "<p>docs</p>")
	write(t, home, "wwwroot/docs/guide.html", "<p>guide</p>")
	write(t, home, "wwwroot/empty/.keep", "")
	write(t, home, "wwwroot/.hidden", secret)
	write(t, home, "wwwroot/view/leak.html", secret)
	write(t, home, "wwwroot/pkg.apk", "apk")
	write(t, home, "wwwroot/data.bin", strings.Repeat("0123456789", 1000))
	write(t, home, "app/contenttype.json", `{
		// HandStack writes extensions without the dot
		"apk": "application/vnd.android.package-archive",
	}`)
	write(t, home, "modules/wwwroot/wwwroot/lib/base.css", "/* second root */")
	write(t, home, "modules/logger/wwwroot/logger/viewer.html", "<p>logger page</p>")
	write(t, home, "contracts/wwwroot/HDS/BOD/BOD010.html", "<p>board list</p>")
	write(t, home, "contracts/wwwroot/HDS/BOD/BOD010.js", "let BOD010 = {};")
	write(t, home, "contracts/wwwroot/HDS/index.html", "<p>screens</p>")
	write(t, home, "contracts/wwwroot/EXA/BOD/BOD020.html", "<p>other app</p>")
	outside := t.TempDir()
	write(t, outside, "passwd", secret)
	if err := os.Symlink(filepath.Join(home, "secret.txt"), filepath.Join(home, "wwwroot", "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(home, "wwwroot", "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("css/site.css", filepath.Join(home, "wwwroot", "inside.css")); err != nil {
		t.Fatal(err)
	}
	return home
}

// idle is a module that serves nothing: it only makes /logger/ a loaded
// module for the module static files test.
type idle struct{}

func (idle) Provision(context.Context, module.Host) error { return nil }
func (idle) Start(context.Context) error                  { return nil }
func (idle) Routes() []module.Route                       { return nil }
func (idle) Stop(context.Context) error                   { return nil }

func start(t *testing.T, home string, cfg map[string]any) *acktest.Host {
	t.Helper()
	return acktest.Start(t, acktest.Options{
		Home: home,
		Modules: []module.Info{
			wwwroot.Info(),
			{ID: module.Logger, New: func() module.Module { return idle{} }},
		},
		Settings: func(s *config.Settings) {
			for k, v := range cfg {
				acktest.SetModuleConfig(t, s, "wwwroot", k, v)
			}
		},
	})
}

// raw sends a request line exactly as written (no client-side cleaning of
// the path) and returns the response with its body read.
func raw(t *testing.T, h *acktest.Host, method, target string, headers ...string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req bytes.Buffer
	req.WriteString(method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n")
	for i := 0; i+1 < len(headers); i += 2 {
		req.WriteString(headers[i] + ": " + headers[i+1] + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestServing(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	cases := []struct {
		name, target string
		status       int
		body         string // the whole body, when not empty
		ctype        string
		header       map[string]string
	}{
		{name: "index at root", target: "/", status: 200, body: "<h1>home</h1>", ctype: "text/html; charset=utf-8",
			header: map[string]string{"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "SAMEORIGIN"}},
		{name: "css", target: "/css/site.css", status: 200, body: "body{color:red}", ctype: "text/css; charset=utf-8"},
		{name: "case-insensitive file name", target: "/css/SITE.CSS", status: 200, body: "body{color:red}"},
		{name: "directory index", target: "/docs/", status: 200, body: "<p>docs</p>"},
		{name: "directory without slash redirects", target: "/docs?x=1", status: 301, header: map[string]string{"Location": "docs/?x=1"}},
		{name: "directory without index is not listed", target: "/empty/", status: 404},
		{name: "file with trailing slash", target: "/docs/guide.html/", status: 404},
		{name: "missing", target: "/nope.html", status: 404},
		{name: "contenttype.json override without dot", target: "/pkg.apk", status: 200, ctype: "application/vnd.android.package-archive"},
		{name: "unknown type as octet stream", target: "/data.bin", status: 200, ctype: "application/octet-stream"},
		{name: "second static root", target: "/lib/base.css", status: 200, body: "/* second root */"},
		{name: "symlink inside the root", target: "/inside.css", status: 200, body: "body{color:red}"},
		{name: "loader never cached", target: "/js/syn.loader.js", status: 200, header: map[string]string{"Cache-Control": "no-cache, no-store", "Expires": "-1"}},
		{name: "screen of the host application", target: "/view/BOD/BOD010.html", status: 200, body: "<p>board list</p>", header: map[string]string{"Cache-Control": "no-cache"}},
		{name: "screen script", target: "/view/BOD/BOD010.js", status: 200, body: "let BOD010 = {};", ctype: "text/javascript; charset=utf-8"},
		{name: "screen index", target: "/view/", status: 200, body: "<p>screens</p>"},
		{name: "screen of another application", target: "/view/EXA/BOD/BOD020.html", status: 200, body: "<p>other app</p>"},
		{name: "screens do not leak from the static root", target: "/view/leak.html", status: 404},
		{name: "screens do not leak in another casing", target: "/VIEW/leak.html", status: 404},
		{name: "module static files", target: "/logger/viewer.html", status: 200, body: "<p>logger page</p>"},
		{name: "module not loaded", target: "/function/viewer.html", status: 404},
		{name: "HEAD", target: "/css/site.css", status: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.name == "HEAD" {
				method = "HEAD"
			}
			resp, body := raw(t, h, method, tc.target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if tc.body != "" && body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			if method == "HEAD" && (body != "" || resp.Header.Get("Content-Length") != "15") {
				t.Errorf("HEAD: body %q, Content-Length %q", body, resp.Header.Get("Content-Length"))
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			for k, v := range tc.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if resp.StatusCode == 200 && (resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "") {
				t.Errorf("missing validators: ETag %q Last-Modified %q", resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
			}
			if strings.Contains(body, secret) {
				t.Errorf("leaked the secret")
			}
		})
	}
}

func TestNoTraversal(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	targets := []string{
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/%2e%2e%2fsecret.txt",
		"/..%2fsecret.txt",
		"/%252e%252e/secret.txt",
		"/%252e%252e%252fsecret.txt",
		"/..%5csecret.txt",
		"/%5c..%5csecret.txt",
		"/..\\secret.txt",
		"/view/../../secret.txt",
		"/view/%2e%2e/%2e%2e/secret.txt",
		"/view/..%2f..%2fsecret.txt",
		"/view/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/view/BOD/..%2f..%2f..%2f..%2fsecret.txt",
		"/logger/..%2f..%2f..%2f..%2fsecret.txt",
		"/" + filepath.Join(home, "secret.txt"),
		"//" + strings.TrimPrefix(filepath.Join(home, "secret.txt"), "/"),
		"/%2f" + strings.TrimPrefix(filepath.Join(home, "secret.txt"), "/"),
		"/secret.txt%00.html",
		"/%00",
		"/link.txt",
		"/linkdir/passwd",
		"/.hidden",
		"/%2ehidden",
		"/css/.%2e/.%2e/secret.txt",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			resp, body := raw(t, h, "GET", target)
			if strings.Contains(body, secret) {
				t.Fatalf("%s leaked the secret (status %d)", target, resp.StatusCode)
			}
			switch resp.StatusCode {
			case 400, 404:
			case 301, 307, 308:
				// ServeMux cleaning "/../x" into "/x": follow it once.
				loc := resp.Header.Get("Location")
				if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
					t.Fatalf("redirect to %q", loc)
				}
				resp2, body2 := raw(t, h, "GET", loc)
				if resp2.StatusCode == 200 || strings.Contains(body2, secret) {
					t.Fatalf("%s → %s: status %d body %q", target, loc, resp2.StatusCode, body2)
				}
			default:
				t.Fatalf("status %d, want 400 or 404 (body %q)", resp.StatusCode, body)
			}
		})
	}
}

func TestConditionalRequests(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	resp, _ := raw(t, h, "GET", "/view/BOD/BOD010.html")
	etag, lastMod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("want a strong ETag, got %q", etag)
	}
	if r, body := raw(t, h, "GET", "/view/BOD/BOD010.html", "If-None-Match", etag); r.StatusCode != 304 || body != "" {
		t.Fatalf("If-None-Match: status %d body %q, want 304", r.StatusCode, body)
	}
	if r, _ := raw(t, h, "GET", "/view/BOD/BOD010.html", "If-None-Match", `"other"`); r.StatusCode != 200 {
		t.Fatalf("other ETag: status %d, want 200", r.StatusCode)
	}
	if r, _ := raw(t, h, "GET", "/view/BOD/BOD010.html", "If-Modified-Since", lastMod); r.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: status %d, want 304", r.StatusCode)
	}
	old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	if r, _ := raw(t, h, "GET", "/view/BOD/BOD010.html", "If-Modified-Since", old); r.StatusCode != 200 {
		t.Fatalf("If-Modified-Since in the past: status %d, want 200", r.StatusCode)
	}
}

// TestChangesAreImmediate edits, adds and deletes files and expects every
// next request to see it, with validators that no longer match.
func TestChangesAreImmediate(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	screen := filepath.Join(home, "contracts/wwwroot/HDS/BOD/BOD010.html")
	resp, _ := raw(t, h, "GET", "/view/BOD/BOD010.html")
	etag := resp.Header.Get("ETag")

	write(t, home, "contracts/wwwroot/HDS/BOD/BOD010.html", "<p>board list, edited</p>")
	resp, body := raw(t, h, "GET", "/view/BOD/BOD010.html", "If-None-Match", etag)
	if resp.StatusCode != 200 || body != "<p>board list, edited</p>" {
		t.Fatalf("after edit: status %d body %q", resp.StatusCode, body)
	}
	if resp.Header.Get("ETag") == etag {
		t.Fatalf("ETag %s did not change with the content", etag)
	}

	if resp, _ := raw(t, h, "GET", "/view/BOD/BOD011.html"); resp.StatusCode != 404 {
		t.Fatalf("before add: status %d", resp.StatusCode)
	}
	write(t, home, "contracts/wwwroot/HDS/BOD/BOD011.html", "<p>new</p>")
	if resp, body := raw(t, h, "GET", "/view/BOD/BOD011.html"); resp.StatusCode != 200 || body != "<p>new</p>" {
		t.Fatalf("after add: status %d body %q", resp.StatusCode, body)
	}

	if err := os.Remove(screen); err != nil {
		t.Fatal(err)
	}
	if resp, _ := raw(t, h, "GET", "/view/BOD/BOD010.html"); resp.StatusCode != 404 {
		t.Fatalf("after delete: status %d", resp.StatusCode)
	}

	// A whole root that appears after start is served too.
	if err := os.RemoveAll(filepath.Join(home, "wwwroot")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := raw(t, h, "GET", "/"); resp.StatusCode != 404 {
		t.Fatalf("root removed: status %d", resp.StatusCode)
	}
	write(t, home, "wwwroot/index.html", "<h1>again</h1>")
	if resp, body := raw(t, h, "GET", "/"); resp.StatusCode != 200 || body != "<h1>again</h1>" {
		t.Fatalf("root recreated: status %d body %q", resp.StatusCode, body)
	}
}

func gunzip(t *testing.T, data string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestCompression(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	want := strings.Repeat("console.log('ack');\n", 200)

	resp, body := raw(t, h, "GET", "/js/app.js", "Accept-Encoding", "br, gzip;q=0.8")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v", resp.Header)
	}
	if len(body) >= len(want) {
		t.Errorf("gzip body %d bytes is not smaller than %d", len(body), len(want))
	}
	if got := gunzip(t, body); got != want {
		t.Fatalf("gunzipped body differs")
	}
	gzTag := resp.Header.Get("ETag")
	if r, _ := raw(t, h, "GET", "/js/app.js", "Accept-Encoding", "gzip", "If-None-Match", gzTag); r.StatusCode != 304 {
		t.Fatalf("gzip revalidation: status %d", r.StatusCode)
	}

	resp, body = raw(t, h, "GET", "/js/app.js", "Accept-Encoding", "gzip;q=0, identity")
	if resp.Header.Get("Content-Encoding") != "" || body != want {
		t.Fatalf("q=0: Content-Encoding %q, body %d bytes", resp.Header.Get("Content-Encoding"), len(body))
	}
	if resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("identity copy of a compressible file lacks Vary")
	}
	if resp.Header.Get("ETag") == gzTag {
		t.Errorf("identity and gzip copies share the ETag %s", gzTag)
	}

	// Small files and binary types are sent as they are.
	if r, _ := raw(t, h, "GET", "/css/site.css", "Accept-Encoding", "gzip"); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("a 15-byte file was compressed")
	}
	if r, _ := raw(t, h, "GET", "/data.bin", "Accept-Encoding", "gzip"); r.Header.Get("Content-Encoding") != "" {
		t.Errorf("an octet stream was compressed")
	}

	// The cached copy follows an edit at once.
	edited := strings.Repeat("console.log('edited');\n", 200)
	write(t, home, "wwwroot/js/app.js", edited)
	resp, body = raw(t, h, "GET", "/js/app.js", "Accept-Encoding", "gzip", "If-None-Match", gzTag)
	if resp.StatusCode != 200 || gunzip(t, body) != edited {
		t.Fatalf("after edit: status %d", resp.StatusCode)
	}
}

func TestRange(t *testing.T) {
	home := newHome(t)
	h := start(t, home, nil)
	resp, body := raw(t, h, "GET", "/data.bin", "Range", "bytes=10-19")
	if resp.StatusCode != 206 || body != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/10000" {
		t.Fatalf("range: status %d body %q Content-Range %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	if resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges %q", resp.Header.Get("Accept-Ranges"))
	}
	if r, _ := raw(t, h, "GET", "/data.bin", "Range", "bytes=20000-"); r.StatusCode != 416 {
		t.Errorf("unsatisfiable range: status %d", r.StatusCode)
	}
	// If-Range with a stale validator sends the whole file.
	if r, b := raw(t, h, "GET", "/data.bin", "Range", "bytes=0-0", "If-Range", `"stale"`); r.StatusCode != 200 || len(b) != 10000 {
		t.Errorf("stale If-Range: status %d, %d bytes", r.StatusCode, len(b))
	}
}

func TestSettings(t *testing.T) {
	home := newHome(t)
	write(t, home, "contracts/wwwroot/EXA/BOD/BOD010.html", "<p>exa board</p>")
	h := start(t, home, map[string]any{
		"ContractRequestPath":   "screens",
		"ApplicationID":         "EXA",
		"StaticFileCacheMaxAge": 600,
		"XFrameOptions":         "deny",
		"ContentSecurityPolicy": "default-src 'self'",
		"ContentTypes":          map[string]string{".bin": "application/x-ack"},
	})
	resp, body := raw(t, h, "GET", "/screens/BOD/BOD010.html")
	if resp.StatusCode != 200 || body != "<p>exa board</p>" {
		t.Fatalf("screen: status %d body %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Content-Security-Policy") != "default-src 'self'" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("screen headers %v", resp.Header)
	}
	resp, _ = raw(t, h, "GET", "/css/site.css")
	if resp.Header.Get("Cache-Control") != "public, max-age=600" {
		t.Errorf("static Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if resp.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("CSP on a stylesheet")
	}
	if resp, _ := raw(t, h, "GET", "/data.bin"); resp.Header.Get("Content-Type") != "application/x-ack" {
		t.Errorf("ContentTypes override: %q", resp.Header.Get("Content-Type"))
	}
	// With the prefix moved, /view/ is a plain static path again.
	if resp, body := raw(t, h, "GET", "/view/leak.html"); resp.StatusCode != 200 || body != secret {
		t.Errorf("/view/ under another ContractRequestPath: status %d", resp.StatusCode)
	}
}

func TestBadSettings(t *testing.T) {
	for _, cfg := range []map[string]any{
		{"XFrameOptions": "sometimes"},
		{"ContractRequestPath": "a/b"},
		{"StaticFileCacheMaxAge": -1},
		{"TrustedProxies": []string{"not an ip"}},
	} {
		values, _ := json.Marshal(cfg)
		t.Run(string(values), func(t *testing.T) {
			home := t.TempDir()
			write(t, home, "ack.json", `{"moduleConfig": {"wwwroot": `+string(values)+`}}`)
			err := acktest.StartError(t, acktest.Options{Home: home, Modules: []module.Info{wwwroot.Info()}})
			if !strings.Contains(err.Error(), "wwwroot") {
				t.Errorf("error %q does not name the module", err)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	h := start(t, newHome(t), nil)
	for _, target := range []string{"/", "/view/BOD/BOD010.html", "/css/site.css", "/checkip"} {
		resp, _ := raw(t, h, "POST", target, "Content-Length", "0")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: status %d Allow %q", target, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

func TestCheckIP(t *testing.T) {
	h := start(t, newHome(t), map[string]any{"TrustedProxies": []string{"10.0.0.0/8"}})
	resp, body := raw(t, h, "GET", "/checkip")
	if resp.StatusCode != 200 || body != "127.0.0.1" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d body %q type %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	// The loopback peer is a trusted proxy: its X-Forwarded-For counts.
	if _, body := raw(t, h, "GET", "/checkip", "X-Forwarded-For", "203.0.113.7, 10.1.1.1"); body != "203.0.113.7" {
		t.Fatalf("forwarded: %q", body)
	}
	if _, body := raw(t, h, "GET", "/checkip", "X-Forwarded-For", "<script>"); body != "127.0.0.1" {
		t.Fatalf("garbage X-Forwarded-For: %q", body)
	}
}

// BenchmarkServe measures whole requests over loopback HTTP: a revalidation
// (304), a small file, and a cached gzip copy of a 4 KB script.
func BenchmarkServe(b *testing.B) {
	home := b.TempDir()
	for rel, content := range map[string]string{
		"wwwroot/index.html": "<h1>home</h1>",
		"wwwroot/js/app.js":  strings.Repeat("console.log('ack');\n", 200),
	} {
		p := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	h := acktest.Start(b, acktest.Options{Home: home, Modules: []module.Info{wwwroot.Info()}})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
	// get is called from RunParallel's goroutines, so it reports errors
	// instead of stopping the benchmark.
	get := func(path string, header ...string) (*http.Response, error) {
		req, err := http.NewRequest("GET", h.URL+path, nil)
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	first, err := get("/index.html")
	if err != nil {
		b.Fatal(err)
	}
	etag := first.Header.Get("ETag")
	cases := []struct {
		name, path string
		header     []string
		status     int
	}{
		{"304", "/index.html", []string{"If-None-Match", etag}, 304},
		{"small", "/index.html", nil, 200},
		{"gzip", "/js/app.js", []string{"Accept-Encoding", "gzip"}, 200},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := get(c.path, c.header...)
					if err != nil || resp.StatusCode != c.status {
						b.Errorf("GET %s: %v %v", c.path, resp, err)
						return
					}
				}
			})
		})
	}
}

func TestSharedFiles(t *testing.T) {
	home := newHome(t)
	write(t, home, "shared/common.css", "/* shared */")
	write(t, home, "shared/later.js", "// later")
	write(t, home, "wwwroot/assets/fallback.css", "/* static */")
	catalog := `{"items": [
		{"requestPath": "/assets/common.css", "hostFilePath": "../shared/common.css"},
		{"requestPath": "/assets/fallback.css", "hostFilePath": "../shared/missing.css"},
	]}`
	write(t, home, "app/shared_files.json", catalog)
	h := start(t, home, map[string]any{"SharedFileConfigPath": "app/shared_files.json"})

	resp, body := raw(t, h, "GET", "/shared-files/manifest")
	if resp.StatusCode != 200 || body != `[{"requestPath":"/assets/common.css"},{"requestPath":"/assets/fallback.css"}]` {
		t.Fatalf("manifest: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "shared/") {
		t.Errorf("the manifest shows host paths")
	}
	for _, target := range []string{"/assets/common.css", "/ASSETS/Common.css"} {
		if resp, body := raw(t, h, "GET", target); resp.StatusCode != 200 || body != "/* shared */" || resp.Header.Get("ETag") == "" {
			t.Errorf("%s: %d %q", target, resp.StatusCode, body)
		}
	}
	// A catalogued file that is missing falls through to the static roots.
	if resp, body := raw(t, h, "GET", "/assets/fallback.css"); resp.StatusCode != 200 || body != "/* static */" {
		t.Errorf("fallback: %d %q", resp.StatusCode, body)
	}

	// Edits to the catalog apply at once; a broken catalog keeps the last good one.
	write(t, home, "app/shared_files.json", `{"items": [{"requestPath": "/later.js", "hostFilePath": "`+filepath.Join(home, "shared/later.js")+`"}]}`)
	if resp, body := raw(t, h, "GET", "/later.js"); resp.StatusCode != 200 || body != "// later" {
		t.Fatalf("after catalog edit: %d %q", resp.StatusCode, body)
	}
	if resp, _ := raw(t, h, "GET", "/assets/common.css"); resp.StatusCode != 404 {
		t.Fatalf("entry removed from the catalog: %d", resp.StatusCode)
	}
	write(t, home, "app/shared_files.json", `{"items": [`)
	if resp, body := raw(t, h, "GET", "/later.js"); resp.StatusCode != 200 || body != "// later" {
		t.Fatalf("broken catalog: %d %q", resp.StatusCode, body)
	}
	if err := os.Remove(filepath.Join(home, "app/shared_files.json")); err != nil {
		t.Fatal(err)
	}
	if _, body := raw(t, h, "GET", "/shared-files/manifest"); body != "[]" {
		t.Fatalf("no catalog: manifest %s", body)
	}
}

// TestHandStackModuleJSON runs on HandStack's own wwwroot module.json: its
// relative ContractBasePath and WWWRootBasePath resolve against DIR/app, and
// its other keys (CreateIDPolicy, DevAutoSignIn, ...) are ignored.
func TestHandStackModuleJSON(t *testing.T) {
	home := t.TempDir()
	acktest.HandStackModuleJSON(t, home, "wwwroot")
	write(t, home, "modules/wwwroot/wwwroot/js/syn.js", "// syn")
	write(t, home, "contracts/wwwroot/HDS/TST/JSF010.html", "<p>JSF010</p>")
	h := start(t, home, nil)
	if resp, body := raw(t, h, "GET", "/view/TST/JSF010.html"); resp.StatusCode != 200 || body != "<p>JSF010</p>" {
		t.Errorf("screen: %d %q", resp.StatusCode, body)
	}
	if resp, body := raw(t, h, "GET", "/js/syn.js"); resp.StatusCode != 200 || body != "// syn" {
		t.Errorf("WWWRootBasePath: %d %q", resp.StatusCode, body)
	}
}
