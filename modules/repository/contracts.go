package repository

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
)

// Storage types a repository can use.
const (
	storageFileSystem = "FileSystem"
	storageS3         = "AwsS3"
)

// Access methods of a repository's downloads.
const (
	accessPublic    = "public"
	accessProtected = "protected"
	accessPrivate   = "private"
)

// Repository is one entry of a storage contract (contracts/repository/{App}/*.json):
// where a repository keeps its files and what it accepts. It is immutable
// once parsed.
type Repository struct {
	ApplicationID  string
	RepositoryID   string
	RepositoryName string
	// StorageType is storageFileSystem or storageS3 (normalised from
	// HandStack's spellings).
	StorageType string
	// PhysicalPath is the absolute FileSystem root.
	PhysicalPath  string
	S3            S3Location
	IsVirtualPath bool
	// AccessMethod is accessPublic, accessProtected or accessPrivate.
	AccessMethod             string
	IsFileUploadDownloadOnly bool
	IsMultiUpload            bool
	IsFileOverWrite          bool
	IsFileNameEncrypt        bool
	IsKeepFileExtension      bool
	IsAutoPath               bool
	PolicyPathID             string
	UploadTypeID             string
	UploadExtensions         string
	UploadCount              int
	UploadSizeLimit          int64
	// File is the contract file (relative to its root) that defined the entry.
	File string
}

// S3Location is where an S3-compatible repository keeps its objects. The
// keys are secrets: they never leave the process.
type S3Location struct {
	Bucket     string
	Region     string
	AccessKey  string
	SecretKey  string
	ServiceURL string
}

// key identifies a repository in the contract store.
func (r Repository) key() string { return repositoryKey(r.ApplicationID, r.RepositoryID) }

func repositoryKey(applicationID, repositoryID string) string {
	return applicationID + "/" + repositoryID
}

// storageKind declares the storage contract: every *.json and *.rpo file under
// the module's contract roots holds a JSON array of repositories. base
// resolves relative PhysicalPath values the way HandStack does (a path that
// starts with "." is relative to DIR/app, any other relative path to DIR).
func storageKind(paths config.Paths) contract.Kind[Repository] {
	return contract.Kind[Repository]{
		Name:   "repository.storage",
		Module: "repository",
		Match: func(rel string) bool {
			ext := strings.ToLower(path.Ext(rel))
			return ext == ".json" || ext == ".rpo"
		},
		Parse: func(fsys fs.FS, unit string) ([]Repository, error) {
			data, err := fs.ReadFile(fsys, unit)
			if err != nil {
				return nil, fmt.Errorf("repository: read %s: %w", unit, err)
			}
			return parseStorage(unit, data, paths)
		},
		Key: Repository.key,
	}
}

// storageEntry is the JSON form of a repository. Newtonsoft (HandStack)
// coerces strings and numbers into each other, so the loose fields accept both.
type storageEntry struct {
	ApplicationID            looseString
	RepositoryID             looseString
	RepositoryName           looseString
	StorageType              looseString
	PhysicalPath             looseString
	AwsBucketName            looseString
	AwsRegion                looseString
	AwsAccessKey             looseString
	AwsSecretKey             looseString
	AwsServiceURL            looseString `json:"AwsServiceUrl"`
	IsVirtualPath            looseBool
	AccessMethod             looseString
	IsFileUploadDownloadOnly looseBool
	IsMultiUpload            looseBool
	IsFileOverWrite          looseBool
	IsFileNameEncrypt        looseBool
	IsKeepFileExtension      looseBool
	IsAutoPath               looseBool
	PolicyPathID             looseString
	UploadTypeID             looseString
	UploadExtensions         looseString
	UploadCount              looseInt
	UploadSizeLimit          looseInt
}

