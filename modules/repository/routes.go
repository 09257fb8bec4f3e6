package repository

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/module"
)

// apiPrefix is where HandStack's FileClient (syn.uicontrols.$fileclient)
// finds the storage API. Action names are HandStack's, slugified.
const apiPrefix = "/repository/api/storage/"

// Routes lists the module's endpoints (HandStack's StorageController, plus
// get-download-link and the virtual-path file route).
func (m *Module) Routes() []module.Route {
	get := func(action string, h func(http.ResponseWriter, *http.Request) error) module.Route {
		return m.route("GET "+apiPrefix+action, h)
	}
	post := func(action string, h func(http.ResponseWriter, *http.Request) error) module.Route {
		return m.route("POST "+apiPrefix+action, h)
	}
	return []module.Route{
		get("get-client-ip", m.getClientIP),
		get("refresh", m.refresh),
		get("get-repository", m.getRepository),
		get("get-repositorys", m.getRepositories),
		get("action-handler", m.actionHandler),
		post("upload-file", m.uploadFile),
		post("upload-files", m.uploadFiles),
		post("download-file", m.downloadFile),
		get("http-download-file", m.httpDownloadFile),
		get("virtual-download-file", m.virtualDownloadFile),
		get("virtual-delete-file", m.virtualDeleteFile),
		get("remove-item", m.removeItem),
		post("remove-item", m.removeItem),
		get("remove-items", m.removeItems),
		post("remove-items", m.removeItems),
		get("get-mime-type", m.getMimeType),
		get("get-md5hash", m.getMD5Hash),
		get("get-download-link", m.getDownloadLink),
		m.route("GET /repository/{applicationID}/{repositoryID}/{path...}", m.virtualFile),
	}
}

// route wraps a handler so that a *module.Error it returns is answered in
// HandStack's shape ({"Result": false, "Message": ...}) that FileClient
// reads, with the error's HTTP status. Other errors go to the host (500).
func (m *Module) route(pattern string, h func(http.ResponseWriter, *http.Request) error) module.Route {
	return module.Route{Pattern: pattern, Handler: func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		var me *module.Error
		if errors.As(err, &me) {
			if me.Err != nil {
				m.log.Warn("repository request failed", "path", r.URL.Path, "code", me.Code, "err", me.Err)
			}
			writeFailure(w, me.Status, me.Code, me.Message)
			return nil
		}
		return err
	}}
}

// failure is the body of a refused request: HandStack's result shape plus
// ack's stable code.
type failure struct {
	Result    bool
	Message   string
	ErrorCode string
}

func writeFailure(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, failure{Message: message, ErrorCode: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(text))
}

// setFileResult sets HandStack's FileModelType/FileResult headers, which
// FileClient decodes (base64 of JSON) to learn the outcome of a file call.
func setFileResult(w http.ResponseWriter, modelType string, result any) {
	data, _ := json.Marshal(result) // plain structs and slices always marshal
	h := w.Header()
	h.Set("Access-Control-Expose-Headers", "FileModelType, FileResult")
	h.Set("FileModelType", modelType)
	h.Set("FileResult", base64.StdEncoding.EncodeToString(data))
}

// setFrameHeaders sends the configured framing policy, as HandStack does on
// file answers.
func (m *Module) setFrameHeaders(w http.ResponseWriter) {
	if m.cfg.XFrameOptions != "" {
		w.Header().Set("X-Frame-Options", m.cfg.XFrameOptions)
	}
	if m.cfg.ContentSecurityPolicy != "" {
		w.Header().Set("Content-Security-Policy", m.cfg.ContentSecurityPolicy)
	}
}

func badRequest(code, message string) error {
	return module.Errorf(http.StatusBadRequest, code, message, nil)
}

// itemView is the public projection of an item that HandStack returns.
type itemView struct {
	ItemID       string
	RepositoryID string
	DependencyID string
	FileName     string
	SortingNo    int
	AbsolutePath string
	RelativePath string
	Extension    string
	Size         int64
	MimeType     string
	CustomPath1  string
	CustomPath2  string
	CustomPath3  string
	PolicyPath   string
	MD5          string
}

func (m *Module) view(repo Repository, it Item) itemView {
	rel := m.relativePath(repo, it)
	return itemView{
		ItemID: it.ItemID, RepositoryID: it.RepositoryID, DependencyID: it.DependencyID, FileName: it.FileName,
		SortingNo: it.SortingNo, AbsolutePath: m.cfg.FileServerURL + rel, RelativePath: rel, Extension: it.Extension,
		Size: it.Size, MimeType: it.MimeType, CustomPath1: it.CustomPath1, CustomPath2: it.CustomPath2,
		CustomPath3: it.CustomPath3, PolicyPath: it.PolicyPath, MD5: it.MD5,
	}
}

