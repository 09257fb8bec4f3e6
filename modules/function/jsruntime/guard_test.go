package jsruntime_test

import (
	"errors"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/ack-dev/ack/modules/function/jsruntime"
	"github.com/ack-dev/ack/modules/function/script"
)

func TestMemoryGuardStopsARunawayAllocation(t *testing.T) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	limit := s[0].Value.Uint64() + 64<<20
	e := jsruntime.New(jsruntime.Options{MemoryLimit: limit, GuardInterval: 5 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- e.Guard(t.Context()) }()

	p := compile(t, `module.exports = {
    HOG: (cb) => { var a = []; for (;;) { a.push('x'.repeat(1 << 18) + a.length); } },
    OK: (cb) => { cb(null, { T: [{ A: 1 }] }); }
};`)
	_, err := run(t, e, p, "HOG", 60*time.Second)
	if !errors.Is(err, script.ErrMemory) {
		t.Fatalf("err = %v, want ErrMemory", err)
	}
	if got, err := run(t, e, p, "OK", time.Second); err != nil || got != `{"T":[{"A":1}]}` {
		t.Fatalf("after the guard stopped a call: %q, %v", got, err)
	}
}

func FuzzCompile(f *testing.F) {
	f.Add(sample)
	f.Add("module.exports = { GF01: (cb) => cb(null, {}) };")
	f.Add("})(); (function(){")
	f.Add("var a = `${")
	f.Add("\n\n\nfunction (")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := jsruntime.Compile("f.js", src)
		if err != nil {
			var se *jsruntime.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if p == nil {
			t.Fatal("nil program without an error")
		}
	})
}
