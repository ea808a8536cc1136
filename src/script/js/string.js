// Switchboard's own implementation of the underscore.string API (the `s` global of Rocket.Chat scripts).
// Written from the library's documented behaviour; it is not underscore.string's source.
(function () {
  var g = globalThis;
  function str(v) { return v == null ? '' : String(v); }
  function escapeRe(v) { return str(v).replace(/([.*+?^=!:${}()|[\]\/\\])/g, '\\$1'); }
  function charSet(chars) {
    if (chars == null) return '\\s';
    if (chars.source) return chars.source;
    return '[' + escapeRe(chars) + ']';
  }

  function s(value) {
    if (!(this instanceof s)) return new s(value);
    this._wrapped = value;
  }

  s.trim = function (v, chars) {
    v = str(v);
    if (chars == null) return v.trim();
    var c = charSet(chars);
    return v.replace(new RegExp('^' + c + '+|' + c + '+$', 'g'), '');
  };
  s.strip = s.trim;
  s.ltrim = function (v, chars) { v = str(v); if (chars == null) return v.replace(/^\s+/, ''); return v.replace(new RegExp('^' + charSet(chars) + '+'), ''); };
  s.lstrip = s.ltrim;
  s.rtrim = function (v, chars) { v = str(v); if (chars == null) return v.replace(/\s+$/, ''); return v.replace(new RegExp(charSet(chars) + '+$'), ''); };
  s.rstrip = s.rtrim;
  s.isBlank = function (v) { return /^\s*$/.test(str(v)); };
  s.capitalize = function (v, lowerRest) { v = str(v); var rest = v.slice(1); return v.charAt(0).toUpperCase() + (lowerRest ? rest.toLowerCase() : rest); };
  s.decapitalize = function (v) { v = str(v); return v.charAt(0).toLowerCase() + v.slice(1); };
  s.chars = function (v) { return str(v).split(''); };
  s.swapCase = function (v) { return str(v).replace(/\S/g, function (c) { return c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase(); }); };
  var htmlEscapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  s.escapeHTML = function (v) { return str(v).replace(/[&<>"']/g, function (c) { return htmlEscapes[c]; }); };
  var named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae', cent: '\u00a2', pound: '\u00a3', euro: '\u20ac', yen: '\u00a5' };
  s.unescapeHTML = function (v) {
    return str(v).replace(/&([^;\s]+);/g, function (m, ent) {
      var n;
      if (ent in named) return named[ent];
      if ((n = ent.match(/^#x([\da-fA-F]+)$/))) return String.fromCodePoint(parseInt(n[1], 16));
      if ((n = ent.match(/^#(\d+)$/))) return String.fromCodePoint(parseInt(n[1], 10));
      return m;
    });
  };
  s.include = s.contains = function (v, needle) { return needle === '' || str(v).indexOf(needle) !== -1; };
  s.count = function (v, sub) {
    v = str(v); sub = str(sub);
    if (!v.length || !sub.length) return 0;
    var n = 0, pos = 0;
    while ((pos = v.indexOf(sub, pos)) >= 0) { n++; pos += sub.length; }
    return n;
  };
  s.startsWith = function (v, starts, position) {
    v = str(v); starts = str(starts);
    position = position == null ? 0 : Math.min(Math.max(position, 0), v.length);
    return v.lastIndexOf(starts, position) === position;
  };
  s.endsWith = function (v, ends, position) {
    v = str(v); ends = str(ends);
    position = position == null ? v.length - ends.length : Math.min(Math.max(position, 0), v.length) - ends.length;
    return position >= 0 && v.indexOf(ends, position) === position;
  };
  s.splice = function (v, i, howmany, substr) { var arr = s.chars(v); arr.splice(~~i, ~~howmany, substr); return arr.join(''); };
  s.insert = function (v, i, substr) { return s.splice(v, i, 0, substr); };
  s.replaceAll = function (v, find, replace, ignorecase) { return str(v).replace(new RegExp(escapeRe(find), ignorecase ? 'gi' : 'g'), replace); };
  s.join = function (sep) { return Array.prototype.slice.call(arguments, 1).map(str).join(str(sep)); };
  s.lines = function (v) { return v == null ? [] : String(v).split(/\r\n?|\n/); };
  s.dedent = function (v) {
    var lines = s.lines(v), min = Infinity;
    lines.forEach(function (l) { if (/\S/.test(l)) min = Math.min(min, l.match(/^[ \t]*/)[0].length); });
    return min === Infinity ? str(v) : lines.map(function (l) { return l.slice(min); }).join('\n');
  };
  s.reverse = function (v) { return Array.from(str(v)).reverse().join(''); };
  s.clean = function (v) { return s.trim(v).replace(/\s\s+/g, ' '); };
  s.cleanDiacritics = function (v) { return str(v).normalize('NFD').replace(/[\u0300-\u036f]/g, ''); };
  s.repeat = function (v, n, sep) {
    v = str(v); n = ~~n;
    if (sep == null) return n > 0 ? v.repeat(n) : '';
    var out = [];
    for (var i = 0; i < n; i++) out.push(v);
    return out.join(str(sep));
  };
  s.surround = function (v, wrapper) { return [wrapper, v, wrapper].join(''); };
  s.wrap = function (v, opts) {
    opts = opts || {};
    var width = opts.width || 75, sep = opts.seperator || opts.separator || '\n';
    var words = str(v).split(' '), lines = [], line = '';
    words.forEach(function (w) {
      if (line.length && (line + ' ' + w).length > width) { lines.push(line); line = w; }
      else line = line.length ? line + ' ' + w : w;
    });
    if (line.length) lines.push(line);
    return lines.join(sep);
  };
  s.quote = s.q = function (v, q) { return s.surround(v, q || '"'); };
  s.unquote = function (v, q) { v = str(v); q = q || '"'; return v[0] === q && v[v.length - 1] === q && v.length > 1 ? v.slice(1, -1) : v; };
  s.pad = function (v, length, padStr, type) {
    v = str(v); length = ~~length;
    padStr = padStr == null ? ' ' : str(padStr).charAt(0) || ' ';
    var padlen = length - v.length;
    if (padlen <= 0) return v;
    if (type === 'right') return v + padStr.repeat(padlen);
    if (type === 'both') return padStr.repeat(Math.ceil(padlen / 2)) + v + padStr.repeat(Math.floor(padlen / 2));
    return padStr.repeat(padlen) + v;
  };
  s.lpad = function (v, l, p) { return s.pad(v, l, p); };
  s.rpad = function (v, l, p) { return s.pad(v, l, p, 'right'); };
  s.lrpad = function (v, l, p) { return s.pad(v, l, p, 'both'); };
  s.truncate = function (v, length, truncateStr) {
    v = str(v); truncateStr = truncateStr == null ? '...' : truncateStr; length = ~~length;
    return v.length > length ? v.slice(0, length) + truncateStr : v;
  };
  s.prune = function (v, length, pruneStr) {
    v = str(v); length = ~~length; pruneStr = pruneStr == null ? '...' : str(pruneStr);
    if (v.length <= length) return v;
    var cut = v.slice(0, length + 1);
    var idx = cut.search(/\W\w*$/);
    var template = idx > 0 ? v.slice(0, idx) : '';
    if (template.length + pruneStr.length > length) template = template.replace(/\W+\w*$/, '');
    template = template.replace(/\W+$/, '');
    return template.length + pruneStr.length > v.length ? v : template + pruneStr;
  };
  s.words = function (v, delimiter) {
    if (s.isBlank(v)) return [];
    return s.trim(v, delimiter).split(delimiter == null ? /\s+/ : (delimiter.source ? delimiter : new RegExp(charSet(delimiter) + '+')));
  };
  s.strLeft = function (v, sep) { v = str(v); var i = sep ? v.indexOf(sep) : -1; return i >= 0 ? v.slice(0, i) : v; };
  s.strRight = function (v, sep) { v = str(v); var i = sep ? v.indexOf(sep) : -1; return i >= 0 ? v.slice(i + sep.length) : v; };
  s.strLeftBack = function (v, sep) { v = str(v); var i = sep ? v.lastIndexOf(sep) : -1; return i >= 0 ? v.slice(0, i) : v; };
  s.strRightBack = function (v, sep) { v = str(v); var i = sep ? v.lastIndexOf(sep) : -1; return i >= 0 ? v.slice(i + sep.length) : v; };
  s.camelize = function (v, decap) {
    v = s.trim(v).replace(/[-_\s]+(.)?/g, function (m, c) { return c ? c.toUpperCase() : ''; });
    return decap ? s.decapitalize(v) : v;
  };
  s.classify = function (v) { return s.capitalize(s.camelize(str(v).replace(/[\W_]/g, ' ')).replace(/\s/g, '')); };
  s.underscored = function (v) { return s.trim(v).replace(/([a-z\d])([A-Z]+)/g, '$1_$2').replace(/[-\s]+/g, '_').toLowerCase(); };
  s.dasherize = function (v) { return s.trim(v).replace(/([A-Z])/g, '-$1').replace(/[-_\s]+/g, '-').toLowerCase(); };
  s.humanize = function (v) { return s.capitalize(s.trim(s.underscored(v).replace(/_id$/, '').replace(/_/g, ' '))); };
  s.titleize = function (v) { return str(v).toLowerCase().replace(/(?:^|\s|-)\S/g, function (c) { return c.toUpperCase(); }); };
  s.slugify = function (v) {
    return s.cleanDiacritics(str(v)).toLowerCase().replace(/[^\w\s-]/g, '-').replace(/[\s_-]+/g, '-').replace(/^-+|-+$/g, '');
  };
  s.succ = function (v) { v = str(v); return v.slice(0, -1) + String.fromCharCode(v.charCodeAt(v.length - 1) + 1); };
  s.pred = function (v) { v = str(v); return v.slice(0, -1) + String.fromCharCode(v.charCodeAt(v.length - 1) - 1); };
  s.numberFormat = function (number, dec, dsep, tsep) {
    if (isNaN(number) || number == null) return '';
    dec = ~~dec;
    number = Number(number).toFixed(dec);
    tsep = typeof tsep === 'string' ? tsep : ',';
    var parts = number.split('.'), fnums = parts[0];
    var decimals = parts[1] ? (dsep || '.') + parts[1] : '';
    return fnums.replace(/(\d)(?=(?:\d{3})+$)/g, '$1' + tsep) + decimals;
  };
  s.toNumber = function (v, decimals) {
    if (v == null) return 0;
    var factor = Math.pow(10, isFinite(decimals) ? decimals : 0);
    return Math.round(Number(String(v).trim()) * factor) / factor;
  };
  s.toBoolean = function (v, truthy, falsy) {
    if (typeof v === 'number') v = '' + v;
    if (typeof v !== 'string') return !!v;
    v = v.trim();
    var t = truthy || ['true', '1'], f = falsy || ['false', '0'];
    function matches(list) { return list.some(function (x) { return x instanceof RegExp ? x.test(v) : x === v; }); }
    if (matches(t)) return true;
    if (matches(f)) return false;
  };
  s.sprintf = function (fmt) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return str(fmt).replace(/%(?:(\d+)\$)?([+-])?(0|'.)?(-)?(\d+)?(?:\.(\d+))?([%bcdeEfFgGiosuxXj])/g,
      function (m, argn, sign, padSpec, left, width, prec, type) {
        if (type === '%') return '%';
        var a = argn ? args[argn - 1] : args[i++], out;
        switch (type) {
          case 'b': out = (parseInt(a, 10) >>> 0).toString(2); break;
          case 'c': out = String.fromCharCode(parseInt(a, 10)); break;
          case 'd': case 'i': out = String(parseInt(a, 10)); break;
          case 'u': out = String(parseInt(a, 10) >>> 0); break;
          case 'e': case 'E': out = prec ? Number(a).toExponential(prec) : Number(a).toExponential(); if (type === 'E') out = out.toUpperCase(); break;
          case 'f': case 'F': out = prec != null ? parseFloat(a).toFixed(prec) : String(parseFloat(a)); break;
          case 'g': case 'G': out = prec ? Number(a).toPrecision(prec) : String(parseFloat(a)); break;
          case 'o': out = (parseInt(a, 10) >>> 0).toString(8); break;
          case 'x': out = (parseInt(a, 10) >>> 0).toString(16); break;
          case 'X': out = (parseInt(a, 10) >>> 0).toString(16).toUpperCase(); break;
          case 'j': out = JSON.stringify(a); break;
          default: out = str(a); if (prec) out = out.slice(0, prec);
        }
        if (sign === '+' && /[deEfFgGi]/.test(type) && Number(a) >= 0) out = '+' + out;
        var padChar = padSpec ? (padSpec === '0' ? '0' : padSpec.charAt(1)) : ' ';
        if (width && out.length < width) {
          var pad = padChar.repeat(width - out.length);
          out = left || sign === '-' ? out + (padChar === '0' ? ' '.repeat(pad.length) : pad) : pad + out;
        }
        return out;
      });
  };
  s.vsprintf = function (fmt, argv) { return s.sprintf.apply(null, [fmt].concat(argv)); };
  s.levenshtein = function (a, b) {
    a = str(a); b = str(b);
    var prev = [], cur;
    for (var j = 0; j <= b.length; j++) prev[j] = j;
    for (var i = 1; i <= a.length; i++) {
      cur = [i];
      for (var k = 1; k <= b.length; k++) cur[k] = Math.min(prev[k] + 1, cur[k - 1] + 1, prev[k - 1] + (a[i - 1] === b[k - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length];
  };
  s.naturalCmp = function (a, b) { return str(a).localeCompare(str(b), undefined, { numeric: true }); };
  s.toSentence = function (arr, delimiter, lastDelimiter, serial) {
    delimiter = delimiter || ', '; lastDelimiter = lastDelimiter || ' and ';
    var a = arr.slice(), last = a.pop();
    if (arr.length > 2 && serial) lastDelimiter = s.rtrim(delimiter) + lastDelimiter;
    return a.length ? a.join(delimiter) + lastDelimiter + last : str(last);
  };
  s.toSentenceSerial = function (arr, d, l) { return s.toSentence(arr, d, l, true); };
  s.stripTags = function (v) { return str(v).replace(/<\/?[^>]+>/g, ''); };
  s.map = function (v, fn) { return str(v).split('').map(fn).join(''); };
  s.chop = function (v, step) { v = str(v); step = ~~step; return step > 0 ? v.match(new RegExp('.{1,' + step + '}', 'g')) : [v]; };
  s.isEmpty = s.isBlank;

  // Chaining: s(x).trim().capitalize().value()
  Object.keys(s).forEach(function (name) {
    s.prototype[name] = function () {
      var args = [this._wrapped].concat(Array.prototype.slice.call(arguments));
      var r = s[name].apply(s, args);
      return typeof r === 'string' ? (this._wrapped = r, this) : r;
    };
  });
  s.prototype.value = s.prototype.toString = s.prototype.valueOf = function () { return this._wrapped; };
  s.VERSION = '3.3.6';

  Object.defineProperty(g, 's', { value: s, writable: true, configurable: true, enumerable: false });
})();
