package repository

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/module"
)

// downloadRequest is the JSON body of download-file (HandStack's
// DownloadRequest), plus Expires for a signed TokenID.
type downloadRequest struct {
	ApplicationID string
	RepositoryID  string
	ItemID        string
	BusinessID    string
	FileMD5       string
	TokenID       string
	Expires       looseString
	Disposition   string
}

// downloadResult is HandStack's DownloadResult, sent base64-encoded in the
// FileResult header.
type downloadResult struct {
	Result        bool
	Message       string
	FileName      string
	MimeType      string
	MD5           string
	Length        int64
	CreationTime  *string
	LastWriteTime *string
}

func (m *Module) downloadFile(w http.ResponseWriter, r *http.Request) error {
	var req downloadRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		return badRequest("invalid_json", "the body must be a JSON DownloadRequest")
	}
	return m.serveItem(w, r, strings.TrimSpace(req.ApplicationID), strings.TrimSpace(req.RepositoryID),
		strings.TrimSpace(req.ItemID), req.TokenID, string(req.Expires), req.Disposition)
}

func (m *Module) httpDownloadFile(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	return m.serveItem(w, r, p.get("applicationID"), p.get("repositoryID"), p.get("itemID"),
		p.get("tokenID"), p.get("expires"), p.get("disposition"))
}

// serveItem sends one item's file, after the repository's access rule or a
// signed link allows it.
func (m *Module) serveItem(w http.ResponseWriter, r *http.Request, app, repoID, itemID, token, expires, disposition string) error {
	if itemID == "" {
		return itemIDParam.missing()
	}
	disposition, err := parseDisposition(disposition)
	if err != nil {
		return err
	}
	repo, err := m.repository(m.store.Load(), app, repoID)
	if err != nil {
		return err
	}
	if err := m.allowItemRead(r, repo, itemID, token, expires); err != nil {
		return err
	}
	it, ok, err := m.meta.Get(r.Context(), repo.ApplicationID, repo.RepositoryID, itemID)
	if err != nil {
		return err
	}
	if !ok {
		return module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("item %q was not found", itemID), nil)
	}
	name := it.FileName
	if fileExtension(name) == "" && it.Extension != "" {
		name += it.Extension
	}
	return m.serveObject(w, r, repo, it.StorageKey, name, it.MimeType, it.MD5, disposition)
}

// allowItemRead accepts a valid signed link (tokenID + expires) for any
// repository, and otherwise applies the repository's access method. A
// token that is present but expired or altered is refused, never ignored.
func (m *Module) allowItemRead(r *http.Request, repo Repository, itemID, token, expires string) error {
	if token != "" || expires != "" {
		if err := m.signer.verify(repo.ApplicationID, repo.RepositoryID, itemID, token, expires, m.now()); err != nil {
			return module.Errorf(http.StatusForbidden, "invalid_link", err.Error(), nil)
		}
		return nil
	}
	if !m.readAllowed(r, repo) {
		return module.Errorf(http.StatusForbidden, "access_denied", "this repository does not allow this download", nil)
	}
	return nil
}

// riskyTypes are never shown inline: a browser would run them with this
// server's origin.
var riskyTypes = []string{"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
	"text/javascript", "application/javascript", "application/x-javascript", "text/ecmascript"}

func isRisky(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	t = strings.ToLower(strings.TrimSpace(t))
	for _, r := range riskyTypes {
		if t == r {
			return true
		}
	}
	return false
}

// parseDisposition accepts HandStack's two dispositions (attachment when
// empty).
func parseDisposition(d string) (string, error) {
	switch d = strings.ToLower(strings.TrimSpace(d)); d {
	case "", "attachment":
		return "attachment", nil
	case "inline":
		return "inline", nil
	default:
		return "", badRequest("invalid_disposition", "Disposition must be inline or attachment")
	}
}

