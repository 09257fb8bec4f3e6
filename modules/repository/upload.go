package repository

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/module"
)

const (
	// multipartSlack is what multipart framing may add to a single file.
	multipartSlack = 64 << 10
	// commitTimeout bounds publishing once all data has arrived; the client
	// going away no longer stops it, so that no half-recorded upload remains.
	commitTimeout = time.Minute
)

// uploadTarget is what an upload request asks for, from its query string.
type uploadTarget struct {
	repo         Repository
	dependencyID string
	businessID   string
	sortingNo    int
	fileName     string // override of the uploaded name, sanitised
	comment      string
	custom       [3]string
	userID       string
}

// uploadTarget reads what an upload asks for, and opens the backend of its
// repository.
func (m *Module) uploadTarget(r *http.Request) (uploadTarget, backend, error) {
	p := queryParams(r)
	var t uploadTarget
	var err error
	if t.repo, t.dependencyID, err = m.requested(p, dependencyIDParam); err != nil {
		return t, nil, err
	}
	if len(t.dependencyID) > maxNameBytes || strings.ContainsFunc(t.dependencyID, isControl) {
		return t, nil, badRequest("invalid_dependency", "DependencyID is not valid")
	}
	t.businessID = p.get("businessID")
	if t.businessID == "" {
		t.businessID = "0"
	}
	t.sortingNo = 1
	if s := p.get("sortingNo"); s != "" {
		if t.sortingNo, err = strconv.Atoi(s); err != nil {
			return t, nil, badRequest("invalid_sorting_no", "SortingNo must be a whole number")
		}
	}
	if raw := p.get("fileName"); raw != "" {
		if t.fileName = sanitizeFileName(raw); t.fileName == "" {
			return t, nil, badRequest("invalid_file_name", "FileName is not a usable file name")
		}
	}
	t.comment, t.userID = p.get("comment"), p.get("userID")
	for i := range t.custom {
		v := p.get("customPath" + strconv.Itoa(i+1))
		if v != "" && !isSafeSegment(v) {
			return t, nil, badRequest("invalid_custom_path", fmt.Sprintf("CustomPath%d is not a valid folder name", i+1))
		}
		t.custom[i] = v
	}
	be, err := m.backend(t.repo)
	return t, be, err
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// sizeLimit is the most bytes one file of the repository may have.
func (m *Module) sizeLimit(repo Repository) int64 {
	if repo.UploadSizeLimit > 0 {
		return repo.UploadSizeLimit
	}
	return m.cfg.MaxUploadBytes
}

// incoming is one file of an upload request, before it is read.
type incoming struct {
	name string // the client's name, sanitised
	body io.Reader
}

// stagedFile is a received file, stored under a temporary name.
type stagedFile struct {
	st       staged
	name     string
	size     int64
	md5      string
	sha256   string
	mimeType string
}

var errTooLarge = errors.New("repository: file too large")

// limitReader fails once more than n bytes have been read, so that an
// oversized file is refused while it streams, before it is stored.
type limitReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		l.exceeded = true
		return 0, errTooLarge
	}
	return k, err
}

// bodyReader remembers a failure to read the request body, to tell a client
// that went away from a storage failure.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.err = err
	}
	return n, err
}

// sniffer keeps the first bytes of a file to guess its type.
type sniffer struct{ head []byte }

