package jsruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/dop251/goja"

	"github.com/ack-dev/ack/modules/function/script"
)

// Compiled once per process: they are constants of the binary.
var (
	libraryProgram = goja.MustCompile("ack:syn.js", script.Library, false)
	invokerProgram = goja.MustCompile("ack:invoke.js", script.Invoker, false)
	// freezeProgram deep-freezes a shared call context, so that one call
	// cannot change what the next one sees.
	freezeProgram = goja.MustCompile("ack:freeze.js", `(function freeze(o) {
	if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
		Object.freeze(o);
		Object.keys(o).forEach(function (k) { freeze(o[k]); });
	}
	return o;
})`, false)
	// requireProgram builds require(): 'syn' is ack's library; anything else
	// is a stub that fails clearly when used, so that a file requiring Node
	// modules at its top still loads and its other exports still run.
	requireProgram = goja.MustCompile("ack:require.js", `(function (syn) {
	var stubs = {};
	function stub(name) {
		return new Proxy({}, { get: function (target, prop) {
			if (typeof prop === 'symbol' || prop === 'then' || prop === '__esModule') return undefined;
			throw new Error("require('" + name + "')." + String(prop) + " is not available in the embedded runtime; set this function's runtime to node");
		} });
	}
	return function require(name) {
		if (name === 'syn') return syn;
		return stubs[name] || (stubs[name] = stub(name));
	};
})`, false)
)

// vm is one goja runtime with ack's globals. Only one call uses it at a time.
type vm struct {
	rt      *goja.Runtime
	invoke  goja.Callable
	parse   goja.Callable
	syn     goja.Value
	require goja.Value
	epoch   uint64
	modules map[*Program]goja.Value // exports, per program version
	shared  map[string]*goja.Object // parsed and frozen call contexts, by key
	freeze  goja.Callable
	broken  bool

	// The call in progress.
	ctx    context.Context
	cur    *script.Call
	timers timers
}

func newVM(epoch uint64, maxStack int) (*vm, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(maxStack)
	v := &vm{rt: rt, epoch: epoch, modules: map[*Program]goja.Value{}, shared: map[string]*goja.Object{}}

	host := rt.NewObject()
	if err := host.Set("log", v.hostLog); err != nil {
		return nil, err
	}
	if err := host.Set("invoke", v.hostInvoke); err != nil {
		return nil, err
	}
	lib, err := v.callable(libraryProgram)
	if err != nil {
		return nil, err
	}
	if v.syn, err = lib(goja.Undefined(), host); err != nil {
		return nil, fmt.Errorf("jsruntime: load syn library: %w", err)
	}
	if v.invoke, err = v.callable(invokerProgram); err != nil {
		return nil, err
	}
	makeRequire, err := v.callable(requireProgram)
	if err != nil {
		return nil, err
	}
	if v.require, err = makeRequire(goja.Undefined(), v.syn); err != nil {
		return nil, fmt.Errorf("jsruntime: build require: %w", err)
	}
	parse, ok := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	if !ok {
		return nil, errors.New("jsruntime: JSON.parse is missing")
	}
	v.parse = parse
	if v.freeze, err = v.callable(freezeProgram); err != nil {
		return nil, err
	}
	v.timers.install(rt)
	return v, nil
}

func (v *vm) callable(p *goja.Program) (goja.Callable, error) {
	val, err := v.rt.RunProgram(p)
	if err != nil {
		return nil, fmt.Errorf("jsruntime: %w", err)
	}
	fn, ok := goja.AssertFunction(val)
	if !ok {
		return nil, errors.New("jsruntime: built-in script is not a function")
	}
	return fn, nil
}

// reset drops the module instances of an older epoch.
func (v *vm) reset(epoch uint64) {
	v.epoch = epoch
	clear(v.modules)
	clear(v.shared)
}

// load returns the exports of prog, instantiating the module on first use in
// this runtime (as Node's require cache does within a process).
func (v *vm) load(prog *Program) (goja.Value, error) {
	if ex, ok := v.modules[prog]; ok {
		return ex, nil
	}
	wrapper, err := v.rt.RunProgram(prog.prog)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(wrapper)
	if !ok {
		return nil, errors.New("jsruntime: module wrapper is not a function")
	}
	module := v.rt.NewObject()
	exports := v.rt.NewObject()
	if err := module.Set("exports", exports); err != nil {
		return nil, err
	}
	dir := path.Dir(prog.name)
	if _, err := fn(goja.Undefined(), exports, v.require, module, v.rt.ToValue(prog.name), v.rt.ToValue(dir)); err != nil {
		return nil, err
	}
	ex := module.Get("exports")
	v.modules[prog] = ex
	return ex, nil
}

