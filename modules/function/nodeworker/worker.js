// ack's Node.js function worker. It runs one call at a time for the Go host,
// speaking JSON lines: requests on fd 3, answers on fd 4. stdout and stderr
// go to ack's log. Its own files (syn.js, invoke.js) sit beside it.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const Module = require('module');
const vm = require('vm');

const out = fs.createWriteStream(null, { fd: 4 });
function send(msg) { out.write(JSON.stringify(msg) + '\n'); }

let pending = new Map(); // host invocations waiting for Go: seq -> {resolve, reject}
let seq = 0;
let current = null;     // id of the call in progress

const host = {
    log(level, message) { send({ t: 'log', level: String(level), msg: String(message) }); },
    invoke(op, arg) {
        return new Promise((resolve, reject) => {
            seq++;
            pending.set(seq, { resolve, reject });
            send({ t: 'invoke', seq, op, arg });
        });
    }
};
const load = (name) => vm.runInThisContext(fs.readFileSync(path.join(__dirname, name), 'utf8'), { filename: 'ack:' + name });
const syn = load('syn.js')(host);
const invoke = load('invoke.js');

// require('syn') answers ack's library, from any function file.
const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
    if (request === 'syn') return syn;
    return originalLoad.apply(this, arguments);
};

const modules = new Map(); // key -> {version, exports}

function compile(file, source) {
    const m = new Module(file, null);
    m.filename = file;
    m.paths = Module._nodeModulePaths(path.dirname(file));
    m._compile(source, file);
    return m.exports;
}

function finish(id, error, stack, result) {
    if (current !== id) return;
    current = null;
    send({ t: 'done', id, error, stack, result });
}

function call(msg) {
    current = msg.id;
    let entry = modules.get(msg.key);
    if (!entry || entry.version !== msg.version) {
        if (typeof msg.source !== 'string') {
            current = null;
            send({ t: 'done', id: msg.id, need: true });
            return;
        }
        modules.delete(msg.key);
        try {
            entry = { version: msg.version, exports: compile(msg.file, msg.source) };
        } catch (e) {
            finish(msg.id, e && e.message ? e.message : String(e), e && e.stack ? e.stack : '', null);
            return;
        }
        modules.set(msg.key, entry);
    }
    if (msg.context && msg.args && msg.args[2]) Object.assign(msg.args[2], msg.context);
    invoke(entry.exports, msg.export, msg.args, (error, stack, result) => finish(msg.id, error, stack, result));
}

function fail(e) {
    if (current === null) {
        host.log('error', 'uncaught error outside a call: ' + (e && e.stack ? e.stack : String(e)));
        return;
    }
    finish(current, e && e.message ? e.message : String(e), e && e.stack ? e.stack : '', null);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const input = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }) });
input.on('line', (line) => {
    let msg;
    try { msg = JSON.parse(line); } catch (e) { host.log('error', 'bad message from ack: ' + e.message); return; }
    if (msg.t === 'call') {
        call(msg);
    } else if (msg.t === 'reply') {
        const p = pending.get(msg.seq);
        if (!p) return;
        pending.delete(msg.seq);
        if (typeof msg.error === 'string') p.reject(new Error(msg.error)); else p.resolve(msg.result);
    }
});
input.on('close', () => process.exit(0));
send({ t: 'ready' });
