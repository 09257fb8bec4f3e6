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
