package repository

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// fakeS3 starts an in-process S3 server with one bucket and returns its location.
func fakeS3(t *testing.T, bucket string) S3Location {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	return S3Location{Bucket: bucket, Region: "us-east-1", AccessKey: "test-access", SecretKey: "test-secret", ServiceURL: srv.URL}
}

func testBackends(t *testing.T) map[string]backend {
	t.Helper()
	local, err := openLocal(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	s3, err := openS3(fakeS3(t, "files"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close(); s3.Close() })
	return map[string]backend{"local": local, "s3": s3}
}

// failingReader yields some data, then fails like a dropped connection.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func TestBackends(t *testing.T) {
	for name, be := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			data := bytes.Repeat([]byte("0123456789"), 1000)
			st, err := be.Stage(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := be.Exists(ctx, "2026/item"); ok {
				t.Fatal("a staged file is visible before Commit")
			}
			if err := st.Commit(ctx, "2026/item"); err != nil {
				t.Fatal(err)
			}
			if err := st.Discard(ctx); err != nil {
				t.Fatalf("Discard after Commit: %v", err)
			}
			obj, err := be.Open(ctx, "2026/item")
			if err != nil {
				t.Fatal(err)
			}
			if obj.Size() != int64(len(data)) || obj.ModTime().IsZero() {
				t.Errorf("size %d, modtime %v", obj.Size(), obj.ModTime())
			}
			if _, err := obj.Seek(5000, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(obj)
			obj.Close()
			if err != nil || !bytes.Equal(rest, data[5000:]) {
				t.Fatalf("read after seek: %v (%d bytes)", err, len(rest))
			}

			// A broken upload leaves nothing, not even a temporary object.
			if _, err := be.Stage(ctx, &failingReader{n: 100 << 10}); err == nil {
				t.Fatal("a failing body staged without error")
			}
			if n, err := be.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("temporary objects left by a failed stage: %d (%v)", n, err)
			}

			// A discarded file never appears; an abandoned one is swept.
			st, _ = be.Stage(ctx, strings.NewReader("abc"))
			if err := st.Discard(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := be.Stage(ctx, strings.NewReader("left by a crash")); err != nil {
				t.Fatal(err)
			}
			if n, _ := be.Sweep(ctx, time.Now().Add(-time.Hour)); n != 0 {
				t.Fatalf("the sweep removed a fresh temporary file")
			}
			if n, err := be.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
				t.Fatalf("sweep removed %d (%v), want 1", n, err)
			}

			if err := be.Remove(ctx, "2026/item"); err != nil {
				t.Fatal(err)
			}
			if err := be.Remove(ctx, "2026/item"); err != nil {
				t.Fatalf("removing a missing key: %v", err)
			}
			if _, err := be.Open(ctx, "2026/item"); !errors.Is(err, errNotFound) {
				t.Fatalf("Open after Remove: %v", err)
			}
		})
	}
}

func TestLocalBackendStaysInsideItsRoot(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	be, err := openLocal(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if err := os.Symlink(secret, filepath.Join(dir, "store", "link")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../secret.txt", "/etc/passwd", "link", "a/../../secret.txt"} {
		if obj, err := be.Open(t.Context(), key); err == nil {
			obj.Close()
			t.Errorf("Open(%q) escaped the root", key)
		}
	}
	st, err := be.Stage(t.Context(), strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(t.Context(), "../escaped"); err == nil {
		t.Error("Commit outside the root succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "escaped")); err == nil {
		t.Error("a file was written outside the root")
	}
}