func (m *Module) views(repo Repository, items []Item) []itemView {
	out := make([]itemView, 0, len(items))
	for _, it := range items {
		out = append(out, m.view(repo, it))
	}
	return out
}

// relativePath is the URL an item is downloaded from: the virtual path of
// virtual repositories, http-download-file for the others.
func (m *Module) relativePath(repo Repository, it Item) string {
	if repo.IsVirtualPath {
		return "/repository/" + url.PathEscape(repo.ApplicationID) + "/" + url.PathEscape(repo.RepositoryID) + "/" + escapeKey(it.StorageKey)
	}
	q := url.Values{"repositoryID": {repo.RepositoryID}, "itemID": {it.ItemID}, "applicationID": {repo.ApplicationID}}
	return apiPrefix + "http-download-file?" + q.Encode()
}

func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (m *Module) getClientIP(w http.ResponseWriter, r *http.Request) error {
	writeText(w, callerauth.PeerIP(r).String())
	return nil
}

// refresh reloads the storage contracts after a change to one file
// (HandStack's changeType/filePath call).
func (m *Module) refresh(w http.ResponseWriter, r *http.Request) error {
	if !m.cfg.access.Allows(r) {
		return module.Errorf(http.StatusForbidden, "unauthorized", "not authorized", nil)
	}
	p := queryParams(r)
	if p.get("changeType") == "" || p.get("filePath") == "" {
		return badRequest("parameters_required", "changeType and filePath are required")
	}
	rep, err := m.store.Refresh(r.Context(), p.get("filePath"))
	if err != nil {
		m.log.Warn("contract refresh failed", "file", p.get("filePath"), "err", err)
		writeText(w, "false")
		return nil
	}
	writeText(w, map[bool]string{true: "true", false: "false"}[len(rep.Failed) == 0])
	return nil
}

// repositoryView is what get-repository tells the upload dialogs.
type repositoryView struct {
	RepositoryID     string
	RepositoryName   string
	StorageType      string
	IsMultiUpload    bool
	IsAutoPath       bool
	PolicyPathID     string
	UploadType       string
	UploadExtensions string
	UploadCount      int
	UploadSizeLimit  int64
}

func (m *Module) getRepository(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	repo, err := m.repository(m.store.Load(), p.get("applicationID"), p.get("repositoryID"))
	if err != nil {
		writeJSON(w, http.StatusOK, struct{}{}) // HandStack answers {} for an unknown repository
		return nil
	}
	writeJSON(w, http.StatusOK, repositoryView{
		RepositoryID: repo.RepositoryID, RepositoryName: repo.RepositoryName, StorageType: repo.StorageType,
		IsMultiUpload: repo.IsMultiUpload, IsAutoPath: repo.IsAutoPath, PolicyPathID: repo.PolicyPathID,
		UploadType: repo.UploadTypeID, UploadExtensions: repo.UploadExtensions, UploadCount: repo.UploadCount,
		UploadSizeLimit: repo.UploadSizeLimit,
	})
	return nil
}

// getRepositories lists every repository. Unlike HandStack it never shows
// storage paths or credentials.
func (m *Module) getRepositories(w http.ResponseWriter, r *http.Request) error {
	type entry struct {
		ApplicationID string
		repositoryView
		AccessMethod  string
		IsVirtualPath bool
	}
	set := m.store.Load()
	out := make([]entry, 0, set.Len())
	for _, k := range set.Keys() {
		repo, _ := set.Get(k)
		out = append(out, entry{
			ApplicationID: repo.ApplicationID,
			repositoryView: repositoryView{
				RepositoryID: repo.RepositoryID, RepositoryName: repo.RepositoryName, StorageType: repo.StorageType,
				IsMultiUpload: repo.IsMultiUpload, IsAutoPath: repo.IsAutoPath, PolicyPathID: repo.PolicyPathID,
				UploadType: repo.UploadTypeID, UploadExtensions: repo.UploadExtensions, UploadCount: repo.UploadCount,
				UploadSizeLimit: repo.UploadSizeLimit,
			},
			AccessMethod: repo.AccessMethod, IsVirtualPath: repo.IsVirtualPath,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mimeType guesses a file's type from its name.
func mimeType(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (m *Module) getMimeType(w http.ResponseWriter, r *http.Request) error {
	writeText(w, mimeType(path.Base(strings.ReplaceAll(queryParams(r).get("path"), `\`, "/"))))
	return nil
}

func (m *Module) getMD5Hash(w http.ResponseWriter, r *http.Request) error {
	sum := md5.Sum([]byte(queryParams(r).raw("value")))
	writeText(w, strings.ToUpper(hex.EncodeToString(sum[:])))
	return nil
}
