// Package repository is ack's file storage module, HandStack's repository:
// storage contracts (contracts/repository/{App}/*.json) declare
// repositories, and the routes under /repository/api/storage upload,
// download, list and delete their files. Files live on the local file system
// or in an S3-compatible bucket; their metadata lives in the module's data
// source (SQLite by default, or PostgreSQL).
//
// Every write is two-phase: the upload streams into a temporary object while
// its size, extension and count limits are enforced, then the file is
// published under its key in one step, and only then is its metadata
// recorded, in one transaction. A failed or interrupted upload leaves neither
// a visible file nor a metadata row; temporary objects left by a crash are
// swept.
package repository

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/ack-dev/ack/internal/contract"
	"github.com/ack-dev/ack/internal/module"
)

// Info describes the repository module to the host.
func Info() module.Info {
	return module.Info{ID: module.Repository, New: func() module.Module { return &Module{} }}
}

// Module is the repository module.
type Module struct {
	host  module.Host
	log   *slog.Logger
	cfg   Config
	store *contract.Store[Repository]

	meta   *metaStore
	signer signer
	now    func() time.Time

	backendsMu sync.Mutex
	backends   map[string]backend // by storage identity (see storageID)

	// commitLocks serialise the publish step of uploads per repository (name
	// choice, rename, metadata), striped to bound memory.
	commitLocks [64]sync.Mutex
}

// Provision reads the settings and registers the storage contract store.
func (m *Module) Provision(_ context.Context, h module.Host) error {
	m.host, m.log = h, h.Logger()
	if m.now == nil {
		m.now = time.Now
	}
	cfg, err := loadConfig(h)
	if err != nil {
		return err
	}
	m.cfg = cfg
	roots, err := h.Config().ContractRoots()
	if err != nil {
		return err
	}
	m.store = contract.NewStore(storageKind(h.Paths()), roots, contract.Options{Logger: m.log, Watch: cfg.watch()})
	m.backends = map[string]backend{}
	return h.Contracts().Register(m.store)
}

// Start opens the metadata store, loads the signing key and starts the sweep
// of temporary files (right away for what a crash left, then periodically).
func (m *Module) Start(ctx context.Context) error {
	meta, err := openMeta(ctx, m.cfg.MetadataProvider, m.cfg.MetadataConnectionString)
	if err != nil {
		return err
	}
	m.meta = meta
	key, err := loadSigningKey(m.cfg.SigningKey, filepath.Join(m.host.Paths().Data, "repository", "signing.key"))
	if err != nil {
		return err
	}
	m.signer = signer{key: key}
	m.sweep(ctx)
	m.host.Go("repository.sweep", func(ctx context.Context) error {
		t := time.NewTicker(m.cfg.TempMaxAge.D())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				m.sweep(ctx)
			}
		}
	})
	return nil
}

// sweep removes the temporary files of every repository that are older than
// TempMaxAge. Failures are logged: a sweep is retried on the next tick.
func (m *Module) sweep(ctx context.Context) {
	cutoff := m.now().Add(-m.cfg.TempMaxAge.D())
	set := m.store.Load()
	for _, k := range set.Keys() {
		repo, _ := set.Get(k)
		be, err := m.backend(repo)
		if err != nil {
			m.log.Warn("repository storage unavailable", "application_id", repo.ApplicationID, "repository_id", repo.RepositoryID, "err", err)
			continue
		}
		n, err := be.Sweep(ctx, cutoff)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("sweep of temporary files failed", "repository_id", repo.RepositoryID, "err", err)
		}
		if n > 0 {
			m.log.Info("removed temporary files of interrupted uploads", "repository_id", repo.RepositoryID, "count", n)
		}
	}
}

