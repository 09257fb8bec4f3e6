package repository

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"time"
)

// tempDir holds uploads in progress inside each repository's storage. Nothing
// in it is ever served; leftovers are swept (see backend.Sweep).
const tempDir = ".ack-tmp"

// errNotFound reports a storage key with no object behind it.
var errNotFound = errors.New("repository: file not found")

// backend stores the files of one repository (a local directory or an
// S3-compatible bucket). Keys are slash-separated relative paths made of
// safe segments. Writes are two-phase so that a file only ever appears
// whole: Stage streams into a temporary object, Commit publishes it under its
// key in one step.
type backend interface {
	// Stage streams r into a new temporary object. On error nothing is left.
	Stage(ctx context.Context, r io.Reader) (staged, error)
	// Open opens a stored object. A missing key is errNotFound.
	Open(ctx context.Context, key string) (object, error)
	// Exists reports whether key holds an object.
	Exists(ctx context.Context, key string) (bool, error)
	// Remove deletes key; a missing key is not an error.
	Remove(ctx context.Context, key string) error
	// Sweep removes temporary objects last written before cutoff, left by
	// uploads that a crash interrupted, and returns how many it removed.
	Sweep(ctx context.Context, cutoff time.Time) (int, error)
	Close() error
}

// staged is an uploaded file not yet visible under its key.
type staged interface {
	// Commit publishes the file under key, replacing what was there.
	Commit(ctx context.Context, key string) error
	// Discard removes the temporary object. It is safe after Commit.
	Discard(ctx context.Context) error
}

// object is a stored file opened for reading. Seeking lets http.ServeContent
// answer Range requests without reading what it skips.
type object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// tempName returns a fresh name for a temporary object.
func tempName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return tempDir + "/" + hex.EncodeToString(b[:]) + ".part"
}
