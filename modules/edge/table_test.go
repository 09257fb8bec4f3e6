package edge

import (
	"strings"
	"testing"
	"time"
)

func testGroup(weights map[string]int, order ...string) *group {
	g := &group{}
	for _, name := range order {
		g.members = append(g.members, &member{name: name, weight: weights[name], up: newUpstream("http://" + name)})
	}
	return g
}

func TestSmoothWeightedRoundRobin(t *testing.T) {
	// nginx's documented sequence for weights 5, 1, 1: no burst of five a's.
	g := testGroup(map[string]int{"a": 5, "b": 1, "c": 1}, "a", "b", "c")
	var seq []string
	for range 14 {
		seq = append(seq, g.pick(nil).name)
	}
	if got, want := strings.Join(seq, ""), "aabacaaaabacaa"; got != want {
		t.Errorf("sequence = %s, want %s", got, want)
	}
}

func TestPickSkipsDownTriedAndZeroWeight(t *testing.T) {
	g := testGroup(map[string]int{"a": 90, "b": 10, "dark": 0}, "a", "b", "dark")
	counts := map[string]int{}
	for range 1000 {
		counts[g.pick(nil).name]++
	}
	if counts["a"] != 900 || counts["b"] != 100 || counts["dark"] != 0 {
		t.Errorf("1000 picks at 90/10/0 = %v", counts)
	}
	a := g.members[0].up
	if m := g.pick([]*upstream{a}); m == nil || m.name != "b" {
		t.Errorf("with a tried, pick = %v, want b", m)
	}
	a.fail("refused")
	for range 10 {
		if m := g.pick(nil); m.name != "b" {
			t.Fatalf("a is down but was picked")
		}
	}
	if !g.anyUsable() {
		t.Error("b is usable")
	}
	g.members[1].up.fail("refused")
	if m := g.pick(nil); m != nil || g.anyUsable() {
		t.Errorf("every weighted member is down, pick = %v", m)
	}
	if g.byName("dark") == nil {
		t.Error("a weight-0 member stays reachable by name")
	}
}

func TestMatchLongestPrefixWithoutCase(t *testing.T) {
	r, err := parseRoutes([]byte(splitRoutes))
	if err != nil {
		t.Fatal(err)
	}
	tb := buildTable(r, &table{}, nil, newUpstream)
	for path, want := range map[string]string{
		"/transact/api/transaction/execute": "api",
		"/Transact/API/Transaction/Execute": "api",
		"/transactx":                        "web",
		"/repository/api/storage/x":         "files",
		"/":                                 "web",
		"/view/HDS/a.html":                  "web",
	} {
		if got := tb.match(path); got == nil || got.pool.name != want {
			t.Errorf("match(%q) = %v, want pool %s", path, got, want)
		}
	}
}

func TestHealthThresholds(t *testing.T) {
	u := newUpstream("http://x")
	if !u.usable() || u.health() != unknown {
		t.Fatal("a new upstream is unknown and usable")
	}
	u.observe(false, "503", 2, 3, testNow)
	if !u.usable() {
		t.Fatal("one failure of two needed took it out")
	}
	if st, changed := u.observe(false, "503", 2, 3, testNow); st != down || !changed {
		t.Fatalf("two failures: %v %v", st, changed)
	}
	for i := range 2 {
		if st, _ := u.observe(true, "", 2, 3, testNow); st != down {
			t.Fatalf("back up after %d passes of 3", i+1)
		}
	}
	if st, changed := u.observe(true, "", 2, 3, testNow); st != up || !changed {
		t.Fatalf("three passes: %v %v", st, changed)
	}
	if !u.fail("refused") || u.usable() {
		t.Fatal("a connection error takes it out at once")
	}
	if u.fail("refused") {
		t.Error("already down: no change to report")
	}
}

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
