(function (exports, exportName, args, done) {
    'use strict';
    var finished = false;
    function message(err) {
        if (err instanceof Error) return err.message || String(err);
        if (typeof err === 'string') return err;
        try { return JSON.stringify(err); } catch (e) { return String(err); }
    }
    function stack(err) {
        return err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
    }
    function finish(err, result) {
        if (finished) return;
        finished = true;
        if (err !== null && err !== undefined) {
            done(message(err), stack(err));
            return;
        }
        var text;
        try {
            text = typeof result === 'string' ? result : JSON.stringify(result);
        } catch (e) {
            done('the function result cannot be serialized: ' + message(e), stack(e));
            return;
        }
        done(null, null, text === undefined ? null : text);
    }
    function settle(value) {
        if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
            value.then(function (r) { finish(null, r); }, function (e) { finish(e === undefined || e === null ? new Error('the function rejected without a reason') : e); });
            return true;
        }
        return false;
    }
    var fn = exports === null || exports === undefined ? undefined : exports[exportName];
    if (typeof fn !== 'function') {
        finish(new Error('module.exports.' + exportName + ' is not a function'));
        return;
    }
    try {
        if (fn.constructor && fn.constructor.name === 'AsyncFunction') {
            settle(fn(args[0], args[1], args[2]));
        } else {
            // HandStack's callback convention; a returned promise also counts,
            // so that a plain function returning a promise does not hang.
            settle(fn(function (err, result) { finish(err, result); }, args[0], args[1], args[2]));
        }
    } catch (e) {
        finish(e);
    }
})
