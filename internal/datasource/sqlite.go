package datasource

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// sqliteConnector opens SQLite connections, retrying one that fails with
// SQLITE_BUSY while it is set up. Every new connection runs
// PRAGMA journal_mode; on a file not yet in WAL mode, the switch needs an
// exclusive lock, and SQLite answers a second connection doing the same (in
// this pool or another process) SQLITE_BUSY at once, without waiting for
// busy_timeout, because waiting could deadlock. Once the file is in WAL
// mode the pragma takes no lock, so this only happens to a fresh file.
type sqliteConnector struct {
	base driver.Connector
	wait time.Duration // the busy timeout: how long to keep retrying
}

func newSQLiteConnector(t Target) (sqliteConnector, error) {
	base, err := sqlite.NewConnector(t.DSN)
	return sqliteConnector{base: base, wait: t.BusyTimeout}, err
}

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	deadline := time.Now().Add(c.wait)
	backoff := time.Millisecond
	for {
		conn, err := c.base.Connect(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().Add(backoff).After(deadline) {
			return conn, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (while the database was locked: %v)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

func (c sqliteConnector) Driver() driver.Driver { return c.base.Driver() }
