package repository

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/contract"
)

var testPaths = config.NewPaths("/home/ack", "")

func TestParseStorageFixture(t *testing.T) {
	path := acktest.Shared(t, "fixtures/handstack/home/contracts/repository/HDS/storage.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := parseStorage("HDS/storage.json", data, testPaths)
	if err != nil {
		t.Fatalf("parse fixture: %v", err)
	}
	want := []string{"TSTLE01", "TSTLM01", "TSTLP01", "TSTLS01"}
	if len(repos) != len(want) {
		t.Fatalf("got %d repositories, want %d", len(repos), len(want))
	}
	for i, r := range repos {
		if r.RepositoryID != want[i] || r.ApplicationID != "HDS" || r.StorageType != storageFileSystem {
			t.Errorf("repository %d = %s/%s %s", i, r.ApplicationID, r.RepositoryID, r.StorageType)
		}
	}
	m01 := repos[1]
	if !m01.IsMultiUpload || m01.UploadCount != 3 || m01.UploadSizeLimit != 10485760 || m01.UploadExtensions != "*/*" ||
		m01.AccessMethod != accessProtected || !m01.IsFileNameEncrypt || !m01.IsAutoPath || m01.PolicyPathID != "1" {
		t.Errorf("TSTLM01 decoded wrong: %+v", m01)
	}
	// "../storage/HDS/TSTLM01" is relative to DIR/app, as in HandStack.
	if got := filepath.ToSlash(m01.PhysicalPath); got != "/home/ack/storage/HDS/TSTLM01" {
		t.Errorf("PhysicalPath = %s", got)
	}
	if p01 := repos[2]; !p01.IsVirtualPath || !p01.IsFileOverWrite || p01.IsFileNameEncrypt {
		t.Errorf("TSTLP01 decoded wrong: %+v", p01)
	}
}

func TestParseStorage(t *testing.T) {
	tests := []struct {
		name     string
		json     string
		wantErr  string
		wantLine int
		check    func(t *testing.T, repos []Repository)
	}{
		{
			name: "comments, trailing commas, loose types and S3 spellings",
			json: `// storage
[
  {"applicationID": "APP", "repositoryID": "S3A", "StorageType": "AWS_S3", "AwsBucketName": "b",
   "AwsServiceUrl": "http://127.0.0.1:9000", "UploadCount": "5", "IsMultiUpload": "true", "PolicyPathID": 2,},
  {"ApplicationID": "APP", "RepositoryID": "S3B", "StorageType": "AwsS3", "AwsBucketName": "b", "AccessMethod": "Private"},
  {"ApplicationID": "APP", "RepositoryID": "S3A", "StorageType": "FileSystem", "PhysicalPath": "x"},
]`,
			check: func(t *testing.T, repos []Repository) {
				if len(repos) != 2 {
					t.Fatalf("got %d repositories, want 2 (a repeated pair keeps the first)", len(repos))
				}
				a, b := repos[0], repos[1]
				if a.StorageType != storageS3 || a.UploadCount != 5 || !a.IsMultiUpload || a.PolicyPathID != "2" ||
					a.S3.ServiceURL != "http://127.0.0.1:9000" {
					t.Errorf("first = %+v", a)
				}
				if b.StorageType != storageS3 || b.AccessMethod != accessPrivate {
					t.Errorf("second = %+v", b)
				}
			},
		},
		{name: "not an array", json: `{"RepositoryID": "A"}`, wantErr: "JSON array", wantLine: 1},
		{name: "missing physical path", json: "[\n{\"ApplicationID\": \"A\", \"RepositoryID\": \"R\"}\n]", wantErr: "PhysicalPath is required", wantLine: 2},
		{name: "traversal in repository ID", json: `[{"ApplicationID": "A", "RepositoryID": "../R", "PhysicalPath": "x"}]`, wantErr: "RepositoryID"},
		{name: "unknown storage type", json: "[\n\n {\"ApplicationID\": \"A\", \"RepositoryID\": \"R\", \"StorageType\": \"AzureBlob\"}]", wantErr: "not supported", wantLine: 3},
		{name: "bad access method", json: `[{"ApplicationID": "A", "RepositoryID": "R", "PhysicalPath": "x", "AccessMethod": "open"}]`, wantErr: "AccessMethod"},
		{name: "bad count", json: `[{"ApplicationID": "A", "RepositoryID": "R", "PhysicalPath": "x", "UploadCount": "many"}]`, wantErr: "whole number"},
		{name: "negative limit", json: `[{"ApplicationID": "A", "RepositoryID": "R", "PhysicalPath": "x", "UploadSizeLimit": -1}]`, wantErr: "negative"},
		{name: "bad service URL", json: `[{"ApplicationID": "A", "RepositoryID": "R", "StorageType": "AwsS3", "AwsBucketName": "b", "AwsServiceUrl": "ftp://x"}]`, wantErr: "AwsServiceUrl"},
		{name: "syntax error line", json: "[\n{\"ApplicationID\": \"A\",\n\"RepositoryID\" \"R\"}]", wantErr: "invalid character", wantLine: 3},
		{name: "trailing data", json: `[] []`, wantErr: "after the array"},
		{name: "tenant path", json: `[{"ApplicationID": "A", "RepositoryID": "R", "PhysicalPath": "{appBasePath}/x"}]`, wantErr: "tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repos, err := parseStorage("A/storage.json", []byte(tc.json), testPaths)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				var pe *contract.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("err is %T, want *contract.ParseError", err)
				}
				if tc.wantLine > 0 && pe.Line != tc.wantLine {
					t.Errorf("line = %d, want %d", pe.Line, tc.wantLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, repos)
		})
	}
}

func TestStorageKindMatchesAndParses(t *testing.T) {
	k := storageKind(testPaths)
	for rel, want := range map[string]bool{"HDS/storage.json": true, "HDS/a/b.RPO": true, "HDS/readme.md": false} {
		if got := k.Match(rel); got != want {
			t.Errorf("Match(%q) = %v", rel, got)
		}
	}
	fsys := fstest.MapFS{"HDS/storage.json": {Data: []byte(`[{"ApplicationID":"HDS","RepositoryID":"R1","PhysicalPath":"/srv/r1"}]`)}}
	repos, err := k.Parse(fsys, "HDS/storage.json")
	if err != nil || len(repos) != 1 || k.Key(repos[0]) != "HDS/R1" {
		t.Fatalf("Parse = %+v, %v", repos, err)
	}
}

func FuzzParseStorage(f *testing.F) {
	f.Add([]byte(`[{"ApplicationID":"A","RepositoryID":"R","PhysicalPath":"../x","UploadCount":"3"}]`))
	f.Add([]byte(`[{"ApplicationID":"A","RepositoryID":"R","StorageType":"aws_s3","AwsBucketName":"b","AwsServiceUrl":"http://h:1"}]`))
	f.Add([]byte("// c\n[ /* x */ {},]"))
	f.Add([]byte(`[1, "x", null]`))
	if data, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "handstack", "home", "contracts", "repository", "HDS", "storage.json")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		repos, err := parseStorage("A/s.json", data, testPaths)
		if err != nil {
			return
		}
		for _, r := range repos {
			if !isSafeSegment(r.ApplicationID) || !isSafeSegment(r.RepositoryID) {
				t.Fatalf("unsafe identifiers accepted: %q %q", r.ApplicationID, r.RepositoryID)
			}
			if r.StorageType == storageFileSystem && !filepath.IsAbs(r.PhysicalPath) {
				t.Fatalf("relative PhysicalPath accepted: %q", r.PhysicalPath)
			}
		}
	})
}
