package jsruntime

import (
	"time"

	"github.com/dop251/goja"
)

// timer is one pending setTimeout, setInterval or setImmediate.
type timer struct {
	id    int64
	at    time.Time
	every time.Duration // > 0 for setInterval
	fn    goja.Callable
	args  []goja.Value
}

// timers is a call's own small event loop: the functions Node code expects
// (setTimeout and friends) run on the call's goroutine, between the call's
// synchronous parts. Timers left when the call finishes are dropped.
type timers struct {
	last    int64
	pending map[int64]*timer
}

func (ts *timers) install(rt *goja.Runtime) {
	ts.pending = map[int64]*timer{}
	add := func(every bool) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(c.Argument(0))
			if !ok {
				// goja's way to throw a TypeError into the calling script.
				panic(rt.NewTypeError("the callback must be a function"))
			}
			d := time.Duration(c.Argument(1).ToFloat() * float64(time.Millisecond))
			if d < 0 || d != d {
				d = 0
			}
			var args []goja.Value
			if len(c.Arguments) > 2 {
				args = append(args, c.Arguments[2:]...)
			}
			ts.last++
			t := &timer{id: ts.last, at: time.Now().Add(d), fn: fn, args: args}
			if every {
				t.every = max(d, time.Millisecond)
			}
			ts.pending[t.id] = t
			return rt.ToValue(t.id)
		}
	}
	cancel := func(c goja.FunctionCall) goja.Value {
		delete(ts.pending, c.Argument(0).ToInteger())
		return goja.Undefined()
	}
	immediate := func(c goja.FunctionCall) goja.Value {
		args := append([]goja.Value{c.Argument(0), rt.ToValue(0)}, c.Arguments[min(1, len(c.Arguments)):]...)
		return add(false)(goja.FunctionCall{This: c.This, Arguments: args})
	}
	g := rt.GlobalObject()
	_ = g.Set("setTimeout", add(false))
	_ = g.Set("setInterval", add(true))
	_ = g.Set("setImmediate", immediate)
	_ = g.Set("clearTimeout", cancel)
	_ = g.Set("clearInterval", cancel)
	_ = g.Set("clearImmediate", cancel)
}

// next returns the timer due first, or nil when none is pending.
func (ts *timers) next() *timer {
	var first *timer
	for _, t := range ts.pending {
		if first == nil || t.at.Before(first.at) || (t.at.Equal(first.at) && t.id < first.id) {
			first = t
		}
	}
	return first
}

// fire runs t's callback and reschedules an interval.
func (ts *timers) fire(t *timer) error {
	if t.every > 0 {
		t.at = time.Now().Add(t.every)
	} else {
		delete(ts.pending, t.id)
	}
	_, err := t.fn(goja.Undefined(), t.args...)
	return err
}

func (ts *timers) clear() { clear(ts.pending) }
