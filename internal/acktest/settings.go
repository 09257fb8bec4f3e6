package acktest

import (
	"encoding/json"
	"testing"

	"github.com/ack-dev/ack/internal/config"
)

// SetModuleConfig sets key of module id's ModuleConfig in s, as a
// moduleConfig entry of ack.json would (over module.json and the home's
// ack.json). Use it from Options.Settings.
func SetModuleConfig(t testing.TB, s *config.Settings, id, key string, value any) {
	t.Helper()
	raw, err := json.Marshal(value)
	if err != nil {
		t.Fatalf("acktest: moduleConfig.%s.%s: %v", id, key, err)
	}
	if s.ModuleConfig == nil {
		s.ModuleConfig = map[string]map[string]json.RawMessage{}
	}
	if s.ModuleConfig[id] == nil {
		s.ModuleConfig[id] = map[string]json.RawMessage{}
	}
	s.ModuleConfig[id][key] = raw
}