// call runs one export to completion: the synchronous part, then promise
// jobs and timers until the function calls back or settles.
func (v *vm) call(ctx context.Context, prog *Program, call script.Call) (string, error) {
	v.ctx, v.cur = ctx, &call
	defer func() {
		v.ctx, v.cur = nil, nil
		v.timers.clear()
	}()

	exports, err := v.load(prog)
	if err != nil {
		return "", errorFor(ctx, v.scriptError(err))
	}
	args, err := v.arguments(call)
	if err != nil {
		return "", err
	}
	var (
		done   bool
		result string
		failed error
	)
	doneFn := func(msg, stack, text goja.Value) {
		done = true
		if !goja.IsNull(msg) && !goja.IsUndefined(msg) {
			failed = &script.Error{Message: msg.String(), Stack: stack.String()}
			return
		}
		if !goja.IsNull(text) && !goja.IsUndefined(text) {
			result = text.String()
		}
	}
	if _, err := v.invoke(goja.Undefined(), exports, v.rt.ToValue(call.Export), args, v.rt.ToValue(doneFn)); err != nil {
		return "", errorFor(ctx, v.scriptError(err))
	}
	for !done {
		t := v.timers.next()
		if t == nil {
			return "", errorFor(ctx, script.ErrNoResult)
		}
		if wait := time.Until(t.at); wait > 0 {
			tm := time.NewTimer(wait)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				return "", errorFor(ctx, ctx.Err())
			}
		}
		if err := v.timers.fire(t); err != nil {
			return "", errorFor(ctx, v.scriptError(err))
		}
	}
	if failed != nil {
		return "", failed
	}
	return result, nil
}

// arguments parses call.Args and adds the shared context's properties to
// its dataContext.
func (v *vm) arguments(call script.Call) (goja.Value, error) {
	args, ok := v.parseJSON(string(call.Args))
	if !ok {
		var err error
		if args, err = v.parse(goja.Undefined(), v.rt.ToValue(string(call.Args))); err != nil {
			return nil, fmt.Errorf("jsruntime: arguments: %w", err)
		}
	}
	if len(call.Context) == 0 {
		return args, nil
	}
	shared, ok := v.shared[call.ContextKey]
	if !ok {
		val, err := v.parse(goja.Undefined(), v.rt.ToValue(string(call.Context)))
		if err != nil {
			return nil, fmt.Errorf("jsruntime: context: %w", err)
		}
		if _, err := v.freeze(goja.Undefined(), val); err != nil {
			return nil, fmt.Errorf("jsruntime: context: %w", err)
		}
		shared = val.ToObject(v.rt)
		if call.ContextKey != "" {
			v.shared[call.ContextKey] = shared
		}
	}
	dc := args.ToObject(v.rt).Get("2")
	if dc == nil || goja.IsUndefined(dc) || goja.IsNull(dc) {
		return nil, errors.New("jsruntime: arguments: no dataContext")
	}
	obj := dc.ToObject(v.rt)
	for _, k := range shared.Keys() {
		if err := obj.Set(k, shared.Get(k)); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// scriptError turns a goja exception into a *script.Error; interrupts and
// stack overflows keep their own types.
func (v *vm) scriptError(err error) error {
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		v.broken = true
		return &script.Error{Message: "maximum call stack size exceeded", Stack: so.String()}
	}
	var ex *goja.Exception
	if isInterrupt(err) || !errors.As(err, &ex) {
		return err
	}
	msg := ex.Error()
	if obj, ok := ex.Value().(*goja.Object); ok {
		if m := obj.Get("message"); m != nil && !goja.IsUndefined(m) {
			msg = m.String()
		}
	} else if ex.Value() != nil {
		msg = ex.Value().String()
	}
	return &script.Error{Message: msg, Stack: ex.String()}
}

func isInterrupt(err error) bool {
	var ie *goja.InterruptedError
	return errors.As(err, &ie)
}

// hostLog writes console.* and syn.$l output to the call's logger.
func (v *vm) hostLog(level, msg string) {
	if v.cur == nil || v.cur.Log == nil {
		return
	}
	v.cur.Log.Log(v.ctx, script.Level(level), msg)
}

// hostInvoke runs a host operation synchronously (this runtime belongs to
// the call) and answers a settled promise, like the Node runtime's
// asynchronous one.
func (v *vm) hostInvoke(op, arg string) *goja.Promise {
	p, resolve, reject := v.rt.NewPromise()
	if v.cur == nil || v.cur.Host == nil {
		_ = reject(v.rt.NewGoError(fmt.Errorf("%s is not available here", op)))
		return p
	}
	out, err := v.cur.Host.Invoke(v.ctx, op, json.RawMessage(arg))
	if err != nil {
		_ = reject(v.rt.NewGoError(err))
		return p
	}
	_ = resolve(string(out))
	return p
}
