// Package config reads ack's settings: the optional DIR/ack.json (ours, decoded
// strictly), HandStack's DIR/modules/<id>/module.json files (theirs, decoded
// leniently), and ACK_* environment variables. Precedence, lowest first:
// defaults, ack.json, environment, command-line flags.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is HandStack's default listening port.
const DefaultPort = 8421

// Settings are the host settings (DIR/ack.json).
type Settings struct {
	// Port to listen on. Default: 8421.
	Port int `json:"port"`
	// Listen is the address to bind. Default: "" (all interfaces).
	Listen string `json:"listen"`
	// Modules to run. Default: every built-in module.
	Modules []string `json:"modules"`
	// DataDir is where ack writes (SQLite files, uploads, spilled logs).
	// Default: DIR/data.
	DataDir string `json:"dataDir"`
	Log     Log    `json:"log"`
	// Shutdown controls the drain on SIGTERM and on upgrade.
	Shutdown Shutdown `json:"shutdown"`
	// StartTimeout bounds Provision+Start of all modules. Default: 60s.
	StartTimeout Duration `json:"startTimeout"`
	// PIDFile is written with the PID of the serving process, also after an
	// in-place upgrade; `ack upgrade` reads it. Default: DIR/data/ack-<port>.pid.
	PIDFile string `json:"pidFile"`
	// UpgradeTimeout bounds how long a new binary may take to become ready
	// during an in-place upgrade before the old one gives up on it. Default: 60s.
	UpgradeTimeout Duration `json:"upgradeTimeout"`
	Admin          Admin    `json:"admin"`
	// Peers maps a module ID to base URLs ("http://10.0.0.5:8004") of
	// processes that run it, for modules not loaded in this process.
	Peers map[string][]string `json:"peers"`
	// PeerTimeout bounds one call to a peer module. Default: 30s.
	PeerTimeout Duration `json:"peerTimeout"`
	// PeerHealthInterval is the period of the active health check of peer
	// endpoints (GET /readyz). A peer's drain delay should exceed it.
	// Default: 5s.
	PeerHealthInterval Duration `json:"peerHealthInterval"`
	// AuthorizationKey is sent as HandStack's AuthorizationKey header on
	// calls to peer modules (their module.json AuthorizationKey).
	AuthorizationKey string    `json:"authorizationKey"`
	Contracts        Contracts `json:"contracts"`
	// ModuleConfig overlays each module's module.json ModuleConfig, key by
	// key ({"dbclient": {"DataSource": [...]}}).
	ModuleConfig map[string]map[string]json.RawMessage `json:"moduleConfig"`
}

// Log configures ack's own logs.
type Log struct {
	// Format is "text" or "json". Default: "text".
	Format string `json:"format"`
	// Level is debug, info, warn or error. Default: info.
	Level string `json:"level"`
}

// Shutdown configures the graceful stop.
type Shutdown struct {
	// DrainDelay is how long /readyz answers 503 before the listener closes,
	// so that load balancers stop sending. Default: 0s in a terminal run, set
	// it to a few seconds behind a load balancer.
	DrainDelay Duration `json:"drainDelay"`
	// GracePeriod bounds the wait for in-flight requests. Default: 30s.
	GracePeriod Duration `json:"gracePeriod"`
}

// Admin configures the management endpoints (/ack/...).
type Admin struct {
	// Token is required as "Authorization: Bearer <token>" on management
	// endpoints. Without a token only read-only status is served, to loopback.
	Token string `json:"token"`
}

// Contracts tunes contract watching.
type Contracts struct {
	// Watch turns file watching on. Default: true.
	Watch *bool `json:"watch"`
	// Debounce is the quiet time after a file event before a reload. Default: 50ms.
	Debounce Duration `json:"debounce"`
	// Resync is the period of the full rescan that catches missed events. Default: 30s.
	Resync Duration `json:"resync"`
}

// Duration is a time.Duration written as "5s" in JSON (a number is seconds).
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalJSON accepts "1m30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want \"5s\" or seconds: %w", err)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Defaults returns the settings used when nothing overrides them.
func Defaults() Settings {
	return Settings{
		Port:           DefaultPort,
		Log:            Log{Format: "text", Level: "info"},
		Shutdown:       Shutdown{GracePeriod: Duration(30 * time.Second)},
		StartTimeout:   Duration(60 * time.Second),
		UpgradeTimeout: Duration(60 * time.Second),
		PeerTimeout:    Duration(30 * time.Second),
		Contracts:      Contracts{Debounce: Duration(50 * time.Millisecond), Resync: Duration(30 * time.Second)},
	}
}

// WatchContracts reports whether contract files are watched.
func (c Contracts) WatchContracts() bool { return c.Watch == nil || *c.Watch }

// EnvPrefix starts every environment variable ack reads.
const EnvPrefix = "ACK_"

