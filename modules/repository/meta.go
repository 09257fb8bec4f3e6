package repository

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
)

// Item is the metadata of one stored file. StorageKey is where the backend
// keeps it, relative to the repository's root; it never leaves the server.
type Item struct {
	ApplicationID   string
	RepositoryID    string
	ItemID          string
	DependencyID    string
	BusinessID      string
	FileName        string
	StorageKey      string
	Extension       string
	MimeType        string
	Size            int64
	MD5             string // uppercase hex, as HandStack records it
	SHA256          string // lowercase hex
	CustomPath1     string
	CustomPath2     string
	CustomPath3     string
	PolicyPath      string
	SortingNo       int
	Comment         string
	CreatedMemberNo string
	CreatedAt       time.Time
}

// errUploadCount reports that a dependency already holds as many items as
// its repository allows.
var errUploadCount = errors.New("repository: upload count reached")

// metaStore keeps item metadata in the module's data source (SQLite by
// default, PostgreSQL when configured). Every change is one transaction.
type metaStore struct {
	db       *sql.DB
	postgres bool
}

const itemColumns = `ApplicationID, RepositoryID, ItemID, DependencyID, BusinessID, FileName, StorageKey,
	Extension, MimeType, Size, MD5, SHA256, CustomPath1, CustomPath2, CustomPath3, PolicyPath,
	SortingNo, Comment, CreatedMemberNo, CreatedAt`

var schema = []string{
	`CREATE TABLE IF NOT EXISTS ack_repository_items (
	ApplicationID TEXT NOT NULL,
	RepositoryID TEXT NOT NULL,
	ItemID TEXT NOT NULL,
	DependencyID TEXT NOT NULL,
	BusinessID TEXT NOT NULL,
	FileName TEXT NOT NULL,
	StorageKey TEXT NOT NULL,
	Extension TEXT NOT NULL,
	MimeType TEXT NOT NULL,
	Size BIGINT NOT NULL,
	MD5 TEXT NOT NULL,
	SHA256 TEXT NOT NULL,
	CustomPath1 TEXT NOT NULL,
	CustomPath2 TEXT NOT NULL,
	CustomPath3 TEXT NOT NULL,
	PolicyPath TEXT NOT NULL,
	SortingNo INTEGER NOT NULL,
	Comment TEXT NOT NULL,
	CreatedMemberNo TEXT NOT NULL,
	CreatedAt TEXT NOT NULL,
	PRIMARY KEY (ApplicationID, RepositoryID, ItemID)
)`,
	`CREATE INDEX IF NOT EXISTS ack_repository_items_dependency
	ON ack_repository_items (ApplicationID, RepositoryID, DependencyID)`,
	`CREATE INDEX IF NOT EXISTS ack_repository_items_key
	ON ack_repository_items (ApplicationID, RepositoryID, StorageKey)`,
}

// openMeta opens the metadata store and creates its table. provider is
// "sqlite" or "postgres"; dsn is a SQLite file path, or a PostgreSQL URL or
// connection string. It opens through package datasource, as every
// database in ack is: SQLite in WAL with a busy timeout and immediate
// transactions, so that a count check and the insert that follows cannot
// interleave with another writer.
func openMeta(ctx context.Context, provider, dsn string) (*metaStore, error) {
	var t datasource.Target
	switch provider {
	case "sqlite":
		t = datasource.SQLiteFile(dsn)
	case "postgres":
		var err error
		if t, err = datasource.Translate(dialect.PostgreSQL, dsn, ""); err != nil {
			return nil, fmt.Errorf("repository: metadata connection string: %w", err)
		}
	default:
		return nil, fmt.Errorf("repository: metadata provider %q: want SQLite or PostgreSQL", provider)
	}
	db, err := datasource.Open(t, datasource.DefaultPool)
	if err != nil {
		return nil, fmt.Errorf("repository: open metadata: %w", err)
	}
	m := metaStore{db: db, postgres: provider == "postgres"}
	for _, stmt := range schema {
		if _, err := m.db.ExecContext(ctx, stmt); err != nil {
			m.db.Close()
			return nil, fmt.Errorf("repository: create metadata table: %w", err)
		}
	}
	return &m, nil
}

