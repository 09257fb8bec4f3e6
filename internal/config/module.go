package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Module is one module's settings: the ModuleConfig object of HandStack's
// DIR/modules/<id>/module.json, overlaid key by key with ack.json's
// moduleConfig.<id>. Keys match without regard to case. Each key remembers
// which file it came from, so that a relative path in it resolves the way that
// file's authors expect: against DIR/app for module.json (HandStack's entry
// directory), against DIR for ack.json.
type Module struct {
	id     string
	paths  Paths
	values map[string]entry // by lower-cased key
	// File is the module.json path that was read, or "".
	File string
}

type entry struct {
	key  string
	raw  json.RawMessage
	base string
}

// moduleFile is the part of module.json the host reads.
type moduleFile struct {
	ModuleID     string                     `json:"ModuleID"`
	Version      string                     `json:"Version"`
	ModuleConfig map[string]json.RawMessage `json:"ModuleConfig"`
}

// LoadModule reads the settings of module id from paths and the overlay.
// A missing module.json is not an error: the module runs on its defaults.
func LoadModule(id string, paths Paths, overlay map[string]json.RawMessage) (*Module, error) {
	m := &Module{id: id, paths: paths, values: map[string]entry{}}
	path := filepath.Join(paths.Modules, id, "module.json")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	default:
		var f moduleFile
		clean := StripJSONC(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
		if err := json.Unmarshal(clean, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, describeJSONError(clean, err))
		}
		m.File = path
		m.set(f.ModuleConfig, paths.App)
	}
	m.set(overlay, paths.Home)
	return m, nil
}

// set records values, read from a file whose relative paths resolve against
// base, over what is there (keys without regard to case).
func (m *Module) set(values map[string]json.RawMessage, base string) {
	for k, v := range values {
		m.values[strings.ToLower(k)] = entry{key: k, raw: v, base: base}
	}
}

// ID is the module's ID.
func (m *Module) ID() string { return m.id }

// Decode fills v (a pointer to a struct) from the settings. Unknown keys are
// ignored: module.json belongs to HandStack and carries keys ack does not use.
func (m *Module) Decode(v any) error {
	obj := make(map[string]json.RawMessage, len(m.values))
	for _, e := range m.values {
		obj[e.key] = e.raw
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("module %s settings: %w", m.id, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("module %s settings: %w", m.id, err)
	}
	return nil
}

// Path resolves a path that was read from key: environment references are
// expanded and a relative path is made absolute against the directory its
// file's authors meant (DIR/app for module.json, DIR for ack.json).
func (m *Module) Path(key, value string) string {
	base := m.paths.Home
	if e, ok := m.values[strings.ToLower(key)]; ok {
		base = e.base
	}
	return resolve(base, value)
}

// BaseDir is the directory relative paths under key resolve against. Modules
// use it for paths embedded in other strings (SQLite connection strings).
func (m *Module) BaseDir(key string) string {
	if e, ok := m.values[strings.ToLower(key)]; ok {
		return e.base
	}
	return m.paths.Home
}

// ContractRoots lists the directories holding this module's contracts:
// DIR/contracts/<id> first, then each ContractBasePath entry (a string or a
// list) that is not the same directory.
func (m *Module) ContractRoots() ([]string, error) {
	roots := []string{filepath.Join(m.paths.Contracts, m.id)}
	e, ok := m.values["contractbasepath"]
	if !ok {
		return roots, nil
	}
	var list []string
	if err := json.Unmarshal(e.raw, &list); err != nil {
		var one string
		if err2 := json.Unmarshal(e.raw, &one); err2 != nil {
			return nil, fmt.Errorf("module %s ContractBasePath: want a string or a list of strings", m.id)
		}
		list = []string{one}
	}
	for _, p := range list {
		abs := resolve(e.base, p)
		if abs == "" || slices.Contains(roots, abs) {
			continue
		}
		roots = append(roots, abs)
	}
	return roots, nil
}