// Env lists the environment variables that override settings, for docs and --help.
var Env = []struct{ Name, Setting string }{
	{"ACK_HOME", "home directory (--home)"},
	{"ACK_PORT", "port"},
	{"ACK_LISTEN", "listen"},
	{"ACK_MODULES", "modules (comma separated)"},
	{"ACK_DATA_DIR", "dataDir"},
	{"ACK_PID_FILE", "pidFile"},
	{"ACK_LOG_FORMAT", "log.format"},
	{"ACK_LOG_LEVEL", "log.level"},
	{"ACK_DRAIN_DELAY", "shutdown.drainDelay"},
	{"ACK_GRACE_PERIOD", "shutdown.gracePeriod"},
	{"ACK_ADMIN_TOKEN", "admin.token"},
	{"ACK_PEER_<MODULE>", "peers.<module> (comma separated URLs)"},
	{"ACK_PEER_TIMEOUT", "peerTimeout"},
	{"ACK_PEER_HEALTH_INTERVAL", "peerHealthInterval"},
	{"ACK_AUTHORIZATION_KEY", "authorizationKey"},
	{"ACK_CONTRACTS_WATCH", "contracts.watch"},
}

// Load reads DIR/ack.json (if present) over the defaults and applies the
// environment, given as KEY=VALUE entries (os.Environ() in production).
func Load(home string, environ []string) (Settings, error) {
	s := Defaults()
	path := filepath.Join(home, "ack.json")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return s, fmt.Errorf("read settings: %w", err)
	default:
		dec := json.NewDecoder(bytes.NewReader(StripJSONC(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("%s: %w", path, describeJSONError(data, err))
		}
	}
	if err := applyEnv(&s, environ); err != nil {
		return s, err
	}
	if s.DataDir == "" {
		s.DataDir = "data"
	}
	s.DataDir = resolve(home, s.DataDir)
	if s.PIDFile != "" {
		s.PIDFile = resolve(home, s.PIDFile)
	}
	return s, s.Validate()
}

// PIDPath is the PID file of the process serving Port: PIDFile when set,
// else DataDir/ack-<port>.pid, else "" (port 0 has no stable name).
func (s Settings) PIDPath() string {
	switch {
	case s.PIDFile != "":
		return s.PIDFile
	case s.Port > 0:
		return filepath.Join(s.DataDir, fmt.Sprintf("ack-%d.pid", s.Port))
	}
	return ""
}

// Validate checks values that no decoder can.
func (s Settings) Validate() error {
	var errs []error
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range", s.Port))
	}
	switch s.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", s.Log.Format))
	}
	switch strings.ToLower(s.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", s.Log.Level))
	}
	for id, urls := range s.Peers {
		for _, u := range urls {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				errs = append(errs, fmt.Errorf("peers.%s: %q is not an http(s) URL", id, u))
			}
		}
	}
	return errors.Join(errs...)
}

func applyEnv(s *Settings, environ []string) error {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	getenv := func(name string) string { return vars[name] }
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = Duration(d)
		}
	}
	if v := getenv("ACK_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ACK_PORT: %w", err))
		}
		s.Port = p
	}
	str("ACK_LISTEN", &s.Listen)
	if v := getenv("ACK_MODULES"); v != "" {
		s.Modules = SplitList(v)
	}
	str("ACK_DATA_DIR", &s.DataDir)
	str("ACK_PID_FILE", &s.PIDFile)
	str("ACK_LOG_FORMAT", &s.Log.Format)
	str("ACK_LOG_LEVEL", &s.Log.Level)
	dur("ACK_DRAIN_DELAY", &s.Shutdown.DrainDelay)
	dur("ACK_GRACE_PERIOD", &s.Shutdown.GracePeriod)
	dur("ACK_PEER_TIMEOUT", &s.PeerTimeout)
	dur("ACK_PEER_HEALTH_INTERVAL", &s.PeerHealthInterval)
	str("ACK_ADMIN_TOKEN", &s.Admin.Token)
	str("ACK_AUTHORIZATION_KEY", &s.AuthorizationKey)
	if v := getenv("ACK_CONTRACTS_WATCH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ACK_CONTRACTS_WATCH: %w", err))
		}
		s.Contracts.Watch = &b
	}
	for name, v := range vars {
		id, ok := strings.CutPrefix(name, "ACK_PEER_")
		if !ok || id == "TIMEOUT" || id == "HEALTH_INTERVAL" || id == "" || v == "" {
			continue
		}
		if s.Peers == nil {
			s.Peers = map[string][]string{}
		}
		s.Peers[strings.ToLower(id)] = SplitList(v)
	}
	return errors.Join(errs...)
}

// SplitList splits a comma separated list, trimming blanks and dropping empties.
func SplitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
