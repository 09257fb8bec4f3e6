package edge

// These tests put real ack processes (the binary, started by acktest) behind
// an in-process edge and drive them with a constant load of several clients.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ack-dev/ack/internal/acktest"
)

// upstreamHome is a home whose transaction EDG/TST/TST010/GD01 and static
// file /who.txt both answer name.
func upstreamHome(t *testing.T, name string) string {
	t.Helper()
	home := t.TempDir()
	for path, content := range map[string]string{
		"contracts/dbclient/EDG/TST/TST010.xml": acktest.SQLContract("EDG", "TST", "TST010", "DB01",
			acktest.Statement{ID: "GD01", SQL: fmt.Sprintf("SELECT '%s' AS Name", name)}),
		"contracts/transact/EDG/TST/TST010.json": acktest.TransactionContract("EDG", "TST", "TST010", "GD01"),
		"wwwroot/who.txt":                        name,
	} {
		p := filepath.Join(home, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// startUpstream runs the ack binary as one upstream process.
func startUpstream(t *testing.T, name, modules string, args ...string) *acktest.Process {
	t.Helper()
	return acktest.StartProcess(t, acktest.ProcessOptions{
		Home: upstreamHome(t, name), Args: append([]string{"--modules=" + modules}, args...),
	})
}

var transactionBody = func() []byte {
	b, err := json.Marshal(acktest.Transaction("EDG", "TST", "TST010", "GD01", nil))
	if err != nil {
		panic(err)
	}
	return b
}()

// loadClient keeps enough connections for the load loops.
func loadClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// transactionName runs the transaction at base (via the given path) and
// returns the name of the process that answered.
func transactionName(c *http.Client, base, path string) (string, error) {
	resp, err := c.Post(base+path, "application/json", strings.NewReader(string(transactionBody)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	var out acktest.TransactionResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return "", fmt.Errorf("decode %q: %w", data, err)
	}
	if out.Acknowledge != 1 {
		return "", fmt.Errorf("acknowledge 0: %s", out.ExceptionText)
	}
	for _, ds := range out.Result.DataSet {
		if m, ok := ds.Value.(map[string]any); ok {
			return fmt.Sprint(m["Name"]), nil
		}
	}
	return "", fmt.Errorf("no data in %s", data)
}

const executePath = "/transact/api/transaction/execute"

// staticName GETs /who.txt at base and returns its content.
func staticName(c *http.Client, base string) (string, error) {
	resp, err := c.Get(base + "/who.txt")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, data)
	}
	return string(data), nil
}

// load runs call in a loop on several clients until stopped, counting the
// answers by name and keeping every failure.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	names  map[string]int
	fails  []string
	total  atomic.Int64
}

func startLoad(t *testing.T, clients int, call func(*http.Client) (string, error)) *load {
	ctx, cancel := context.WithCancel(t.Context())
	l := &load{cancel: cancel, names: map[string]int{}}
	for range clients {
		c := loadClient()
		l.wg.Go(func() {
			defer c.CloseIdleConnections()
			for ctx.Err() == nil {
				name, err := call(c)
				l.mu.Lock()
				if err != nil {
					l.fails = append(l.fails, err.Error())
				} else {
					l.names[name]++
				}
				l.mu.Unlock()
				l.total.Add(1)
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

// waitMore blocks until n more requests have completed.
func (l *load) waitMore(t *testing.T, n int64) {
	t.Helper()
	target := l.total.Load() + n
	acktest.Eventually(t, 60*time.Second, fmt.Sprintf("%d more requests", n), func() bool { return l.total.Load() >= target })
}

// count returns how often name answered so far.
func (l *load) count(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.names[name]
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
}

// check stops the load and fails the test on any failed request.
func (l *load) check(t *testing.T) map[string]int {
	t.Helper()
	l.stop()
	if len(l.fails) > 0 {
		t.Errorf("%d of %d requests failed; first: %s", len(l.fails), l.total.Load(), l.fails[0])
	}
	return l.names
}

func TestProcessRoutingByPrefix(t *testing.T) {
	api := startUpstream(t, "api", "transact,dbclient")
	web := startUpstream(t, "web", "wwwroot")
	h := startEdge(t, fmt.Sprintf(`{"routes": [
		{"prefix": "/transact/", "pool": "api"}, {"prefix": "/dbclient/", "pool": "api"}, {"prefix": "/", "pool": "web"}],
		"pools": {"api": %s, "web": %s}}`, poolOf(api.URL), poolOf(web.URL)), nil)
	c := loadClient()
	for _, path := range []string{executePath, "/Transact/API/Transaction/Execute"} {
		if name, err := transactionName(c, h.URL, path); err != nil || name != "api" {
			t.Errorf("transaction via %s: %q %v", path, name, err)
		}
	}
	if name, err := staticName(c, h.URL); err != nil || name != "web" {
		t.Errorf("static file: %q %v", name, err)
	}
	// The edge's own endpoints are not proxied.
	if code, text := body(t, h.Get(t, "/readyz")); code != 200 || !strings.Contains(text, "module:edge") {
		t.Errorf("edge /readyz: %d %s", code, text)
	}
}

func TestProcessWeightsAndCanary(t *testing.T) {
	stable := startUpstream(t, "stable", "transact,dbclient")
	canary := startUpstream(t, "canary", "transact,dbclient")
	h := startEdge(t, fmt.Sprintf(`{"routes": [{"prefix": "/", "pool": "api"}], "pools": {"api": {"upstreams": [
		{"url": %q, "weight": 90, "name": "stable"}, {"url": %q, "weight": 10, "name": "canary"}],
		"sticky": {"cookie": "ack_upstream"}}}}`, stable.URL, canary.URL), nil)

	c := loadClient()
	counts := map[string]int{}
	for i := range 1000 {
		name, err := transactionName(c, h.URL, executePath)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		counts[name]++
	}
	if counts["stable"] < 880 || counts["stable"] > 920 || counts["stable"]+counts["canary"] != 1000 {
		t.Errorf("1000 requests at 90/10 went %v", counts)
	}

	// A browser keeps its cookie: once on the canary, it stays there.
	jarClient := loadClient()
	jarClient.Jar = newJar()
	first, err := transactionName(jarClient, h.URL, executePath)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if name, err := transactionName(jarClient, h.URL, executePath); err != nil || name != first {
			t.Fatalf("a client with the cookie for %s was answered by %q (%v)", first, name, err)
		}
	}
}

func TestProcessSIGKILLLosesNothing(t *testing.T) {
	a := startUpstream(t, "a", "wwwroot")
	b := startUpstream(t, "b", "wwwroot")
	h := startEdge(t, oneRoute(poolOf(a.URL, b.URL)), nil)

	l := startLoad(t, 4, func(c *http.Client) (string, error) { return staticName(c, h.URL) })
	l.waitMore(t, 200)
	if err := a.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.Exited()
	atKill := l.count("a")
	l.waitMore(t, 500)
	names := l.check(t)
	if names["a"] == 0 || names["b"] == 0 {
		t.Errorf("both upstreams should have served before the kill: %v", names)
	}
	// An answer read just before the kill may be counted just after it: at
	// most one per client.
	if late := names["a"] - atKill; late > 4 {
		t.Errorf("a answered %d requests after it was killed", late)
	}
	if got := upstreamHealth(edgeStatus(t, h), a.URL); got != "down" {
		t.Errorf("killed upstream health = %s", got)
	}
}

func TestProcessRollingRestartLosesNothing(t *testing.T) {
	homeA := upstreamHome(t, "a")
	// As docs/operations.md says behind a load balancer: drain longer than
	// the edge's health interval (100ms here), so that the edge sees
	// "draining" before the listener closes.
	drain := []string{"ACK_DRAIN_DELAY=500ms"}
	a := acktest.StartProcess(t, acktest.ProcessOptions{Home: homeA, Args: []string{"--modules=transact,dbclient"}, Env: drain})
	b := startUpstream(t, "b", "transact,dbclient")
	h := startEdge(t, oneRoute(poolOf(a.URL, b.URL)), nil)

	// Transactions are POSTs: only "never sent" retries are allowed for them.
	l := startLoad(t, 4, func(c *http.Client) (string, error) { return transactionName(c, h.URL, executePath) })
	l.waitMore(t, 200)
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.ExitCode(t, 30*time.Second); code != 0 {
		t.Fatalf("a exited with %d", code)
	}
	l.waitMore(t, 200)
	// The new version of a comes back on the same address.
	a2 := acktest.StartProcess(t, acktest.ProcessOptions{Home: homeA, Args: []string{"--modules=transact,dbclient", "--port=" + a.Port}, Env: drain})
	before := l.count("a")
	acktest.Eventually(t, 30*time.Second, "the restarted upstream to get traffic again", func() bool { return l.count("a") > before+50 })
	names := l.check(t)
	t.Logf("answers: %v; restarted at %s", names, a2.URL)
}

func TestProcessBlueGreenSwitchUnderLoad(t *testing.T) {
	blueP := startUpstream(t, "blue", "transact,dbclient")
	greenP := startUpstream(t, "green", "transact,dbclient")
	routes := fmt.Sprintf(`{"routes": [{"prefix": "/", "pool": "api"}], "pools": {"api": {"active": "blue",
		"blue": [{"url": %q}], "green": [{"url": %q}]}}}`, blueP.URL, greenP.URL)
	h := startEdge(t, routes, map[string]any{"AdminToken": "t0ken"})
	acktest.Eventually(t, 10*time.Second, "green to pass a health check", func() bool {
		return upstreamHealth(edgeStatus(t, h), greenP.URL) == "up"
	})

	l := startLoad(t, 4, func(c *http.Client) (string, error) { return transactionName(c, h.URL, executePath) })
	l.waitMore(t, 200)
	if l.count("green") != 0 {
		t.Fatal("green served before the switch")
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.URL+"/edge/switch?pool=api&color=green", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if code, text := body(t, resp); code != 200 {
		t.Fatalf("switch: %d %s", code, text)
	}
	atSwitch := l.count("blue")
	l.waitMore(t, 300)
	// Requests in flight at the switch may still finish on blue: at most one per client.
	if late := l.count("blue") - atSwitch; late > 4 {
		t.Errorf("blue answered %d requests after the switch", late)
	}
	if l.count("green") < 290 {
		t.Errorf("green answered only %d", l.count("green"))
	}

	// Switching back by editing routes.json is the same atomic swap.
	writeRoutes(t, h.Home, strings.Replace(routes, `"active": "blue"`, `"active": "green"`, 1))
	acktest.Eventually(t, 10*time.Second, "the file to agree with the switch", func() bool {
		return edgeStatus(t, h).Pools[0].ActiveSource == "file"
	})
	writeRoutes(t, h.Home, routes)
	acktest.Eventually(t, 10*time.Second, "blue to serve again after the edit", func() bool {
		before := l.count("blue")
		l.waitMore(t, 20)
		return l.count("blue") > before
	})
	l.check(t)
}

func TestProcessRoutesEditAndBrokenFile(t *testing.T) {
	a := startUpstream(t, "a", "transact,dbclient")
	b := startUpstream(t, "b", "transact,dbclient")
	h := startEdge(t, oneRoute(poolOf(a.URL)), nil)

	l := startLoad(t, 3, func(c *http.Client) (string, error) { return transactionName(c, h.URL, executePath) })
	l.waitMore(t, 50)
	writeRoutes(t, h.Home, oneRoute(poolOf(b.URL)))
	acktest.Eventually(t, 10*time.Second, "the edited routes to send traffic to b", func() bool {
		before := l.count("b")
		l.waitMore(t, 10)
		return l.count("b") > before
	})
	// A broken file keeps the last good routing and is reported with its line.
	writeRoutes(t, h.Home, "{\n  \"routes\": [\n    {\"prefix\": \"/\", \"pool\": \"nope\"}\n  ], \"pools\": {}}")
	acktest.Eventually(t, 10*time.Second, "the broken file to be reported", func() bool {
		_, text := body(t, h.Get(t, "/ack/contracts"))
		return strings.Contains(text, `routes.json","line":3`)
	})
	atBroken := l.count("a")
	l.waitMore(t, 100)
	if l.count("a") != atBroken {
		t.Error("a broken routes.json changed the routing")
	}
	names := l.check(t)
	if names["a"] == 0 || names["b"] == 0 {
		t.Errorf("answers %v", names)
	}

	// An emptied pool answers 503 at once.
	writeRoutes(t, h.Home, oneRoute(`{"upstreams": []}`))
	acktest.Eventually(t, 10*time.Second, "the empty pool", func() bool {
		start := time.Now()
		_, err := transactionName(loadClient(), h.URL, executePath)
		return err != nil && strings.Contains(err.Error(), "status 503") && strings.Contains(err.Error(), "edge.unavailable") &&
			time.Since(start) < time.Second
	})
}

// newJar is a cookie jar, as a browser keeps one.
func newJar() http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return jar
}
