package datasource_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ack-dev/ack/internal/datasource"
)

// TestSQLiteFreshFileConcurrentConnections opens several connections at
// once on fresh SQLite files, as a pool does under the first burst of
// requests (or two hosts sharing an implicit file): each connection switches
// the new file to WAL, and SQLite refuses the second switch with
// SQLITE_BUSY at once, whatever busy_timeout says. Without the connector's
// retry about one connection in fifty failed here.
func TestSQLiteFreshFileConcurrentConnections(t *testing.T) {
	const rounds, conns = 40, 8
	dir := t.TempDir()
	// Two registries on one data directory stand for two hosts.
	var pools [2]*datasource.Registry
	for i := range pools {
		r, err := datasource.NewRegistry(nil, dir, filepath.Join(dir, "data"), datasource.PoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		pools[i] = r
	}
	for round := range rounds {
		var dbs [2]*sql.DB
		for i, r := range pools {
			src, _, err := r.Resolve("APP", "P", fmt.Sprintf("DB%02d", round))
			if err != nil {
				t.Fatal(err)
			}
			if dbs[i], err = r.DB(src); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for i := range conns {
			wg.Go(func() {
				c, err := dbs[i%2].Conn(t.Context())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				_, err = c.ExecContext(t.Context(), "CREATE TABLE IF NOT EXISTS Board (ID INTEGER PRIMARY KEY)")
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
}

// TestSQLiteFile opens a module's own SQLite file the way data sources are
// opened: its directory is created, the file is in WAL mode with the busy
// timeout, and transactions begin IMMEDIATE (a second writer waits at BEGIN).
func TestSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "meta.db")
	db, err := datasource.Open(datasource.SQLiteFile(path), datasource.DefaultPool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var busy int
	if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	if err := db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 5000 {
		t.Errorf("busy_timeout %d (%v), want 5000", busy, err)
	}
	// SQLite's default, FULL (2), which repository's metadata relies on.
	var sync int
	if err := db.QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous %d (%v), want 2 (FULL)", sync, err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// An immediate transaction holds the write lock from BEGIN: another
	// connection cannot start writing until it ends.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(t.Context(), "CREATE TABLE x (a)"); err == nil {
		t.Error("a second writer got the lock while an immediate transaction was open")
	}
}
