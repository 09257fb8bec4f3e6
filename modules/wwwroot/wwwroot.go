// Package wwwroot is the module that serves the browser front end: the host's
// static files at /, the business screens of contracts/wwwroot under
// /<ContractRequestPath>/ (HandStack's /view/), each loaded module's own
// static files at /<module>/, and /checkip. Files are read from disk on every
// request (compressed copies are cached by size and modification time), so an
// added, edited or deleted file is visible at once.
package wwwroot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ack-dev/ack/internal/callerauth"
	"github.com/ack-dev/ack/internal/module"
)

// Info describes the wwwroot module to the host.
func Info() module.Info {
	return module.Info{ID: module.WWWRoot, New: func() module.Module { return &Module{} }}
}

// settings are the ModuleConfig keys the module reads (HandStack's wwwroot
// module.json, plus a few host-level AppSettings HandStack keeps elsewhere).
type settings struct {
	// ContractRequestPath is the URL prefix of screens. Default: "view".
	ContractRequestPath string
	// ApplicationID is the host application whose screens are served at
	// /view/<rest> (from <contract root>/<ApplicationID>/<rest>). Default: "HDS".
	ApplicationID string
	// WWWRootBasePath is a second static root served at / after DIR/wwwroot.
	// Default: DIR/modules/wwwroot/wwwroot, where HandStack keeps syn.js.
	WWWRootBasePath string
	// StaticFileCacheMaxAge, in seconds, turns "Cache-Control: no-cache" on
	// static files (not screens) into "public, max-age=N". Default: 0.
	StaticFileCacheMaxAge int
	// XFrameOptions is SAMEORIGIN, DENY or ALLOW (no header). Default: SAMEORIGIN.
	XFrameOptions string
	// ContentSecurityPolicy, when set, is sent with every HTML response.
	ContentSecurityPolicy string
	// ContentTypes maps file extensions to media types, over the built-in
	// table and DIR/app/contenttype.json.
	ContentTypes map[string]string
	// SharedFileConfigPath names HandStack's shared files catalog, which maps
	// single URL paths to files anywhere on the host. Relative paths, here and
	// in the catalog, resolve against DIR/app like HandStack's.
	SharedFileConfigPath string
	// TrustedProxies are addresses or CIDR prefixes whose X-Forwarded-For
	// header /checkip believes. Loopback is always trusted.
	TrustedProxies []string
}

// Module is the wwwroot module.
type Module struct {
	h         module.Host
	cfg       settings
	static    []string // roots served at /, in order
	screens   []string // contract roots served at /<ContractRequestPath>/
	types     *contentTypes
	proxies   callerauth.Addrs
	gzipCache *gzipCache
	shared    *sharedFiles
}

// Provision reads the settings. It opens nothing: every root is opened per
// request, so roots that appear, vanish or are replaced (a symlink flipped by
// a deploy) are picked up at once.
func (m *Module) Provision(_ context.Context, h module.Host) error {
	m.h = h
	cfg := settings{ContractRequestPath: "view", ApplicationID: "HDS", XFrameOptions: "SAMEORIGIN"}
	if err := h.Config().Decode(&cfg); err != nil {
		return fmt.Errorf("wwwroot: %w", err)
	}
	cfg.ContractRequestPath = strings.Trim(cfg.ContractRequestPath, "/")
	if cfg.ContractRequestPath == "" || strings.ContainsAny(cfg.ContractRequestPath, "/\\{}") {
		return fmt.Errorf("wwwroot: ContractRequestPath %q must be one path segment", cfg.ContractRequestPath)
	}
	switch strings.ToUpper(cfg.XFrameOptions) {
	case "SAMEORIGIN", "DENY", "ALLOW":
		cfg.XFrameOptions = strings.ToUpper(cfg.XFrameOptions)
	default:
		return fmt.Errorf("wwwroot: XFrameOptions %q: want SAMEORIGIN, DENY or ALLOW", cfg.XFrameOptions)
	}
	if cfg.StaticFileCacheMaxAge < 0 {
		return fmt.Errorf("wwwroot: StaticFileCacheMaxAge %d must not be negative", cfg.StaticFileCacheMaxAge)
	}
	proxies, err := callerauth.ParseAddrs(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("wwwroot: TrustedProxies: %w", err)
	}
	screens, err := h.Config().ContractRoots()
	if err != nil {
		return fmt.Errorf("wwwroot: %w", err)
	}
	paths := h.Paths()
	static := []string{paths.WWWRoot}
	base := filepath.Join(paths.Modules, "wwwroot", "wwwroot")
	if cfg.WWWRootBasePath != "" {
		base = h.Config().Path("WWWRootBasePath", cfg.WWWRootBasePath)
	}
	if base != paths.WWWRoot {
		static = append(static, base)
	}
	types := newContentTypes()
	if err := types.loadFile(filepath.Join(paths.App, "contenttype.json")); err != nil {
		return fmt.Errorf("wwwroot: %w", err)
	}
	types.add(cfg.ContentTypes)

	m.cfg, m.static, m.screens, m.types, m.proxies = cfg, static, screens, types, proxies
	m.gzipCache = newGzipCache(gzipCacheBytes)
	m.shared = &sharedFiles{base: paths.App, size: -1}
	if cfg.SharedFileConfigPath != "" {
		m.shared.path = h.Config().Path("SharedFileConfigPath", cfg.SharedFileConfigPath)
	}
	h.Logger().Debug("wwwroot roots", "static", static, "screens", screens, "view", "/"+cfg.ContractRequestPath+"/")
	return nil
}

// Start has nothing to open.
func (m *Module) Start(context.Context) error { return nil }

// Stop has nothing to release.
func (m *Module) Stop(context.Context) error { return nil }

// Routes claims the root. The patterns carry no method on purpose: a "GET /"
// pattern would conflict in net/http with any method-less route of another
// module, while "/" is less specific than every other pattern. The handlers
// answer 405 to anything but GET and HEAD.
func (m *Module) Routes() []module.Route {
	return []module.Route{
		{Pattern: "/", Handler: m.serveStatic},
		{Pattern: "/" + m.cfg.ContractRequestPath + "/", Handler: m.serveScreen},
		{Pattern: "/checkip", Handler: m.checkIP},
		{Pattern: "/shared-files/manifest", Handler: m.serveManifest},
	}
}
