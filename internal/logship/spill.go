package logship

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/wire"
)

// Spill files are JSON lines named spill-<seq>.jsonl; replay goes by
// ascending seq. Numbers start high so that records older than every file
// (prepend) can take a lower one.
const (
	segPrefix = "spill-"
	segSuffix = ".jsonl"
	firstSeq  = int64(1) << 40
)

type segment struct {
	seq  int64
	path string
}

// spill is the ordered set of spill files of one directory. The newest may
// be open for appending (the tail). It is not safe for concurrent use; Queue
// guards it with its mutex.
type spill struct {
	dir   string
	segs  []segment // oldest first
	tail  *os.File  // open for append; always the last of segs
	w     *bufio.Writer
	dirty bool // written since the last sync
}

func openSpill(dir string) (*spill, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logship: spill dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("logship: spill dir: %w", err)
	}
	s := &spill{dir: dir}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		seq, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		s.segs = append(s.segs, segment{seq: seq, path: filepath.Join(dir, name)})
	}
	slices.SortFunc(s.segs, func(a, b segment) int { return cmp.Compare(a.seq, b.seq) })
	return s, nil
}

func (s *spill) count() int { return len(s.segs) }

func (s *spill) path(seq int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%019d%s", segPrefix, seq, segSuffix))
}

// append writes records at the end of the newest file, opening one when none
// is open. The data reaches the disk at the next sync.
func (s *spill) append(msgs []wire.LogMessage) error {
	if s.tail == nil {
		seq := firstSeq
		if n := len(s.segs); n > 0 {
			seq = s.segs[n-1].seq + 1
		}
		f, err := s.create(seq)
		if err != nil {
			return err
		}
		s.tail, s.w = f, bufio.NewWriterSize(f, 64<<10)
		s.segs = append(s.segs, segment{seq: seq, path: f.Name()})
	}
	if err := writeLines(s.w, msgs); err != nil {
		// A torn line may follow: later records go to a new file.
		s.tail.Close()
		s.tail, s.w = nil, nil
		return err
	}
	s.dirty = true
	return nil
}

// prepend writes records older than every file to a new first file, synced.
func (s *spill) prepend(msgs []wire.LogMessage) error {
	seq := firstSeq
	if len(s.segs) > 0 {
		seq = s.segs[0].seq - 1
	}
	f, err := s.create(seq)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	err = writeLines(w, msgs)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("logship: write %s: %w", f.Name(), err)
	}
	s.segs = slices.Insert(s.segs, 0, segment{seq: seq, path: f.Name()})
	return nil
}

func (s *spill) create(seq int64) (*os.File, error) {
	f, err := os.OpenFile(s.path(seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("logship: create spill file: %w", err)
	}
	// The new name must survive a crash too.
	if d, err := os.Open(s.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return f, nil
}

func writeLines(w *bufio.Writer, msgs []wire.LogMessage) error {
	for _, m := range msgs {
		line, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("logship: encode record: %w", err)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("logship: write spill file: %w", err)
		}
	}
	return nil
}

// flush writes the tail's buffer to the file and returns the file for an
// fsync the caller may do without holding the queue's lock (nil when there
// is nothing to sync).
func (s *spill) flush() (*os.File, error) {
	if s.tail == nil || !s.dirty {
		return nil, nil
	}
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("logship: flush spill file: %w", err)
	}
	s.dirty = false
	return s.tail, nil
}

// sync flushes the tail's buffer and fsyncs it.
func (s *spill) sync() error {
	if s.tail == nil || !s.dirty {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("logship: flush spill file: %w", err)
	}
	if err := s.tail.Sync(); err != nil {
		return fmt.Errorf("logship: sync spill file: %w", err)
	}
	s.dirty = false
	return nil
}

// closeTail syncs and closes the tail; the next append opens a new file.
func (s *spill) closeTail() error {
	if s.tail == nil {
		return nil
	}
	// Always fsync: a flush may have been synced outside the lock, or not yet.
	_, err := s.flush()
	if err == nil {
		err = s.tail.Sync()
	}
	if cerr := s.tail.Close(); err == nil {
		err = cerr
	}
	s.tail, s.w = nil, nil
	return err
}

// oldest returns the first file, closing it first if it is the tail so that
// it is complete while read.
func (s *spill) oldest() (segment, bool) {
	if len(s.segs) == 0 {
		return segment{}, false
	}
	if s.tail != nil && len(s.segs) == 1 {
		// A failed close leaves what was synced; the reader takes what it finds.
		s.closeTail()
	}
	return s.segs[0], true
}

// remove deletes a replayed file.
func (s *spill) remove(seg segment) error {
	s.segs = slices.DeleteFunc(s.segs, func(x segment) bool { return x.seq == seg.seq })
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("logship: remove %s: %w", seg.path, err)
	}
	return nil
}

// segmentReader reads a spill file's records in order.
type segmentReader struct {
	f    *os.File
	r    *bufio.Reader
	line int
}

func (seg segment) open() (*segmentReader, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		return nil, err
	}
	return &segmentReader{f: f, r: bufio.NewReaderSize(f, 64<<10)}, nil
}

func (r *segmentReader) close() { r.f.Close() }

// next returns up to n records and whether the file is finished. Lines that
// do not decode (a torn last line after a crash) are passed to bad.
func (r *segmentReader) next(n int, bad func(line int, err error)) ([]wire.LogMessage, bool) {
	var out []wire.LogMessage
	for len(out) < n {
		data, err := r.r.ReadBytes('\n')
		if len(bytes.TrimSpace(data)) > 0 {
			r.line++
			var m wire.LogMessage
			if derr := json.Unmarshal(data, &m); derr != nil {
				bad(r.line, derr)
			} else {
				out = append(out, m)
			}
		}
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			bad(r.line+1, err)
			return out, true
		}
	}
	return out, false
}
