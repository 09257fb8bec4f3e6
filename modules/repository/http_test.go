package repository

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
)

// testClock is a settable clock for signed-link expiry.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

type env struct {
	h       *acktest.Host
	home    string
	storage string // the FileSystem repositories' parent directory
	clock   *testClock
}

const testKey = "test-authorization-key"

// repoJSON declares the test repositories: MULTI (multi, encrypted names,
// 3 files of up to 1000 bytes, txt/png), SINGLE (one file per dependency,
// plain names, virtual path), NAMES (multi, plain names), PRIV (private),
// BIG (no size limit of its own) and,
// when s3 is set, S3 (the MULTI rules on an S3 bucket).
func repoJSON(storage string, s3 *S3Location) string {
	fsRepo := func(id, extra string) string {
		return fmt.Sprintf(`{"ApplicationID": "APP", "RepositoryID": %q, "StorageType": "FileSystem", "PhysicalPath": %q %s}`,
			id, filepath.Join(storage, id), extra)
	}
	repos := []string{
		fsRepo("MULTI", `, "IsMultiUpload": true, "IsFileNameEncrypt": true, "IsAutoPath": true, "PolicyPathID": "1",
			"UploadCount": 3, "UploadSizeLimit": 1000, "UploadExtensions": "txt;png", "AccessMethod": "public"`),
		fsRepo("SINGLE", `, "IsMultiUpload": false, "IsVirtualPath": true, "UploadCount": 1, "AccessMethod": "public"`),
		fsRepo("NAMES", `, "IsMultiUpload": true, "AccessMethod": "protected"`),
		fsRepo("PRIV", `, "IsMultiUpload": true, "IsFileNameEncrypt": true, "AccessMethod": "private"`),
		fsRepo("BIG", `, "IsMultiUpload": true, "IsFileNameEncrypt": true, "AccessMethod": "public"`),
	}
	if s3 != nil {
		repos = append(repos, fmt.Sprintf(`{"ApplicationID": "APP", "RepositoryID": "S3", "StorageType": "AwsS3",
			"AwsBucketName": %q, "AwsRegion": %q, "AwsAccessKey": %q, "AwsSecretKey": %q, "AwsServiceUrl": %q,
			"IsMultiUpload": true, "IsFileNameEncrypt": true, "UploadCount": 3, "UploadSizeLimit": 1000,
			"UploadExtensions": "txt;png", "AccessMethod": "public"}`, s3.Bucket, s3.Region, s3.AccessKey, s3.SecretKey, s3.ServiceURL))
	}
	return "[\n" + strings.Join(repos, ",\n") + "\n]"
}

func startEnv(t testing.TB, s3 *S3Location, overlay map[string]any) *env {
	t.Helper()
	home := t.TempDir()
	storage := filepath.Join(home, "storage")
	acktest.WriteFile(t, filepath.Join(home, "contracts", "repository", "APP", "storage.json"), repoJSON(storage, s3))
	e := &env{home: home, storage: storage, clock: &testClock{}}
	info := module.Info{ID: module.Repository, New: func() module.Module { return &Module{now: e.clock.Now} }}
	e.h = acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{info}, Settings: func(s *config.Settings) {
		s.Contracts.Resync = config.Duration(100 * time.Millisecond)
		values := map[string]any{"AuthorizationKey": testKey, "AllowClientIP": []string{"10.9.9.9"}, "FileServerUrl": "http://files.test"}
		for k, v := range overlay {
			values[k] = v
		}
		for k, v := range values {
			acktest.SetModuleConfig(t, s, "repository", k, v)
		}
	}})
	return e
}