// Stop closes the metadata store and the storage backends.
func (m *Module) Stop(context.Context) error {
	var errs []error
	if m.meta != nil {
		errs = append(errs, m.meta.Close())
		m.meta = nil
	}
	m.backendsMu.Lock()
	defer m.backendsMu.Unlock()
	for id, be := range m.backends {
		errs = append(errs, be.Close())
		delete(m.backends, id)
	}
	return errors.Join(errs...)
}

// Ready reports whether the metadata store answers.
func (m *Module) Ready(ctx context.Context) error {
	if m.meta == nil {
		return errors.New("repository: not started")
	}
	return m.meta.Ping(ctx)
}

// storageID identifies where a repository's files live, so that repositories
// (and contract generations) sharing a place share one backend.
func storageID(r Repository) string {
	if r.StorageType == storageS3 {
		secret := sha256.Sum256([]byte(r.S3.SecretKey))
		return "s3\x00" + r.S3.ServiceURL + "\x00" + r.S3.Region + "\x00" + r.S3.Bucket + "\x00" + r.S3.AccessKey +
			"\x00" + hex.EncodeToString(secret[:])
	}
	return "fs\x00" + r.PhysicalPath
}

// backend returns the storage of a repository, opening it on first use.
func (m *Module) backend(r Repository) (backend, error) {
	id := storageID(r)
	m.backendsMu.Lock()
	defer m.backendsMu.Unlock()
	if be, ok := m.backends[id]; ok {
		return be, nil
	}
	var be backend
	var err error
	if r.StorageType == storageS3 {
		be, err = openS3(r.S3)
	} else {
		be, err = openLocal(r.PhysicalPath)
	}
	if err != nil {
		return nil, err
	}
	m.backends[id] = be
	return be, nil
}

// commitLock returns the lock that serialises publishing into a repository.
func (m *Module) commitLock(r Repository) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(r.key()))
	return &m.commitLocks[h.Sum32()%uint32(len(m.commitLocks))]
}

// repository finds a repository of the current contract generation. An
// empty applicationID matches when exactly one application declares
// repositoryID.
func (m *Module) repository(set *contract.Set[Repository], applicationID, repositoryID string) (Repository, error) {
	if repositoryID == "" {
		return Repository{}, module.Errorf(400, "repository_required", "RepositoryID is required", nil)
	}
	if applicationID != "" {
		if r, ok := set.Get(repositoryKey(applicationID, repositoryID)); ok {
			return r, nil
		}
		return Repository{}, module.Errorf(404, "repository_not_found",
			fmt.Sprintf("repository %q of application %q is not declared", repositoryID, applicationID), nil)
	}
	var found []Repository
	for _, k := range set.Keys() {
		if r, _ := set.Get(k); r.RepositoryID == repositoryID {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Repository{}, module.Errorf(404, "repository_not_found", fmt.Sprintf("repository %q is not declared", repositoryID), nil)
	default:
		return Repository{}, module.Errorf(400, "application_required",
			fmt.Sprintf("repository %q is declared by several applications: ApplicationID is required", repositoryID), nil)
	}
}

// requiredParam is a query parameter a route cannot do without.
type requiredParam struct{ key, code, message string }

var (
	itemIDParam       = requiredParam{"itemID", "item_required", "ItemID is required"}
	dependencyIDParam = requiredParam{"dependencyID", "dependency_required", "DependencyID is required"}
)

func (rp requiredParam) missing() error { return badRequest(rp.code, rp.message) }

// requested returns the repository a request names (applicationID,
// repositoryID) and the value of the parameter rp it also needs.
func (m *Module) requested(p params, rp requiredParam) (Repository, string, error) {
	repo, err := m.repository(m.store.Load(), p.get("applicationID"), p.get("repositoryID"))
	if err != nil {
		return Repository{}, "", err
	}
	v := p.get(rp.key)
	if v == "" {
		return Repository{}, "", rp.missing()
	}
	return repo, v, nil
}

var (
	_ module.Module       = (*Module)(nil)
	_ module.ReadyChecker = (*Module)(nil)
)
