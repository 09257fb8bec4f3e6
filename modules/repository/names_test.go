package repository

import (
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitizeFileName(t *testing.T) {
	tests := map[string]string{
		"report.pdf":                      "report.pdf",
		`C:\Users\kim\사진.jpg`:             "사진.jpg",
		"../../etc/passwd":                "passwd",
		"..":                              "",
		".":                               "",
		"a/..":                            "",
		"name\x00.txt":                    "name.txt",
		"  spaced .txt . ":                "spaced .txt",
		"what?.txt":                       "what.txt",
		"dir/":                            "",
		".ack-tmp":                        "",
		"%2e%2e%2f":                       "%2e%2e%2f", // not decoded again: a literal, harmless name
		strings.Repeat("a", 300) + ".png": strings.Repeat("a", maxNameBytes-4) + ".png",
	}
	for in, want := range tests {
		if got := sanitizeFileName(in); got != want {
			t.Errorf("sanitizeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsSafeRelPath(t *testing.T) {
	for p, want := range map[string]bool{
		"": true, "2026/a.png": true, "a": true,
		"../a": false, "a/../b": false, "/abs": false, "a//b": false, `a\b`: false, "a\x00": false,
		".ack-tmp/x.part": false, "C:/x": false, "a/": false,
	} {
		if got := isSafeRelPath(p); got != want {
			t.Errorf("isSafeRelPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestExtensionAllowed(t *testing.T) {
	tests := []struct {
		list, name string
		want       bool
	}{
		{"", "x.exe", true},
		{"*/*", "x.exe", true},
		{"gif;jpg;jpeg;png;bmp", "a.JPG", true},
		{"gif;jpg;jpeg;png;bmp", "a.exe", false},
		{"gif;jpg", "jpg", false},
		{".pdf, .docx", "a.pdf", true},
		{"image/*", "a.png", true},
		{"image/*", "a.pdf", false},
		{"application/pdf", "a.pdf", true},
	}
	for _, tc := range tests {
		if got := extensionAllowed(tc.list, tc.name, mimeType(tc.name)); got != tc.want {
			t.Errorf("extensionAllowed(%q, %q) = %v", tc.list, tc.name, got)
		}
	}
}

func FuzzSanitizeFileName(f *testing.F) {
	for _, s := range []string{"a.txt", "../../x", `..\..\x`, "%2e%2e%2f", "%252e%252e%252f", "\x00", "/etc/passwd",
		"C:\\x", ".ack-tmp", "é.png", strings.Repeat("가", 100) + ".hwp", " . "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sanitizeFileName(in)
		if out == "" {
			return
		}
		if !isSafeSegment(out) || !fs.ValidPath(out) || strings.ContainsAny(out, `/\`) || !utf8.ValidString(out) ||
			len(out) > maxNameBytes {
			t.Fatalf("sanitizeFileName(%q) = %q is not a safe segment", in, out)
		}
		if again := sanitizeFileName(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}
