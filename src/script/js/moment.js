// Switchboard's own implementation of the commonly used part of moment.js's API (English only).
// Written from the library's documented behaviour; it is not moment's source.
(function () {
  var g = globalThis;
  var MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  var DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var UNIT = {
    y: 'year', year: 'year', years: 'year', Q: 'quarter', quarter: 'quarter', quarters: 'quarter',
    M: 'month', month: 'month', months: 'month', w: 'week', week: 'week', weeks: 'week',
    isoWeek: 'isoWeek', isoWeeks: 'isoWeek',
    d: 'day', day: 'day', days: 'day', D: 'date', date: 'date', dates: 'date',
    h: 'hour', hour: 'hour', hours: 'hour', m: 'minute', minute: 'minute', minutes: 'minute',
    s: 'second', second: 'second', seconds: 'second', ms: 'millisecond', millisecond: 'millisecond', milliseconds: 'millisecond'
  };
  var MS = { millisecond: 1, second: 1e3, minute: 6e4, hour: 36e5, day: 864e5, date: 864e5, week: 6048e5 };
  function unit(u) { return u == null ? undefined : UNIT[u] || UNIT[String(u).toLowerCase()] || String(u); }
  function pad(n, w) { var sgn = n < 0 ? '-' : ''; n = String(Math.abs(n)); while (n.length < w) n = '0' + n; return sgn + n; }
  function ordinal(n) {
    var b = n % 10, t = n % 100;
    return n + (t >= 11 && t <= 13 ? 'th' : b === 1 ? 'st' : b === 2 ? 'nd' : b === 3 ? 'rd' : 'th');
  }

  function Moment(date, utc) {
    this._d = date;
    this._isUTC = !!utc;
    this._isAMomentObject = true;
  }
  var P = Moment.prototype;
  function get(m, what) {
    var d = m._d, u = m._isUTC;
    switch (what) {
      case 'year': return u ? d.getUTCFullYear() : d.getFullYear();
      case 'month': return u ? d.getUTCMonth() : d.getMonth();
      case 'date': return u ? d.getUTCDate() : d.getDate();
      case 'day': return u ? d.getUTCDay() : d.getDay();
      case 'hour': return u ? d.getUTCHours() : d.getHours();
      case 'minute': return u ? d.getUTCMinutes() : d.getMinutes();
      case 'second': return u ? d.getUTCSeconds() : d.getSeconds();
      case 'millisecond': return u ? d.getUTCMilliseconds() : d.getMilliseconds();
    }
  }
  function set(m, what, v) {
    var d = m._d, u = m._isUTC;
    switch (what) {
      case 'year': u ? d.setUTCFullYear(v) : d.setFullYear(v); break;
      case 'month': u ? d.setUTCMonth(v) : d.setMonth(v); break;
      case 'date': u ? d.setUTCDate(v) : d.setDate(v); break;
      case 'day': set(m, 'date', get(m, 'date') + v - get(m, 'day')); break;
      case 'hour': u ? d.setUTCHours(v) : d.setHours(v); break;
      case 'minute': u ? d.setUTCMinutes(v) : d.setMinutes(v); break;
      case 'second': u ? d.setUTCSeconds(v) : d.setSeconds(v); break;
      case 'millisecond': u ? d.setUTCMilliseconds(v) : d.setMilliseconds(v); break;
    }
    return m;
  }
  function daysIn(y, mo) { return new Date(Date.UTC(y, mo + 1, 0)).getUTCDate(); }
  function offsetMinutes(m) { return m._isUTC ? 0 : -m._d.getTimezoneOffset(); }
  function zone(m, sep) {
    var o = offsetMinutes(m), sign = o < 0 ? '-' : '+';
    o = Math.abs(o);
    return sign + pad(Math.floor(o / 60), 2) + sep + pad(o % 60, 2);
  }

  var TOKENS = /\[([^\]]*)]|LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l|YYYYYY|YYYY|YY|Y|Qo|Q|MMMM|MMM|Mo|MM|M|DDDD|DDDo|DDD|Do|DD|D|dddd|ddd|do|dd|d|E|e|GGGG|gggg|WW|W|ww|w|HH|H|hh|h|kk|k|mm|m|ss|s|SSSS|SSS|SS|S|A|a|ZZ|Z|X|x/g;
  var LONG = { LT: 'h:mm A', LTS: 'h:mm:ss A', L: 'MM/DD/YYYY', LL: 'MMMM D, YYYY', LLL: 'MMMM D, YYYY h:mm A', LLLL: 'dddd, MMMM D, YYYY h:mm A', l: 'M/D/YYYY', ll: 'MMM D, YYYY', lll: 'MMM D, YYYY h:mm A', llll: 'ddd, MMM D, YYYY h:mm A' };
  function isoWeek(m) {
    var d = new Date(Date.UTC(get(m, 'year'), get(m, 'month'), get(m, 'date')));
    var day = d.getUTCDay() || 7;
    d.setUTCDate(d.getUTCDate() + 4 - day);
    var yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
    return { week: Math.ceil(((d - yearStart) / 864e5 + 1) / 7), year: d.getUTCFullYear() };
  }
  function dayOfYear(m) {
    return Math.round((Date.UTC(get(m, 'year'), get(m, 'month'), get(m, 'date')) - Date.UTC(get(m, 'year'), 0, 1)) / 864e5) + 1;
  }
  function fmtToken(m, t) {
    var h = get(m, 'hour');
    switch (t) {
      case 'YYYYYY': var y6 = get(m, 'year'); return (y6 < 0 ? '-' : '+') + pad(Math.abs(y6), 6);
      case 'YYYY': return pad(get(m, 'year'), 4);
      case 'YY': return pad(get(m, 'year') % 100, 2);
      case 'Y': return String(get(m, 'year'));
      case 'Q': return String(Math.floor(get(m, 'month') / 3) + 1);
      case 'Qo': return ordinal(Math.floor(get(m, 'month') / 3) + 1);
      case 'MMMM': return MONTHS[get(m, 'month')];
      case 'MMM': return MONTHS[get(m, 'month')].slice(0, 3);
      case 'MM': return pad(get(m, 'month') + 1, 2);
      case 'Mo': return ordinal(get(m, 'month') + 1);
      case 'M': return String(get(m, 'month') + 1);
      case 'DDDD': return pad(dayOfYear(m), 3);
      case 'DDDo': return ordinal(dayOfYear(m));
      case 'DDD': return String(dayOfYear(m));
      case 'DD': return pad(get(m, 'date'), 2);
      case 'Do': return ordinal(get(m, 'date'));
      case 'D': return String(get(m, 'date'));
      case 'dddd': return DAYS[get(m, 'day')];
      case 'ddd': return DAYS[get(m, 'day')].slice(0, 3);
      case 'dd': return DAYS[get(m, 'day')].slice(0, 2);
      case 'do': return ordinal(get(m, 'day'));
      case 'd': case 'e': return String(get(m, 'day'));
      case 'E': return String(get(m, 'day') || 7);
      case 'W': case 'w': return String(isoWeek(m).week);
      case 'WW': case 'ww': return pad(isoWeek(m).week, 2);
      case 'GGGG': case 'gggg': return pad(isoWeek(m).year, 4);
      case 'HH': return pad(h, 2);
      case 'H': return String(h);
      case 'hh': return pad(h % 12 || 12, 2);
      case 'h': return String(h % 12 || 12);
      case 'kk': return pad(h || 24, 2);
      case 'k': return String(h || 24);
      case 'mm': return pad(get(m, 'minute'), 2);
      case 'm': return String(get(m, 'minute'));
      case 'ss': return pad(get(m, 'second'), 2);
      case 's': return String(get(m, 'second'));
      case 'SSSS': return pad(get(m, 'millisecond'), 3) + '0';
      case 'SSS': return pad(get(m, 'millisecond'), 3);
      case 'SS': return pad(Math.floor(get(m, 'millisecond') / 10), 2);
      case 'S': return String(Math.floor(get(m, 'millisecond') / 100));
      case 'A': return h < 12 ? 'AM' : 'PM';
      case 'a': return h < 12 ? 'am' : 'pm';
      case 'ZZ': return zone(m, '');
      case 'Z': return zone(m, ':');
      case 'X': return String(Math.floor(m._d.valueOf() / 1000));
      case 'x': return String(m._d.valueOf());
    }
    return t;
  }
  P.format = function (f) {
    if (!this.isValid()) return 'Invalid date';
    var m = this;
    f = f || (this._isUTC ? 'YYYY-MM-DDTHH:mm:ss[Z]' : 'YYYY-MM-DDTHH:mm:ssZ');
    f = f.replace(/\[[^\]]*]|LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l/g, function (t) { return LONG[t] || t; });
    return f.replace(TOKENS, function (t, lit) { return lit !== undefined ? lit : fmtToken(m, t); });
  };
  P.toISOString = function () { return this.isValid() ? this._d.toISOString() : null; };
  P.toJSON = function () { return this.toISOString(); };
  P.toDate = function () { return new Date(this._d.valueOf()); };
  P.toString = function () { return this.format('ddd MMM DD YYYY HH:mm:ss [GMT]ZZ'); };
  P.toArray = function () { var m = this; return ['year', 'month', 'date', 'hour', 'minute', 'second', 'millisecond'].map(function (u) { return get(m, u); }); };
  P.toObject = function () { var a = this.toArray(); return { years: a[0], months: a[1], date: a[2], hours: a[3], minutes: a[4], seconds: a[5], milliseconds: a[6] }; };
  P.valueOf = function () { return this._d.valueOf(); };
  P.unix = function () { return Math.floor(this._d.valueOf() / 1000); };
  P.isValid = function () { return !isNaN(this._d.valueOf()); };
  P.clone = function () { return new Moment(new Date(this._d.valueOf()), this._isUTC); };
  P.utc = function () { this._isUTC = true; return this; };
  P.local = function () { this._isUTC = false; return this; };
  P.isUTC = P.isUtc = function () { return this._isUTC; };
  P.utcOffset = function () { return offsetMinutes(this); };
  P.locale = function (l) { return l === undefined ? 'en' : this; };
  P.daysInMonth = function () { return daysIn(get(this, 'year'), get(this, 'month')); };
  P.isLeapYear = function () { var y = get(this, 'year'); return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0; };
  P.dayOfYear = function (v) { return v == null ? dayOfYear(this) : this.add(v - dayOfYear(this), 'd'); };
  P.isoWeekday = function (v) { var d = get(this, 'day') || 7; return v == null ? d : this.add(v - d, 'd'); };
  P.isoWeek = P.week = function () { return isoWeek(this).week; };
  P.quarter = function () { return Math.floor(get(this, 'month') / 3) + 1; };
  [['year', 'year'], ['years', 'year'], ['month', 'month'], ['months', 'month'], ['date', 'date'], ['dates', 'date'],
    ['day', 'day'], ['days', 'day'], ['weekday', 'day'], ['hour', 'hour'], ['hours', 'hour'], ['minute', 'minute'], ['minutes', 'minute'],
    ['second', 'second'], ['seconds', 'second'], ['millisecond', 'millisecond'], ['milliseconds', 'millisecond']].forEach(function (p) {
    P[p[0]] = function (v) { return v === undefined ? get(this, p[1]) : set(this, p[1], v); };
  });
  P.get = function (u) { u = unit(u); return u === 'quarter' ? this.quarter() : get(this, u); };
  P.set = function (u, v) {
    if (typeof u === 'object') { for (var k in u) this.set(k, u[k]); return this; }
    return set(this, unit(u), v);
  };
  function addUnit(m, n, u, sign) {
    u = unit(u) || 'millisecond';
    n = Number(n) * sign;
    if (isNaN(n)) return m;
    if (u === 'year') u = 'month', n *= 12;
    if (u === 'quarter') u = 'month', n *= 3;
    if (u === 'month') {
      var day = get(m, 'date');
      set(m, 'date', 1);
      set(m, 'month', get(m, 'month') + Math.trunc(n));
      set(m, 'date', Math.min(day, m.daysInMonth()));
      return m;
    }
    if (u === 'week') u = 'date', n *= 7;
    if (u === 'date' || u === 'day') { set(m, 'date', get(m, 'date') + Math.round(n)); return m; }
    m._d = new Date(m._d.valueOf() + n * (MS[u] || 1));
    return m;
  }
  function adder(sign) {
    return function (n, u) {
      if (n && typeof n === 'object' && !(n instanceof Duration)) { for (var k in n) addUnit(this, n[k], k, sign); return this; }
      if (n instanceof Duration) { addUnit(this, n._months, 'M', sign); addUnit(this, n._days, 'd', sign); return addUnit(this, n._ms, 'ms', sign); }
      if (typeof n === 'string' && typeof u === 'number') { var t = n; n = u; u = t; }
      return addUnit(this, n, u, sign);
    };
  }
  P.add = adder(1);
  P.subtract = adder(-1);
  P.startOf = function (u) {
    u = unit(u);
    switch (u) {
      case 'year': set(this, 'month', 0); /* falls through */
      case 'quarter': if (u === 'quarter') set(this, 'month', Math.floor(get(this, 'month') / 3) * 3); /* falls through */
      case 'month': set(this, 'date', 1); /* falls through */
      case 'week': case 'isoWeek': case 'day': case 'date':
        if (u === 'week') set(this, 'date', get(this, 'date') - get(this, 'day'));
        if (u === 'isoWeek') set(this, 'date', get(this, 'date') - ((get(this, 'day') + 6) % 7));
        set(this, 'hour', 0); /* falls through */
      case 'hour': set(this, 'minute', 0); /* falls through */
      case 'minute': set(this, 'second', 0); /* falls through */
      case 'second': set(this, 'millisecond', 0);
    }
    return this;
  };
  P.endOf = function (u) {
    u = unit(u);
    if (u === undefined || u === 'millisecond') return this;
    var step = u === 'date' ? 'day' : u === 'isoWeek' ? 'week' : u;
    return this.startOf(u).add(1, step).subtract(1, 'ms');
  };
  function toMoment(x) { return x instanceof Moment ? x : moment(x); }
  function monthDiff(a, b) {
    // Whole months between b and a plus the fraction of the month in between, the way moment documents it.
    var whole = (get(a, 'year') - get(b, 'year')) * 12 + (get(a, 'month') - get(b, 'month'));
    var anchor = b.clone().add(whole, 'months'), anchor2, adjust;
    if (a - anchor < 0) { anchor2 = b.clone().add(whole - 1, 'months'); adjust = (a - anchor) / (anchor - anchor2); }
    else { anchor2 = b.clone().add(whole + 1, 'months'); adjust = (a - anchor) / (anchor2 - anchor); }
    return -(-(whole + adjust)) || 0;
  }
  P.diff = function (other, u, asFloat) {
    var that = toMoment(other);
    u = unit(u) || 'millisecond';
    var out;
    if (u === 'year' || u === 'month' || u === 'quarter') {
      out = monthDiff(this, that);
      if (u === 'year') out /= 12;
      else if (u === 'quarter') out /= 3;
    } else {
      var delta = this.valueOf() - that.valueOf();
      if (u === 'day' || u === 'date' || u === 'week') delta -= (that.utcOffset() - this.utcOffset()) * -6e4;
      out = delta / (MS[u] || 1);
    }
    return asFloat ? out : (out < 0 ? Math.ceil(out) || 0 : Math.floor(out));
  };
  function relative(ms, withoutSuffix) {
    var text = humanizeMs(ms);
    if (withoutSuffix) return text;
    return ms > 0 ? 'in ' + text : text + ' ago';
  }
  P.from = function (other, withoutSuffix) { return relative(this.valueOf() - toMoment(other).valueOf(), withoutSuffix); };
  P.fromNow = function (withoutSuffix) { return this.from(moment(), withoutSuffix); };
  P.to = function (other, withoutSuffix) { return toMoment(other).from(this, withoutSuffix); };
  P.toNow = function (withoutSuffix) { return this.to(moment(), withoutSuffix); };
  P.calendar = function (ref) {
    ref = ref ? toMoment(ref) : moment();
    var diff = this.clone().startOf('day').diff(ref.clone().startOf('day'), 'days', true);
    var f = diff < -6 ? 'L' : diff < -1 ? '[Last] dddd [at] LT' : diff < 0 ? '[Yesterday at] LT' : diff < 1 ? '[Today at] LT' : diff < 2 ? '[Tomorrow at] LT' : diff < 7 ? 'dddd [at] LT' : 'L';
    return this.format(f);
  };
  function cmpValue(x) { return toMoment(x).valueOf(); }
  P.isBefore = function (x, u) { u = unit(u); return u && u !== 'millisecond' ? this.clone().endOf(u).valueOf() < toMoment(x).valueOf() : this.valueOf() < cmpValue(x); };
  P.isAfter = function (x, u) { u = unit(u); return u && u !== 'millisecond' ? this.clone().startOf(u).valueOf() > toMoment(x).valueOf() : this.valueOf() > cmpValue(x); };
  P.isSame = function (x, u) {
    u = unit(u);
    if (!u || u === 'millisecond') return this.valueOf() === toMoment(x).valueOf();
    var v = toMoment(x).valueOf();
    return this.clone().startOf(u).valueOf() <= v && v <= this.clone().endOf(u).valueOf();
  };
  P.isSameOrBefore = function (x, u) { return this.isSame(x, u) || this.isBefore(x, u); };
  P.isSameOrAfter = function (x, u) { return this.isSame(x, u) || this.isAfter(x, u); };
  P.isBetween = function (a, b, u, incl) {
    incl = incl || '()';
    var after = incl[0] === '(' ? this.isAfter(a, u) : !this.isBefore(a, u);
    var before = incl[1] === ')' ? this.isBefore(b, u) : !this.isAfter(b, u);
    return after && before;
  };

  // ---- parsing ----
  var ISO = /^\s*([+-]\d{6}|\d{4})-?(\d\d)(?:-?(\d\d)(?:[T ](\d\d)(?::?(\d\d)(?::?(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?)?)?\s*$/i;
  function parseIso(str, utc) {
    var m = ISO.exec(str);
    if (!m) return null;
    var parts = [Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1, Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0),
      m[7] ? Math.round(Number('0.' + m[7]) * 1000) : 0];
    if (m[8]) {
      var ms = Date.UTC.apply(null, parts);
      if (m[8].toUpperCase() !== 'Z') {
        var z = m[8].replace(':', ''), sign = z[0] === '-' ? -1 : 1;
        ms -= sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5) || 0)) * 6e4;
      }
      return new Date(ms);
    }
    if (utc) return new Date(Date.UTC.apply(null, parts));
    return new Date(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]);
  }
  var PARSE_TOKENS = /\[([^\]]*)]|YYYY|YY|MMMM|MMM|MM|M|DD|Do|D|HH|H|hh|h|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;
  function parseWithFormat(str, fmt, utc) {
    var vals = { year: 1970, month: 0, date: 1, hour: 0, minute: 0, second: 0, ms: 0 }, pm = null, offset = null, epoch = null;
    var re = '', fields = [];
    var last = 0;
    fmt.replace(PARSE_TOKENS, function (t, lit, idx) {
      re += fmt.slice(last, idx).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      last = idx + t.length;
      if (lit !== undefined) { re += lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); return t; }
      fields.push(t);
      re += ({ YYYY: '(\\d{4})', YY: '(\\d\\d)', MMMM: '([A-Za-z]+)', MMM: '([A-Za-z]{3})', Do: '(\\d\\d?)(?:st|nd|rd|th)', A: '([AaPp][Mm])', a: '([AaPp][Mm])',
        Z: '([+-]\\d\\d:?\\d\\d|Z)', ZZ: '([+-]\\d\\d:?\\d\\d|Z)', X: '(-?\\d+(?:\\.\\d+)?)', x: '(-?\\d+)', SSS: '(\\d{1,3})', SS: '(\\d{1,2})', S: '(\\d)' })[t] || '(\\d\\d?)';
      return t;
    });
    re += fmt.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    var m = new RegExp('^\\s*' + re).exec(str);
    if (!m) return new Date(NaN);
    fields.forEach(function (t, i) {
      var v = m[i + 1];
      switch (t) {
        case 'YYYY': vals.year = +v; break;
        case 'YY': vals.year = +v + (+v > 68 ? 1900 : 2000); break;
        case 'MMMM': case 'MMM': vals.month = MONTHS.findIndex(function (n) { return n.slice(0, 3).toLowerCase() === v.slice(0, 3).toLowerCase(); }); break;
        case 'MM': case 'M': vals.month = +v - 1; break;
        case 'DD': case 'D': case 'Do': vals.date = +v; break;
        case 'HH': case 'H': case 'hh': case 'h': vals.hour = +v; break;
        case 'mm': case 'm': vals.minute = +v; break;
        case 'ss': case 's': vals.second = +v; break;
        case 'SSS': vals.ms = +v; break;
        case 'SS': vals.ms = +v * 10; break;
        case 'S': vals.ms = +v * 100; break;
        case 'A': case 'a': pm = v.toLowerCase() === 'pm'; break;
        case 'Z': case 'ZZ': offset = v === 'Z' ? 0 : (v[0] === '-' ? -1 : 1) * (Number(v.slice(1, 3)) * 60 + Number(v.replace(':', '').slice(3, 5))); break;
        case 'X': epoch = Number(v) * 1000; break;
        case 'x': epoch = Number(v); break;
      }
    });
    if (epoch !== null) return new Date(epoch);
    if (pm !== null) { if (pm && vals.hour < 12) vals.hour += 12; if (!pm && vals.hour === 12) vals.hour = 0; }
    if (vals.month < 0) return new Date(NaN);
    if (offset !== null || utc) {
      return new Date(Date.UTC(vals.year, vals.month, vals.date, vals.hour, vals.minute, vals.second, vals.ms) - (offset || 0) * 6e4);
    }
    return new Date(vals.year, vals.month, vals.date, vals.hour, vals.minute, vals.second, vals.ms);
  }
  function toDate(input, fmt, utc) {
    if (input === undefined || input === null) return input === null ? new Date(NaN) : new Date();
    if (input instanceof Moment) return new Date(input.valueOf());
    if (input instanceof Date) return new Date(input.valueOf());
    if (typeof input === 'number') return new Date(input);
    if (Array.isArray(input)) {
      var a = [input[0], input[1] || 0, input[2] == null ? 1 : input[2], input[3] || 0, input[4] || 0, input[5] || 0, input[6] || 0];
      return utc ? new Date(Date.UTC.apply(null, a)) : new Date(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    }
    if (typeof input === 'object') {
      var o = {};
      Object.keys(input).forEach(function (k) { o[unit(k)] = input[k]; });
      return toDate([o.year, o.month, o.date || o.day, o.hour, o.minute, o.second, o.millisecond], null, utc);
    }
    var s = String(input);
    if (fmt) {
      var fmts = Array.isArray(fmt) ? fmt : [fmt];
      for (var i = 0; i < fmts.length; i++) { var d = parseWithFormat(s, fmts[i], utc); if (!isNaN(d)) return d; }
      return new Date(NaN);
    }
    return parseIso(s, utc) || new Date(Date.parse(s));
  }
  function moment(input, fmt) { return new Moment(toDate(input, typeof fmt === 'boolean' ? null : fmt, false), false); }
  moment.utc = function (input, fmt) {
    var m = new Moment(toDate(input, fmt, true), true);
    return m;
  };
  moment.unix = function (s) { return moment(s * 1000); };
  moment.isMoment = function (m) { return m instanceof Moment; };
  moment.isDate = function (d) { return d instanceof Date; };
  moment.isDuration = function (d) { return d instanceof Duration; };
  moment.now = function () { return Date.now(); };
  moment.locale = function () { return 'en'; };
  moment.months = function () { return MONTHS.slice(); };
  moment.monthsShort = function () { return MONTHS.map(function (m) { return m.slice(0, 3); }); };
  moment.weekdays = function () { return DAYS.slice(); };
  moment.weekdaysShort = function () { return DAYS.map(function (d) { return d.slice(0, 3); }); };
  moment.invalid = function () { return new Moment(new Date(NaN), false); };
  moment.max = function () { var a = Array.isArray(arguments[0]) ? arguments[0] : Array.prototype.slice.call(arguments); return a.reduce(function (x, y) { return y > x ? y : x; }); };
  moment.min = function () { var a = Array.isArray(arguments[0]) ? arguments[0] : Array.prototype.slice.call(arguments); return a.reduce(function (x, y) { return y < x ? y : x; }); };
  moment.ISO_8601 = 'YYYY-MM-DDTHH:mm:ss.SSSZ';
  moment.defaultFormat = 'YYYY-MM-DDTHH:mm:ssZ';
  moment.fn = P;
  moment.version = '2.30.1';

  // ---- durations ----
  var REL = { s: 'a few seconds', ss: '%d seconds', m: 'a minute', mm: '%d minutes', h: 'an hour', hh: '%d hours', d: 'a day', dd: '%d days', M: 'a month', MM: '%d months', y: 'a year', yy: '%d years' };
  function humanizeMs(ms) {
    var abs = Math.abs(ms);
    var seconds = Math.round(abs / 1e3), minutes = Math.round(abs / 6e4), hours = Math.round(abs / 36e5), days = Math.round(abs / 864e5);
    var months = Math.round(abs / 864e5 * 4800 / 146097), years = Math.round(abs / 864e5 * 400 / 146097);
    var key = seconds < 45 ? ['s'] : minutes <= 1 ? ['m'] : minutes < 45 ? ['mm', minutes] : hours <= 1 ? ['h'] : hours < 22 ? ['hh', hours]
      : days <= 1 ? ['d'] : days < 26 ? ['dd', days] : months <= 1 ? ['M'] : months < 11 ? ['MM', months] : years <= 1 ? ['y'] : ['yy', years];
    return REL[key[0]].replace('%d', key[1]);
  }
  function Duration(months, days, ms) { this._months = months; this._days = days; this._ms = ms; }
  function totalMs(d) { return d._ms + d._days * 864e5 + d._months * (146097 / 4800) * 864e5; }
  var D = Duration.prototype;
  D.as = function (u) {
    u = unit(u);
    if (u === 'month' || u === 'year' || u === 'quarter') {
      var months = this._months + (this._days + this._ms / 864e5) * 4800 / 146097;
      return u === 'month' ? months : u === 'quarter' ? months / 3 : months / 12;
    }
    return totalMs(this) / (MS[u] || 1);
  };
  ['Milliseconds', 'Seconds', 'Minutes', 'Hours', 'Days', 'Weeks', 'Months', 'Years'].forEach(function (n) {
    var u = unit(n.toLowerCase());
    D['as' + n] = function () { return this.as(u); };
  });
  function bubble(d) {
    var ms = totalMs(d), sign = ms < 0 ? -1 : 1;
    ms = Math.abs(ms);
    var days = Math.floor(ms / 864e5);
    var months = Math.floor(days * 4800 / 146097);
    days -= Math.ceil(months * 146097 / 4800);
    var rest = ms % 864e5;
    return { ms: sign * (rest % 1e3), s: sign * Math.floor(rest / 1e3) % 60, m: sign * Math.floor(rest / 6e4) % 60, h: sign * Math.floor(rest / 36e5),
      d: sign * days, M: sign * (months % 12), y: sign * Math.floor(months / 12) };
  }
  D.milliseconds = function () { return bubble(this).ms; };
  D.seconds = function () { return bubble(this).s; };
  D.minutes = function () { return bubble(this).m; };
  D.hours = function () { return bubble(this).h; };
  D.days = function () { return bubble(this).d; };
  D.months = function () { return bubble(this).M; };
  D.years = function () { return bubble(this).y; };
  D.get = function (u) { return this[unit(u) + 's'] ? this[unit(u) + 's']() : this.as(u); };
  D.humanize = function (withSuffix) { var ms = totalMs(this); return withSuffix ? relative(ms) : humanizeMs(ms); };
  D.valueOf = function () { return totalMs(this); };
  D.add = function (n, u) { var o = moment.duration(n, u); this._months += o._months; this._days += o._days; this._ms += o._ms; return this; };
  D.subtract = function (n, u) { var o = moment.duration(n, u); this._months -= o._months; this._days -= o._days; this._ms -= o._ms; return this; };
  D.clone = function () { return new Duration(this._months, this._days, this._ms); };
  D.toISOString = function () {
    var b = bubble(this), out = 'P';
    if (b.y) out += b.y + 'Y';
    if (b.M) out += b.M + 'M';
    if (b.d) out += b.d + 'D';
    var secs = b.s + b.ms / 1000;
    if (b.h || b.m || secs) out += 'T' + (b.h ? b.h + 'H' : '') + (b.m ? b.m + 'M' : '') + (secs ? secs + 'S' : '');
    return out === 'P' ? 'P0D' : out;
  };
  D.toJSON = D.toISOString;
  moment.duration = function (n, u) {
    if (n instanceof Duration) return n.clone();
    if (n && typeof n === 'object') {
      var d = new Duration(0, 0, 0);
      for (var k in n) d.add(n[k], k);
      return d;
    }
    u = unit(u) || 'millisecond';
    n = Number(n) || 0;
    if (u === 'year') return new Duration(n * 12, 0, 0);
    if (u === 'quarter') return new Duration(n * 3, 0, 0);
    if (u === 'month') return new Duration(n, 0, 0);
    if (u === 'week') return new Duration(0, n * 7, 0);
    if (u === 'day' || u === 'date') return new Duration(0, n, 0);
    return new Duration(0, 0, n * (MS[u] || 1));
  };

  Object.defineProperty(g, 'moment', { value: moment, writable: true, configurable: true, enumerable: false });
})();
