package repository

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/ack-dev/ack/internal/module"
)

// jsonContentResult is HandStack's JsonContentResult.
type jsonContentResult struct {
	Result  bool
	Message string
}

// actionHandler serves FileClient's item actions: GetItem, GetItems,
// UpdateDependencyID and UpdateFileName.
func (m *Module) actionHandler(w http.ResponseWriter, r *http.Request) error {
	p := queryParams(r)
	var (
		body   any
		result jsonContentResult
		err    error
	)
	switch action := p.get("action"); {
	case strings.EqualFold(action, "GetItem"):
		body, err = m.getItem(r.Context(), p)
	case strings.EqualFold(action, "GetItems"):
		body, err = m.getItems(r.Context(), p)
	case strings.EqualFold(action, "UpdateDependencyID"):
		err = m.updateDependencyID(r.Context(), p)
	case strings.EqualFold(action, "UpdateFileName"):
		err = m.updateFileName(r.Context(), p)
	default:
		err = module.Errorf(http.StatusNotFound, "unknown_action",
			fmt.Sprintf("unknown action %q (GetItem, GetItems, UpdateDependencyID, UpdateFileName)", action), nil)
	}
	if err != nil {
		var me *module.Error
		if errors.As(err, &me) {
			result.Message = me.Message
			setFileResult(w, "JsonContentResult", result)
		}
		return err
	}
	result.Result = true
	if body == nil {
		body = result
	}
	setFileResult(w, "JsonContentResult", result)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (m *Module) getItem(ctx context.Context, p params) (any, error) {
	repo, itemID, err := m.requested(p, itemIDParam)
	if err != nil {
		return nil, err
	}
	it, ok, err := m.meta.Get(ctx, repo.ApplicationID, repo.RepositoryID, itemID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("item %q was not found", itemID), nil)
	}
	return m.view(repo, it), nil
}

func (m *Module) getItems(ctx context.Context, p params) (any, error) {
	repo, dep, err := m.requested(p, dependencyIDParam)
	if err != nil {
		return nil, err
	}
	items, err := m.meta.List(ctx, repo.ApplicationID, repo.RepositoryID, dep)
	if err != nil {
		return nil, err
	}
	return m.views(repo, items), nil
}

func (m *Module) updateDependencyID(ctx context.Context, p params) error {
	repo, err := m.repository(m.store.Load(), p.get("applicationID"), p.get("repositoryID"))
	if err != nil {
		return err
	}
	from, to := p.get("sourceDependencyID"), p.get("targetDependencyID")
	if from == "" || to == "" || len(to) > maxNameBytes || strings.ContainsFunc(to, isControl) {
		return badRequest("dependency_required", "SourceDependencyID and a valid TargetDependencyID are required")
	}
	n, err := m.meta.MoveDependency(ctx, repo.ApplicationID, repo.RepositoryID, from, to)
	if err != nil {
		return err
	}
	if n == 0 {
		return module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("dependency %q has no items", from), nil)
	}
	return nil
}

// updateFileName changes the name an item is downloaded as. The stored file
// and the ItemID stay as they are (HandStack also moves the file when names
// are not encrypted; ack keeps keys stable).
func (m *Module) updateFileName(ctx context.Context, p params) error {
	repo, err := m.repository(m.store.Load(), p.get("applicationID"), p.get("repositoryID"))
	if err != nil {
		return err
	}
	itemID := p.get("itemID")
	name := sanitizeFileName(p.get("fileName"))
	if itemID == "" || name == "" {
		return badRequest("parameters_required", "ItemID and a valid FileName are required")
	}
	it, ok, err := m.meta.Get(ctx, repo.ApplicationID, repo.RepositoryID, itemID)
	if err != nil {
		return err
	}
	if !ok {
		return module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("item %q was not found", itemID), nil)
	}
	if it.FileName == name {
		return badRequest("same_file_name", "the item already has this name")
	}
	ext := fileExtension(name)
	if ext == "" {
		ext = it.Extension
	}
	if _, err := m.meta.Rename(ctx, repo.ApplicationID, repo.RepositoryID, itemID, name, ext); err != nil {
		return err
	}
	return nil
}

