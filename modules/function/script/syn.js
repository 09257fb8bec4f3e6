(function (host) {
    'use strict';
    var root = typeof globalThis !== 'undefined' ? globalThis : this;

    function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date); }
    function text(v) {
        if (v instanceof Error) return v.stack || v.message;
        if (typeof v === 'string') return v;
        if (v === undefined) return 'undefined';
        try { return JSON.stringify(v); } catch (e) { return String(v); }
    }
    function pad(n, len) { n = String(n); while (n.length < (len || 2)) n = '0' + n; return n; }

    var $object = {
        isNullOrUndefined: function (v) { return v === null || v === undefined; },
        isNull: function (v) { return v === null; },
        isDefined: function (v) { return v !== undefined; },
        isArray: function (v) { return Array.isArray(v); },
        isDate: function (v) { return v instanceof Date && !isNaN(v.getTime()); },
        isString: function (v) { return typeof v === 'string'; },
        isNumber: function (v) { return typeof v === 'number' && !isNaN(v); },
        isFunction: function (v) { return typeof v === 'function'; },
        isObject: function (v) { return isObj(v); },
        isBoolean: function (v) { return typeof v === 'boolean'; },
        isEmpty: function (v) {
            if (v === null || v === undefined || v === '') return true;
            if (Array.isArray(v)) return v.length === 0;
            if (isObj(v)) return Object.keys(v).length === 0;
            return false;
        },
        getType: function (v) {
            if (v === null) return 'null';
            if (Array.isArray(v)) return 'array';
            if (v instanceof Date) return 'date';
            return typeof v;
        },
        clone: function (v) {
            if (v instanceof Date) return new Date(v.getTime());
            if (Array.isArray(v)) return v.map($object.clone);
            if (isObj(v)) {
                var out = {};
                Object.keys(v).forEach(function (k) { out[k] = $object.clone(v[k]); });
                return out;
            }
            return v;
        },
        extend: function (to, from, overwrite) {
            to = to || {};
            Object.keys(from || {}).forEach(function (k) {
                if (overwrite !== false || !(k in to)) to[k] = from[k];
            });
            return to;
        }
    };

    var $string = {
        toValue: function (v, def) { return v === null || v === undefined ? String(def === undefined ? '' : def) : String(v); },
        isNullOrEmpty: function (v) { return v === null || v === undefined || String(v) === ''; },
        isNullOrWhiteSpace: function (v) { return v === null || v === undefined || String(v).trim() === ''; },
        isNumber: function (v) { return v !== null && v !== undefined && String(v).trim() !== '' && isFinite(Number(String(v).replace(/,/g, ''))); },
        toNumber: function (v) {
            var n = Number(String(v === null || v === undefined ? '' : v).replace(/,/g, ''));
            return isFinite(n) ? n : 0;
        },
        toBoolean: function (v) {
            if (typeof v === 'boolean') return v;
            return ['true', 'y', 'yes', '1', 'on'].indexOf(String(v).trim().toLowerCase()) >= 0;
        },
        pad: function (v, len, fill, left) {
            var s = String(v === null || v === undefined ? '' : v);
            fill = fill === undefined ? '0' : String(fill);
            while (s.length < len && fill.length > 0) s = left === false ? s + fill : fill + s;
            return s;
        },
        capitalize: function (v) { v = String(v); return v.charAt(0).toUpperCase() + v.slice(1); },
        split: function (v, sep) {
            if (typeof v !== 'string') return [];
            return v.split(sep === undefined ? ',' : sep).map(function (s) { return s.trim(); }).filter(function (s) { return s.length > 0; });
        },
        interpolate: function (template, values) {
            if (typeof template !== 'string' || values === null || values === undefined) return template;
            var one = function (item) {
                return template.replace(/#\{([^{}]*)\}/g, function (m, key) {
                    var v = item[key];
                    return v === null || v === undefined ? m : String(v);
                });
            };
            return Array.isArray(values) ? values.map(one).join('\n') : one(values);
        }
    };

    var $array = {
        // getValue finds a HandStack parameter ({ParameterName, Value} in any
        // casing) by name and returns its value, or defaultValue ('' when omitted).
        getValue: function (items, name, defaultValue, nameProperty, valueProperty) {
            var result = null;
            if (Array.isArray(items)) {
                for (var i = 0; i < items.length; i++) {
                    var item = items[i];
                    if (item === null || typeof item !== 'object') continue;
                    var n = nameProperty ? item[nameProperty] : ('ParameterName' in item ? item.ParameterName : item.parameterName);
                    if (n == name) {
                        result = valueProperty ? item[valueProperty] : ('Value' in item ? item.Value : item.value);
                        break;
                    }
                }
            }
            if (result === null || result === undefined) return defaultValue === undefined ? '' : defaultValue;
            return result;
        },
        distinct: function (arr) { return Array.from(new Set(arr || [])); },
        contains: function (arr, v) { return Array.isArray(arr) && arr.indexOf(v) >= 0; },
        sort: function (arr, ascending) {
            var out = (arr || []).slice();
            out.sort(function (a, b) { return a < b ? -1 : a > b ? 1 : 0; });
            return ascending === false ? out.reverse() : out;
        },
        objectSort: function (arr, prop, ascending) {
            var out = (arr || []).slice();
            out.sort(function (a, b) { return a[prop] < b[prop] ? -1 : a[prop] > b[prop] ? 1 : 0; });
            return ascending === false ? out.reverse() : out;
        },
        groupBy: function (arr, key) {
            var out = {};
            (arr || []).forEach(function (item) {
                var k = typeof key === 'function' ? key(item) : item[key];
                (out[k] = out[k] || []).push(item);
            });
            return out;
        },
        addAt: function (arr, index, v) { arr.splice(index, 0, v); return arr; },
        removeAt: function (arr, index) { arr.splice(index, 1); return arr; },
        union: function (a, b) { return Array.from(new Set((a || []).concat(b || []))); },
        intersect: function (a, b) { var s = new Set(b || []); return (a || []).filter(function (x) { return s.has(x); }); },
        difference: function (a, b) { var s = new Set(b || []); return (a || []).filter(function (x) { return !s.has(x); }); },
        split: function (v, sep) { return $string.split(v, sep); }
    };

    var $number = {
        isRange: function (n, low, high) { return n >= low && n <= high; },
        limit: function (n, low, high) { return Math.min(Math.max(n, low), high); },
        percent: function (n, total, precision) { return total ? Number((n / total * 100).toFixed(precision || 0)) : 0; },
        random: function (start, end) {
            start = start === undefined ? 0 : start;
            end = end === undefined ? 10 : end;
            return Math.floor(Math.random() * (end - start + 1)) + start;
        }
    };

    var $date = {
        now: function () { return new Date(); },
        isDate: function (v) {
            if (v instanceof Date) return !isNaN(v.getTime());
            return typeof v === 'string' && v.trim() !== '' && !isNaN(new Date(v).getTime());
        },
        parseDate: function (v) {
            if (v instanceof Date) return v;
            var d = new Date(v);
            return isNaN(d.getTime()) ? null : d;
        },
        // toString formats like HandStack's $date.toString: 'd' date, 't' time,
        // 'a' both, 'f' compact with milliseconds, 'ym', 'y', 'm', or a pattern
        // of yyyy MM dd HH mm ss.
        toString: function (v, format) {
            var d = $date.parseDate(v);
            if (!d) return '';
            var y = d.getFullYear(), M = pad(d.getMonth() + 1), dd = pad(d.getDate());
            var H = pad(d.getHours()), m = pad(d.getMinutes()), s = pad(d.getSeconds()), ms = pad(d.getMilliseconds(), 3);
            switch (format) {
                case 'd': return y + '-' + M + '-' + dd;
                case 't': return H + ':' + m + ':' + s;
                case 'a': return y + '-' + M + '-' + dd + ' ' + H + ':' + m + ':' + s;
                case 'i': return d.toISOString();
                case 'f': return '' + y + M + dd + H + m + s + ms;
                case 's': return H + m + s + ms;
                case 'ym': return y + '-' + M;
                case 'y': return String(y);
                case 'm': return M;
                default:
                    var map = { yyyy: y, MM: M, dd: dd, HH: H, mm: m, ss: s };
                    return String(format || 'yyyy-MM-dd').replace(/yyyy|MM|dd|HH|mm|ss/g, function (k) { return map[k]; });
            }
        },
        addSecond: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setSeconds(d.getSeconds() + n); return d; },
        addMinute: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setMinutes(d.getMinutes() + n); return d; },
        addHour: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setHours(d.getHours() + n); return d; },
        addDay: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setDate(d.getDate() + n); return d; },
        addWeek: function (v, n) { return $date.addDay(v, n * 7); },
        addMonth: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setMonth(d.getMonth() + n); return d; },
        addYear: function (v, n) { var d = new Date($date.parseDate(v).getTime()); d.setFullYear(d.getFullYear() + n); return d; },
        getFirstDate: function (v) { var d = $date.parseDate(v); return new Date(d.getFullYear(), d.getMonth(), 1); },
        getLastDate: function (v) { var d = $date.parseDate(v); return new Date(d.getFullYear(), d.getMonth() + 1, 0); },
        diff: function (start, end, interval) {
            var ms = $date.parseDate(end).getTime() - $date.parseDate(start).getTime();
            var unit = { year: 31536000000, month: 2592000000, week: 604800000, day: 86400000, hour: 3600000, minute: 60000, second: 1000 }[interval || 'day'] || 86400000;
            return Math.floor(ms / unit);
        }
    };

    if (typeof String.prototype.format !== 'function') {
        // '{0} of {1}'.format(a, b), which HandStack code uses for messages.
        Object.defineProperty(String.prototype, 'format', {
            configurable: true, writable: true,
            value: function () {
                var args = arguments;
                return this.replace(/\{(\d+)\}/g, function (m, i) { return args[i] === undefined ? m : String(args[i]); });
            }
        });
    }

    function withCallback(promise, callback) {
        if (typeof callback !== 'function') return promise;
        promise.then(function (r) { callback(null, r); }, function (e) { callback(e); });
        return undefined;
    }

    function toParameters(params) {
        if (Array.isArray(params)) {
            return params.map(function (p) {
                return {
                    ParameterName: 'ParameterName' in p ? p.ParameterName : p.parameterName,
                    Value: 'Value' in p ? p.Value : p.value,
                    DbType: p.DbType || p.dbType || 'String',
                    Length: p.Length || p.length || -1
                };
            });
        }
        return Object.keys(params || {}).map(function (k) {
            return { ParameterName: k, Value: params[k], DbType: 'String', Length: -1 };
        });
    }

    function invoke(op, arg) {
        return host.invoke(op, JSON.stringify(arg)).then(function (answer) { return JSON.parse(answer); });
    }

    var log = function (level, name, message) {
        host.log(level, name ? name + ': ' + text(message) : text(message));
    };

    var syn = {
        $array: $array, $string: $string, $object: $object, $date: $date, $number: $number,
        $l: {
            eventLog: function (name, message, level) { log(level || 'Information', name, message); },
            moduleEventLog: function (moduleID, name, message, level) { log(level || 'Information', moduleID + ' ' + name, message); }
        },
        $d: {
            // execute runs a dbclient statement ("App|Project|Transaction|StatementIDnn")
            // and resolves to its result sets, each an array of rows.
            execute: function (queryID, parameters, callback) {
                return withCallback(invoke('dbclient.execute', { queryID: queryID, parameters: toParameters(parameters) }), callback);
            },
            // query runs SQL on one of the function's data sources
            // (FunctionSource) with parameters bound by name (@Name, :Name
            // on Oracle) and resolves to its result sets, each an array of rows.
            query: function (dataSourceID, sql, parameters, callback) {
                if (typeof parameters === 'function') { callback = parameters; parameters = undefined; }
                return withCallback(invoke('datasource.query', { dataSourceID: dataSourceID, sql: sql, parameters: toParameters(parameters) }), callback);
            }
        },
        $w: {
            // transactionDirect runs another transaction in this server's
            // transact module: {programID, businessID, transactionID,
            // functionID, inputObjects: [{prop, val}], dataMapInterface}. It
            // resolves to the transaction response; callback(response) is
            // HandStack's form.
            transactionDirect: function (directObject, callback) {
                var p = invoke('transact.execute', directObject || {});
                if (typeof callback !== 'function') return p;
                p.then(function (r) { callback(r); }, function (e) { callback({ acknowledge: 0, exceptionText: e && e.message ? e.message : String(e) }); });
                return undefined;
            }
        },
        $s: {
            executeQuery: function () {
                throw new Error('syn.$s.executeQuery (featureSQL.xml with mybatis) is not supported by ack; run a dbclient statement with syn.$d.execute, or SQL with syn.$d.query');
            }
        }
    };

    var line = function (args) { return Array.prototype.map.call(args, text).join(' '); };
    root.console = {
        log: function () { host.log('info', line(arguments)); },
        info: function () { host.log('info', line(arguments)); },
        debug: function () { host.log('debug', line(arguments)); },
        trace: function () { host.log('debug', line(arguments)); },
        warn: function () { host.log('warn', line(arguments)); },
        error: function () { host.log('error', line(arguments)); }
    };
    root.$object = $object;
    root.$string = $string;
    root.$array = $array;
    root.$number = $number;
    root.$date = $date;
    root.$l = syn.$l;
    root.$d = syn.$d;
    root.$w = syn.$w;
    root.syn = syn;
    return syn;
})
