//! The `_`, `s`, `moment`, `btoa`/`atob` globals, checked case by case against the libraries' documented
//! behaviour (expected values come from their documentation's examples and rules).

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard::egress::{EgressDefaults, EgressPolicy, GuardedClient};
use switchboard::script::{compile, ScriptConfig, ScriptHost, ScriptKey};

const EVAL_SCRIPT: &str = "class Script { e({ code }) { return (0, eval)(code); } }";

async fn check(cases: &[(&str, Value)]) {
    let host = ScriptHost::new(
        ScriptConfig::default(),
        Arc::new(GuardedClient::new(EgressPolicy::default(), EgressDefaults::default()).unwrap()),
    );
    let compiled = compile(EVAL_SCRIPT).unwrap().into_string();
    let key = ScriptKey {
        integration_id: "globals".into(),
        version: "1".into(),
    };
    let mut failures = Vec::new();
    for (code, expected) in cases {
        let o = host
            .call(key.clone(), &compiled, "e", json!({ "code": code }))
            .await;
        match o.result {
            Ok(v) if v.as_ref().unwrap_or(&Value::Null) == expected => {}
            other => failures.push(format!(
                "{code}\n   expected {expected}\n   got      {other:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underscore() {
    check(&[
        ("_.map([1, 2, 3], x => x * 2)", json!([2, 4, 6])),
        ("_.map({a: 1, b: 2}, (v, k) => k + v)", json!(["a1", "b2"])),
        ("(() => { let s = 0; _.each([1, 2, 3], x => s += x); return s })()", json!(6)),
        ("_.filter([1, 2, 3, 4, 5, 6], n => n % 2 == 0)", json!([2, 4, 6])),
        ("_.reject([1, 2, 3, 4, 5, 6], n => n % 2 == 0)", json!([1, 3, 5])),
        ("_.reduce([1, 2, 3], (memo, n) => memo + n, 0)", json!(6)),
        ("_.reduce([1, 2, 3], (memo, n) => memo + n)", json!(6)),
        ("_.reduceRight([[0, 1], [2, 3], [4, 5]], (a, b) => a.concat(b), [])", json!([4, 5, 2, 3, 0, 1])),
        ("_.find([1, 2, 3, 4, 5, 6], n => n % 2 == 0)", json!(2)),
        ("_.pluck([{name: 'moe', age: 40}, {name: 'larry', age: 50}], 'name')", json!(["moe", "larry"])),
        ("_.where([{a: 1, b: 2}, {a: 1, b: 3}, {a: 2}], {a: 1})", json!([{"a": 1, "b": 2}, {"a": 1, "b": 3}])),
        ("_.findWhere([{a: 1, b: 2}, {a: 1, b: 3}], {b: 3})", json!({"a": 1, "b": 3})),
        ("_.sortBy([1, 2, 3, 4, 5, 6], n => Math.sin(n))", json!([5, 4, 6, 3, 1, 2])),
        ("_.sortBy([{n: 'b'}, {n: 'a'}, {n: 'c'}], 'n')", json!([{"n": "a"}, {"n": "b"}, {"n": "c"}])),
        ("_.groupBy([1.3, 2.1, 2.4], Math.floor)", json!({"1": [1.3], "2": [2.1, 2.4]})),
        ("_.groupBy(['one', 'two', 'three'], 'length')", json!({"3": ["one", "two"], "5": ["three"]})),
        ("_.indexBy([{id: 'a', v: 1}, {id: 'b', v: 2}], 'id')", json!({"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 2}})),
        ("_.countBy([1, 2, 3, 4, 5], n => n % 2 == 0 ? 'even' : 'odd')", json!({"odd": 3, "even": 2})),
        ("_.uniq([1, 2, 1, 4, 1, 3])", json!([1, 2, 4, 3])),
        ("_.flatten([1, [2], [3, [[4]]]])", json!([1, 2, 3, 4])),
        ("_.flatten([1, [2], [3, [[4]]]], true)", json!([1, 2, 3, [[4]]])),
        ("_.without([1, 2, 1, 0, 3, 1, 4], 0, 1)", json!([2, 3, 4])),
        ("_.union([1, 2, 3], [101, 2, 1, 10], [2, 1])", json!([1, 2, 3, 101, 10])),
        ("_.intersection([1, 2, 3], [101, 2, 1, 10], [2, 1])", json!([1, 2])),
        ("_.difference([1, 2, 3, 4, 5], [5, 2, 10])", json!([1, 3, 4])),
        ("_.zip(['moe', 'larry'], [30, 40], [true, false])", json!([["moe", 30, true], ["larry", 40, false]])),
        ("_.object(['moe', 'larry'], [30, 40])", json!({"moe": 30, "larry": 40})),
        ("_.keys({one: 1, two: 2, three: 3})", json!(["one", "two", "three"])),
        ("_.values({one: 1, two: 2, three: 3})", json!([1, 2, 3])),
        ("_.pairs({one: 1, two: 2})", json!([["one", 1], ["two", 2]])),
        ("_.invert({Moe: 'Moses', Larry: 'Louis'})", json!({"Moses": "Moe", "Louis": "Larry"})),
        ("_.extend({name: 'moe'}, {age: 50}, {name: 'larry'})", json!({"name": "larry", "age": 50})),
        ("_.defaults({flavor: 'chocolate'}, {flavor: 'vanilla', sprinkles: 'lots'})", json!({"flavor": "chocolate", "sprinkles": "lots"})),
        ("_.pick({name: 'moe', age: 50, userid: 'moe1'}, 'name', 'age')", json!({"name": "moe", "age": 50})),
        ("_.pick({name: 'moe', age: 50, userid: 'moe1'}, v => _.isNumber(v))", json!({"age": 50})),
        ("_.omit({name: 'moe', age: 50, userid: 'moe1'}, 'userid')", json!({"name": "moe", "age": 50})),
        ("_.omit({name: 'moe', age: 50, userid: 'moe1'}, v => _.isNumber(v))", json!({"name": "moe", "userid": "moe1"})),
        ("(() => { const o = {a: [1]}; const c = _.clone(o); return [c.a === o.a, c !== o] })()", json!([true, true])),
        ("[_.has({a: 1}, 'a'), _.has({a: 1}, 'toString'), _.has({a: {b: 1}}, ['a', 'b'])]", json!([true, false, true])),
        ("[_.isEmpty([]), _.isEmpty({}), _.isEmpty(''), _.isEmpty(null), _.isEmpty({a: 1}), _.isEmpty([0])]", json!([true, true, true, true, false, false])),
        ("[_.isEqual({a: [1, {b: 2}]}, {a: [1, {b: 2}]}), _.isEqual([1], [2]), _.isEqual(NaN, NaN), _.isEqual(new Date(5), new Date(5))]", json!([true, false, true, true])),
        ("[_.isString('a'), _.isNumber(1), _.isArray([]), _.isObject({}), _.isObject(1), _.isFunction(() => 1), _.isDate(new Date()), _.isRegExp(/a/), _.isBoolean(false), _.isNull(null), _.isUndefined(undefined), _.isNaN(NaN), _.isNaN(undefined), _.isFinite('12'), _.isError(new TypeError())]",
            json!([true, true, true, true, false, true, true, true, true, true, true, true, false, true, true])),
        ("[_.first([5, 4, 3]), _.first([5, 4, 3], 2), _.last([5, 4, 3]), _.last([5, 4, 3], 2), _.initial([5, 4, 3]), _.rest([5, 4, 3]), _.head([]), _.tail([1, 2, 3], 2)]",
            json!([5, [5, 4], 3, [4, 3], [5, 4], [4, 3], null, [3]])),
        ("_.compact([0, 1, false, 2, '', 3])", json!([1, 2, 3])),
        ("[_.range(5), _.range(1, 11, 3), _.range(0, -5, -1), _.range(0), _.range(1, 4)]", json!([[0, 1, 2, 3, 4], [1, 4, 7, 10], [0, -1, -2, -3, -4], [], [1, 2, 3]])),
        ("_.chain([1, 2, 3]).map(x => x * 2).filter(x => x > 2).value()", json!([4, 6])),
        ("_.chain([{n: 'b', a: 2}, {n: 'a', a: 1}]).sortBy('a').pluck('n').first().value()", json!("a")),
        ("_([1, 2, 3]).map(x => x + 1)", json!([2, 3, 4])),
        ("_.template('hello <%= name %>!')({name: 'moe'})", json!("hello moe!")),
        ("_.template('<b><%- value %></b>')({value: '<script>'})", json!("<b>&lt;script&gt;</b>")),
        ("_.template('<% _.each(people, function(name) { %><li><%= name %></li><% }); %>')({people: ['moe', 'curly']})", json!("<li>moe</li><li>curly</li>")),
        ("_.escape('Curly, Larry & Moe')", json!("Curly, Larry &amp; Moe")),
        ("_.unescape('Curly, Larry &amp; Moe &lt;b&gt;')", json!("Curly, Larry & Moe <b>")),
        ("_.times(3, i => i * i)", json!([0, 1, 4])),
        ("(() => { for (let i = 0; i < 50; i++) { const r = _.random(5, 10); if (r < 5 || r > 10 || r % 1) return false; } return true })()", json!(true)),
        ("typeof _.now()", json!("number")),
        ("[_.max([1, 5, 3]), _.min([4, 2, 8]), _.max([{a: 1}, {a: 3}], 'a'), _.max([{name: 'moe', age: 40}, {name: 'curly', age: 60}], s => s.age).name]", json!([5, 2, {"a": 3}, "curly"])),
        ("[_.some([null, 0, 'yes', false]), _.every([2, 4, 5], n => n % 2 == 0), _.contains([1, 2, 3], 3), _.includes({a: 1}, 1)]", json!([true, false, true, true])),
        ("[_.size({one: 1, two: 2, three: 3}), _.shuffle([1, 2, 3, 4]).sort().join(), _.sample([7])]", json!([3, "1,2,3,4", 7])),
        ("_.partition([0, 1, 2, 3, 4, 5], x => x % 2)", json!([[1, 3, 5], [0, 2, 4]])),
        ("[_.indexOf([1, 2, 3], 2), _.lastIndexOf([1, 2, 3, 1, 2, 3], 2), _.sortedIndex([10, 20, 30, 40, 50], 35), _.findIndex([4, 6, 8, 12], x => x > 5)]", json!([1, 4, 3, 1])),
        ("(() => { let n = 0; const f = _.once(() => ++n); f(); f(); return n })()", json!(1)),
        ("(() => { let calls = 0; const f = _.memoize(x => { calls++; return x * 2 }); f(2); f(2); return [f(2), calls] })()", json!([4, 1])),
        ("_.mapObject({start: 5, end: 12}, v => v + 5)", json!({"start": 10, "end": 17})),
        ("_.result({cheese: 'crumpets', stuff() { return 'nonsense' }}, 'stuff')", json!("nonsense")),
        ("_.chunk([1, 2, 3, 4, 5], 2)", json!([[1, 2], [3, 4], [5]])),
        ("_.invoke([[5, 1, 7], [3, 2, 1]], 'sort')", json!([[1, 5, 7], [1, 2, 3]])),
        ("_.partial((a, b) => a - b, 5)(20)", json!(-15)),
        ("_.partial((a, b) => a - b, _, 5)(20)", json!(15)),
        ("_.bind(function (g) { return g + ': ' + this.name }, {name: 'moe'}, 'hi')()", json!("hi: moe")),
        ("_.compose(x => x + '!', x => 'hi: ' + x)('moe')", json!("hi: moe!")),
        ("_.negate(Boolean)(0)", json!(true)),
        ("_.uniqueId('contact_').indexOf('contact_')", json!(0)),
        ("_.property('name')({name: 'moe'})", json!("moe")),
        ("_.isMatch({name: 'moe', age: 32}, {age: 32})", json!(true)),
        ("_.functions({a() {}, b: 1, c() {}})", json!(["a", "c"])),
        ("_.toArray('abc')", json!(["a", "b", "c"])),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underscore_string() {
    check(&[
        ("[s.trim('  foobar   '), s.trim('_-foobar-_', '_-'), s.ltrim('  foo '), s.rtrim('  foo '), s.rtrim('foobar---', '-')]", json!(["foobar", "foobar", "foo ", "  foo", "foobar"])),
        ("[s.capitalize('foo Bar'), s.capitalize('FOO Bar', true), s.decapitalize('Foo Bar')]", json!(["Foo Bar", "Foo bar", "foo Bar"])),
        ("s.escapeHTML('<div>Blah blah blah</div>')", json!("&lt;div&gt;Blah blah blah&lt;/div&gt;")),
        ("s.unescapeHTML('&lt;div&gt;Blah&nbsp;blah blah&lt;/div&gt; &#39;&#x41;&amp;')", json!("<div>Blah\u{a0}blah blah</div> 'A&")),
        ("[s.startsWith('image.gif', 'image'), s.startsWith('.vimrc', 'vim', 1), s.endsWith('image.gif', 'gif'), s.endsWith('image.old.gif', 'old', 9)]", json!([true, true, true, true])),
        ("[s.contains('foobar', 'ob'), s.include('foobar', 'x'), s.count('Hello world', 'l')]", json!([true, false, 3])),
        ("[s.words('   I   love   you   '), s.words('I-love-you', /-/), s.words('I_love_you', '_'), s.words('   ')]", json!([["I", "love", "you"], ["I", "love", "you"], ["I", "love", "you"], []])),
        ("s.lines('Hello\\nWorld\\r\\nagain')", json!(["Hello", "World", "again"])),
        ("[s.truncate('Hello world', 5), s.truncate('Hello', 10), s.truncate('Hello world', 5, '…')]", json!(["Hello...", "Hello", "Hello…"])),
        ("[s.prune('Hello, world', 5), s.prune('Hello, world', 8), s.prune('Hello, world', 5, ' (read a lot more)'), s.prune('Hello, cruel world', 15), s.prune('Hello', 10)]",
            json!(["Hello...", "Hello...", "Hello, world", "Hello, cruel...", "Hello"])),
        ("[s.sprintf('%.1f', 1.17), s.sprintf('%s is %d years old', 'Bob', 42), s.sprintf('%05d', 42), s.sprintf('%-5s|', 'ab'), s.sprintf('%5s|', 'ab'), s.sprintf('%j', {a: 1}), s.sprintf('%x %o %b %%', 255, 8, 5), s.sprintf('%2$s %1$s', 'a', 'b')]",
            json!(["1.2", "Bob is 42 years old", "00042", "ab   |", "   ab|", "{\"a\":1}", "ff 10 101 %", "b a"])),
        ("[s.pad('1', 8), s.pad('1', 8, '0'), s.pad('1', 8, '0', 'right'), s.pad('1', 8, 'bleepblorp', 'both'), s.lpad('1', 8, '0'), s.rpad('1', 8, '0'), s.lrpad('1', 8, '0')]",
            json!(["       1", "00000001", "10000000", "bbbb1bbb", "00000001", "10000000", "00001000"])),
        ("[s.join(' ', 'foo', 'bar'), s.repeat('foo', 3), s.repeat('foo', 3, 'bar'), s.reverse('foobar')]", json!(["foo bar", "foofoofoo", "foobarfoobarfoo", "raboof"])),
        ("s.clean(' foo    bar   ')", json!("foo bar")),
        ("s.slugify(\"Un éléphant à l'orée du bois\")", json!("un-elephant-a-l-oree-du-bois")),
        ("s.titleize('my name is epeli')", json!("My Name Is Epeli")),
        ("[s.camelize('moz-transform'), s.camelize('-moz-transform'), s.camelize('_moz_transform'), s.camelize('Moz-transform'), s.camelize('-moz-transform', true)]",
            json!(["mozTransform", "MozTransform", "MozTransform", "MozTransform", "mozTransform"])),
        ("[s.dasherize('MozTransform'), s.underscored('MozTransform'), s.classify('some_class_name')]", json!(["-moz-transform", "moz_transform", "SomeClassName"])),
        ("s.humanize('  capitalize dash-CamelCase_underscore trim  ')", json!("Capitalize dash camel case underscore trim")),
        ("[s.strLeft('This_is_a_test_string', '_'), s.strRight('This_is_a_test_string', '_'), s.strLeftBack('This_is_a_test_string', '_'), s.strRightBack('This_is_a_test_string', '_')]",
            json!(["This", "is_a_test_string", "This_is_a_test", "string"])),
        ("s.chars('Hello')", json!(["H", "e", "l", "l", "o"])),
        ("[s.numberFormat(1000, 2), s.numberFormat(123456789.123, 5, '.', ','), s.numberFormat(1234.5, 1, ',', '.')]", json!(["1,000.00", "123,456,789.12300", "1.234,5"])),
        ("[s.toNumber('2.556'), s.toNumber('2.556', 1), s.toNumber('999.999', -1)]", json!([3, 2.6, 1000])),
        ("[s.toBoolean('true'), s.toBoolean('FALSE'.toLowerCase()), s.toBoolean('truthy', ['truthy'], ['falsy']), s.toBoolean('1'), s.toBoolean('other') === undefined]", json!([true, false, true, true, true])),
        ("[s.quote('foo'), s.quote('foo', \"'\"), s.unquote('\"foo\"'), s.unquote(\"'foo'\", \"'\"), s.surround('foo', 'ab')]", json!(["\"foo\"", "'foo'", "foo", "foo", "abfooab"])),
        ("[s.insert('Hellworld', 4, 'o '), s.splice('https://edtsech@bitbucket.org/edtsech/underscore.strings', 30, 7, 'epeli')]",
            json!(["Hello world", "https://edtsech@bitbucket.org/epeli/underscore.strings"])),
        ("[s.succ('a'), s.succ('A'), s.pred('b')]", json!(["b", "B", "a"])),
        ("s('  abc ').trim().capitalize().value()", json!("Abc")),
        ("[s.isBlank(''), s.isBlank('\\n'), s.isBlank(' a ')]", json!([true, true, false])),
        ("[s.stripTags('a<a href=\"#\">link</a>'), s.levenshtein('kitten', 'kitting'), s.toSentence(['jQuery', 'Mootools', 'Prototype'])]", json!(["alink", 2, "jQuery, Mootools and Prototype"])),
        ("[s.replaceAll('foo', 'o', 'a'), s.swapCase('hELLO'), s.cleanDiacritics('ääkkönen')]", json!(["faa", "Hello", "aakkonen"])),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moment() {
    let m = "moment.utc('2024-03-05T14:07:09.045Z')";
    check(&[
        (&format!("{m}.format('YYYY-MM-DD HH:mm:ss.SSS')"), json!("2024-03-05 14:07:09.045")),
        (&format!("{m}.format('dddd, MMMM Do YYYY, h:mm:ss a')"), json!("Tuesday, March 5th 2024, 2:07:09 pm")),
        (&format!("{m}.format('ddd MMM D YY hh A, M/D, DDD, Q')"), json!("Tue Mar 5 24 02 PM, 3/5, 65, 1")),
        (&format!("{m}.format('Z ZZ')"), json!("+00:00 +0000")),
        (&format!("(m => [m.format('X') === String(Math.floor(m.valueOf() / 1000)), m.format('x') === String(m.valueOf())])({m})"), json!([true, true])),
        (&format!("{m}.format()"), json!("2024-03-05T14:07:09Z")),
        (&format!("{m}.format('[Today is] dddd')"), json!("Today is Tuesday")),
        (&format!("{m}.toISOString()"), json!("2024-03-05T14:07:09.045Z")),
        (&format!("[{m}.format('LT'), {m}.format('LL'), {m}.format('L')]"), json!(["2:07 PM", "March 5, 2024", "03/05/2024"])),
        (&format!("{m}.add(1, 'day').format('YYYY-MM-DD')"), json!("2024-03-06")),
        ("moment.utc('2024-01-31').add(1, 'month').format('YYYY-MM-DD')", json!("2024-02-29")),
        (&format!("{m}.subtract(2, 'hours').format('HH')"), json!("12")),
        (&format!("{m}.add({{days: 1, hours: 2}}).toISOString()"), json!("2024-03-06T16:07:09.045Z")),
        (&format!("{m}.add(1, 'year').add(30, 'minutes').format('YYYY HH:mm')"), json!("2025 14:37")),
        (&format!("{m}.startOf('day').toISOString()"), json!("2024-03-05T00:00:00.000Z")),
        (&format!("{m}.endOf('day').toISOString()"), json!("2024-03-05T23:59:59.999Z")),
        (&format!("{m}.startOf('hour').toISOString()"), json!("2024-03-05T14:00:00.000Z")),
        (&format!("{m}.startOf('month').toISOString()"), json!("2024-03-01T00:00:00.000Z")),
        (&format!("{m}.startOf('week').format('YYYY-MM-DD ddd')"), json!("2024-03-03 Sun")),
        (&format!("{m}.endOf('month').format('YYYY-MM-DD HH:mm')"), json!("2024-03-31 23:59")),
        ("moment.utc('2024-03-05').diff(moment.utc('2024-03-01'), 'days')", json!(4)),
        ("moment.utc('2024-03-05').diff(moment.utc('2024-03-01'))", json!(345_600_000)),
        ("moment.utc('2024-03-05').diff(moment.utc('2024-01-05'), 'months')", json!(2)),
        ("moment.utc('2024-03-05').diff(moment.utc('2020-03-06'), 'years')", json!(3)),
        ("moment.utc('2024-03-05T12:00:00Z').diff(moment.utc('2024-03-05T10:30:00Z'), 'hours', true)", json!(1.5)),
        ("[moment.utc('2024-01-01').isBefore(moment.utc('2024-01-02')), moment.utc('2024-01-01').isAfter(moment.utc('2024-01-02')), moment.utc('2024-01-01').isSame(moment.utc('2024-01-01T10:00:00Z'), 'day'), moment.utc('2024-01-05').isBetween(moment.utc('2024-01-01'), moment.utc('2024-01-10'))]",
            json!([true, false, true, true])),
        ("moment().subtract(5, 'minutes').fromNow()", json!("5 minutes ago")),
        ("moment().add(2, 'hours').add(1, 'minute').fromNow()", json!("in 2 hours")),
        ("moment().subtract(10, 'seconds').fromNow()", json!("a few seconds ago")),
        ("moment().subtract(1, 'day').fromNow()", json!("a day ago")),
        ("moment().subtract(3, 'days').fromNow(true)", json!("3 days")),
        ("moment().subtract(60, 'days').fromNow()", json!("2 months ago")),
        ("moment().subtract(2, 'years').fromNow()", json!("2 years ago")),
        ("[moment.duration(1, 'minutes').humanize(), moment.duration(2, 'minutes').humanize(), moment.duration(24, 'hours').humanize(), moment.duration(90, 'minutes').humanize(), moment.duration(1, 'minutes').humanize(true)]",
            json!(["a minute", "2 minutes", "a day", "2 hours", "in a minute"])),
        ("[moment.duration(2, 'hours').asMinutes(), moment.duration(1500).seconds(), moment.duration(1500).milliseconds(), moment.duration(1, 'day').asHours(), moment.duration({hours: 1, minutes: 30}).asMinutes()]",
            json!([120, 1, 500, 24, 90])),
        ("[moment.utc(0).unix(), moment.unix(86400).utc().format('YYYY-MM-DD'), moment(1e12).valueOf()]", json!([0, "1970-01-02", 1_000_000_000_000_i64])),
        ("moment.utc('2024-03-05 10:30', 'YYYY-MM-DD HH:mm').toISOString()", json!("2024-03-05T10:30:00.000Z")),
        ("moment.utc('05/03/2024', 'DD/MM/YYYY').format('MMMM D')", json!("March 5")),
        ("moment.utc('March 5th 2024 3:04 pm', 'MMMM Do YYYY h:mm a').toISOString()", json!("2024-03-05T15:04:00.000Z")),
        ("moment('2024-03-05T10:00:00+02:00').toISOString()", json!("2024-03-05T08:00:00.000Z")),
        ("[moment('not a date').isValid(), moment('not a date').format(), moment.isMoment(moment()), moment.isMoment(new Date())]", json!([false, "Invalid date", true, false])),
        ("[moment.utc('2024-03-05T14:07:09Z').utcOffset(), moment.utc([2024, 1, 29]).format('LL'), moment.utc([2024, 1]).daysInMonth()]", json!([0, "February 29, 2024", 29])),
        ("JSON.stringify({t: moment.utc(0)})", json!("{\"t\":\"1970-01-01T00:00:00.000Z\"}")),
        (&format!("[{m}.year(), {m}.month(), {m}.date(), {m}.day(), {m}.hours(), {m}.minutes(), {m}.seconds(), {m}.milliseconds(), {m}.get('hour')]"), json!([2024, 2, 5, 2, 14, 7, 9, 45, 14])),
        (&format!("(m => {{ const c = m.clone().add(1, 'd'); return [m.date(), c.date()] }})({m})"), json!([5, 6])),
        ("Math.abs(moment().valueOf() - Date.now()) < 1000", json!(true)),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_and_misc() {
    check(&[
        ("[btoa('hello'), atob('aGVsbG8='), btoa(''), atob(btoa('a\\u00ff'))]", json!(["aGVsbG8=", "hello", "", "a\u{ff}"])),
        ("[typeof Promise, typeof setTimeout, typeof fetch, typeof HTTP, typeof Store, typeof console.log]", json!(["function", "function", "function", "function", "object", "function"])),
        ("Store.set('k', {a: 1})", json!({"a": 1})),
        ("Store.get('k')", json!({"a": 1})),
    ])
    .await;
}