// serveObject streams a stored file with Range, ETag and Last-Modified
// support (http.ServeContent over a seekable object). md5 gives a strong
// ETag; without it a weak one is made from size and time.
func (m *Module) serveObject(w http.ResponseWriter, r *http.Request, repo Repository, key, name, contentType, md5, disposition string) error {
	be, err := m.backend(repo)
	if err != nil {
		return err
	}
	obj, err := be.Open(r.Context(), key)
	if errors.Is(err, errNotFound) {
		return module.Errorf(http.StatusNotFound, "file_not_found", "the file was not found", nil)
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	if contentType == "" {
		contentType = mimeType(name)
	}
	if isRisky(contentType) {
		disposition = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if md5 != "" {
		h.Set("ETag", `"`+strings.ToLower(md5)+`"`)
	} else {
		h.Set("ETag", fmt.Sprintf(`W/"%x-%x"`, obj.Size(), obj.ModTime().UnixNano()))
	}
	if cd := mime.FormatMediaType(disposition, map[string]string{"filename": name}); cd != "" {
		h.Set("Content-Disposition", cd)
	} else {
		h.Set("Content-Disposition", disposition)
	}
	modified := obj.ModTime().UTC().Format("2006-01-02 15:04:05")
	setFileResult(w, "DownloadResult", downloadResult{
		Result: true, FileName: name, MimeType: contentType, MD5: md5, Length: obj.Size(),
		CreationTime: &modified, LastWriteTime: &modified,
	})
	m.setFrameHeaders(w)
	http.ServeContent(w, r, "", obj.ModTime(), obj)
	return nil
}

// virtualDownloadFile sends a file of a virtual-path repository by its
// folder and name.
func (m *Module) virtualDownloadFile(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	name, dir := p.get("fileName"), p.get("subDirectory")
	if !isSafeSegment(name) || !isSafeRelPath(dir) {
		return badRequest("invalid_path", "the file path is not valid")
	}
	return m.serveVirtual(w, r, p.get("applicationID"), p.get("repositoryID"), path.Join(dir, name), name, p.get("disposition"))
}

// virtualFile serves /repository/{applicationID}/{repositoryID}/{path...},
// the URL HandStack gives the files of virtual-path repositories.
func (m *Module) virtualFile(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("path")
	return m.serveVirtual(w, r, r.PathValue("applicationID"), r.PathValue("repositoryID"), key, path.Base(key), "inline")
}

func (m *Module) serveVirtual(w http.ResponseWriter, r *http.Request, app, repoID, key, name, disposition string) error {
	if name == "" || !isSafeRelPath(key) {
		return badRequest("invalid_path", "the file path is not valid")
	}
	disposition, err := parseDisposition(disposition)
	if err != nil {
		return err
	}
	repo, err := m.repository(m.store.Load(), app, repoID)
	if err != nil {
		return err
	}
	if !repo.IsVirtualPath {
		return module.Errorf(http.StatusNotFound, "not_virtual", "this repository has no virtual path", nil)
	}
	if !m.readAllowed(r, repo) {
		return module.Errorf(http.StatusForbidden, "access_denied", "this repository does not allow this download", nil)
	}
	return m.serveObject(w, r, repo, key, name, "", "", disposition)
}

// downloadLink is the answer of get-download-link.
type downloadLink struct {
	Result       bool
	Message      string
	RelativePath string
	AbsolutePath string
	Expires      int64
}

// getDownloadLink signs an expiring link to one item (ack's implementation of
// HandStack's unused TokenID). The caller must be allowed to read the
// repository; for private repositories that means the AuthorizationKey.
func (m *Module) getDownloadLink(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	repo, itemID, err := m.requested(p, itemIDParam)
	if err != nil {
		return err
	}
	if !m.readAllowed(r, repo) {
		return module.Errorf(http.StatusForbidden, "access_denied", "not allowed to share this repository's files", nil)
	}
	ttl := defaultLinkTTL
	if s := p.get("expiresIn"); s != "" {
		secs, err := strconv.Atoi(s)
		if err != nil || secs <= 0 {
			return badRequest("invalid_expires_in", "ExpiresIn must be a positive number of seconds")
		}
		ttl = time.Duration(secs) * time.Second
	}
	if ttl > m.cfg.SignedLinkMaxAge.D() {
		return badRequest("invalid_expires_in", fmt.Sprintf("links cannot live longer than %s", m.cfg.SignedLinkMaxAge.D()))
	}
	if _, ok, err := m.meta.Get(r.Context(), repo.ApplicationID, repo.RepositoryID, itemID); err != nil {
		return err
	} else if !ok {
		return module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("item %q was not found", itemID), nil)
	}
	expires := m.now().Add(ttl)
	q := url.Values{
		"applicationID": {repo.ApplicationID}, "repositoryID": {repo.RepositoryID}, "itemID": {itemID},
		"expires": {strconv.FormatInt(expires.Unix(), 10)},
		"tokenID": {m.signer.sign(repo.ApplicationID, repo.RepositoryID, itemID, expires)},
	}
	rel := apiPrefix + "http-download-file?" + q.Encode()
	writeJSON(w, http.StatusOK, downloadLink{Result: true, RelativePath: rel, AbsolutePath: m.cfg.FileServerURL + rel, Expires: expires.Unix()})
	return nil
}
