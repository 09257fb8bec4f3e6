package logger

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Config is the logger's ModuleConfig (HandStack's module.json keys).
type Config struct {
	// LogDeleteRepeatSecond is the period of the retention job, which also
	// runs once at start. Default: 43200 (12 hours).
	LogDeleteRepeatSecond float64
	// DataSource lists where each ApplicationID's records go. An entry with
	// ApplicationID "*" replaces the default store, which takes every
	// ApplicationID without an entry of its own.
	DataSource []DataSource
	// AuthorizationKey, sent in the AuthorizationKey header, opens the list
	// and detail routes to callers that are not on loopback (HandStack
	// parsed it and never checked it). Default: none, loopback only.
	AuthorizationKey string
	// RequireKeyForInsert applies the same rule to insert (ack only).
	// Default: false, insert is open as in HandStack.
	RequireKeyForInsert bool
}

// DataSource is one HandStack logger data source.
type DataSource struct {
	ApplicationID string
	// TableName. Default: TransactLog.
	TableName string
	// DataProvider is SQLite or PostgreSQL (HandStack also names SqlServer,
	// MySQL and Oracle; ack reports them and keeps their records in the
	// default store). Empty means SQLite.
	DataProvider string
	// RemovePeriod is how many days records are kept; HandStack writes it
	// negative (-30). 0 means the default, 30.
	RemovePeriod int
	// ConnectionString is HandStack's (ADO.NET style) or, for PostgreSQL, a
	// postgres:// URL; dbclient's datasource package translates it.
	ConnectionString string
	// IsEncryption is read and ignored, as in HandStack's logger.
	IsEncryption string
}

// The defaults.
const (
	defaultTable        = "TransactLog"
	defaultRemoveDays   = 30
	defaultDeleteSecond = 43200
	defaultApplication  = "*"
)

var tableNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,39}$`)

// retentionEvery is the retention job's period.
func (c Config) retentionEvery() time.Duration {
	if c.LogDeleteRepeatSecond <= 0 {
		return defaultDeleteSecond * time.Second
	}
	return time.Duration(c.LogDeleteRepeatSecond * float64(time.Second))
}

// keepDays is how many days a data source keeps records.
func (d DataSource) keepDays() int {
	switch {
	case d.RemovePeriod < 0:
		return -d.RemovePeriod
	case d.RemovePeriod > 0:
		return d.RemovePeriod
	default:
		return defaultRemoveDays
	}
}

func (d DataSource) table() string {
	if d.TableName == "" {
		return defaultTable
	}
	return d.TableName
}

// validate checks what would otherwise fail late or be spliced into SQL.
func (d DataSource) validate() error {
	if strings.TrimSpace(d.ApplicationID) == "" {
		return fmt.Errorf("DataSource: ApplicationID is empty")
	}
	if !tableNameRE.MatchString(d.table()) {
		return fmt.Errorf("DataSource %s: TableName %q is not a plain SQL identifier of at most 40 characters", d.ApplicationID, d.TableName)
	}
	return nil
}