type part struct{ field, name, data string }

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		w, err := mw.CreateFormFile(p.field, p.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (e *env) do(t *testing.T, method, path, contentType string, body io.Reader, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.h.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) upload(t *testing.T, repo, dep string, parts ...part) *http.Response {
	ct, body := multipartBody(t, parts...)
	return e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID="+repo+"&dependencyID="+dep, ct, bytes.NewReader(body))
}

func wantStatus(t *testing.T, resp *http.Response, status int) string {
	t.Helper()
	body := acktest.ReadBody(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	return body
}

// storedFiles lists the files under dir, temporary ones included.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func (e *env) items(t *testing.T, repo, dep string) []itemView {
	t.Helper()
	resp := e.h.Get(t, "/repository/api/storage/action-handler?action=GetItems&applicationID=APP&repositoryID="+repo+"&dependencyID="+dep)
	var items []itemView
	acktest.ReadJSON(t, resp, &items)
	return items
}

func TestUploadDownloadRoundTrip(t *testing.T) {
	s3 := fakeS3(t, "files")
	cases := []struct {
		name, repo string
		overlay    map[string]any
	}{
		{"filesystem", "MULTI", nil},
		{"s3", "S3", nil},
	}
	if dsn := os.Getenv("ACK_TEST_PG_DSN"); dsn != "" {
		cases = append(cases, struct {
			name, repo string
			overlay    map[string]any
		}{"filesystem+postgres", "MULTI", map[string]any{"MetadataProvider": "PostgreSQL", "MetadataConnectionString": dsn}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t, &s3, tc.overlay)
			dep := "D" + newItemID(time.Now())[:12]
			content := strings.Repeat("hello ack ", 50) // 500 bytes
			resp := e.upload(t, tc.repo, dep, part{"file", "보고서.txt", content})
			body := wantStatus(t, resp, 200)
			var res fileUploadResult
			json.Unmarshal([]byte(body), &res)
			if !res.Result || len(res.ItemID) != 32 || res.RemainingCount != 2 {
				t.Fatalf("upload result %s", body)
			}
			if resp.Header.Get("FileModelType") != "FileItemResult" || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
				t.Errorf("headers %v", resp.Header)
			}
			var item itemView
			raw, _ := base64.StdEncoding.DecodeString(resp.Header.Get("FileResult"))
			if err := json.Unmarshal(raw, &item); err != nil || item.FileName != "보고서.txt" || item.Size != 500 ||
				item.Extension != ".txt" || len(item.MD5) != 32 || !strings.HasPrefix(item.AbsolutePath, "http://files.test/repository/api/storage/http-download-file?") {
				t.Fatalf("FileResult item %s (%v)", raw, err)
			}
			if tc.repo == "MULTI" {
				want := fmt.Sprintf("%d/%s", time.Now().Year(), res.ItemID)
				if files := storedFiles(t, filepath.Join(e.storage, "MULTI")); len(files) != 1 || files[0] != want {
					t.Fatalf("stored files %v, want [%s]", files, want)
				}
			}
			if items := e.items(t, tc.repo, dep); len(items) != 1 || items[0].ItemID != res.ItemID {
				t.Fatalf("GetItems %+v", items)
			}

			dl := "/repository/api/storage/http-download-file?applicationid=APP&REPOSITORYID=" + tc.repo + "&itemId=" + res.ItemID
			resp = e.h.Get(t, dl)
			if got := wantStatus(t, resp, 200); got != content {
				t.Fatalf("downloaded %q", got)
			}
			etag := resp.Header.Get("ETag")
			if etag != `"`+strings.ToLower(item.MD5)+`"` || !strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=utf-8''") ||
				resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.Header.Get("FileModelType") != "DownloadResult" {
				t.Errorf("download headers %v", resp.Header)
			}
			resp = e.do(t, "GET", dl, "", nil, "Range", "bytes=10-19")
			if got := wantStatus(t, resp, http.StatusPartialContent); got != content[10:20] {
				t.Errorf("range body %q", got)
			}
			resp = e.do(t, "GET", dl, "", nil, "If-None-Match", etag)
			wantStatus(t, resp, http.StatusNotModified)

			resp = e.h.Post(t, "/repository/api/storage/download-file", map[string]string{
				"ApplicationID": "APP", "RepositoryID": tc.repo, "ItemID": res.ItemID, "Disposition": "inline"})
			if got := wantStatus(t, resp, 200); got != content || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
				t.Errorf("download-file: %q %v", got, resp.Header)
			}

			resp = e.h.Get(t, "/repository/api/storage/remove-item?applicationID=APP&repositoryID="+tc.repo+"&itemID="+res.ItemID)
			wantStatus(t, resp, 200)
			wantStatus(t, e.h.Get(t, dl), http.StatusNotFound)
			if tc.repo == "MULTI" {
				if files := storedFiles(t, filepath.Join(e.storage, "MULTI")); len(files) != 0 {
					t.Fatalf("files left after remove-item: %v", files)
				}
			}
			wantStatus(t, e.h.Get(t, "/repository/api/storage/remove-item?applicationID=APP&repositoryID="+tc.repo+"&itemID="+res.ItemID), http.StatusNotFound)
		})
	}
}

