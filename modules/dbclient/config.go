package dbclient

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/module"
)

// Config is the dbclient ModuleConfig (module.json, overlaid by ack.json's
// moduleConfig.dbclient). Keys match without regard to case; HandStack keys
// that ack does not use are ignored.
type Config struct {
	// DataSource lists the databases, as in HandStack. Default: [].
	DataSource []datasource.Config
	// DefaultDataSourceID is used when neither a statement nor its header
	// names one. Default: "".
	DefaultDataSourceID string
	// DefaultCommandTimeout (seconds) applies to statements whose timeout
	// attribute is negative, as in HandStack. Default: 30.
	DefaultCommandTimeout int
	// MaxCommandTimeout (seconds) caps every statement, including timeout="0"
	// (which means "no limit" in HandStack). 0 turns the cap off. Default: 300.
	MaxCommandTimeout *int
	// ImplicitSQLite gives a DataSourceID that has no configuration an
	// embedded SQLite file under the data directory
	// (DATA/dbclient/<ApplicationID>/<DataSourceID>.db). Turn it off in
	// production so that a missing setting is an error. Default: true.
	ImplicitSQLite *bool
	// AuthorizationKey, when set, is accepted in the AuthorizationKey header
	// (from loopback also in the query string) of every route. Default: "".
	AuthorizationKey string
	// AllowClientIP lists client IPs and CIDR prefixes ("localhost" for every
	// loopback address) served without the key; "*" serves everyone
	// (HandStack's default, not ack's). Default: ["127.0.0.1", "::1"].
	AllowClientIP []string
	// IsContractFileWatching turns on hot reload of SQL contracts. Default: true.
	IsContractFileWatching *bool
	// MaxOpenConns bounds each data source's pool. Default: 20.
	MaxOpenConns int
	// MaxIdleConns bounds idle connections per pool. Default: 5.
	MaxIdleConns int
	// ConnMaxLifetime (seconds) retires connections. Default: 1800.
	ConnMaxLifetime int

	// access is AuthorizationKey and AllowClientIP, parsed.
	access callerauth.Rule
}

func defaultConfig() Config {
	return Config{DefaultCommandTimeout: 30, MaxOpenConns: 20, MaxIdleConns: 5, ConnMaxLifetime: 1800}
}

func loadConfig(h module.Host) (Config, error) {
	c := defaultConfig()
	if err := h.Config().Decode(&c); err != nil {
		return c, err
	}
	if c.MaxCommandTimeout == nil {
		v := 300
		c.MaxCommandTimeout = &v
	}
	if c.AllowClientIP == nil {
		c.AllowClientIP = []string{"127.0.0.1", "::1"}
	}
	var err error
	if c.access, err = callerauth.New(c.AuthorizationKey, c.AllowClientIP); err != nil {
		return c, err
	}
	if c.DefaultCommandTimeout < 0 || *c.MaxCommandTimeout < 0 || c.MaxOpenConns < 0 || c.MaxIdleConns < 0 || c.ConnMaxLifetime < 0 {
		return c, fmt.Errorf("DefaultCommandTimeout, MaxCommandTimeout, MaxOpenConns, MaxIdleConns and ConnMaxLifetime must not be negative")
	}
	return c, nil
}

// servesEveryone reports whether AllowClientIP admits every client.
func (c Config) servesEveryone() bool {
	return slices.ContainsFunc(c.AllowClientIP, func(e string) bool { return strings.TrimSpace(e) == "*" })
}

func (c Config) implicitSQLite() bool { return c.ImplicitSQLite == nil || *c.ImplicitSQLite }

func (c Config) watch() bool { return c.IsContractFileWatching == nil || *c.IsContractFileWatching }

// statementTimeout returns the deadline for a statement whose timeout
// attribute is t (seconds): HandStack's rules, then the global cap.
func (c Config) statementTimeout(t int) time.Duration {
	var d time.Duration
	switch {
	case t > 0:
		d = time.Duration(t) * time.Second
	case t < 0:
		d = time.Duration(c.DefaultCommandTimeout) * time.Second
	}
	if max := time.Duration(*c.MaxCommandTimeout) * time.Second; max > 0 && (d == 0 || d > max) {
		d = max
	}
	return d
}
