package transact

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/config"
)

// Config is transact's part of HandStack's module.json (ModuleConfig), with
// ack's additions. Keys match without regard to case; unknown keys are
// ignored. Defaults follow HandStack's shipped module.json where that matters
// to a browser (open access for every app); the secure settings are
// documented in docs/transact.md.
type Config struct {
	// SystemID is written into the last route of each response and into
	// responseID. Default: "HANDSTACK".
	SystemID string
	// HostName is echoed in responses. Default: the machine's host name.
	HostName string
	// AuthorizationKey is accepted in the AuthorizationKey header (from
	// loopback also in the query string) of the metadata endpoints. Default:
	// SystemID + "D" + HostName, like HandStack.
	AuthorizationKey string
	// AvailableEnvironment lists the accepted request environments (an array
	// or a comma separated string). Default: P, D, S.
	AvailableEnvironment flexList
	// RoutingCommandUri maps "App|Project|CommandType|Environment" (Project
	// may be "*") to the URL of the module that runs the command. Empty:
	// dbclient and function are found through the host's peers.
	RoutingCommandUri map[string]string
	// AllowRequestTransactions limits apps and projects: {"HDS": ["*"]}.
	// Absent: every app and project is allowed. {"*": [...]} allows all apps.
	AllowRequestTransactions map[string][]string
	// PublicTransactions may be called from any screen. Absent: everything is
	// public (HandStack ships {"HDS","*","*"}). [] makes AccessScreenID strict.
	PublicTransactions *[]PublicTransaction
	// UseApiAuthorize enforces Authorize, Roles, Policys and TransactionTokens
	// of services. Default: false (HandStack's default).
	UseApiAuthorize bool
	// BypassAuthorizeIP lists client addresses (IPs, CIDRs, "localhost" for
	// loopback) whose calls skip role checks. ack matches the socket address
	// only, never a client-supplied one. Default: none.
	BypassAuthorizeIP []string
	// AllowClientIP lists addresses (IPs, CIDRs, "localhost" for loopback)
	// allowed on the metadata endpoints without the AuthorizationKey; "*"
	// allows everyone. Default: ["*"], like HandStack.
	AllowClientIP []string
	// HostAccessID is the secret bearer tokens are encrypted with (HandStack's
	// AppSettings HostAccessID). Default: $HANDSTACK_HOSTACCESSID.
	HostAccessID string
	// DummyFileBasePath is where CommandType R services read
	// {App}/{Project}/{Tx}/{ServiceID}.dat. Default: DIR/tmp/HDS/dummyfile
	// (HandStack's {entry}/../tmp/{ApplicationID}/dummyfile).
	DummyFileBasePath string
	// SecurityHardening carries the request limits.
	SecurityHardening Hardening
	// MaxRequestBytes bounds a request body. Default: 30000000 (HandStack's
	// Kestrel limit).
	MaxRequestBytes int64

	// access and bypass are AuthorizationKey with AllowClientIP, and
	// BypassAuthorizeIP, parsed by validate.
	access callerauth.Rule
	bypass callerauth.Addrs
}

// Hardening holds the request limits of HandStack's SecurityHardening.
type Hardening struct {
	// MaxRoutes bounds system.routes. Default: 16.
	MaxRoutes int
	// MaxDataMapSetCount bounds the input rows. Default: 256.
	MaxDataMapSetCount int
	// SanitizeErrorText replaces every exceptionText with a reference to the
	// globalID. Default: false.
	SanitizeErrorText bool
	// MaxConcurrentPushTasks bounds PSH (fire-and-forget) requests running at
	// once. Default: 64.
	MaxConcurrentPushTasks int
}

// PublicTransaction is one entry of PublicTransactions; "*" matches any
// project or transaction.
type PublicTransaction struct {
	ApplicationID string
	ProjectID     string
	TransactionID string
}

// flexList is a list given as a JSON array or a comma separated string.
type flexList []string

func (l *flexList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a list of strings or a comma separated string")
	}
	*l = config.SplitList(s)
	return nil
}

func loadConfig(m *config.Module, paths config.Paths) (Config, error) {
	c := Config{
		SystemID:             "HANDSTACK",
		AvailableEnvironment: flexList{"P", "D", "S"},
		AllowClientIP:        []string{"*"},
		SecurityHardening:    Hardening{MaxRoutes: 16, MaxDataMapSetCount: 256, MaxConcurrentPushTasks: 64},
		MaxRequestBytes:      30_000_000,
		HostAccessID:         os.Getenv("HANDSTACK_HOSTACCESSID"),
	}
	if err := m.Decode(&c); err != nil {
		return c, fmt.Errorf("transact: %w", err)
	}
	if c.HostName == "" {
		c.HostName, _ = os.Hostname()
	}
	if c.AuthorizationKey == "" {
		c.AuthorizationKey = c.SystemID + "D" + c.HostName
	}
	if c.DummyFileBasePath == "" {
		c.DummyFileBasePath = filepath.Join(paths.Home, "tmp", "HDS", "dummyfile")
	} else {
		c.DummyFileBasePath = m.Path("DummyFileBasePath", c.DummyFileBasePath)
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	h := &c.SecurityHardening
	if h.MaxRoutes <= 0 {
		h.MaxRoutes = 16
	}
	if h.MaxDataMapSetCount <= 0 {
		h.MaxDataMapSetCount = 256
	}
	if h.MaxConcurrentPushTasks <= 0 {
		h.MaxConcurrentPushTasks = 64
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = 30_000_000
	}
	var err error
	if c.bypass, err = callerauth.ParseAddrs(c.BypassAuthorizeIP); err != nil {
		errs = append(errs, fmt.Errorf("BypassAuthorizeIP: %w", err))
	}
	if c.access, err = callerauth.New(c.AuthorizationKey, c.AllowClientIP); err != nil {
		errs = append(errs, err)
	}
	for k := range c.RoutingCommandUri {
		if n := strings.Count(k, "|"); n != 3 && n != 4 {
			errs = append(errs, fmt.Errorf("RoutingCommandUri key %q: want App|Project|CommandType|Environment", k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("transact settings: %w", errors.Join(errs...))
	}
	return nil
}
