package deploy_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ack-dev/ack/internal/acktest"
	"github.com/ack-dev/ack/internal/config"
	"github.com/ack-dev/ack/internal/module"
	"github.com/ack-dev/ack/modules/edge"
)

// TestSplitEdgeServesItsRoutes loads the split layout's routes.json into a
// real edge and checks that the edge took every route and upstream, so the
// ConfigMap is not only JSON but routing the edge accepts.
func TestSplitEdgeServesItsRoutes(t *testing.T) {
	c := loadLayout(t, layouts["split"])
	var routes string
	for _, d := range c.deployments {
		p := newProcess(t, c, d)
		if !p.runs(module.Edge) {
			continue
		}
		data, ok := mountedFile(t, c, p, filepath.Join(p.home, "contracts", "edge", "routes.json"))
		if !ok {
			t.Fatalf("Deployment %s runs the edge without contracts/edge/routes.json", d.Name)
		}
		routes = data
	}
	if routes == "" {
		t.Fatal("no edge in the split layout")
	}
	var want struct {
		Routes []struct{ Prefix, Pool string }
		Pools  map[string]struct{ Upstreams []struct{ URL string } }
	}
	if err := json.Unmarshal(config.StripJSONC([]byte(routes)), &want); err != nil {
		t.Fatalf("routes.json: %v", err)
	}

	home := t.TempDir()
	dir := filepath.Join(home, "contracts", "edge")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "routes.json"), []byte(routes), 0o644); err != nil {
		t.Fatal(err)
	}
	h := acktest.Start(t, acktest.Options{Home: home, Modules: []module.Info{edge.Info()}})
	resp := h.Get(t, "/edge/status")
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/edge/status: %s", resp.Status)
	}
	var got struct {
		Routes []struct{ Prefix, Pool string }
		Pools  []struct {
			Name      string
			Upstreams []struct{ URL string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Routes) != len(want.Routes) {
		t.Errorf("the edge serves %d routes, routes.json has %d", len(got.Routes), len(want.Routes))
	}
	for _, r := range want.Routes {
		if !slices.ContainsFunc(got.Routes, func(g struct{ Prefix, Pool string }) bool { return g == r }) {
			t.Errorf("route %s → %s is not served", r.Prefix, r.Pool)
		}
	}
	if len(got.Pools) != len(want.Pools) {
		t.Errorf("the edge has %d pools, routes.json %d", len(got.Pools), len(want.Pools))
	}
	for _, p := range got.Pools {
		var urls []string
		for _, u := range p.Upstreams {
			urls = append(urls, u.URL)
		}
		var wantURLs []string
		for _, u := range want.Pools[p.Name].Upstreams {
			wantURLs = append(wantURLs, u.URL)
		}
		if !slices.Equal(urls, wantURLs) {
			t.Errorf("pool %s: upstreams %v, routes.json says %v", p.Name, urls, wantURLs)
		}
	}
}
