// Switchboard's own implementation of the underscore.js API (the `_` global of Rocket.Chat's vm2 era).
// Written from the library's documented behaviour; it is not underscore's source.
(function () {
  var g = globalThis;
  var ObjProto = Object.prototype;
  var hasOwn = function (o, k) { return o != null && ObjProto.hasOwnProperty.call(o, k); };
  var toStr = function (o) { return ObjProto.toString.call(o); };

  function _(obj) {
    if (obj instanceof _) return obj;
    if (!(this instanceof _)) return new _(obj);
    this._wrapped = obj;
  }

  var isArrayLike = function (o) {
    if (o == null || typeof o === 'function') return false;
    var len = o.length;
    return typeof len === 'number' && len >= 0 && len % 1 === 0 && len <= Number.MAX_SAFE_INTEGER;
  };
  _.identity = function (v) { return v; };
  _.constant = function (v) { return function () { return v; }; };
  _.noop = function () {};
  _.isArray = Array.isArray;
  _.isObject = function (o) { var t = typeof o; return t === 'function' || (t === 'object' && !!o); };
  _.isFunction = function (o) { return typeof o === 'function'; };
  _.isString = function (o) { return typeof o === 'string' || toStr(o) === '[object String]'; };
  _.isNumber = function (o) { return typeof o === 'number' || toStr(o) === '[object Number]'; };
  _.isBoolean = function (o) { return o === true || o === false || toStr(o) === '[object Boolean]'; };
  _.isDate = function (o) { return toStr(o) === '[object Date]'; };
  _.isRegExp = function (o) { return toStr(o) === '[object RegExp]'; };
  _.isError = function (o) { return toStr(o) === '[object Error]' || o instanceof Error; };
  _.isSymbol = function (o) { return typeof o === 'symbol'; };
  _.isMap = function (o) { return toStr(o) === '[object Map]'; };
  _.isSet = function (o) { return toStr(o) === '[object Set]'; };
  _.isArguments = function (o) { return toStr(o) === '[object Arguments]'; };
  _.isNull = function (o) { return o === null; };
  _.isUndefined = function (o) { return o === void 0; };
  _.isNaN = function (o) { return _.isNumber(o) && isNaN(o); };
  _.isFinite = function (o) { return !_.isSymbol(o) && isFinite(o) && !isNaN(parseFloat(o)); };
  _.isElement = function () { return false; };
  _.isEmpty = function (o) {
    if (o == null) return true;
    if (isArrayLike(o) && (_.isArray(o) || _.isString(o) || _.isArguments(o))) return o.length === 0;
    if (_.isMap(o) || _.isSet(o)) return o.size === 0;
    return _.keys(o).length === 0;
  };

  _.keys = function (o) { return _.isObject(o) ? Object.keys(o) : []; };
  _.allKeys = function (o) { if (!_.isObject(o)) return []; var k = []; for (var key in o) k.push(key); return k; };
  _.values = function (o) { return _.keys(o).map(function (k) { return o[k]; }); };
  _.pairs = function (o) { return _.keys(o).map(function (k) { return [k, o[k]]; }); };
  _.invert = function (o) { var r = {}; _.keys(o).forEach(function (k) { r[o[k]] = k; }); return r; };
  _.functions = _.methods = function (o) { return _.allKeys(o).filter(function (k) { return typeof o[k] === 'function'; }).sort(); };
  _.has = function (o, path) {
    if (!_.isArray(path)) return hasOwn(o, path);
    for (var i = 0; i < path.length; i++) { if (!hasOwn(o, path[i])) return false; o = o[path[i]]; }
    return !!path.length;
  };
  function deepGet(o, path) {
    for (var i = 0; i < path.length; i++) { if (o == null) return void 0; o = o[path[i]]; }
    return path.length ? o : void 0;
  }
  _.property = function (path) {
    if (!_.isArray(path)) return function (o) { return o == null ? void 0 : o[path]; };
    return function (o) { return deepGet(o, path); };
  };
  _.propertyOf = function (o) { return function (path) { return _.isArray(path) ? deepGet(o, path) : (o == null ? void 0 : o[path]); }; };
  _.isMatch = function (o, attrs) {
    var keys = _.keys(attrs);
    if (o == null) return !keys.length;
    var obj = Object(o);
    return keys.every(function (k) { return attrs[k] === obj[k] && k in obj; });
  };
  _.matcher = _.matches = function (attrs) { attrs = _.extendOwn({}, attrs); return function (o) { return _.isMatch(o, attrs); }; };
  _.iteratee = function (v, ctx) {
    if (v == null) return _.identity;
    if (typeof v === 'function') return ctx === void 0 ? v : function () { return v.apply(ctx, arguments); };
    if (_.isObject(v) && !_.isArray(v)) return _.matcher(v);
    return _.property(v);
  };
  var cb = _.iteratee;

  // ---- collections ----
  _.each = _.forEach = function (o, fn, ctx) {
    if (o == null) return o;
    fn = cb(fn, ctx);
    if (isArrayLike(o)) { for (var i = 0; i < o.length; i++) fn(o[i], i, o); }
    else { var k = _.keys(o); for (var j = 0; j < k.length; j++) fn(o[k[j]], k[j], o); }
    return o;
  };
  _.map = _.collect = function (o, fn, ctx) {
    fn = cb(fn, ctx);
    var out = [];
    _.each(o, function (v, k, l) { out.push(fn(v, k, l)); });
    return out;
  };
  function reducer(dir) {
    return function (o, fn, memo, ctx) {
      fn = cb(fn, ctx);
      var keys = isArrayLike(o) ? null : _.keys(o);
      var len = (keys || o || []).length;
      var i = dir > 0 ? 0 : len - 1;
      var init = arguments.length >= 3;
      if (!init) {
        if (!len) throw new TypeError('Reduce of empty collection with no initial value');
        memo = o[keys ? keys[i] : i];
        i += dir;
      }
      for (; i >= 0 && i < len; i += dir) { var key = keys ? keys[i] : i; memo = fn(memo, o[key], key, o); }
      return memo;
    };
  }
  _.reduce = _.foldl = _.inject = reducer(1);
  _.reduceRight = _.foldr = reducer(-1);
  _.findKey = function (o, pred, ctx) { pred = cb(pred, ctx); var k = _.keys(o); for (var i = 0; i < k.length; i++) if (pred(o[k[i]], k[i], o)) return k[i]; };
  _.findIndex = function (a, pred, ctx) { pred = cb(pred, ctx); for (var i = 0; i < (a || []).length; i++) if (pred(a[i], i, a)) return i; return -1; };
  _.findLastIndex = function (a, pred, ctx) { pred = cb(pred, ctx); for (var i = (a || []).length - 1; i >= 0; i--) if (pred(a[i], i, a)) return i; return -1; };
  _.find = _.detect = function (o, pred, ctx) {
    var key = isArrayLike(o) ? _.findIndex(o, pred, ctx) : _.findKey(o, pred, ctx);
    if (key !== void 0 && key !== -1) return o[key];
  };
  _.filter = _.select = function (o, pred, ctx) {
    pred = cb(pred, ctx);
    var out = [];
    _.each(o, function (v, k, l) { if (pred(v, k, l)) out.push(v); });
    return out;
  };
  _.reject = function (o, pred, ctx) { pred = cb(pred, ctx); return _.filter(o, function (v, k, l) { return !pred(v, k, l); }); };
  _.every = _.all = function (o, pred, ctx) { pred = cb(pred, ctx); var ok = true; _.each(o, function (v, k, l) { if (ok && !pred(v, k, l)) ok = false; }); return ok; };
  _.some = _.any = function (o, pred, ctx) { pred = cb(pred, ctx); var ok = false; _.each(o, function (v, k, l) { if (!ok && pred(v, k, l)) ok = true; }); return ok; };
  _.contains = _.includes = _.include = function (o, item, from) {
    var vals = isArrayLike(o) ? Array.prototype.slice.call(o) : _.values(o);
    return _.indexOf(vals, item, typeof from === 'number' ? from : 0) >= 0;
  };
  _.invoke = function (o, method) {
    var args = Array.prototype.slice.call(arguments, 2);
    return _.map(o, function (v) {
      var f = typeof method === 'function' ? method : (v == null ? void 0 : v[method]);
      return f == null ? f : f.apply(v, args);
    });
  };
  _.pluck = function (o, key) { return _.map(o, _.property(key)); };
  _.where = function (o, attrs) { return _.filter(o, _.matcher(attrs)); };
  _.findWhere = function (o, attrs) { return _.find(o, _.matcher(attrs)); };
  function extreme(sign) {
    return function (o, fn, ctx) {
      var best = sign > 0 ? -Infinity : Infinity, bestComputed = best, result = best;
      var f = fn == null ? null : cb(fn, ctx);
      _.each(o, function (v, k, l) {
        var c = f ? f(v, k, l) : v;
        if (f ? (sign > 0 ? c > bestComputed : c < bestComputed) || (c === best && result === best) : (v != null && (sign > 0 ? c > bestComputed : c < bestComputed))) {
          result = v; bestComputed = c;
        }
      });
      return result;
    };
  }
  _.max = extreme(1);
  _.min = extreme(-1);
  _.shuffle = function (o) {
    var a = _.toArray(o);
    for (var i = a.length - 1; i > 0; i--) { var j = Math.floor(Math.random() * (i + 1)); var t = a[i]; a[i] = a[j]; a[j] = t; }
    return a;
  };
  _.sample = function (o, n) {
    var a = _.toArray(o);
    if (n == null) return a[_.random(a.length - 1)];
    return _.shuffle(a).slice(0, Math.max(0, n));
  };
  _.sortBy = function (o, fn, ctx) {
    fn = cb(fn, ctx);
    return _.map(o, function (v, k, l) { return { v: v, i: k, c: fn(v, k, l) }; })
      .sort(function (a, b) {
        var x = a.c, y = b.c;
        if (x !== y) {
          if (x > y || x === void 0) return 1;
          if (x < y || y === void 0) return -1;
        }
        return a.i - b.i;
      }).map(function (e) { return e.v; });
  };
  function grouper(add) {
    return function (o, fn, ctx) {
      fn = cb(fn, ctx);
      var out = {};
      _.each(o, function (v, i) { add(out, v, fn(v, i, o)); });
      return out;
    };
  }
  _.groupBy = grouper(function (r, v, k) { if (hasOwn(r, k)) r[k].push(v); else r[k] = [v]; });
  _.indexBy = grouper(function (r, v, k) { r[k] = v; });
  _.countBy = grouper(function (r, v, k) { if (hasOwn(r, k)) r[k]++; else r[k] = 1; });
  _.partition = function (o, pred, ctx) {
    pred = cb(pred, ctx);
    var pass = [], fail = [];
    _.each(o, function (v, k, l) { (pred(v, k, l) ? pass : fail).push(v); });
    return [pass, fail];
  };
  _.toArray = function (o) {
    if (!o) return [];
    if (_.isArray(o)) return o.slice();
    if (_.isString(o)) return Array.from(String(o));
    if (isArrayLike(o)) return Array.prototype.slice.call(o);
    return _.values(o);
  };
  _.size = function (o) { return o == null ? 0 : isArrayLike(o) ? o.length : _.keys(o).length; };

  // ---- arrays ----
  _.first = _.head = _.take = function (a, n, guard) {
    if (a == null || a.length < 1) return n == null || guard ? void 0 : [];
    if (n == null || guard) return a[0];
    return Array.prototype.slice.call(a, 0, Math.max(0, n));
  };
  _.initial = function (a, n, guard) { return Array.prototype.slice.call(a, 0, Math.max(0, a.length - (n == null || guard ? 1 : n))); };
  _.last = function (a, n, guard) {
    if (a == null || a.length < 1) return n == null || guard ? void 0 : [];
    if (n == null || guard) return a[a.length - 1];
    return Array.prototype.slice.call(a, Math.max(0, a.length - n));
  };
  _.rest = _.tail = _.drop = function (a, n, guard) { return Array.prototype.slice.call(a, n == null || guard ? 1 : n); };
  _.compact = function (a) { return _.filter(a, Boolean); };
  function flat(input, shallow, out) {
    for (var i = 0; i < input.length; i++) {
      var v = input[i];
      if (_.isArray(v) || _.isArguments(v)) {
        if (shallow === true) { for (var j = 0; j < v.length; j++) out.push(v[j]); }
        else if (typeof shallow === 'number' && shallow > 0) flat(v, shallow - 1 || true, out);
        else if (typeof shallow === 'number') out.push(v);
        else flat(v, shallow, out);
      } else out.push(v);
    }
    return out;
  }
  _.flatten = function (a, depth) { return flat(a || [], depth === true ? true : (depth === false || depth == null ? false : depth), []); };
  _.indexOf = function (a, item, from) {
    a = a || [];
    var i = typeof from === 'number' ? (from < 0 ? Math.max(0, a.length + from) : from) : 0;
    for (; i < a.length; i++) if (a[i] === item || (item !== item && a[i] !== a[i])) return i;
    return -1;
  };
  _.lastIndexOf = function (a, item, from) {
    a = a || [];
    var i = typeof from === 'number' ? (from < 0 ? a.length + from : Math.min(from, a.length - 1)) : a.length - 1;
    for (; i >= 0; i--) if (a[i] === item || (item !== item && a[i] !== a[i])) return i;
    return -1;
  };
  _.uniq = _.unique = function (a, isSorted, fn, ctx) {
    if (typeof isSorted !== 'boolean') { ctx = fn; fn = isSorted; isSorted = false; }
    var f = fn == null ? null : cb(fn, ctx);
    var out = [], seen = [];
    _.each(a, function (v, i) {
      var c = f ? f(v, i, a) : v;
      if (isSorted && !f) { if (!i || seen[0] !== c) { out.push(v); seen[0] = c; } }
      else if (_.indexOf(seen, c) < 0) { seen.push(c); out.push(v); }
    });
    return out;
  };
  _.union = function () { return _.uniq(flat(Array.prototype.slice.call(arguments), true, [])); };
  _.intersection = function (a) {
    var others = Array.prototype.slice.call(arguments, 1);
    return _.uniq(a).filter(function (v) { return others.every(function (o) { return _.contains(o, v); }); });
  };
  _.difference = function (a) {
    var rest = flat(Array.prototype.slice.call(arguments, 1), true, []);
    return _.filter(a, function (v) { return !_.contains(rest, v); });
  };
  _.without = function (a) { return _.difference(a, Array.prototype.slice.call(arguments, 1)); };
  _.unzip = function (arrays) {
    var len = arrays && _.max(arrays, 'length').length || 0;
    var out = [];
    for (var i = 0; i < len; i++) out.push(_.pluck(arrays, i));
    return out;
  };
  _.zip = function () { return _.unzip(Array.prototype.slice.call(arguments)); };
  _.object = function (list, values) {
    var r = {};
    for (var i = 0; i < (list || []).length; i++) { if (values) r[list[i]] = values[i]; else r[list[i][0]] = list[i][1]; }
    return r;
  };
  _.sortedIndex = function (a, obj, fn, ctx) {
    fn = cb(fn, ctx);
    var v = fn(obj), lo = 0, hi = a.length;
    while (lo < hi) { var mid = Math.floor((lo + hi) / 2); if (fn(a[mid]) < v) lo = mid + 1; else hi = mid; }
    return lo;
  };
  _.range = function (start, stop, step) {
    if (stop == null) { stop = start || 0; start = 0; }
    if (!step) step = stop < start ? -1 : 1;
    var len = Math.max(Math.ceil((stop - start) / step), 0), out = new Array(len);
    for (var i = 0; i < len; i++, start += step) out[i] = start;
    return out;
  };
  _.chunk = function (a, n) {
    if (n == null || n < 1) return [];
    var out = [];
    for (var i = 0; i < a.length; i += n) out.push(Array.prototype.slice.call(a, i, i + n));
    return out;
  };

  // ---- functions ----
  _.bind = function (f, ctx) { var a = Array.prototype.slice.call(arguments, 2); return function () { return f.apply(ctx, a.concat(Array.prototype.slice.call(arguments))); }; };
  _.partial = function (f) {
    var bound = Array.prototype.slice.call(arguments, 1);
    return function () {
      var i = 0, a = arguments;
      var args = bound.map(function (b) { return b === _ ? a[i++] : b; });
      while (i < a.length) args.push(a[i++]);
      return f.apply(this, args);
    };
  };
  _.memoize = function (f, hasher) {
    var memo = function (key) {
      var cache = memo.cache, addr = '' + (hasher ? hasher.apply(this, arguments) : key);
      if (!hasOwn(cache, addr)) cache[addr] = f.apply(this, arguments);
      return cache[addr];
    };
    memo.cache = {};
    return memo;
  };
  _.once = function (f) { var done = false, r; return function () { if (!done) { done = true; r = f.apply(this, arguments); f = null; } return r; }; };
  _.after = function (n, f) { return function () { if (--n < 1) return f.apply(this, arguments); }; };
  _.before = function (n, f) { var r; return function () { if (--n > 0) r = f.apply(this, arguments); if (n <= 1) f = null; return r; }; };
  _.wrap = function (f, wrapper) { return _.partial(wrapper, f); };
  _.negate = function (pred) { return function () { return !pred.apply(this, arguments); }; };
  _.compose = function () {
    var fns = arguments, start = fns.length - 1;
    return function () { var i = start, r = fns[start].apply(this, arguments); while (i--) r = fns[i].call(this, r); return r; };
  };
  _.delay = function (f, wait) { var a = Array.prototype.slice.call(arguments, 2); return g.setTimeout(function () { f.apply(null, a); }, wait); };
  _.defer = function (f) { return _.delay.apply(_, [f, 1].concat(Array.prototype.slice.call(arguments, 1))); };

  // ---- objects ----
  function assigner(keysFn, defaults) {
    return function (o) {
      if (o == null) return o;
      o = Object(o);
      for (var i = 1; i < arguments.length; i++) {
        var src = arguments[i], ks = keysFn(src);
        for (var j = 0; j < ks.length; j++) if (!defaults || o[ks[j]] === void 0) o[ks[j]] = src[ks[j]];
      }
      return o;
    };
  }
  _.extend = assigner(_.allKeys);
  _.extendOwn = _.assign = assigner(_.keys);
  _.defaults = assigner(_.allKeys, true);
  _.create = function (proto, props) { var r = Object.create(proto); if (props) _.extendOwn(r, props); return r; };
  _.clone = function (o) { return !_.isObject(o) ? o : _.isArray(o) ? o.slice() : _.extend({}, o); };
  _.tap = function (o, f) { f(o); return o; };
  _.mapObject = function (o, fn, ctx) { fn = cb(fn, ctx); var r = {}; _.keys(o).forEach(function (k) { r[k] = fn(o[k], k, o); }); return r; };
  _.pick = function (o, pred) {
    var r = {};
    if (o == null) return r;
    var keys;
    if (typeof pred === 'function') {
      var f = arguments.length > 2 ? _.bind(pred, arguments[2]) : pred;
      _.allKeys(o).forEach(function (k) { if (f(o[k], k, o)) r[k] = o[k]; });
      return r;
    }
    keys = flat(Array.prototype.slice.call(arguments, 1), false, []);
    var obj = Object(o);
    keys.forEach(function (k) { if (k in obj) r[k] = obj[k]; });
    return r;
  };
  _.omit = function (o, pred) {
    if (typeof pred === 'function') { var f = _.negate(pred); return _.pick(o, function (v, k, l) { return f(v, k, l); }); }
    var keys = flat(Array.prototype.slice.call(arguments, 1), false, []).map(String);
    return _.pick(o, function (v, k) { return keys.indexOf(k) < 0; });
  };
  function eq(a, b, aStack, bStack) {
    if (a === b) return a !== 0 || 1 / a === 1 / b;
    if (a == null || b == null) return false;
    if (a !== a) return b !== b;
    var ta = typeof a;
    if (ta !== 'function' && ta !== 'object' && typeof b !== 'object') return false;
    var cls = toStr(a);
    if (cls !== toStr(b)) return false;
    switch (cls) {
      case '[object RegExp]': case '[object String]': return '' + a === '' + b;
      case '[object Number]': if (+a !== +a) return +b !== +b; return +a === 0 ? 1 / +a === 1 / b : +a === +b;
      case '[object Date]': case '[object Boolean]': return +a === +b;
      case '[object Symbol]': return Symbol.prototype.valueOf.call(a) === Symbol.prototype.valueOf.call(b);
    }
    var areArrays = cls === '[object Array]';
    if (!areArrays) {
      if (typeof a !== 'object' || typeof b !== 'object') return false;
      var ac = a.constructor, bc = b.constructor;
      if (ac !== bc && !(typeof ac === 'function' && ac instanceof ac && typeof bc === 'function' && bc instanceof bc) && ('constructor' in a && 'constructor' in b)) return false;
    }
    var len = aStack.length;
    while (len--) if (aStack[len] === a) return bStack[len] === b;
    aStack.push(a); bStack.push(b);
    if (areArrays) {
      if (a.length !== b.length) return false;
      for (var i = a.length; i--;) if (!eq(a[i], b[i], aStack, bStack)) return false;
    } else {
      var keys = _.keys(a);
      if (_.keys(b).length !== keys.length) return false;
      for (var j = keys.length; j--;) if (!(hasOwn(b, keys[j]) && eq(a[keys[j]], b[keys[j]], aStack, bStack))) return false;
    }
    aStack.pop(); bStack.pop();
    return true;
  }
  _.isEqual = function (a, b) { return eq(a, b, [], []); };

  // ---- utility ----
  _.times = function (n, fn, ctx) { fn = cb(fn, ctx); var out = []; for (var i = 0; i < Math.max(0, n); i++) out.push(fn(i)); return out; };
  _.random = function (min, max) { if (max == null) { max = min; min = 0; } return min + Math.floor(Math.random() * (max - min + 1)); };
  _.now = Date.now;
  var idCounter = 0;
  _.uniqueId = function (prefix) { var id = ++idCounter + ''; return prefix ? prefix + id : id; };
  var escapeMap = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;' };
  var unescapeMap = _.invert(escapeMap);
  unescapeMap['&#39;'] = "'";
  _.escape = function (s) { return s == null ? '' : String(s).replace(/[&<>"'`]/g, function (c) { return escapeMap[c]; }); };
  _.unescape = function (s) { return s == null ? '' : String(s).replace(/&(?:amp|lt|gt|quot|#x27|#x60|#39);/g, function (c) { return unescapeMap[c]; }); };
  _.result = function (o, path, fallback) {
    if (!_.isArray(path)) path = [path];
    if (!path.length) return typeof fallback === 'function' ? fallback.call(o) : fallback;
    for (var i = 0; i < path.length; i++) {
      var prop = o == null ? void 0 : o[path[i]];
      if (prop === void 0) { prop = fallback; i = path.length; }
      o = typeof prop === 'function' ? prop.call(o) : prop;
    }
    return o;
  };
  _.templateSettings = { evaluate: /<%([\s\S]+?)%>/g, interpolate: /<%=([\s\S]+?)%>/g, escape: /<%-([\s\S]+?)%>/g };
  _.template = function (text, settings) {
    settings = _.defaults({}, settings, _.templateSettings);
    var matcher = new RegExp([(settings.escape || /(?!)/).source, (settings.interpolate || /(?!)/).source, (settings.evaluate || /(?!)/).source].join('|') + '|$', 'g');
    var index = 0, source = "__p+='";
    var esc = { "'": "'", '\\': '\\', '\r': 'r', '\n': 'n', '\u2028': 'u2028', '\u2029': 'u2029' };
    text = String(text);
    text.replace(matcher, function (match, escape, interpolate, evaluate, offset) {
      source += text.slice(index, offset).replace(/\\|'|\r|\n|\u2028|\u2029/g, function (c) { return '\\' + esc[c]; });
      index = offset + match.length;
      if (escape) source += "'+\n((__t=(" + escape + "))==null?'':_.escape(__t))+\n'";
      else if (interpolate) source += "'+\n((__t=(" + interpolate + "))==null?'':__t)+\n'";
      else if (evaluate) source += "';\n" + evaluate + "\n__p+='";
      return match;
    });
    source += "';\n";
    var arg = settings.variable || 'obj';
    if (!settings.variable) source = 'with(obj||{}){\n' + source + '}\n';
    source = "var __t,__p='',__j=Array.prototype.join,print=function(){__p+=__j.call(arguments,'');};\n" + source + 'return __p;\n';
    var render = new Function(arg, '_', source);
    var template = function (data) { return render.call(this, data, _); };
    template.source = 'function(' + arg + '){\n' + source + '}';
    return template;
  };

  // ---- chaining and OOP style ----
  _.chain = function (o) { var w = _(o); w._chain = true; return w; };
  function chainResult(inst, o) { return inst._chain ? _.chain(o) : o; }
  _.mixin = function (o) {
    _.functions(o).forEach(function (name) {
      var f = _[name] = o[name];
      _.prototype[name] = function () {
        var args = [this._wrapped];
        Array.prototype.push.apply(args, arguments);
        return chainResult(this, f.apply(_, args));
      };
    });
    return _;
  };
  _.mixin(_);
  ['pop', 'push', 'reverse', 'shift', 'sort', 'splice', 'unshift'].forEach(function (name) {
    var method = Array.prototype[name];
    _.prototype[name] = function () {
      method.apply(this._wrapped, arguments);
      return chainResult(this, this._wrapped);
    };
  });
  ['concat', 'join', 'slice'].forEach(function (name) {
    var method = Array.prototype[name];
    _.prototype[name] = function () { return chainResult(this, method.apply(this._wrapped, arguments)); };
  });
  _.prototype.value = _.prototype.valueOf = _.prototype.toJSON = function () { return this._wrapped; };
  _.prototype.toString = function () { return String(this._wrapped); };
  _.VERSION = '1.13.6';

  Object.defineProperty(g, '_', { value: _, writable: true, configurable: true, enumerable: false });
})();
