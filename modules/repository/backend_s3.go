package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	// s3PartSize bounds the memory one upload of unknown length holds: the
	// client buffers one part at a time.
	s3PartSize = 8 << 20
	// s3MaxCopy is the largest object a single server-side copy handles.
	s3MaxCopy = 5 << 30
)

// s3Backend keeps files as objects of one bucket of an S3-compatible service.
// PUT is atomic on S3, and staging under tempDir then copying keeps the same
// publish-in-one-step contract as the local backend.
type s3Backend struct {
	client *minio.Client
	bucket string
}

// s3Endpoint splits a contract's AwsServiceUrl into minio's host and TLS
// flag. An empty URL means AWS itself.
func s3Endpoint(serviceURL string) (host string, secure bool, err error) {
	if serviceURL == "" {
		return "s3.amazonaws.com", true, nil
	}
	if !strings.Contains(serviceURL, "://") {
		serviceURL = "https://" + serviceURL
	}
	u, err := url.Parse(serviceURL)
	if err != nil {
		return "", false, fmt.Errorf("not a URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" ||
		u.RawQuery != "" || u.User != nil {
		return "", false, errors.New("want http(s)://host[:port]")
	}
	return u.Host, u.Scheme == "https", nil
}

func openS3(loc S3Location) (*s3Backend, error) {
	host, secure, err := s3Endpoint(loc.ServiceURL)
	if err != nil {
		return nil, fmt.Errorf("repository: S3 endpoint: %w", err)
	}
	opts := &minio.Options{
		Creds:  credentials.NewStaticV4(loc.AccessKey, loc.SecretKey, ""),
		Secure: secure,
		Region: loc.Region,
	}
	if loc.ServiceURL != "" {
		// S3-compatible services (MinIO, Ceph, ...) are addressed by path.
		opts.BucketLookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, opts)
	if err != nil {
		return nil, fmt.Errorf("repository: S3 client: %w", err)
	}
	return &s3Backend{client: client, bucket: loc.Bucket}, nil
}

func (b *s3Backend) Close() error { return nil }

func (b *s3Backend) Stage(ctx context.Context, r io.Reader) (staged, error) {
	name := tempName()
	info, err := b.client.PutObject(ctx, b.bucket, name, strictReader{r}, -1, minio.PutObjectOptions{
		PartSize:    s3PartSize,
		ContentType: "application/octet-stream",
		// Parts are sent with an unsigned payload rather than aws-chunked
		// signing, which not every S3-compatible service decodes in
		// multipart parts; the module hashes every upload itself.
		DisableContentSha256: true,
	})
	if err != nil {
		// A failed multipart upload is aborted by the client; a failed single
		// PUT stores nothing.
		return nil, fmt.Errorf("repository: S3 upload: %w", err)
	}
	return &s3Staged{b: b, name: name, size: info.Size}, nil
}

// strictReader wraps every read error but io.EOF. minio-go takes a bare
// io.ErrUnexpectedEOF for the end of the data, which is exactly what a
// truncated request body returns: unwrapped, a dropped upload would be stored
// cut short.
type strictReader struct{ r io.Reader }

func (s strictReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.EOF is returned bare by contract
		err = fmt.Errorf("repository: read upload: %w", err)
	}
	return n, err
}

type s3Staged struct {
	b    *s3Backend
	name string
	size int64
}

func (s *s3Staged) Commit(ctx context.Context, key string) error {
	dst := minio.CopyDestOptions{Bucket: s.b.bucket, Object: key}
	src := minio.CopySrcOptions{Bucket: s.b.bucket, Object: s.name}
	var err error
	if s.size <= s3MaxCopy {
		_, err = s.b.client.CopyObject(ctx, dst, src)
	} else {
		_, err = s.b.client.ComposeObject(ctx, dst, src)
	}
	if err != nil {
		return fmt.Errorf("repository: S3 publish: %w", err)
	}
	return s.Discard(ctx)
}

func (s *s3Staged) Discard(ctx context.Context) error {
	if err := s.b.client.RemoveObject(ctx, s.b.bucket, s.name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("repository: S3 remove temporary object: %w", err)
	}
	return nil
}

func isS3NotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

func (b *s3Backend) Open(ctx context.Context, key string) (object, error) {
	obj, err := b.client.GetObject(ctx, b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("repository: S3 get: %w", err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isS3NotFound(err) {
			return nil, errNotFound
		}
		return nil, fmt.Errorf("repository: S3 stat: %w", err)
	}
	return &s3Object{Object: obj, info: st}, nil
}

type s3Object struct {
	*minio.Object
	info minio.ObjectInfo
}

func (o *s3Object) Size() int64        { return o.info.Size }
func (o *s3Object) ModTime() time.Time { return o.info.LastModified }

func (b *s3Backend) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return true, nil
	case isS3NotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("repository: S3 stat: %w", err)
	}
}

func (b *s3Backend) Remove(ctx context.Context, key string) error {
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isS3NotFound(err) {
		return fmt.Errorf("repository: S3 remove: %w", err)
	}
	return nil
}

func (b *s3Backend) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for obj := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: tempDir + "/", Recursive: true}) {
		if obj.Err != nil {
			return n, fmt.Errorf("repository: S3 list temporary objects: %w", obj.Err)
		}
		if obj.LastModified.After(cutoff) {
			continue
		}
		if err := b.Remove(ctx, obj.Key); err == nil {
			n++
		}
	}
	return n, nil
}