func TestUploadFilesAndCounts(t *testing.T) {
	e := startEnv(t, nil, nil)
	ct, body := multipartBody(t, part{"files", "a.txt", "aaa"}, part{"files", "b.png", "bbb"})
	resp := e.do(t, "POST", "/repository/api/storage/upload-files?applicationID=APP&repositoryID=MULTI&dependencyID=D&responseType=json&callback=none", ct, bytes.NewReader(body))
	var res multiFileUploadResult
	if err := json.Unmarshal([]byte(wantStatus(t, resp, 200)), &res); err != nil || !res.Result || len(res.FileUploadResults) != 2 || res.RemainingCount != 1 {
		t.Fatalf("upload-files %+v %v", res, err)
	}
	if resp.Header.Get("FileModelType") != "MultiFileItemResult" {
		t.Errorf("FileModelType %q", resp.Header.Get("FileModelType"))
	}
	// Two more would make four: refused as a whole, nothing stored.
	ct, body = multipartBody(t, part{"files", "c.txt", "ccc"}, part{"files", "d.txt", "ddd"})
	resp = e.do(t, "POST", "/repository/api/storage/upload-files?applicationID=APP&repositoryID=MULTI&dependencyID=D&responseType=json", ct, bytes.NewReader(body))
	wantStatus(t, resp, http.StatusConflict)
	if items := e.items(t, "MULTI", "D"); len(items) != 2 {
		t.Fatalf("items after refused batch: %d", len(items))
	}
	if files := storedFiles(t, filepath.Join(e.storage, "MULTI")); len(files) != 2 {
		t.Fatalf("files after refused batch: %v", files)
	}
	// The callback answer is a page that posts to its parent, with every value escaped.
	ct, body = multipartBody(t, part{"files", "e.txt", "eee"})
	evil := url.QueryEscape("</script><script>alert(1)</script>")
	resp = e.do(t, "POST", "/repository/api/storage/upload-files?applicationID=APP&repositoryID=MULTI&dependencyID=D&elementID="+evil+"&callback=cb", ct, bytes.NewReader(body))
	page := wantStatus(t, resp, 200)
	if !strings.Contains(page, "parent.postMessage({action: 'upload-files'") || strings.Contains(page, "<script>alert") ||
		strings.Count(page, "repositoryItems.push") != 0 || !strings.Contains(page, `"FileName":"e.txt"`) {
		t.Fatalf("callback page:\n%s", page)
	}
	// Full now: refused before any data is read, as an alert page in callback mode.
	resp = e.do(t, "POST", "/repository/api/storage/upload-files?applicationID=APP&repositoryID=MULTI&dependencyID=D", ct, bytes.NewReader(body))
	if page := wantStatus(t, resp, http.StatusConflict); !strings.Contains(page, "alert(") {
		t.Fatalf("refusal page %s", page)
	}
}

