package nodeworker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/modules/function/nodeworker"
	"github.com/ack-dev/ack/modules/function/script"

	"github.com/ack-dev/ack/internal/acktest"
)

func needNode(t *testing.T) {
	t.Helper()
	if _, err := nodeworker.Find(""); err != nil {
		if os.Getenv("ACK_REQUIRE_ALL") == "1" {
			t.Fatalf("node is required: %v", err)
		}
		t.Skipf("node is not installed: %v", err)
	}
}

func newPool(t *testing.T, size int) *nodeworker.Pool {
	t.Helper()
	needNode(t)
	p, err := nodeworker.New(nodeworker.Options{Size: size, Args: []string{"--max-old-space-size=64"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

const source = `
var syn = require('syn');
var os = require('os');
module.exports = {
    CB01: (callback, moduleID, parameters, dataContext) => {
        callback(null, { T: [{ Name: $array.getValue(parameters, 'Name'), ModuleID: moduleID, Node: typeof os.cpus === 'function' }] });
    },
    AS01: async (moduleID, parameters) => {
        await new Promise((r) => setTimeout(r, 5));
        return { T: [{ V: syn.$string.pad(7, 3) }] };
    },
    THROW: () => { throw new Error('bad thing'); },
    LATE: (callback) => { setTimeout(() => { throw new Error('late failure'); }, 1); },
    LOOP: () => { for (;;) {} },
    CRASH: () => { process.exit(3); },
    HOG: () => { var a = []; for (;;) a.push(new Array(1 << 20).fill(a.length)); },
    HOST: async () => ({ T: [{ R: (await syn.$d.execute('HDS|TST|T|GD0100', { A: 1 }))[0] }] }),
};`

func call(file, export string, timeout time.Duration) nodeworker.Call {
	args, _ := json.Marshal([]any{"HDS|TST|T|GF0100", []map[string]any{{"parameterName": "Name", "value": "ack"}}, map[string]any{}})
	return nodeworker.Call{
		Call:    script.Call{Key: "HDS|TST|T", Name: file, Export: export, Args: args, Timeout: timeout},
		Version: "v1", Source: source,
	}
}

func TestCallsAndFailures(t *testing.T) {
	p := newPool(t, 2)
	file := filepath.Join(t.TempDir(), "featureMain.js")
	cases := []struct{ export, want, err string }{
		{"CB01", `{"T":[{"Name":"ack","ModuleID":"HDS|TST|T|GF0100","Node":true}]}`, ""},
		{"AS01", `{"T":[{"V":"007"}]}`, ""},
		{"THROW", "", "bad thing"},
		{"LATE", "", "late failure"},
		{"MISSING", "", "module.exports.MISSING is not a function"},
	}
	for _, tc := range cases {
		got, err := p.Run(t.Context(), call(file, tc.export, 10*time.Second))
		if tc.err != "" {
			var se *script.Error
			if !errors.As(err, &se) || !strings.Contains(se.Message, tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.export, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %s, %v; want %s", tc.export, got, err, tc.want)
		}
	}
}

func TestTimeoutAndCrashFailOnlyTheirCall(t *testing.T) {
	p := newPool(t, 2)
	file := filepath.Join(t.TempDir(), "featureMain.js")
	var wg sync.WaitGroup
	results := make(map[string]error)
	var mu sync.Mutex
	for _, export := range []string{"LOOP", "CRASH", "HOG"} {
		wg.Go(func() {
			_, err := p.Run(t.Context(), call(file, export, 2*time.Second))
			mu.Lock()
			results[export] = err
			mu.Unlock()
		})
	}
	// Good calls keep being answered while the others fail.
	for range 5 {
		if got, err := p.Run(t.Context(), call(file, "CB01", 10*time.Second)); err != nil || !strings.Contains(got, `"Name":"ack"`) {
			t.Errorf("good call: %s, %v", got, err)
		}
	}
	wg.Wait()
	if !errors.Is(results["LOOP"], script.ErrTimeout) {
		t.Errorf("LOOP: %v, want ErrTimeout", results["LOOP"])
	}
	if err := results["CRASH"]; !errors.Is(err, nodeworker.ErrWorkerExited) {
		t.Errorf("CRASH: %v", err)
	}
	if err := results["HOG"]; !errors.Is(err, nodeworker.ErrWorkerExited) {
		t.Errorf("HOG: %v", err)
	}
	if got, err := p.Run(t.Context(), call(file, "CB01", 10*time.Second)); err != nil || got == "" {
		t.Fatalf("after failures: %s, %v", got, err)
	}
}

func TestReloadRecompilesTheChangedVersion(t *testing.T) {
	p := newPool(t, 1)
	file := filepath.Join(t.TempDir(), "featureMain.js")
	c := call(file, "GF01", 5*time.Second)
	c.Source, c.Version = `var n = 0; module.exports = { GF01: (cb) => cb(null, 'v1:' + (++n)) };`, "1"
	for _, want := range []string{"v1:1", "v1:2"} {
		if got, err := p.Run(t.Context(), c); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	c.Source, c.Version = `module.exports = { GF01: (cb) => cb(null, 'v2') };`, "2"
	if got, err := p.Run(t.Context(), c); err != nil || got != "v2" {
		t.Fatalf("after the edit: %q, %v", got, err)
	}
}

type echoHost struct{}

func (echoHost) Invoke(_ context.Context, op string, arg json.RawMessage) (json.RawMessage, error) {
	return json.Marshal([]any{map[string]any{"op": op, "arg": json.RawMessage(arg)}})
}

func TestHostInvoke(t *testing.T) {
	p := newPool(t, 1)
	c := call(filepath.Join(t.TempDir(), "featureMain.js"), "HOST", 5*time.Second)
	c.Host = echoHost{}
	got, err := p.Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"op":"dbclient.execute"`) || !strings.Contains(got, `"queryID":"HDS|TST|T|GD0100"`) {
		t.Fatalf("got %s", got)
	}
}

func TestNPMPackage(t *testing.T) {
	needNode(t)
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("ACK_REQUIRE_ALL") == "1" {
			t.Fatal("npm is required")
		}
		t.Skip("npm is not installed")
	}
	home := t.TempDir()
	out, err := exec.CommandContext(t.Context(), "npm", "install", "--no-audit", "--no-fund", "--prefix", home, "is-number@7.0.0").CombinedOutput()
	if err != nil {
		acktest.Require(t, fmt.Sprintf("npm install is-number (registry unreachable?): %v\n%s", err, out))
	}
	p := newPool(t, 1)
	dir := filepath.Join(home, "contracts", "function", "HDS", "TST", "NPM010")
	c := call(filepath.Join(dir, "featureMain.js"), "GF01", 10*time.Second)
	c.Source = `const isNumber = require('is-number'); module.exports = { GF01: async () => ({ T: [{ A: isNumber('42'), B: isNumber('x') }] }) };`
	got, err := p.Run(t.Context(), c)
	if err != nil || got != `{"T":[{"A":true,"B":false}]}` {
		t.Fatalf("got %s, %v", got, err)
	}
}
