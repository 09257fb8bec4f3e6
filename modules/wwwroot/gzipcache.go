package wwwroot

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"fmt"
	"io"
	"io/fs"
	"sync"
)

const (
	// gzipCacheBytes bounds the memory held by compressed copies.
	gzipCacheBytes = 32 << 20
	// gzipMinSize: below it the gzip header costs more than it saves.
	gzipMinSize = 1 << 10
	// gzipMaxSize: larger files are served as they are, with Range support.
	gzipMaxSize = 4 << 20
)

// gzipKey names one version of one file: a changed file has another key, so
// a cached copy can never be served for content that is no longer on disk.
type gzipKey struct {
	path  string
	size  int64
	mtime int64
}

func keyOf(path string, fi fs.FileInfo) gzipKey {
	return gzipKey{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

type gzipEntry struct {
	key  gzipKey
	data []byte
}

// gzipCache keeps the gzip-compressed copies of recently served text files,
// least recently used out first.
type gzipCache struct {
	mu    sync.Mutex
	limit int
	size  int
	order *list.List // of *gzipEntry, most recent first
	// byPath holds one version per file: storing a newer one drops the old.
	byPath map[string]*list.Element
}

func newGzipCache(limit int) *gzipCache {
	return &gzipCache{limit: limit, order: list.New(), byPath: map[string]*list.Element{}}
}

// compressed returns the gzip copy of f, compressing it on a miss. The
// returned info describes the content that was compressed: if the file
// changed while it was read, the copy is returned uncached with the newer
// info, so that the validators sent match the bytes sent.
func (c *gzipCache) compressed(f *openedFile) ([]byte, fs.FileInfo, error) {
	key := keyOf(f.path, f.info)
	c.mu.Lock()
	if el, ok := c.byPath[key.path]; ok && el.Value.(*gzipEntry).key == key {
		c.order.MoveToFront(el)
		data := el.Value.(*gzipEntry).data
		c.mu.Unlock()
		return data, f.info, nil
	}
	c.mu.Unlock()

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.Copy(zw, f); err != nil {
		return nil, nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("compress %s: %w", f.path, err)
	}
	data := buf.Bytes()
	after, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", f.path, err)
	}
	if keyOf(f.path, after) != key {
		return data, after, nil
	}
	c.put(key, data)
	return data, f.info, nil
}

func (c *gzipCache) put(key gzipKey, data []byte) {
	if len(data) > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byPath[key.path]; ok {
		c.remove(el)
	}
	c.byPath[key.path] = c.order.PushFront(&gzipEntry{key: key, data: data})
	c.size += len(data)
	for c.size > c.limit {
		c.remove(c.order.Back())
	}
}

func (c *gzipCache) remove(el *list.Element) {
	e := el.Value.(*gzipEntry)
	c.order.Remove(el)
	delete(c.byPath, e.key.path)
	c.size -= len(e.data)
}