func TestSingleRepositoryReplacesAndNamesStayUnique(t *testing.T) {
	e := startEnv(t, nil, nil)
	wantStatus(t, e.upload(t, "SINGLE", "U1", part{"file", "me.png", "first"}), 200)
	wantStatus(t, e.upload(t, "SINGLE", "U1", part{"file", "new.png", "second"}), 200)
	items := e.items(t, "SINGLE", "U1")
	if len(items) != 1 || items[0].ItemID != "new.png" || items[0].RelativePath != "/repository/APP/SINGLE/new.png" {
		t.Fatalf("items %+v", items)
	}
	if files := storedFiles(t, filepath.Join(e.storage, "SINGLE")); len(files) != 1 || files[0] != "new.png" {
		t.Fatalf("the replaced file remains: %v", files)
	}
	// The virtual path serves the file.
	if got := wantStatus(t, e.h.Get(t, "/repository/APP/SINGLE/new.png"), 200); got != "second" {
		t.Fatalf("virtual path body %q", got)
	}
	wantStatus(t, e.upload(t, "NAMES", "N", part{"file", "a.txt", "1"}), 200)
	wantStatus(t, e.upload(t, "NAMES", "N", part{"file", "a.txt", "2"}), 200)
	items = e.items(t, "NAMES", "N")
	if len(items) != 2 || items[0].ItemID != "a.txt" || items[1].ItemID != "a (1).txt" {
		t.Fatalf("duplicate names %+v", items)
	}
}

func TestLimitsRefusedBeforeDataLands(t *testing.T) {
	e := startEnv(t, nil, nil)
	dir := filepath.Join(e.storage, "MULTI")
	big := strings.Repeat("x", 5000)
	checkNothing := func(t *testing.T) {
		t.Helper()
		for _, f := range storedFiles(t, dir) {
			t.Errorf("file left behind: %s", f)
		}
		if items := e.items(t, "MULTI", "L"); len(items) != 0 {
			t.Errorf("metadata left behind: %+v", items)
		}
	}
	// Declared too large: refused before reading.
	resp := e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=MULTI&dependencyID=L",
		"application/octet-stream", strings.NewReader(big), "X-File-Name", "big.txt")
	if body := wantStatus(t, resp, http.StatusRequestEntityTooLarge); !strings.Contains(body, `"Result":false`) {
		t.Errorf("body %s", body)
	}
	checkNothing(t)
	// Length unknown (chunked): refused while streaming, the temporary file removed.
	resp = e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=MULTI&dependencyID=L",
		"application/octet-stream", io.MultiReader(strings.NewReader(big)), "X-File-Name", "big.txt")
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	checkNothing(t)
	ct, body := multipartBody(t, part{"files", "ok.txt", "fine"}, part{"files", "big.txt", big})
	resp = e.do(t, "POST", "/repository/api/storage/upload-files?applicationID=APP&repositoryID=MULTI&dependencyID=L&responseType=json",
		ct, io.MultiReader(bytes.NewReader(body)))
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	checkNothing(t)
	// Wrong extension: refused from the part header.
	resp = e.upload(t, "MULTI", "L", part{"file", "tool.exe", "MZ"})
	wantStatus(t, resp, http.StatusUnsupportedMediaType)
	checkNothing(t)
}

func TestClientDisconnectMidUploadLeavesNothing(t *testing.T) {
	e := startEnv(t, nil, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /repository/api/storage/upload-file?applicationID=APP&repositoryID=NAMES&dependencyID=X HTTP/1.1\r\n"+
		"Host: x\r\nContent-Type: application/octet-stream\r\nX-File-Name: half.bin\r\nContent-Length: 1000000\r\n\r\n")
	conn.Write(bytes.Repeat([]byte("y"), 300000))
	dir := filepath.Join(e.storage, "NAMES")
	acktest.Eventually(t, 10*time.Second, "the upload to reach its temporary file", func() bool {
		files := storedFiles(t, dir)
		return len(files) == 1 && strings.HasPrefix(files[0], tempDir+"/")
	})
	conn.Close()
	acktest.Eventually(t, 10*time.Second, "the temporary file to be removed", func() bool { return len(storedFiles(t, dir)) == 0 })
	if items := e.items(t, "NAMES", "X"); len(items) != 0 {
		t.Fatalf("metadata of a dropped upload: %+v", items)
	}
}

