package repository

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/datasource"
	"github.com/ack-dev/ack/internal/dialect"
	"github.com/ack-dev/ack/internal/module"
)

// Config is the repository module's settings: HandStack's module.json
// ModuleConfig keys plus ack's own (overlaid from ack.json moduleConfig.repository).
type Config struct {
	// FileServerURL prefixes the AbsolutePath of every item
	// ("http://localhost:8421"). Default: "" (AbsolutePath equals RelativePath).
	FileServerURL string `json:"FileServerUrl"`
	// XFrameOptions and ContentSecurityPolicy are sent with upload and
	// download answers. Defaults: "SAMEORIGIN" and "frame-ancestors 'self'".
	XFrameOptions         string
	ContentSecurityPolicy string
	// AuthorizationKey, when set, is accepted from the AuthorizationKey header
	// (and, from loopback callers, the query) by protected routes (refresh,
	// virtual-delete-file, get-download-link of private repositories).
	// Default: "" (no key is accepted).
	AuthorizationKey string
	// AllowClientIP lists client IPs and CIDR prefixes ("localhost" for every
	// loopback address) that protected routes accept without a key; "*"
	// accepts everyone (HandStack's default). Default: ["*"].
	AllowClientIP []string
	// WithOrigins lists origins ("https://app.example.com") whose pages may
	// download from protected repositories. Same-host pages and loopback
	// callers always may. Default: [].
	WithOrigins []string
	// IsContractFileWatching turns on hot reload of storage contracts.
	// Default: true.
	IsContractFileWatching *bool

	// MetadataProvider is "SQLite" or "PostgreSQL". Default: "SQLite".
	MetadataProvider string
	// MetadataConnectionString is the SQLite file, or the PostgreSQL URL or
	// connection string (the keys of a dbclient DataSource).
	// Default: DATA/repository/metadata.db.
	MetadataConnectionString string
	// SigningKey signs download links (HMAC-SHA256). Default: a random key
	// created once in DATA/repository/signing.key.
	SigningKey string
	// SignedLinkMaxAge bounds the lifetime of a signed download link.
	// Default: 24h; links default to 1h.
	SignedLinkMaxAge config.Duration
	// MaxUploadBytes caps one file when its repository sets no
	// UploadSizeLimit. Default: 1 GiB.
	MaxUploadBytes int64
	// TempMaxAge is how old an upload's temporary file must be before the
	// sweep removes it (an upload in progress keeps writing to its file).
	// Default: 15m.
	TempMaxAge config.Duration

	// access is AuthorizationKey and AllowClientIP, parsed.
	access callerauth.Rule
}

// defaultLinkTTL is the lifetime of a signed link that asks for none.
const defaultLinkTTL = time.Hour

func loadConfig(h module.Host) (Config, error) {
	c := Config{
		XFrameOptions:         "SAMEORIGIN",
		ContentSecurityPolicy: "frame-ancestors 'self'",
		AllowClientIP:         []string{"*"},
		MetadataProvider:      "SQLite",
		SignedLinkMaxAge:      config.Duration(24 * time.Hour),
		MaxUploadBytes:        1 << 30,
		TempMaxAge:            config.Duration(15 * time.Minute),
	}
	mc := h.Config()
	if err := mc.Decode(&c); err != nil {
		return c, err
	}
	var errs []error
	var err error
	if c.access, err = callerauth.New(c.AuthorizationKey, c.AllowClientIP); err != nil {
		errs = append(errs, err)
	}
	switch strings.ToLower(c.MetadataProvider) {
	case "sqlite":
		c.MetadataProvider = "sqlite"
		if c.MetadataConnectionString == "" {
			c.MetadataConnectionString = filepath.Join(h.Paths().Data, "repository", "metadata.db")
		} else {
			c.MetadataConnectionString = mc.Path("MetadataConnectionString", c.MetadataConnectionString)
		}
	case "postgresql", "postgres":
		c.MetadataProvider = "postgres"
		if c.MetadataConnectionString == "" {
			errs = append(errs, errors.New("MetadataConnectionString is required for PostgreSQL"))
		} else if _, err := datasource.Translate(dialect.PostgreSQL, c.MetadataConnectionString, ""); err != nil {
			errs = append(errs, fmt.Errorf("MetadataConnectionString: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("MetadataProvider %q: want SQLite or PostgreSQL", c.MetadataProvider))
	}
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, errors.New("MaxUploadBytes must be positive"))
	}
	if c.SignedLinkMaxAge.D() <= 0 || c.TempMaxAge.D() <= 0 {
		errs = append(errs, errors.New("SignedLinkMaxAge and TempMaxAge must be positive"))
	}
	if c.SigningKey != "" && len(c.SigningKey) < 16 {
		errs = append(errs, errors.New("SigningKey must be at least 16 characters"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("repository settings: %w", err)
	}
	return c, nil
}

// watch reports whether contract files are watched.
func (c Config) watch() bool { return c.IsContractFileWatching == nil || *c.IsContractFileWatching }
