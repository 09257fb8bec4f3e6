package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// benchGet GETs url from parallel clients, b.N times in all.
func benchGet(b *testing.B, url string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkDirect is the floor: the same upstream without the edge.
func BenchmarkDirect(b *testing.B) {
	up := namedUpstream(b, strings.Repeat("x", 1024))
	benchGet(b, up.URL+"/who.txt")
}

// BenchmarkProxy is a 1 KiB GET through the edge to one upstream.
func BenchmarkProxy(b *testing.B) {
	up := namedUpstream(b, strings.Repeat("x", 1024))
	h := startEdge(b, oneRoute(poolOf(up.URL)), nil)
	benchGet(b, h.URL+"/who.txt")
}

// BenchmarkProxyWeighted is the same through a 95/5 pool of two upstreams.
func BenchmarkProxyWeighted(b *testing.B) {
	a, c := namedUpstream(b, strings.Repeat("a", 1024)), namedUpstream(b, strings.Repeat("c", 1024))
	h := startEdge(b, oneRoute(poolOf(a.URL+"=95", c.URL+"=5")), nil)
	benchGet(b, h.URL+"/who.txt")
}

// BenchmarkPick is one smooth weighted round robin choice among four.
func BenchmarkPick(b *testing.B) {
	g := testGroup(map[string]int{"a": 50, "b": 30, "c": 15, "d": 5}, "a", "b", "c", "d")
	b.ReportAllocs()
	for b.Loop() {
		if g.pick(nil) == nil {
			b.Fatal("no pick")
		}
	}
}