func TestPathTraversalIsRefused(t *testing.T) {
	e := startEnv(t, nil, nil)
	acktest.WriteFile(t, filepath.Join(e.storage, "secret.txt"), "TOP SECRET")
	acktest.WriteFile(t, filepath.Join(e.storage, "SINGLE", tempDir, "x.part"), "TOP SECRET")
	paths := []string{
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=../secret.txt",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=%2e%2e%2fsecret.txt",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=%252e%252e%252fsecret.txt",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=..%5Csecret.txt",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=/etc/passwd",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&fileName=secret.txt%00.png",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&subDirectory=..&fileName=secret.txt",
		"/repository/api/storage/virtual-download-file?applicationID=APP&repositoryID=SINGLE&subDirectory=" + tempDir + "&fileName=x.part",
		"/repository/APP/SINGLE/%2e%2e/secret.txt",
		"/repository/APP/SINGLE/..%2fsecret.txt",
		"/repository/APP/SINGLE/" + tempDir + "/x.part",
		"/repository/APP/SINGLE/a%5C..%5C..%5Csecret.txt",
		"/repository/api/storage/http-download-file?applicationID=APP&repositoryID=MULTI&itemID=../../secret.txt",
		"/repository/api/storage/http-download-file?applicationID=..&repositoryID=..&itemID=secret.txt",
		"/repository/api/storage/virtual-delete-file?applicationID=APP&repositoryID=SINGLE&fileName=../secret.txt&AuthorizationKey=" + testKey,
	}
	for _, p := range paths {
		resp := e.h.Get(t, p)
		body := acktest.ReadBody(t, resp)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || strings.Contains(body, "TOP SECRET") {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	for _, cp := range []string{"..", "%2e%2e", "a%2fb", "a%5Cb", "/etc", tempDir} {
		ct, body := multipartBody(t, part{"file", "a.txt", "x"})
		resp := e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=NAMES&dependencyID=T&customPath1="+cp, ct, bytes.NewReader(body))
		wantStatus(t, resp, http.StatusBadRequest)
	}
	if _, err := os.Stat(filepath.Join(e.storage, "secret.txt")); err != nil {
		t.Fatal("the file outside the repository was touched")
	}
	// A hostile file name is reduced to its last segment, inside the repository.
	resp := e.upload(t, "NAMES", "T", part{"file", `..\..\evil.txt`, "x"})
	wantStatus(t, resp, 200)
	if items := e.items(t, "NAMES", "T"); len(items) != 1 || items[0].FileName != "evil.txt" {
		t.Fatalf("items %+v", items)
	}
	if _, err := os.Stat(filepath.Join(e.storage, "NAMES", "evil.txt")); err != nil {
		t.Fatalf("evil.txt not stored inside the repository: %v", err)
	}
}

func TestSignedLinks(t *testing.T) {
	e := startEnv(t, nil, nil)
	var res fileUploadResult
	acktest.ReadJSON(t, e.upload(t, "PRIV", "P", part{"file", "pay.txt", "salary"}), &res)
	base := "/repository/api/storage/http-download-file?applicationID=APP&repositoryID=PRIV&itemID=" + res.ItemID
	wantStatus(t, e.h.Get(t, base), http.StatusForbidden)
	mint := "/repository/api/storage/get-download-link?applicationID=APP&repositoryID=PRIV&itemID=" + res.ItemID + "&expiresIn=60"
	wantStatus(t, e.h.Get(t, mint), http.StatusForbidden)
	wantStatus(t, e.do(t, "GET", mint, "", nil, "AuthorizationKey", "wrong"), http.StatusForbidden)
	var link downloadLink
	acktest.ReadJSON(t, e.do(t, "GET", mint, "", nil, "AuthorizationKey", testKey), &link)
	if !link.Result || !strings.HasPrefix(link.AbsolutePath, "http://files.test/") {
		t.Fatalf("link %+v", link)
	}
	if got := wantStatus(t, e.h.Get(t, link.RelativePath), 200); got != "salary" {
		t.Fatalf("signed download %q", got)
	}
	u, _ := url.Parse(link.RelativePath)
	tamper := func(key, value string) string {
		q := u.Query()
		q.Set(key, value)
		return u.Path + "?" + q.Encode()
	}
	for name, p := range map[string]string{
		"other item":    tamper("itemID", res.ItemID[:31]+map[bool]string{true: "1", false: "0"}[res.ItemID[31] == '0']),
		"later expiry":  tamper("expires", fmt.Sprint(link.Expires+3600)),
		"altered token": tamper("tokenID", map[bool]string{true: "B", false: "A"}[u.Query().Get("tokenID")[0] == 'A']+u.Query().Get("tokenID")[1:]),
		"no token":      tamper("tokenID", ""),
	} {
		if resp := e.h.Get(t, p); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d", name, resp.StatusCode)
			resp.Body.Close()
		}
	}
	e.clock.offset.Store(int64(2 * time.Minute))
	if body := wantStatus(t, e.h.Get(t, link.RelativePath), http.StatusForbidden); !strings.Contains(body, "expired") {
		t.Fatalf("expired link: %s", body)
	}
	wantStatus(t, e.do(t, "GET", mint+"0000000", "", nil, "AuthorizationKey", testKey), http.StatusBadRequest) // over the max age
}

func TestStorageContractHotReload(t *testing.T) {
	e := startEnv(t, nil, nil)
	get := "/repository/api/storage/get-repository?applicationID=NEW&repositoryID=R9"
	if body := wantStatus(t, e.h.Get(t, get), 200); body != "{}\n" {
		t.Fatalf("before: %s", body)
	}
	acktest.WriteFile(t, filepath.Join(e.home, "contracts", "repository", "NEW", "more.json"), fmt.Sprintf(
		`[{"ApplicationID": "NEW", "RepositoryID": "R9", "RepositoryName": "added", "PhysicalPath": %q, "IsMultiUpload": true, "AccessMethod": "public"}]`,
		filepath.Join(e.storage, "R9")))
	acktest.Eventually(t, 10*time.Second, "the new repository", func() bool {
		return strings.Contains(acktest.ReadBody(t, e.h.Get(t, get)), `"RepositoryName":"added"`)
	})
	ct, body := multipartBody(t, part{"file", "n.txt", "new"})
	resp := e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=NEW&repositoryID=R9&dependencyID=D", ct, bytes.NewReader(body))
	wantStatus(t, resp, 200)
}

func TestStartupSweepAndSecrets(t *testing.T) {
	home := t.TempDir()
	storage := filepath.Join(home, "storage")
	old := filepath.Join(storage, "MULTI", tempDir, "old.part")
	fresh := filepath.Join(storage, "MULTI", tempDir, "fresh.part")
	acktest.WriteFile(t, old, "left by a crash")
	acktest.WriteFile(t, fresh, "an upload of another process")
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	s3 := fakeS3(t, "files")
	acktest.WriteFile(t, filepath.Join(home, "contracts", "repository", "APP", "storage.json"), repoJSON(storage, &s3))
	h := acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{Info()}})
	if _, err := os.Stat(old); err == nil {
		t.Error("the startup sweep left an old temporary file")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("the startup sweep removed a fresh temporary file")
	}
	body := acktest.ReadBody(t, h.Get(t, "/repository/api/storage/get-repositorys"))
	for _, secret := range []string{s3.SecretKey, s3.AccessKey, s3.ServiceURL, storage} {
		if strings.Contains(body, secret) {
			t.Errorf("get-repositorys shows %q: %s", secret, body)
		}
	}
	if !strings.Contains(body, `"RepositoryID":"S3"`) {
		t.Errorf("get-repositorys: %s", body)
	}
}

