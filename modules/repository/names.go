package repository

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameBytes bounds a stored file name (most file systems allow 255 bytes).
const maxNameBytes = 200

// isSafeSegment reports whether s can be used as one path segment as is: not
// empty, not "." or "..", valid UTF-8 without control characters, path
// separators, or characters Windows forbids, not longer than maxNameBytes,
// and not the temporary directory's name.
// Every identifier that becomes part of a storage key passes this check.
func isSafeSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > maxNameBytes || !utf8.ValidString(s) {
		return false
	}
	if strings.TrimSpace(s) != s || strings.HasSuffix(s, ".") || strings.EqualFold(s, tempDir) {
		return false // tempDir holds uploads in progress: never addressable
	}
	for _, r := range s {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// isSafeRelPath reports whether p is a relative path of safe segments joined
// by "/" (an empty path is safe: it names the root).
func isSafeRelPath(p string) bool {
	if p == "" {
		return true
	}
	for seg := range strings.SplitSeq(p, "/") {
		if !isSafeSegment(seg) {
			return false
		}
	}
	return true
}

// sanitizeFileName turns a client-supplied file name into one safe segment,
// or "" when nothing usable is left. Directories are dropped (both "/" and
// "\" separate them, as browsers on Windows send full paths), control and
// reserved characters are removed, and the name is shortened to maxNameBytes
// without splitting a character, keeping its extension when it can.
func sanitizeFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`:*?"<>|`, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimRight(strings.TrimSpace(name), ". ")
	if len(name) > maxNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !isSafeSegment(ext) {
			ext = ""
		}
		name = truncateUTF8(strings.TrimSuffix(name, ext), maxNameBytes-len(ext)) + ext
		name = strings.TrimRight(strings.TrimSpace(name), ". ")
	}
	if !isSafeSegment(name) {
		return ""
	}
	return name
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fileExtension returns the extension of name with its dot ("" when none), as
// HandStack records it.
func fileExtension(name string) string {
	ext := path.Ext(name)
	if ext == name {
		return "" // ".profile" is a name, not an extension
	}
	return ext
}

// extensionAllowed reports whether a file named name may be uploaded to a
// repository whose UploadExtensions is list: "" or "*/*" or "*" allow
// everything; otherwise list holds extensions ("jpg" or ".jpg") and MIME
// patterns ("image/*", "application/pdf") separated by ";" or ",".
func extensionAllowed(list, name, mimeType string) bool {
	list = strings.TrimSpace(list)
	if list == "" {
		return true
	}
	ext := strings.ToLower(strings.TrimPrefix(fileExtension(name), "."))
	for tok := range strings.FieldsFuncSeq(list, func(r rune) bool { return r == ';' || r == ',' }) {
		tok = strings.ToLower(strings.TrimSpace(tok))
		switch {
		case tok == "":
		case tok == "*" || tok == "*/*":
			return true
		case strings.Contains(tok, "/"):
			if mimeMatches(tok, mimeType) {
				return true
			}
		case ext != "" && strings.TrimPrefix(tok, ".") == ext:
			return true
		}
	}
	return false
}

func mimeMatches(pattern, mimeType string) bool {
	mimeType = strings.ToLower(mimeType)
	if i := strings.IndexByte(mimeType, ';'); i >= 0 {
		mimeType = strings.TrimSpace(mimeType[:i])
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok {
		return strings.HasPrefix(mimeType, prefix+"/")
	}
	return pattern == mimeType
}