// parseStorage decodes one storage contract file. Each problem is reported
// with the line of the entry that has it. A repeated ApplicationID and
// RepositoryID pair keeps the first entry, as HandStack does.
func parseStorage(rel string, data []byte, paths config.Paths) ([]Repository, error) {
	clean := config.StripJSONC(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	dec := json.NewDecoder(bytes.NewReader(clean))
	fail := func(offset int64, err error) error {
		return &contract.ParseError{Path: rel, Line: config.LineOf(clean, offset), Err: err}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, fail(dec.InputOffset(), fmt.Errorf("want a JSON array of repositories: %w", err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(dec.InputOffset(), errors.New("want a JSON array of repositories"))
	}
	var out []Repository
	seen := map[string]bool{}
	for dec.More() {
		start := dec.InputOffset()
		var e storageEntry
		if err := dec.Decode(&e); err != nil {
			if line := config.JSONErrorLine(clean, err); line > 0 {
				return nil, &contract.ParseError{Path: rel, Line: line, Err: err}
			}
			return nil, fail(start, err)
		}
		// The entry starts after the separator and white space that precede it.
		at := start + int64(len(clean[start:])-len(bytes.TrimLeft(clean[start:], ", \t\r\n")))
		repo, err := e.repository(rel, paths)
		if err != nil {
			return nil, fail(at, err)
		}
		if seen[repo.key()] {
			continue
		}
		seen[repo.key()] = true
		out = append(out, repo)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail(dec.InputOffset(), fmt.Errorf("unterminated array: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fail(dec.InputOffset(), errors.New("unexpected data after the array"))
	}
	return out, nil
}

func (e storageEntry) repository(rel string, paths config.Paths) (Repository, error) {
	r := Repository{
		ApplicationID:            strings.TrimSpace(string(e.ApplicationID)),
		RepositoryID:             strings.TrimSpace(string(e.RepositoryID)),
		RepositoryName:           string(e.RepositoryName),
		IsVirtualPath:            bool(e.IsVirtualPath),
		IsFileUploadDownloadOnly: bool(e.IsFileUploadDownloadOnly),
		IsMultiUpload:            bool(e.IsMultiUpload),
		IsFileOverWrite:          bool(e.IsFileOverWrite),
		IsFileNameEncrypt:        bool(e.IsFileNameEncrypt),
		IsKeepFileExtension:      bool(e.IsKeepFileExtension),
		IsAutoPath:               bool(e.IsAutoPath),
		PolicyPathID:             strings.TrimSpace(string(e.PolicyPathID)),
		UploadTypeID:             string(e.UploadTypeID),
		UploadExtensions:         string(e.UploadExtensions),
		UploadCount:              int(e.UploadCount),
		UploadSizeLimit:          int64(e.UploadSizeLimit),
		File:                     rel,
	}
	if !isSafeSegment(r.ApplicationID) {
		return r, fmt.Errorf("ApplicationID %q: want a non-empty name without path separators", r.ApplicationID)
	}
	if !isSafeSegment(r.RepositoryID) {
		return r, fmt.Errorf("RepositoryID %q: want a non-empty name without path separators", r.RepositoryID)
	}
	if r.PolicyPathID == "" {
		r.PolicyPathID = "1"
	}
	switch r.PolicyPathID {
	case "1", "2", "3":
	default:
		return r, fmt.Errorf("repository %s: PolicyPathID %q: want 1, 2 or 3", r.RepositoryID, r.PolicyPathID)
	}
	if r.UploadCount < 0 || r.UploadSizeLimit < 0 {
		return r, fmt.Errorf("repository %s: UploadCount and UploadSizeLimit must not be negative", r.RepositoryID)
	}
	switch method := strings.ToLower(strings.TrimSpace(string(e.AccessMethod))); method {
	case "":
		r.AccessMethod = accessProtected
	case accessPublic, accessProtected, accessPrivate:
		r.AccessMethod = method
	default:
		return r, fmt.Errorf("repository %s: AccessMethod %q: want public, protected or private", r.RepositoryID, e.AccessMethod)
	}
	// HandStack's factory and controller disagree on the S3 spelling; accept both.
	switch strings.ToLower(strings.TrimSpace(string(e.StorageType))) {
	case "", "filesystem":
		r.StorageType = storageFileSystem
		p := strings.TrimSpace(string(e.PhysicalPath))
		if p == "" {
			return r, fmt.Errorf("repository %s: PhysicalPath is required for FileSystem storage", r.RepositoryID)
		}
		if strings.Contains(p, "{appBasePath}") {
			return r, fmt.Errorf("repository %s: PhysicalPath: tenant paths ({appBasePath}) are not supported", r.RepositoryID)
		}
		r.PhysicalPath = resolvePhysicalPath(paths, p)
	case "awss3", "aws_s3", "s3":
		r.StorageType = storageS3
		r.S3 = S3Location{
			Bucket:     strings.TrimSpace(string(e.AwsBucketName)),
			Region:     strings.TrimSpace(string(e.AwsRegion)),
			AccessKey:  config.ExpandEnv(strings.TrimSpace(string(e.AwsAccessKey))),
			SecretKey:  config.ExpandEnv(strings.TrimSpace(string(e.AwsSecretKey))),
			ServiceURL: strings.TrimSpace(string(e.AwsServiceURL)),
		}
		if r.S3.Bucket == "" {
			return r, fmt.Errorf("repository %s: AwsBucketName is required for S3 storage", r.RepositoryID)
		}
		if _, _, err := s3Endpoint(r.S3.ServiceURL); err != nil {
			return r, fmt.Errorf("repository %s: AwsServiceUrl: %w", r.RepositoryID, err)
		}
	default:
		return r, fmt.Errorf("repository %s: StorageType %q is not supported (FileSystem, AwsS3)", r.RepositoryID, e.StorageType)
	}
	return r, nil
}

// resolvePhysicalPath makes a contract's PhysicalPath absolute: environment
// references are expanded; "./x" and "../x" are relative to DIR/app
// (HandStack's entry directory), any other relative path to DIR.
func resolvePhysicalPath(paths config.Paths, p string) string {
	p = strings.ReplaceAll(config.ExpandEnv(p), `\`, "/")
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if strings.HasPrefix(p, ".") {
		return filepath.Join(paths.App, filepath.FromSlash(p))
	}
	return filepath.Join(paths.Home, filepath.FromSlash(p))
}

// looseString accepts a JSON string, number or boolean, and null.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		return errors.New("want a string")
	default:
		*s = looseString(b)
	}
	return nil
}

// looseBool accepts true/false, "true"/"false" (any case), 1/0 and null.
type looseBool bool

func (v *looseBool) UnmarshalJSON(b []byte) error {
	var s looseString
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want true or false")
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true", "1", "y":
		*v = true
	case "false", "0", "n", "":
		*v = false
	default:
		return fmt.Errorf("want true or false, got %q", string(s))
	}
	return nil
}

// looseInt accepts a JSON number or a numeric string, and null.
type looseInt int64

func (v *looseInt) UnmarshalJSON(b []byte) error {
	var s looseString
	if err := s.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("want a number")
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*v = 0
		return nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return fmt.Errorf("want a whole number, got %q", t)
	}
	*v = looseInt(n)
	return nil
}