func TestBadInput(t *testing.T) {
	e := startEnv(t, nil, nil)
	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=MULTI", "", 400},
		{"POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=NOPE&dependencyID=D", "", 404},
		{"POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=MULTI&dependencyID=D", "not multipart", 400},
		{"POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=MULTI&dependencyID=D&sortingNo=x", "", 400},
		{"POST", "/repository/api/storage/download-file", "{not json", 400},
		{"POST", "/repository/api/storage/download-file", `{"ApplicationID":"APP","RepositoryID":"MULTI"}`, 400},
		{"GET", "/repository/api/storage/http-download-file?applicationID=APP&repositoryID=MULTI&itemID=x&disposition=evil", "", 400},
		{"GET", "/repository/api/storage/action-handler?action=Explode", "", 404},
		{"GET", "/repository/api/storage/action-handler?action=GetItem&applicationID=APP&repositoryID=MULTI&itemID=none", "", 404},
		{"GET", "/repository/api/storage/refresh?changeType=Changed&filePath=APP/storage.json", "", 403},
		{"GET", "/repository/api/storage/virtual-delete-file?applicationID=APP&repositoryID=SINGLE&fileName=a.png", "", 403},
		{"GET", "/repository/api/storage/get-download-link?applicationID=APP&repositoryID=MULTI", "", 400},
	}
	for _, c := range cases {
		resp := e.do(t, c.method, c.path, "text/plain", strings.NewReader(c.body))
		body := acktest.ReadBody(t, resp)
		var f failure
		if resp.StatusCode != c.status || json.Unmarshal([]byte(body), &f) != nil || f.Result || f.Message == "" || f.ErrorCode == "" {
			t.Errorf("%s %s: %d %s, want %d with a JSON message", c.method, c.path, resp.StatusCode, body, c.status)
		}
	}
	if got := acktest.ReadBody(t, e.h.Get(t, "/repository/api/storage/get-md5hash?value=s")); got != "03C7C0ACE395D80182DB07AE2C30F034" {
		t.Errorf("get-md5hash %q", got)
	}
	if got := acktest.ReadBody(t, e.h.Get(t, "/repository/api/storage/get-mime-type?path=a/b.png")); got != "image/png" {
		t.Errorf("get-mime-type %q", got)
	}
	resp := e.do(t, "GET", "/repository/api/storage/refresh?changeType=Changed&filePath=APP/storage.json", "", nil, "AuthorizationKey", testKey)
	if got := wantStatus(t, resp, 200); got != "true" {
		t.Errorf("refresh %q", got)
	}
}

