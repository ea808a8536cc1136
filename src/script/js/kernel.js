// Switchboard script kernel: the glue between the host (Rust) and an integration's script.
// Evaluated once per runtime as a function expression and called with the host object, so host functions
// are only reachable through the wrappers below and never sit on the global object themselves.
(function (host) {
  'use strict';
  var g = globalThis;
  function hide(name, value) {
    Object.defineProperty(g, name, { value: value, writable: true, configurable: true, enumerable: false });
  }
  function lock(name, value) {
    Object.defineProperty(g, name, { value: value, writable: false, configurable: false, enumerable: false });
  }

  // ---- class lowering runtime (see src/script/lower.rs) ----
  var LOWERED = Symbol('switchboard.lowered');
  var classRuntime = Object.freeze({
    define: function (C, proto, statics, P) {
      if (P !== undefined && P !== null && typeof P !== 'function') {
        throw new TypeError('Class extends value ' + String(P) + ' is not a constructor or null');
      }
      Reflect.ownKeys(proto).forEach(function (k) {
        var d = Object.getOwnPropertyDescriptor(proto, k);
        d.enumerable = false;
        Object.defineProperty(proto, k, d);
      });
      Object.defineProperty(proto, 'constructor', { value: C, writable: true, configurable: true, enumerable: false });
      Object.defineProperty(C, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
      Reflect.ownKeys(statics).forEach(function (k) {
        if (k === '__sb_si') return;
        var d = Object.getOwnPropertyDescriptor(statics, k);
        d.enumerable = false;
        Object.defineProperty(C, k, d);
      });
      if (P !== undefined) Object.setPrototypeOf(C, P === null ? Function.prototype : P);
      Object.defineProperty(C, LOWERED, { value: true });
    },
    field: function (obj, key, value, hidden) {
      Object.defineProperty(obj, key, { value: value, writable: true, configurable: true, enumerable: !hidden });
    },
    superCall: function (self, P, args) {
      if (typeof P !== 'function') throw new TypeError('Super constructor is not a constructor');
      if (P[LOWERED]) {
        P.apply(self, args);
        return;
      }
      // A native parent (Error, Map, ...) cannot run on an existing object: construct it and adopt its own
      // properties, which covers what scripts use (Error's message and stack).
      var inst = Reflect.construct(P, args, self.constructor);
      Reflect.ownKeys(inst).forEach(function (k) {
        Object.defineProperty(self, k, Object.getOwnPropertyDescriptor(inst, k));
      });
    }
  });
  lock('__sb_rt', classRuntime);

  // ---- error stacks as V8 writes them ----
  // Rocket.Chat runs scripts in V8, where `error.stack` starts with the error's `name: message` line and the
  // frames follow. Scripts that catch an error and post `e.stack` expect that text. QuickJS lists the frames
  // only, and would list this kernel's own frames too, which are none of the script's business.
  Error.prepareStackTrace = function (error, sites) {
    var name = 'Error', message = '';
    try {
      if (error.name !== undefined) name = String(error.name);
      if (error.message !== undefined) message = String(error.message);
    } catch (e) { /* a throwing getter: keep the defaults */ }
    var out = name === '' ? message : message === '' ? name : name + ': ' + message;
    for (var i = 0; i < sites.length; i++) {
      var site = sites[i];
      var file = site.getFileName();
      if (file === 'kernel.js') continue;
      var fn = site.getFunctionName();
      var where = site.isNative() ? 'native' : file + ':' + site.getLineNumber() + ':' + site.getColumnNumber();
      out += '\n    at ' + (fn ? fn + ' (' + where + ')' : where);
    }
    return out;
  };

  // ---- inspection for console output ----
  function inspect(v, depth, seen) {
    if (v === null) return 'null';
    var t = typeof v;
    if (t === 'undefined') return 'undefined';
    if (t === 'string') return depth === 0 ? v : JSON.stringify(v);
    if (t === 'number' || t === 'boolean' || t === 'bigint') return String(v);
    if (t === 'symbol') return v.toString();
    if (t === 'function') return '[Function' + (v.name ? ': ' + v.name : ' (anonymous)') + ']';
    if (v instanceof Error) {
      if (!v.stack) return String(v);
      var stack = String(v.stack);
      // Stacks start with the `name: message` line (see above) unless a script replaced prepareStackTrace.
      return stack.indexOf(String(v.name)) === 0 ? stack : String(v.name) + ': ' + v.message + '\n' + stack;
    }
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (seen.indexOf(v) >= 0) return '[Circular]';
    if (depth > 4) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen.push(v);
    var out;
    if (Array.isArray(v)) {
      out = '[ ' + v.map(function (x) { return inspect(x, depth + 1, seen); }).join(', ') + ' ]';
      if (v.length === 0) out = '[]';
    } else {
      var keys = Object.keys(v);
      out = keys.length === 0 ? '{}' : '{ ' + keys.map(function (k) {
        return (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)) + ': ' + inspect(v[k], depth + 1, seen);
      }).join(', ') + ' }';
    }
    seen.pop();
    return out;
  }
  function format(args) {
    var parts = [];
    var i = 0;
    if (typeof args[0] === 'string' && /%[sdifjoO%]/.test(args[0]) && args.length > 1) {
      i = 1;
      parts.push(args[0].replace(/%([sdifjoO%])/g, function (m, c) {
        if (c === '%') return '%';
        if (i >= args.length) return m;
        var a = args[i++];
        switch (c) {
          case 's': return typeof a === 'string' ? a : inspect(a, 1, []);
          case 'd': case 'i': return String(c === 'i' ? parseInt(a, 10) : Number(a));
          case 'f': return String(parseFloat(a));
          case 'j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
          default: return inspect(a, 1, []);
        }
      }));
    }
    for (; i < args.length; i++) parts.push(inspect(args[i], 0, []));
    return parts.join(' ');
  }
  var consoleObj = {};
  ['log', 'info', 'warn', 'error', 'debug'].forEach(function (level) {
    consoleObj[level] = function () { host.log(level, format(Array.prototype.slice.call(arguments))); };
  });
  consoleObj.trace = consoleObj.debug;
  consoleObj.dir = function (o) { host.log('log', inspect(o, 1, [])); };
  hide('console', Object.freeze(consoleObj));

  // ---- Store: per-integration memory, lives as long as this runtime ----
  var store = new Map();
  hide('Store', Object.freeze({
    set: function (key, value) { store.set(String(key), value); return value; },
    get: function (key) { return store.get(String(key)); },
    has: function (key) { return store.has(String(key)); },
    delete: function (key) { return store.delete(String(key)); },
    clear: function () { store.clear(); }
  }));

  // ---- base64 ----
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function btoa(input) {
    var s = String(input), out = '';
    for (var i = 0; i < s.length; i += 3) {
      var a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw new Error('btoa: the string contains characters outside Latin-1');
      var n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
        (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
    }
    return out;
  }
  function atob(input) {
    var s = String(input).replace(/[\s=]/g, ''), out = '', bits = 0, acc = 0;
    for (var i = 0; i < s.length; i++) {
      var v = B64.indexOf(s[i]);
      if (v < 0) throw new Error('atob: invalid base64');
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) { bits -= 8; out += String.fromCharCode((acc >> bits) & 255); }
    }
    return out;
  }
  function utf8Latin1(s) { return unescape(encodeURIComponent(s)); }
  hide('btoa', btoa);
  hide('atob', atob);

  // ---- timers: only run while a call is in progress (the host drives them until the call's deadline) ----
  var timers = [];
  var timerSeq = 0;
  hide('setTimeout', function (fn, ms) {
    if (typeof fn !== 'function') throw new TypeError('setTimeout: callback must be a function');
    var args = Array.prototype.slice.call(arguments, 2);
    var id = ++timerSeq;
    timers.push({ id: id, due: Date.now() + Math.max(0, Number(ms) || 0), fn: fn, args: args });
    return id;
  });
  hide('clearTimeout', function (id) {
    timers = timers.filter(function (t) { return t.id !== id; });
  });

  // ---- fetch ----
  var pending = new Map();
  var fetchSeq = 0;
  function headerPairs(h) {
    var out = [];
    if (!h) return out;
    if (typeof h.forEach === 'function' && !Array.isArray(h) && typeof h.get === 'function') {
      h.forEach(function (v, k) { out.push([String(k), String(v)]); });
    } else if (Array.isArray(h)) {
      h.forEach(function (p) { out.push([String(p[0]), String(p[1])]); });
    } else {
      Object.keys(h).forEach(function (k) {
        if (h[k] !== undefined && h[k] !== null) out.push([k, String(h[k])]);
      });
    }
    return out;
  }
  function hasHeader(pairs, name) {
    name = name.toLowerCase();
    return pairs.some(function (p) { return p[0].toLowerCase() === name; });
  }
  function Headers(pairs) {
    var list = headerPairs(pairs);
    this.get = function (name) {
      name = String(name).toLowerCase();
      var vals = list.filter(function (p) { return p[0].toLowerCase() === name; }).map(function (p) { return p[1]; });
      return vals.length ? vals.join(', ') : null;
    };
    this.has = function (name) { return this.get(name) !== null; };
    this.forEach = function (fn, thisArg) {
      list.forEach(function (p) { fn.call(thisArg, p[1], p[0].toLowerCase()); });
    };
    this.entries = function () { return list.map(function (p) { return [p[0].toLowerCase(), p[1]]; })[Symbol.iterator](); };
    this.keys = function () { return list.map(function (p) { return p[0].toLowerCase(); })[Symbol.iterator](); };
    this.values = function () { return list.map(function (p) { return p[1]; })[Symbol.iterator](); };
    this[Symbol.iterator] = this.entries;
    this.raw = function () {
      var o = {};
      list.forEach(function (p) { var k = p[0].toLowerCase(); (o[k] = o[k] || []).push(p[1]); });
      return o;
    };
    this.toJSON = function () {
      var o = {};
      list.forEach(function (p) { o[p[0].toLowerCase()] = p[1]; });
      return o;
    };
  }
  hide('Headers', Headers);
  function makeResponse(r) {
    var body = r.body;
    var res = {
      status: r.status,
      statusText: r.statusText,
      ok: r.status >= 200 && r.status < 300,
      url: r.url,
      redirected: !!r.redirected,
      headers: new Headers(r.headers),
      bodyUsed: false,
      text: function () { res.bodyUsed = true; return Promise.resolve(body); },
      json: function () {
        res.bodyUsed = true;
        return new Promise(function (resolve) { resolve(JSON.parse(body)); });
      },
      clone: function () { return makeResponse(r); }
    };
    return res;
  }
  function fetch(input, init) {
    init = init || {};
    var url = input && typeof input === 'object' && input.url ? input.url : input;
    var headers = headerPairs(init.headers);
    var body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string') {
      // Friendlier than the spec's "[object Object]": scripts often pass a plain object.
      body = JSON.stringify(body);
      if (!hasHeader(headers, 'content-type')) headers.push(['Content-Type', 'application/json']);
    }
    var request = {
      url: String(url),
      method: String(init.method || 'GET').toUpperCase(),
      headers: headers,
      body: body === undefined ? null : body,
      timeout: typeof init.timeout === 'number' ? init.timeout : null,
      redirect: init.redirect === 'manual' || init.redirect === 'error' ? init.redirect : 'follow'
    };
    var id = ++fetchSeq;
    return new Promise(function (resolve, reject) {
      pending.set(id, { resolve: resolve, reject: reject });
      try {
        host.fetch(id, JSON.stringify(request));
      } catch (e) {
        pending.delete(id);
        reject(new TypeError('fetch failed: ' + (e && e.message ? e.message : String(e))));
      }
    });
  }
  hide('fetch', fetch);

  // ---- legacy synchronous HTTP(method, url, options) of the vm2 era ----
  function encodeParams(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k] === undefined || params[k] === null ? '' : String(params[k]));
    }).join('&');
  }
  function HTTP(method, url, options) {
    options = options || {};
    method = String(method || 'GET').toUpperCase();
    var headers = headerPairs(options.headers);
    var body = null;
    var fullUrl = String(url);
    var query = options.query ? String(options.query) : '';
    if (options.params && typeof options.params === 'object') {
      var encoded = encodeParams(options.params);
      var inUrl = method === 'GET' || method === 'HEAD' || options.content !== undefined || options.data !== undefined;
      if (inUrl) {
        query = query ? query + '&' + encoded : encoded;
      } else {
        body = encoded;
        if (!hasHeader(headers, 'content-type')) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
      }
    }
    if (query) fullUrl += (fullUrl.indexOf('?') >= 0 ? '&' : '?') + query;
    if (options.data !== undefined) {
      body = JSON.stringify(options.data);
      if (!hasHeader(headers, 'content-type')) headers.push(['Content-Type', 'application/json']);
    } else if (options.content !== undefined) {
      body = String(options.content);
      if (!hasHeader(headers, 'content-type')) headers.push(['Content-Type', 'text/plain; charset=utf-8']);
    }
    if (options.auth) {
      var auth = String(options.auth);
      if (auth.indexOf(':') < 0) return { error: { message: 'auth option should be of the form "username:password"' } };
      headers.push(['Authorization', 'Basic ' + btoa(utf8Latin1(auth))]);
    }
    var raw = host.http(JSON.stringify({
      url: fullUrl,
      method: method,
      headers: headers,
      body: body,
      timeout: typeof options.timeout === 'number' ? options.timeout : null,
      redirect: options.followRedirects === false ? 'manual' : 'follow'
    }));
    var r = JSON.parse(raw);
    if (r.error) return { error: { message: r.error } };
    var hdrs = {};
    r.headers.forEach(function (p) { hdrs[p[0].toLowerCase()] = p[1]; });
    var data = null;
    try { data = JSON.parse(r.body); } catch (e) { data = null; }
    var result = { statusCode: r.status, headers: hdrs, content: r.body, data: data };
    if (r.status >= 400) {
      var err = { message: 'failed [' + r.status + '] ' + r.body.slice(0, 200), response: result };
      return { error: err };
    }
    return { result: result };
  }
  hide('HTTP', HTTP);
  hide('global', g);

  // ---- the kernel the host talks to ----
  var instance = null;
  var kernel = Object.freeze({
    init: function (cls) { instance = new cls(); },
    has: function (method) { return instance !== null && typeof instance[method] === 'function'; },
    call: function (method, args) { return instance[method](args); },
    // One crossing per call on the hot path: reset per-call state, parse the arguments, call. A missing
    // method answers with the kernel object itself, a value no script has a reason to return.
    invoke: function (method, argsJson) {
      timers = [];
      pending.clear();
      if (instance === null || typeof instance[method] !== 'function') return kernel;
      return instance[method](JSON.parse(argsJson));
    },
    // The same for an incoming hook: its `request` assembled from parts (see `HookRequestParts`).
    // `content` is the JSON text of `request.content`, or undefined when that is the raw body itself.
    invokeHookRequest: function (method, userId, content, headers, pathname, search, query, integrationId, token, contentRaw, uid, uname, uusername) {
      timers = [];
      pending.clear();
      if (instance === null || typeof instance[method] !== 'function') return kernel;
      var params = { integrationId: integrationId, token: token };
      if (userId != null) params.userId = userId;
      var body = JSON.parse(content === undefined ? contentRaw : content);
      var path = pathname + search;
      return instance[method]({
        request: {
          url: { hash: '', search: search, query: query ? JSON.parse(query) : {}, pathname: pathname, path: path },
          url_raw: path,
          url_params: params,
          content: body,
          body: body,
          content_raw: contentRaw,
          headers: headers,
          user: { _id: uid, name: uname, username: uusername }
        }
      });
    },
    begin: function () {
      timers = [];
      pending.clear();
    },
    deliver: function (id, raw) {
      var p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      var r = JSON.parse(raw);
      if (r.error) p.reject(new TypeError('fetch failed: ' + r.error));
      else p.resolve(makeResponse(r));
    },
    // Runs due timers; returns the milliseconds until the next one, or -1 when none is left.
    tick: function () {
      var now = Date.now();
      var due = timers.filter(function (t) { return t.due <= now; }).sort(function (a, b) { return a.due - b.due || a.id - b.id; });
      if (due.length) {
        timers = timers.filter(function (t) { return t.due > now; });
        due.forEach(function (t) {
          try { t.fn.apply(undefined, t.args); } catch (e) { host.log('error', 'Uncaught exception in timer: ' + inspect(e, 0, [])); }
        });
      }
      if (!timers.length) return -1;
      var next = Math.min.apply(null, timers.map(function (t) { return t.due; }));
      return Math.max(0, next - Date.now());
    },
    pendingFetches: function () { return pending.size; }
  });
  lock('__sb_kernel', kernel);
})