func (s *sniffer) Write(p []byte) (int, error) {
	if room := 512 - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// checkName refuses a file whose name or extension the repository does not
// accept; it runs before any of the file is read.
func (m *Module) checkName(t uploadTarget, clientName string) (string, error) {
	name := sanitizeFileName(clientName)
	if name == "" {
		return "", badRequest("invalid_file_name", "the uploaded file has no usable name")
	}
	for _, n := range []string{name, t.fileName} {
		if n != "" && !extensionAllowed(t.repo.UploadExtensions, n, mimeType(n)) {
			return "", module.Errorf(http.StatusUnsupportedMediaType, "extension_not_allowed",
				fmt.Sprintf("%s: only %s files may be uploaded", n, t.repo.UploadExtensions), nil)
		}
	}
	return name, nil
}

// stage streams one file into the repository's temporary area, hashing it
// and enforcing the size limit as it goes.
func (m *Module) stage(ctx context.Context, be backend, t uploadTarget, in incoming) (*stagedFile, error) {
	limit := m.sizeLimit(t.repo)
	body := &bodyReader{r: in.body}
	lr := &limitReader{r: body, n: limit}
	md5h, shah, sn := md5.New(), sha256.New(), &sniffer{}
	st, err := be.Stage(ctx, io.TeeReader(lr, io.MultiWriter(md5h, shah, sn)))
	if err == nil && body.err != nil {
		// A backend must fail on a broken body; never keep what it stored.
		_ = st.Discard(ctx)
		err = body.err
	}
	switch {
	case err == nil:
	case lr.exceeded:
		return nil, tooLarge(limit)
	case body.err != nil || ctx.Err() != nil:
		// The client went away or sent a broken body; nothing was kept.
		return nil, module.Errorf(http.StatusBadRequest, "upload_incomplete", "the upload did not complete", err)
	default:
		return nil, err
	}
	f := &stagedFile{st: st, name: in.name, size: limit - lr.n, md5: strings.ToUpper(sum(md5h)), sha256: sum(shah)}
	f.mimeType = mimeType(in.name)
	if f.mimeType == "application/octet-stream" && len(sn.head) > 0 {
		f.mimeType = http.DetectContentType(sn.head)
	}
	return f, nil
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func tooLarge(limit int64) error {
	return module.Errorf(http.StatusRequestEntityTooLarge, "file_too_large",
		fmt.Sprintf("files larger than %d bytes cannot be uploaded", limit), nil)
}

func discardAll(ctx context.Context, files []*stagedFile) {
	for _, f := range files {
		_ = f.st.Discard(ctx) // temporary objects left here are swept
	}
}

// newItemID returns a 32-hex-digit ID that sorts by creation time, like
// HandStack's sequential GUIDs.
func newItemID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// policyFolder is the date folder of IsAutoPath repositories (HandStack's
// layout), and the PolicyPath value HandStack records for it.
func policyFolder(repo Repository, now time.Time) (folder, policy string) {
	if !repo.IsAutoPath {
		return "", ""
	}
	switch repo.PolicyPathID {
	case "2":
		return now.Format("2006-01"), now.Format("200601")
	case "3":
		return now.Format("2006-01-02"), now.Format("20060102")
	default:
		return now.Format("2006"), now.Format("2006")
	}
}

// publish makes staged files visible and records them: under the
// repository's commit lock it chooses each item's ID and key, moves each file
// in place, then writes all metadata rows in one transaction. Whatever fails,
// no metadata row points at a missing file.
func (m *Module) publish(ctx context.Context, be backend, t uploadTarget, files []*stagedFile) ([]Item, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	defer discardAll(ctx, files) // a no-op for committed files

	lock := m.commitLock(t.repo)
	lock.Lock()
	defer lock.Unlock()

	repo := t.repo
	now := m.now()
	folder, policy := policyFolder(repo, now)
	dir := path.Join(t.custom[0], t.custom[1], t.custom[2], folder)
	if repo.IsMultiUpload && !repo.IsFileUploadDownloadOnly && repo.UploadCount > 0 {
		n, err := m.meta.Count(ctx, repo.ApplicationID, repo.RepositoryID, t.dependencyID)
		if err != nil {
			return nil, err
		}
		if n+len(files) > repo.UploadCount {
			return nil, countReached(repo)
		}
	}
	items := make([]Item, 0, len(files))
	taken := map[string]bool{}
	for i, f := range files {
		name := f.name
		if t.fileName != "" && len(files) == 1 {
			name = t.fileName
		}
		ext := fileExtension(name)
		if ext == "" {
			ext = fileExtension(f.name)
		}
		it := Item{
			ApplicationID: repo.ApplicationID, RepositoryID: repo.RepositoryID, DependencyID: t.dependencyID,
			BusinessID: t.businessID, FileName: name, Extension: ext, MimeType: f.mimeType, Size: f.size,
			MD5: f.md5, SHA256: f.sha256, CustomPath1: t.custom[0], CustomPath2: t.custom[1], CustomPath3: t.custom[2],
			PolicyPath: policy, SortingNo: t.sortingNo + i, Comment: t.comment, CreatedMemberNo: t.userID, CreatedAt: now,
		}
		if repo.IsFileNameEncrypt {
			it.ItemID = newItemID(now)
		} else {
			id, err := m.freeName(ctx, be, repo, dir, name, taken)
			if err != nil {
				return nil, err
			}
			it.ItemID, it.FileName = id, id
		}
		taken[it.ItemID] = true
		it.StorageKey = path.Join(dir, it.ItemID)
		if repo.IsKeepFileExtension && ext != "" && !strings.HasSuffix(strings.ToLower(it.ItemID), strings.ToLower(ext)) {
			it.StorageKey += ext
		}
		items = append(items, it)
	}
	var committed []string
	undo := func() {
		for _, key := range committed {
			if err := be.Remove(ctx, key); err != nil {
				m.log.Error("could not remove a file whose upload failed", "repository_id", repo.RepositoryID, "err", err)
			}
		}
	}
	for i, f := range files {
		if err := f.st.Commit(ctx, items[i].StorageKey); err != nil {
			undo()
			return nil, err
		}
		committed = append(committed, items[i].StorageKey)
	}
	if repo.IsFileUploadDownloadOnly {
		return items, nil
	}
	limit := 0
	if repo.IsMultiUpload {
		limit = repo.UploadCount
	}
	replaced, err := m.meta.AddItems(ctx, items, !repo.IsMultiUpload, limit)
	if err != nil {
		undo()
		if errors.Is(err, errUploadCount) {
			return nil, countReached(repo)
		}
		return nil, err
	}
	kept := map[string]bool{}
	for _, it := range items {
		kept[it.StorageKey] = true
	}
	for _, old := range replaced {
		if kept[old.StorageKey] {
			continue // overwritten in place by this upload
		}
		if err := be.Remove(ctx, old.StorageKey); err != nil {
			m.log.Warn("could not remove a replaced file", "repository_id", repo.RepositoryID, "item_id", old.ItemID, "err", err)
		}
	}
	return items, nil
}

func countReached(repo Repository) error {
	return module.Errorf(http.StatusConflict, "upload_count_reached",
		fmt.Sprintf("no more than %d files can be uploaded", repo.UploadCount), nil)
}

// freeName returns name, or "name (1).ext", "name (2).ext", ... when the
// repository neither overwrites nor encrypts names and name is taken (by a
// stored file, an item, or an earlier file of the same request).
func (m *Module) freeName(ctx context.Context, be backend, repo Repository, dir, name string, taken map[string]bool) (string, error) {
	if repo.IsFileOverWrite {
		return name, nil
	}
	ext := fileExtension(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		candidate := name
		if i > 0 {
			candidate = sanitizeFileName(fmt.Sprintf("%s (%d)%s", truncateUTF8(stem, maxNameBytes-len(ext)-8), i, ext))
		}
		if taken[candidate] {
			continue
		}
		inUse, err := be.Exists(ctx, path.Join(dir, candidate))
		if err != nil {
			return "", err
		}
		if !inUse && !repo.IsFileUploadDownloadOnly {
			_, inUse, err = m.meta.Get(ctx, repo.ApplicationID, repo.RepositoryID, candidate)
			if err != nil {
				return "", err
			}
		}
		if !inUse {
			return candidate, nil
		}
	}
	return "", module.Errorf(http.StatusConflict, "name_taken", "too many files with this name", nil)
}

// preflight refuses an upload before any data is read when the dependency is
// already full.
func (m *Module) preflight(ctx context.Context, t uploadTarget) error {
	repo := t.repo
	if !repo.IsMultiUpload || repo.IsFileUploadDownloadOnly || repo.UploadCount <= 0 {
		return nil
	}
	n, err := m.meta.Count(ctx, repo.ApplicationID, repo.RepositoryID, t.dependencyID)
	if err != nil {
		return err
	}
	if n >= repo.UploadCount {
		return countReached(repo)
	}
	return nil
}

// remaining is how many more files the dependency accepts (HandStack's
// RemainingCount).
func (m *Module) remaining(ctx context.Context, t uploadTarget) int {
	repo := t.repo
	if repo.IsFileUploadDownloadOnly {
		return repo.UploadCount
	}
	n, err := m.meta.Count(ctx, repo.ApplicationID, repo.RepositoryID, t.dependencyID)
	if err != nil {
		return 0
	}
	return max(repo.UploadCount-n, 0)
}

// fileUploadResult is HandStack's FileUploadResult.
type fileUploadResult struct {
	Result         bool
	Message        string
	ItemID         string
	RemainingCount int
}

// uploadFile stores one file sent as multipart field "file" or as a raw body
// named by X-File-Name.
func (m *Module) uploadFile(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t, be, err := m.uploadTarget(r)
	if err != nil {
		return err
	}
	limit := m.sizeLimit(t.repo)
	var in incoming
	if mr, merr := r.MultipartReader(); merr == nil {
		if r.ContentLength > limit+multipartSlack {
			return tooLarge(limit)
		}
		part, err := nextFilePart(mr, "file")
		if err != nil {
			return err
		}
		defer part.Close()
		in = incoming{name: part.FileName(), body: part}
	} else {
		name, err := url.QueryUnescape(r.Header.Get("X-File-Name"))
		if err != nil || name == "" {
			return badRequest("file_required", "send the file as multipart field \"file\", or as the body with X-File-Name")
		}
		declared := r.ContentLength
		if s := r.Header.Get("X-File-Size"); s != "" {
			if declared, err = strconv.ParseInt(s, 10, 64); err != nil || declared < 0 {
				return badRequest("invalid_file_size", "X-File-Size must be a byte count")
			}
		}
		if declared > limit || r.ContentLength > limit {
			return tooLarge(limit)
		}
		in = incoming{name: name, body: r.Body}
	}
	if in.name, err = m.checkName(t, in.name); err != nil {
		return err
	}
	if err := m.preflight(ctx, t); err != nil {
		return err
	}
	f, err := m.stage(ctx, be, t, in)
	if err != nil {
		return err
	}
	items, err := m.publish(ctx, be, t, []*stagedFile{f})
	if err != nil {
		return err
	}
	setFileResult(w, "FileItemResult", m.view(t.repo, items[0]))
	m.setFrameHeaders(w)
	writeJSON(w, http.StatusOK, fileUploadResult{Result: true, ItemID: items[0].ItemID, RemainingCount: m.remaining(ctx, t)})
	return nil
}

// nextFilePart skips to the next file part of the multipart field named
// field (any case), draining other parts. It returns nil at the end.
func nextFilePart(mr *multipart.Reader, field string) (*multipart.Part, error) {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, badRequest("file_required", fmt.Sprintf("no file in multipart field %q", field))
		}
		if err != nil {
			return nil, badRequest("invalid_multipart", "the multipart body is not valid")
		}
		if strings.EqualFold(part.FormName(), field) && part.FileName() != "" {
			return part, nil
		}
		part.Close()
	}
}