func TestS3LimitLeavesNothing(t *testing.T) {
	s3 := fakeS3(t, "files")
	e := startEnv(t, &s3, nil)
	resp := e.do(t, "POST", "/repository/api/storage/upload-file?applicationID=APP&repositoryID=S3&dependencyID=L",
		"application/octet-stream", io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))), "X-File-Name", "big.txt")
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	be, err := openS3(s3)
	if err != nil {
		t.Fatal(err)
	}
	for obj := range be.client.ListObjects(t.Context(), s3.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("object left behind: %s %v", obj.Key, obj.Err)
	}
	if items := e.items(t, "S3", "L"); len(items) != 0 {
		t.Errorf("metadata left behind: %+v", items)
	}
}

func TestProtectedAccess(t *testing.T) {
	cfg := Config{AuthorizationKey: "k", WithOrigins: []string{"https://app.example.com/"}}
	var err error
	if cfg.access, err = callerauth.New(cfg.AuthorizationKey, cfg.AllowClientIP); err != nil {
		t.Fatal(err)
	}
	m := &Module{cfg: cfg}
	repo := Repository{AccessMethod: accessProtected}
	req := func(remote, referer, key string) *http.Request {
		r := httptest.NewRequest("GET", "http://files.example.com/x", nil)
		r.RemoteAddr = remote
		if referer != "" {
			r.Header.Set("Referer", referer)
		}
		if key != "" {
			r.Header.Set("AuthorizationKey", key)
		}
		return r
	}
	cases := []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"remote without referer", req("203.0.113.5:1", "", ""), false},
		{"loopback", req("127.0.0.1:1", "", ""), true},
		{"same host page", req("203.0.113.5:1", "https://files.example.com/page", ""), true},
		{"listed origin", req("203.0.113.5:1", "https://app.example.com/a/b", ""), true},
		{"other site", req("203.0.113.5:1", "https://evil.example.net/files.example.com", ""), false},
		{"key", req("203.0.113.5:1", "", "k"), true},
		{"wrong key", req("203.0.113.5:1", "", "x"), false},
	}
	for _, c := range cases {
		if got := m.readAllowed(c.r, repo); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	private := Repository{AccessMethod: accessPrivate}
	if m.readAllowed(req("127.0.0.1:1", "", ""), private) || !m.readAllowed(req("203.0.113.5:1", "", "k"), private) {
		t.Error("private repositories must need the key, from anywhere")
	}
	if m.cfg.access.Allows(req("203.0.113.5:1", "", "")) {
		t.Error("an unlisted IP was authorized")
	}
}