// removeItem deletes one item: its metadata first (so it disappears at
// once), then its file.
func (m *Module) removeItem(w http.ResponseWriter, r *http.Request) error {
	repo, itemID, err := m.requested(queryParams(r), itemIDParam)
	if err != nil {
		return err
	}
	it, ok, err := m.meta.Delete(r.Context(), repo.ApplicationID, repo.RepositoryID, itemID)
	if err != nil {
		return err
	}
	if !ok {
		return module.Errorf(http.StatusNotFound, "item_not_found", fmt.Sprintf("item %q was not found", itemID), nil)
	}
	m.removeFiles(r.Context(), repo, []Item{it})
	writeJSON(w, http.StatusOK, jsonContentResult{Result: true})
	return nil
}

// removeItems deletes every item of a dependency.
func (m *Module) removeItems(w http.ResponseWriter, r *http.Request) error {
	repo, dep, err := m.requested(queryParams(r), dependencyIDParam)
	if err != nil {
		return err
	}
	items, err := m.meta.DeleteDependency(r.Context(), repo.ApplicationID, repo.RepositoryID, dep)
	if err != nil {
		return err
	}
	m.removeFiles(r.Context(), repo, items)
	writeJSON(w, http.StatusOK, jsonContentResult{Result: true})
	return nil
}

// removeFiles deletes the files of removed items. A failure leaves an
// unreferenced file (logged), never a reference to a missing one.
func (m *Module) removeFiles(ctx context.Context, repo Repository, items []Item) {
	be, err := m.backend(repo)
	if err != nil {
		m.log.Error("storage unavailable; files of removed items remain", "repository_id", repo.RepositoryID, "err", err)
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, it := range items {
		if err := be.Remove(ctx, it.StorageKey); err != nil {
			m.log.Error("could not remove the file of a removed item", "repository_id", repo.RepositoryID, "item_id", it.ItemID, "err", err)
		}
	}
}

// virtualDeleteFile deletes a file of a virtual-path repository by folder and
// name, with any item recorded for it. Unlike HandStack it needs
// authorization (AuthorizationKey or AllowClientIP).
func (m *Module) virtualDeleteFile(w http.ResponseWriter, r *http.Request) error {
	if !m.cfg.access.Allows(r) {
		return module.Errorf(http.StatusForbidden, "unauthorized", "not authorized", nil)
	}
	p := queryParams(r)
	name, dir := p.get("fileName"), p.get("subDirectory")
	if !isSafeSegment(name) || !isSafeRelPath(dir) {
		return badRequest("invalid_path", "the file path is not valid")
	}
	key := path.Join(dir, name)
	repo, err := m.repository(m.store.Load(), p.get("applicationID"), p.get("repositoryID"))
	if err != nil {
		return err
	}
	if !repo.IsVirtualPath {
		return module.Errorf(http.StatusBadRequest, "not_virtual", "this repository has no virtual path", nil)
	}
	be, err := m.backend(repo)
	if err != nil {
		return err
	}
	exists, err := be.Exists(r.Context(), key)
	if err != nil {
		return err
	}
	if !exists {
		return module.Errorf(http.StatusNotFound, "file_not_found", "the file was not found", nil)
	}
	if _, err := m.meta.DeleteByKey(r.Context(), repo.ApplicationID, repo.RepositoryID, key); err != nil {
		return err
	}
	if err := be.Remove(context.WithoutCancel(r.Context()), key); err != nil {
		return err
	}
	setFileResult(w, "DeleteResult", jsonContentResult{Result: true})
	m.setFrameHeaders(w)
	writeJSON(w, http.StatusOK, jsonContentResult{Result: true})
	return nil
}
