package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Paths are the directories of a home (DIR). Every module shares them.
type Paths struct {
	// Home is DIR (--home, ACK_HOME, or the working directory).
	Home string
	// App is DIR/app: HandStack's entry directory, the base of relative paths
	// written in module.json files.
	App string
	// Contracts is DIR/contracts; a module's tree is Contracts/<id>.
	Contracts string
	// WWWRoot is DIR/wwwroot, the host's static files.
	WWWRoot string
	// Modules is DIR/modules; module.json files live in Modules/<id>/.
	Modules string
	// Data is where ack writes, DIR/data unless configured.
	Data string
}

// NewPaths derives the standard directories of home.
func NewPaths(home, dataDir string) Paths {
	home = filepath.Clean(home)
	if dataDir == "" {
		dataDir = filepath.Join(home, "data")
	}
	return Paths{
		Home:      home,
		App:       filepath.Join(home, "app"),
		Contracts: filepath.Join(home, "contracts"),
		WWWRoot:   filepath.Join(home, "wwwroot"),
		Modules:   filepath.Join(home, "modules"),
		Data:      dataDir,
	}
}

var envRef = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_]*)%|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// ExpandEnv replaces %VAR%, ${VAR} and $VAR with the environment's values,
// as HandStack does for paths.
func ExpandEnv(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := envRef.FindStringSubmatch(m)
		for _, name := range sub[1:] {
			if name != "" {
				return os.Getenv(name)
			}
		}
		return m
	})
}

// resolve expands environment references in p, turns backslashes into
// slashes, and makes a relative result absolute against base.
func resolve(base, p string) string {
	p = strings.ReplaceAll(ExpandEnv(p), `\`, "/")
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}