// multiFileUploadResult is HandStack's MultiFileUploadResult.
type multiFileUploadResult struct {
	Result            bool
	Message           string
	FileUploadResults []fileUploadResult
	RemainingCount    int
}

// uploadFiles stores the files of multipart field "files", all or none. It
// answers as HandStack does: an HTML page that posts the items to the parent
// window (responseType=callback, the default), or JSON (responseType=json).
func (m *Module) uploadFiles(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	asJSON := strings.EqualFold(p.get("responseType"), "json")
	err := m.receiveFiles(w, r, p, asJSON)
	var me *module.Error
	if err != nil && !asJSON && errors.As(err, &me) {
		// The upload dialog posts into a frame: tell the user there.
		writeScript(w, me.Status, "alert("+jsString(me.Message)+");\nhistory.go(-1);")
		return nil
	}
	return err
}

func (m *Module) receiveFiles(w http.ResponseWriter, r *http.Request, p params, asJSON bool) error {
	ctx := r.Context()
	t, be, err := m.uploadTarget(r)
	if err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("invalid_multipart", "send the files as multipart field \"files\"")
	}
	if err := m.preflight(ctx, t); err != nil {
		return err
	}
	existing := 0
	if t.repo.IsMultiUpload && !t.repo.IsFileUploadDownloadOnly && t.repo.UploadCount > 0 {
		if existing, err = m.meta.Count(ctx, t.repo.ApplicationID, t.repo.RepositoryID, t.dependencyID); err != nil {
			return err
		}
	}
	var files []*stagedFile
	defer func() { discardAll(context.WithoutCancel(ctx), files) }()
	for {
		part, err := nextFilePart(mr, "files")
		if err != nil {
			var me *module.Error
			if errors.As(err, &me) && me.Code == "file_required" && len(files) > 0 {
				break // end of the body
			}
			return err
		}
		name, err := m.checkName(t, part.FileName())
		if err == nil && !t.repo.IsMultiUpload && len(files) > 0 {
			err = badRequest("single_file", "this repository keeps one file per dependency")
		}
		if err == nil && t.repo.IsMultiUpload && t.repo.UploadCount > 0 && existing+len(files) >= t.repo.UploadCount {
			err = countReached(t.repo)
		}
		if err != nil {
			part.Close()
			return err
		}
		f, err := m.stage(ctx, be, t, incoming{name: name, body: part})
		part.Close()
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	items, err := m.publish(ctx, be, t, files)
	if err != nil {
		return err
	}
	files = nil // published: nothing to discard
	var all []itemView
	if t.repo.IsFileUploadDownloadOnly {
		all = []itemView{}
	} else {
		stored, err := m.meta.List(ctx, t.repo.ApplicationID, t.repo.RepositoryID, t.dependencyID)
		if err != nil {
			return err
		}
		all = m.views(t.repo, stored)
	}
	remaining := m.remaining(ctx, t)
	if !asJSON {
		writeScript(w, http.StatusOK, uploadCallbackScript(p.get("elementID"), p.get("callback"), t.repo.RepositoryID, all))
		return nil
	}
	res := multiFileUploadResult{Result: true, RemainingCount: remaining}
	for _, it := range items {
		res.FileUploadResults = append(res.FileUploadResults, fileUploadResult{Result: true, ItemID: it.ItemID, RemainingCount: remaining})
	}
	setFileResult(w, "MultiFileItemResult", all)
	m.setFrameHeaders(w)
	writeJSON(w, http.StatusOK, res)
	return nil
}

// jsString encodes s as a JavaScript string literal that is also safe inside
// an HTML <script> element (encoding/json escapes <, > and &).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func uploadCallbackScript(elementID, callback, repositoryID string, items []itemView) string {
	data, _ := json.Marshal(items)
	return "var elementID = " + jsString(elementID) + ";\n" +
		"var callback = " + jsString(callback) + ";\n" +
		"var repositoryID = " + jsString(repositoryID) + ";\n" +
		"var repositoryItems = " + string(data) + ";\n" +
		"parent.postMessage({action: 'upload-files', elementID: elementID, callback: callback, repositoryID: repositoryID, repositoryItems: repositoryItems}, '*');"
}

func writeScript(w http.ResponseWriter, status int, script string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<script type='text/javascript'>\n"+script+"\n</script>\n")
}
