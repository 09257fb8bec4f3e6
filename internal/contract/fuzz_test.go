package contract_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/contract"
)

// FuzzRefreshPath checks that Refresh never panics on a client-supplied path
// and never accepts one that could leave the root.
func FuzzRefreshPath(f *testing.F) {
	for _, s := range []string{"a.kv", "HDS/ZZD/TST010.xml", `HDS\ZZD\TST010.xml`, "../x", "/etc", "a/../../b", ".", "", "a//b", "a/./b", "..", `..\..`, "C:/x", "a\x00"} {
		f.Add(s)
	}
	root := f.TempDir()
	acktest.WriteFile(f, filepath.Join(root, "a.kv"), "a=1")
	s := contract.NewStore(kvKind(), []string{root}, contract.Options{})
	reload(f, s)
	f.Fuzz(func(t *testing.T, rel string) {
		_, err := s.Refresh(context.Background(), rel)
		if err != nil {
			return
		}
		slash := strings.ReplaceAll(rel, `\`, "/")
		if strings.HasPrefix(slash, "/") || filepath.IsAbs(rel) {
			t.Fatalf("absolute path %q accepted", rel)
		}
		for _, elem := range strings.Split(slash, "/") {
			if elem == ".." {
				t.Fatalf("path %q with .. accepted", rel)
			}
		}
		if v := value(s, "a"); v != "1" {
			t.Fatalf("refresh of %q changed a to %q", rel, v)
		}
	})
}
