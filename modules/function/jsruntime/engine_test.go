package jsruntime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ack-dev/ack/modules/function/jsruntime"
	"github.com/ack-dev/ack/modules/function/script"
)

func compile(t testing.TB, src string) *jsruntime.Program {
	t.Helper()
	p, err := jsruntime.Compile("HDS/TST/T/featureMain.js", src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

func args(t testing.TB, params map[string]any) json.RawMessage {
	t.Helper()
	var ps []map[string]any
	for k, v := range params {
		ps = append(ps, map[string]any{"parameterName": k, "value": v, "dbType": "String", "length": -1})
	}
	b, err := json.Marshal([]any{"HDS|TST|T|GF0100", ps, map[string]any{"globalID": "G1"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func run(t testing.TB, e *jsruntime.Engine, p *jsruntime.Program, export string, timeout time.Duration) (string, error) {
	t.Helper()
	return e.Run(context.Background(), p, script.Call{Export: export, Args: args(t, map[string]any{"Name": "ack"}), Timeout: timeout})
}

const sample = `
var syn = require('syn');
var fs = require('fs');
module.exports = {
    CB01: (callback, moduleID, parameters, dataContext) => {
        callback(null, { DataTable1: [{ Greeting: 'hello ' + $array.getValue(parameters, 'Name'), ModuleID: moduleID, GlobalID: dataContext.globalID }] });
    },
    AS01: async (moduleID, parameters, dataContext) => {
        await new Promise(function (resolve) { setTimeout(resolve, 5); });
        return { DataTable1: [{ Greeting: 'async ' + syn.$array.getValue(parameters, 'Name', 'x') + ' ' + $array.getValue(parameters, 'name', 'default') }] };
    },
    STR1: async () => '{"T":[{"A":1}]}',
    LATE: (callback) => { setTimeout(function () { callback(null, { T: [{ Late: true }] }); }, 10); },
    THROW: () => { throw new Error('bad input: Name is required'); },
    CBERR: (callback) => { callback('callback failure'); },
    REJECT: async () => { throw new Error('async failure'); },
    NONE: (callback) => { },
    LOOP: (callback) => { while (true) {} },
    ALOOP: async () => { for (;;) {} },
    FS: (callback) => { fs.readFile('x', callback); },
    DEEP: (callback) => { function f(n) { return f(n + 1) + 1; } callback(null, f(0)); },
    UNDEF: (callback) => { callback(null); },
    FMT: (callback) => { callback(null, { T: [{ M: '{0}-{1}'.format('a', 2), D: $date.toString(new Date(2024, 0, 2, 3, 4, 5), 'a'), E: $string.isNullOrEmpty(''), P: $string.pad(7, 3) }] }); },
};
`

func TestCallingConvention(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{})
	p := compile(t, sample)
	cases := []struct {
		export string
		want   string
		err    string
	}{
		{"CB01", `{"DataTable1":[{"Greeting":"hello ack","ModuleID":"HDS|TST|T|GF0100","GlobalID":"G1"}]}`, ""},
		{"AS01", `{"DataTable1":[{"Greeting":"async ack default"}]}`, ""},
		{"STR1", `{"T":[{"A":1}]}`, ""},
		{"LATE", `{"T":[{"Late":true}]}`, ""},
		{"UNDEF", ``, ""},
		{"FMT", `{"T":[{"M":"a-2","D":"2024-01-02 03:04:05","E":true,"P":"007"}]}`, ""},
		{"THROW", "", "bad input: Name is required"},
		{"CBERR", "", "callback failure"},
		{"REJECT", "", "async failure"},
		{"FS", "", "require('fs').readFile is not available in the embedded runtime"},
		{"DEEP", "", "maximum call stack size exceeded"},
		{"MISSING", "", "module.exports.MISSING is not a function"},
	}
	for _, tc := range cases {
		t.Run(tc.export, func(t *testing.T) {
			got, err := run(t, e, p, tc.export, time.Second)
			if tc.err != "" {
				var se *script.Error
				if !errors.As(err, &se) || !strings.Contains(se.Message, tc.err) {
					t.Fatalf("err = %v, want a script error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestNoResult(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{})
	_, err := run(t, e, compile(t, sample), "NONE", time.Second)
	if !errors.Is(err, script.ErrNoResult) {
		t.Fatalf("err = %v, want ErrNoResult", err)
	}
}

func TestTimeoutStopsTheCode(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{MaxIdle: 1})
	p := compile(t, sample)
	for _, export := range []string{"LOOP", "ALOOP"} {
		start := time.Now()
		_, err := run(t, e, p, export, 50*time.Millisecond)
		if !errors.Is(err, script.ErrTimeout) {
			t.Fatalf("%s: err = %v, want ErrTimeout", export, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: the loop was not stopped (%v)", export, d)
		}
	}
	// The engine still serves.
	if _, err := run(t, e, p, "CB01", time.Second); err != nil {
		t.Fatalf("after timeouts: %v", err)
	}
}

func TestContextCancelStopsTheCode(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.AfterFunc(20*time.Millisecond, cancel) }()
	_, err := e.Run(ctx, compile(t, sample), script.Call{Export: "LOOP", Args: args(t, nil)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestConcurrentCallsDoNotShareState(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{})
	p := compile(t, `
var counter = 0;
module.exports = {
    GF01: async (moduleID, parameters) => {
        var mine = $array.getValue(parameters, 'Name');
        globalThis.current = mine;
        await new Promise(function (r) { setTimeout(r, 1); });
        return { T: [{ Mine: mine, Seen: globalThis.current }] };
    }
};`)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			name := fmt.Sprint("n", i)
			got, err := e.Run(t.Context(), p, script.Call{Export: "GF01", Args: args(t, map[string]any{"Name": name}), Timeout: 5 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf(`{"T":[{"Mine":%q,"Seen":%q}]}`, name, name); got != want {
				errs <- fmt.Errorf("got %s, want %s", got, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConsoleGoesToTheCallLogger(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil)).With("global_id", "G42")
	e := jsruntime.New(jsruntime.Options{})
	p := compile(t, `module.exports = { GF01: (cb) => { console.log('hello', { a: 1 }); console.error('oops'); cb(null, {}); } };`)
	if _, err := e.Run(t.Context(), p, script.Call{Export: "GF01", Args: args(t, nil), Log: log}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`level=INFO msg="hello {\"a\":1}" global_id=G42`, `level=ERROR msg=oops global_id=G42`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type echoHost struct{}

func (echoHost) Invoke(_ context.Context, op string, arg json.RawMessage) (json.RawMessage, error) {
	if op == "fail" {
		return nil, errors.New("host refused")
	}
	return json.Marshal(map[string]any{"op": op, "arg": json.RawMessage(arg)})
}

func TestHostInvoke(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{})
	p := compile(t, `module.exports = {
    GF01: async () => {
        var r = await syn.$d.execute('HDS|TST|TST010|GD0100', { CompanyNo: 1 });
        return { T: [{ Op: r.op, Query: r.arg.queryID, Param: r.arg.parameters[0].ParameterName, Value: r.arg.parameters[0].Value }] };
    },
    CB01: (callback) => { syn.$d.execute('Q', [], function (err, r) { callback(err, { T: [{ Op: r.op }] }); }); }
};`)
	got, err := e.Run(t.Context(), p, script.Call{Export: "GF01", Args: args(t, nil), Host: echoHost{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"T":[{"Op":"dbclient.execute","Query":"HDS|TST|TST010|GD0100","Param":"CompanyNo","Value":1}]}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	got, err = e.Run(t.Context(), p, script.Call{Export: "CB01", Args: args(t, nil), Host: echoHost{}})
	if err != nil || got != `{"T":[{"Op":"dbclient.execute"}]}` {
		t.Fatalf("callback form: %s, %v", got, err)
	}
}

func TestSyntaxErrorHasItsLine(t *testing.T) {
	_, err := jsruntime.Compile("f.js", "var a = 1;\nmodule.exports = {\n  GF01: (cb) => { cb(null, {) }\n};")
	var se *jsruntime.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SyntaxError", err)
	}
	if se.Line != 3 {
		t.Fatalf("line = %d, want 3 (%v)", se.Line, se)
	}
}

func TestModuleStateLivesPerRuntimeUntilNewEpoch(t *testing.T) {
	e := jsruntime.New(jsruntime.Options{MaxIdle: 1, MaxConcurrent: 1})
	p := compile(t, `var n = 0; module.exports = { GF01: (cb) => { n++; cb(null, String(n)); } };`)
	for _, want := range []string{"1", "2"} {
		if got, err := run(t, e, p, "GF01", 0); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	e.NewEpoch()
	if got, err := run(t, e, p, "GF01", 0); err != nil || got != "1" {
		t.Fatalf("after NewEpoch: got %q, %v; want a fresh module", got, err)
	}
}
