package edge

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/contract"
)

const splitRoutes = `{
  // the split layout of HandStack's docs behind one origin
  "routes": [
    {"prefix": "/", "pool": "web"},
    {"prefix": "/transact/", "pool": "api"},
    {"prefix": "/dbclient/", "pool": "api"},
    {"prefix": "/repository/", "pool": "files", "timeout": "30m"},
    {"prefix": "/logger/", "pool": "logs"},
  ],
  "pools": {
    "web":   {"upstreams": [{"url": "http://127.0.0.1:8001"}]},
    "files": {"upstreams": [{"url": "http://127.0.0.1:8002/"}]},
    "logs":  {"upstreams": []},
    "api": {
      "active": "blue",
      "blue":  [{"url": "http://10.0.0.7:8004", "weight": 95}, {"url": "http://10.0.0.8:8004", "weight": 5, "name": "canary"}],
      "green": [{"url": "HTTP://10.0.0.9:8004"}],
      "sticky": {"cookie": "ack_upstream", "header": "X-Ack-Upstream"}
    }
  }
}`

func TestParseRoutesSplitLayout(t *testing.T) {
	r, err := parseRoutes([]byte(splitRoutes))
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, rt := range r.Routes {
		prefixes = append(prefixes, rt.Prefix)
	}
	if got, want := strings.Join(prefixes, " "), "/repository/ /transact/ /dbclient/ /logger/ /"; got != want {
		t.Errorf("routes in match order = %q, want %q", got, want)
	}
	if r.Routes[0].Timeout != 30*time.Minute {
		t.Errorf("repository timeout = %v", r.Routes[0].Timeout)
	}
	api := r.Pools["api"]
	if api.Active != blue || len(api.Blue) != 2 || len(api.Green) != 1 || api.Upstreams != nil {
		t.Fatalf("api pool = %+v", api)
	}
	if api.Blue[0].Weight != 95 || api.Blue[1].Name != "canary" || api.Blue[1].Weight != 5 {
		t.Errorf("blue = %+v", api.Blue)
	}
	if api.Green[0].Weight != 1 || api.Green[0].URL != "http://10.0.0.9:8004" {
		t.Errorf("green default weight and normalised URL: %+v", api.Green[0])
	}
	if len(api.Blue[0].Name) != 12 || api.Blue[0].Name == api.Green[0].Name {
		t.Errorf("default names should be distinct digests: %q %q", api.Blue[0].Name, api.Green[0].Name)
	}
	if api.Sticky != (Sticky{Cookie: "ack_upstream", Header: "X-Ack-Upstream"}) {
		t.Errorf("sticky = %+v", api.Sticky)
	}
	if got := r.Pools["files"].Upstreams[0].URL; got != "http://127.0.0.1:8002" {
		t.Errorf("trailing slash kept: %q", got)
	}
	if n := len(r.Pools["logs"].Upstreams); n != 0 {
		t.Errorf("empty pool has %d upstreams", n)
	}
}

func TestParseRoutesErrors(t *testing.T) {
	cases := []struct {
		name, json, want string
		line             int
	}{
		{"syntax", "{\n\"routes\": [\n{\"prefix\": \"/\",, }]}", "invalid character", 3},
		{"unknown key", "{\n\"routes\": [],\n\"pools\": {\"a\": {\"upstreams\": [{\"url\": \"http://x\", \"wieght\": 2}]}}}", "wieght", 3},
		{"no pool", "{\n\"routes\": [\n{\"prefix\": \"/x/\", \"pool\": \"nope\"}],\n\"pools\": {}}", `no pool named "nope"`, 3},
		{"relative prefix", `{"routes": [{"prefix": "x/", "pool": "a"}], "pools": {"a": {}}}`, "must start with /", 1},
		{"duplicate prefix", "{\"routes\": [{\"prefix\": \"/A/\", \"pool\": \"a\"},\n{\"prefix\": \"/a/\", \"pool\": \"a\"}], \"pools\": {\"a\": {}}}", "listed twice", 2},
		{"bad scheme", "{\"pools\": {\"a\": {\"upstreams\": [\n{\"url\": \"ftp://x\"}]}}}", "want http", 2},
		{"credentials", `{"pools": {"a": {"upstreams": [{"url": "http://u:p@x"}]}}}`, "credentials", 1},
		{"query", `{"pools": {"a": {"upstreams": [{"url": "http://x/?a=1"}]}}}`, "no query", 1},
		{"negative weight", `{"pools": {"a": {"upstreams": [{"url": "http://x", "weight": -1}]}}}`, "weight -1", 1},
		{"duplicate url", `{"pools": {"a": {"active": "blue", "blue": [{"url": "http://x"}], "green": [{"url": "http://X/"}]}}}`, "listed twice", 1},
		{"duplicate name", `{"pools": {"a": {"upstreams": [{"url": "http://x", "name": "n"}, {"url": "http://y", "name": "n"}]}}}`, "used twice", 1},
		{"both shapes", `{"pools": {"a": {"upstreams": [], "blue": [{"url": "http://x"}], "active": "blue"}}}`, "not both", 1},
		{"no active", `{"pools": {"a": {"blue": [{"url": "http://x"}]}}}`, "active must be", 1},
		{"bad color", `{"pools": {"a": {"active": "red", "blue": []}}}`, "active must be", 1},
		{"empty sticky", `{"pools": {"a": {"upstreams": [], "sticky": {}}}}`, "cookie or a header", 1},
		{"bad cookie", `{"pools": {"a": {"upstreams": [], "sticky": {"cookie": "a b"}}}}`, "not a valid cookie", 1},
		{"bad pool name", `{"pools": {"a b": {}}}`, "pool name", 1},
		{"trailing text", "{}\n{}", "after the JSON", 2},
		{"negative timeout", `{"routes": [{"prefix": "/", "pool": "a", "timeout": "-1s"}], "pools": {"a": {}}}`, "negative", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseRoutes([]byte(c.json))
			var pe *contract.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *contract.ParseError", err)
			}
			if !strings.Contains(pe.Err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", pe.Err, c.want)
			}
			if pe.Line != c.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, c.line, pe.Err)
			}
		})
	}
}

func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte(splitRoutes))
	f.Add([]byte(`{"routes": [{"prefix": "/", "pool": "a"}], "pools": {"a": {"upstreams": [{"url": "http://x:1", "weight": 0}]}}}`))
	f.Add([]byte(`{"pools": {"a": {"active": "green", "blue": [], "green": [{"url": "https://h/p%2Fq"}], "sticky": {"header": "X"}}}}`))
	f.Add([]byte(`{"pools": {"a": null}}`))
	f.Add([]byte("\xef\xbb\xbf{/* c */}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRoutes(data)
		if err != nil {
			var pe *contract.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Whatever parses must compile into a table whose routes all point at pools.
		tb := buildTable(r, &table{}, nil, newUpstream)
		for _, rt := range tb.routes {
			if rt.pool == nil || rt.pool.activeGroup() == nil {
				t.Fatalf("route %q has no pool or active group", rt.prefix)
			}
			if tb.match(rt.prefix) == nil {
				t.Fatalf("prefix %q does not match itself", rt.prefix)
			}
		}
	})
}