func (m *metaStore) Close() error { return m.db.Close() }

// q rewrites "?" placeholders as "$n" for PostgreSQL.
func (m *metaStore) q(query string) string {
	if !m.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (m *metaStore) items(ctx context.Context, db querier, where string, args ...any) ([]Item, error) {
	rows, err := db.QueryContext(ctx, m.q("SELECT "+itemColumns+" FROM ack_repository_items WHERE "+where+
		" ORDER BY SortingNo, CreatedAt, ItemID"), args...)
	if err != nil {
		return nil, fmt.Errorf("repository: query items: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var created string
		if err := rows.Scan(&it.ApplicationID, &it.RepositoryID, &it.ItemID, &it.DependencyID, &it.BusinessID,
			&it.FileName, &it.StorageKey, &it.Extension, &it.MimeType, &it.Size, &it.MD5, &it.SHA256,
			&it.CustomPath1, &it.CustomPath2, &it.CustomPath3, &it.PolicyPath, &it.SortingNo, &it.Comment,
			&it.CreatedMemberNo, &created); err != nil {
			return nil, fmt.Errorf("repository: read item: %w", err)
		}
		it.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repository: read items: %w", err)
	}
	return out, nil
}

// Get returns one item.
func (m *metaStore) Get(ctx context.Context, app, repo, itemID string) (Item, bool, error) {
	items, err := m.items(ctx, m.db, "ApplicationID = ? AND RepositoryID = ? AND ItemID = ?", app, repo, itemID)
	if err != nil || len(items) == 0 {
		return Item{}, false, err
	}
	return items[0], true, nil
}

// List returns the items of a dependency in sorting order.
func (m *metaStore) List(ctx context.Context, app, repo, dependencyID string) ([]Item, error) {
	return m.items(ctx, m.db, "ApplicationID = ? AND RepositoryID = ? AND DependencyID = ?", app, repo, dependencyID)
}

// Count returns how many items a dependency holds.
func (m *metaStore) Count(ctx context.Context, app, repo, dependencyID string) (int, error) {
	var n int
	err := m.db.QueryRowContext(ctx, m.q(`SELECT COUNT(*) FROM ack_repository_items
		WHERE ApplicationID = ? AND RepositoryID = ? AND DependencyID = ?`), app, repo, dependencyID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("repository: count items: %w", err)
	}
	return n, nil
}

// inTx runs fn in one transaction, serialised per dependency on PostgreSQL
// (SQLite's immediate transactions already serialise writers).
func (m *metaStore) inTx(ctx context.Context, lockKey string, fn func(tx *sql.Tx) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("repository: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if m.postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", lockKey); err != nil {
			return fmt.Errorf("repository: lock dependency: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("repository: commit: %w", err)
	}
	return nil
}

// AddItems records new items of one dependency in one transaction. With
// replace, the dependency's existing items are removed first and returned
// (their files are the caller's to delete, after this commits). Otherwise,
// when limit > 0 and the dependency would hold more than limit items, nothing
// is written and the error is errUploadCount.
func (m *metaStore) AddItems(ctx context.Context, items []Item, replace bool, limit int) (replaced []Item, err error) {
	if len(items) == 0 {
		return nil, nil
	}
	first := items[0]
	lock := first.ApplicationID + "/" + first.RepositoryID + "/" + first.DependencyID
	err = m.inTx(ctx, lock, func(tx *sql.Tx) error {
		where := "ApplicationID = ? AND RepositoryID = ? AND DependencyID = ?"
		args := []any{first.ApplicationID, first.RepositoryID, first.DependencyID}
		existing, err := m.items(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if replace {
			if _, err := tx.ExecContext(ctx, m.q("DELETE FROM ack_repository_items WHERE "+where), args...); err != nil {
				return fmt.Errorf("repository: replace items: %w", err)
			}
			replaced = existing
		} else if limit > 0 && len(existing)+len(items) > limit {
			return errUploadCount
		}
		for _, it := range items {
			if err := m.upsert(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

func (m *metaStore) upsert(ctx context.Context, tx *sql.Tx, it Item) error {
	_, err := tx.ExecContext(ctx, m.q(`INSERT INTO ack_repository_items (`+itemColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (ApplicationID, RepositoryID, ItemID) DO UPDATE SET
		DependencyID = excluded.DependencyID, BusinessID = excluded.BusinessID, FileName = excluded.FileName,
		StorageKey = excluded.StorageKey, Extension = excluded.Extension, MimeType = excluded.MimeType,
		Size = excluded.Size, MD5 = excluded.MD5, SHA256 = excluded.SHA256, CustomPath1 = excluded.CustomPath1,
		CustomPath2 = excluded.CustomPath2, CustomPath3 = excluded.CustomPath3, PolicyPath = excluded.PolicyPath,
		SortingNo = excluded.SortingNo, Comment = excluded.Comment, CreatedMemberNo = excluded.CreatedMemberNo,
		CreatedAt = excluded.CreatedAt`),
		it.ApplicationID, it.RepositoryID, it.ItemID, it.DependencyID, it.BusinessID, it.FileName, it.StorageKey,
		it.Extension, it.MimeType, it.Size, it.MD5, it.SHA256, it.CustomPath1, it.CustomPath2, it.CustomPath3,
		it.PolicyPath, it.SortingNo, it.Comment, it.CreatedMemberNo, it.CreatedAt.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("repository: write item: %w", err)
	}
	return nil
}

// remove deletes the items matching where and returns them.
func (m *metaStore) remove(ctx context.Context, lock, where string, args ...any) ([]Item, error) {
	var removed []Item
	err := m.inTx(ctx, lock, func(tx *sql.Tx) error {
		items, err := m.items(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.q("DELETE FROM ack_repository_items WHERE "+where), args...); err != nil {
			return fmt.Errorf("repository: delete items: %w", err)
		}
		removed = items
		return nil
	})
	return removed, err
}

// Delete removes one item and returns it (ok false when it did not exist).
func (m *metaStore) Delete(ctx context.Context, app, repo, itemID string) (Item, bool, error) {
	items, err := m.remove(ctx, app+"/"+repo+"/item/"+itemID,
		"ApplicationID = ? AND RepositoryID = ? AND ItemID = ?", app, repo, itemID)
	if err != nil || len(items) == 0 {
		return Item{}, false, err
	}
	return items[0], true, nil
}

// DeleteDependency removes every item of a dependency and returns them.
func (m *metaStore) DeleteDependency(ctx context.Context, app, repo, dependencyID string) ([]Item, error) {
	return m.remove(ctx, app+"/"+repo+"/"+dependencyID,
		"ApplicationID = ? AND RepositoryID = ? AND DependencyID = ?", app, repo, dependencyID)
}

// DeleteByKey removes the items stored at a storage key (virtual-delete-file).
func (m *metaStore) DeleteByKey(ctx context.Context, app, repo, key string) ([]Item, error) {
	return m.remove(ctx, app+"/"+repo+"/key/"+key,
		"ApplicationID = ? AND RepositoryID = ? AND StorageKey = ?", app, repo, key)
}

// MoveDependency moves every item of one dependency to another and returns
// how many moved.
func (m *metaStore) MoveDependency(ctx context.Context, app, repo, from, to string) (int64, error) {
	res, err := m.db.ExecContext(ctx, m.q(`UPDATE ack_repository_items SET DependencyID = ?
		WHERE ApplicationID = ? AND RepositoryID = ? AND DependencyID = ?`), to, app, repo, from)
	if err != nil {
		return 0, fmt.Errorf("repository: move items: %w", err)
	}
	return res.RowsAffected()
}

// Rename changes the file name an item is downloaded as.
func (m *metaStore) Rename(ctx context.Context, app, repo, itemID, fileName, extension string) (bool, error) {
	res, err := m.db.ExecContext(ctx, m.q(`UPDATE ack_repository_items SET FileName = ?, Extension = ?
		WHERE ApplicationID = ? AND RepositoryID = ? AND ItemID = ?`), fileName, extension, app, repo, itemID)
	if err != nil {
		return false, fmt.Errorf("repository: rename item: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Ping checks that the data source answers.
func (m *metaStore) Ping(ctx context.Context) error { return m.db.PingContext(ctx) }
