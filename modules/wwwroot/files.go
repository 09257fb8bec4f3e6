package wwwroot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// cleanPath maps the part of a decoded URL path below a route prefix to a
// slash-separated path relative to a root. It refuses (ok false) anything that
// could leave the root or reach a hidden file: NUL, backslashes, "." and ".."
// segments, and segments starting with a dot other than ".well-known". dir
// reports a trailing slash (or the root itself). os.Root is the second line of
// defence: it refuses symlinks that point outside the root.
func cleanPath(p string) (rel string, dir, ok bool) {
	if strings.ContainsAny(p, "\x00\\") {
		return "", false, false
	}
	dir = p == "" || strings.HasSuffix(p, "/")
	segs := make([]string, 0, strings.Count(p, "/")+1)
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			continue
		case seg == "." || seg == "..":
			return "", false, false
		case strings.HasPrefix(seg, ".") && seg != ".well-known":
			return "", false, false
		}
		segs = append(segs, seg)
	}
	rel = strings.Join(segs, "/")
	if rel != "" && !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", false, false
	}
	return rel, dir, true
}

// lookup is the outcome of looking a path up in one root.
type lookup int

const (
	notFound lookup = iota
	found           // file is open
	addSlash        // a directory asked for without its trailing slash
	noIndex         // a directory without index.html: no listings
)

// openedFile is a regular file opened inside a root.
type openedFile struct {
	*os.File
	info fs.FileInfo
	// path is the file's path on disk (root joined with the real relative
	// name), the key of cached compressed copies.
	path string
}

// openFile opens rel inside root. A missing last segment is retried without
// regard to case, as HandStack's CaseInsensitiveStaticFileMiddleware does. A
// directory serves its index.html, never a listing.
func openFile(root, rel string, dir bool) (*openedFile, lookup, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, notFound, openErr(root, ".", err)
	}
	defer r.Close()

	name := rel
	if name == "" {
		name = "."
	}
	f, err := r.Open(name)
	if errors.Is(err, fs.ErrNotExist) && rel != "" {
		if real, ok := matchFold(r, rel); ok {
			name = real
			f, err = r.Open(name)
		}
	}
	if err != nil {
		return nil, notFound, openErr(root, name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, notFound, fmt.Errorf("stat %s: %w", filepath.Join(root, name), err)
	}
	if fi.IsDir() {
		f.Close()
		if !dir {
			return nil, addSlash, nil
		}
		name = path.Join(name, "index.html")
		if f, err = r.Open(name); err != nil {
			if isMiss(err) {
				return nil, noIndex, nil
			}
			return nil, notFound, openErr(root, name, err)
		}
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return nil, notFound, fmt.Errorf("stat %s: %w", filepath.Join(root, name), err)
		}
	} else if dir {
		// "/file.html/" names a directory that does not exist.
		f.Close()
		return nil, notFound, nil
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notFound, nil
	}
	return &openedFile{File: f, info: fi, path: filepath.Join(root, filepath.FromSlash(name))}, found, nil
}

// openErr turns the errors that mean "nothing servable here" into a miss:
// absence, a file used as a directory, permissions, and paths or symlinks
// that escape the root. Anything else is a real failure.
func openErr(root, name string, err error) error {
	if isMiss(err) {
		return nil
	}
	return fmt.Errorf("open %s: %w", filepath.Join(root, name), err)
}

func isMiss(err error) bool {
	for _, target := range []error{fs.ErrNotExist, fs.ErrPermission, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG} {
		if errors.Is(err, target) {
			return true
		}
	}
	// os.Root's refusal of a path or symlink leaving the root has no
	// exported error value.
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes from parent")
}

// matchFold finds the entry of rel's directory whose name equals rel's last
// segment without regard to case.
func matchFold(r *os.Root, rel string) (string, bool) {
	parent, base := path.Split(rel)
	if parent == "" {
		parent = "."
	}
	d, err := r.Open(parent)
	if err != nil {
		return "", false
	}
	defer d.Close()
	for {
		entries, err := d.ReadDir(256)
		for _, e := range entries {
			if strings.EqualFold(e.Name(), base) {
				return path.Join(parent, e.Name()), true
			}
		}
		if err != nil {
			return "", false
		}
	}
}
