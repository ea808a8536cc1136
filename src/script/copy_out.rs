//! Copies a script's result out of QuickJS as a `serde_json::Value`, meaning exactly what
//! `JSON.parse(JSON.stringify(result))` would give, without printing and re-parsing the text.
//!
//! Rocket.Chat hands results across its sandbox boundary as JSON, so that is the contract: `toJSON` is
//! honoured, `undefined`, functions and symbols vanish from objects and become `null` in arrays, `NaN` and
//! the infinities become `null`, boxed primitives are unwrapped, cycles and BigInts are errors. Printing a
//! small message with QuickJS's `JSON.stringify` and parsing it again was about a third of a small script
//! call. Plain objects, arrays and primitives — nearly every result — are walked here directly; anything
//! else (an object with `toJSON`, a boxed primitive, a class instance, a proxy, a BigInt, a cycle) is
//! handed to `JSON.stringify` for that one subtree, so its meaning cannot drift from the engine's. One
//! deliberate difference: a string with a lone surrogate has it replaced by U+FFFD instead of failing the
//! call, as it would fail to parse back.

use rquickjs::atom::PredefinedAtom;
use rquickjs::function::This;
use rquickjs::object::{Filter, Property};
use rquickjs::{Atom, Ctx, Function, Object, Value};
use serde_json::{Map, Number, Value as Json};

/// Why a result could not be copied.
pub(crate) enum CopyError {
    /// The engine threw (a getter, a `toJSON`, a cycle or BigInt reported by `JSON.stringify`, a limit).
    Js(rquickjs::Error),
    /// The copy would be larger than the script's memory limit (as `JSON.stringify` would run out of it).
    TooLarge,
    /// Nested deeper than the rest of the server accepts, or not representable as JSON text.
    Unrepresentable(String),
}

impl From<rquickjs::Error> for CopyError {
    fn from(e: rquickjs::Error) -> Self {
        CopyError::Js(e)
    }
}

/// As deep as a result may nest (`serde_json`'s own parsing limit, which results used to pass through).
const MAX_DEPTH: usize = 128;

/// Arrays longer than this are left to `JSON.stringify`, whose output counts against the memory limit: a
/// sparse array's length costs QuickJS nothing, but each hole is a `null` in the copy.
const WALK_ARRAY_MAX: u32 = 1 << 16;

/// Copies `value` (the result of a call). `Ok(None)` where `JSON.stringify` would give `undefined`.
/// `budget` bounds the copy's approximate size in bytes.
pub(crate) fn copy_out<'js>(
    ctx: &Ctx<'js>,
    value: Value<'js>,
    budget: usize,
) -> Result<Option<Json>, CopyError> {
    let mut w = Walker {
        ctx: ctx.clone(),
        object_proto: None,
        stack: Vec::new(),
        budget,
    };
    w.property(Key::Name(""), value)
}

/// The name a value has in its holder, spelled out only when `JSON.stringify` is asked to take over.
#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Index(u32),
}

struct Walker<'js> {
    ctx: Ctx<'js>,
    /// `Object.prototype`, looked up on first use.
    object_proto: Option<Option<Object<'js>>>,
    /// The objects being copied, outermost first: meeting one again is a cycle.
    stack: Vec<Value<'js>>,
    budget: usize,
}

impl<'js> Walker<'js> {
    fn spend(&mut self, bytes: usize) -> Result<(), CopyError> {
        self.budget = self.budget.checked_sub(bytes).ok_or(CopyError::TooLarge)?;
        Ok(())
    }

    /// `SerializeJSONProperty` for a value found under `key`.
    fn property(&mut self, key: Key<'_>, value: Value<'js>) -> Result<Option<Json>, CopyError> {
        self.spend(16)?;
        if let Some(i) = value.as_int() {
            return Ok(Some(Json::from(i)));
        }
        if let Some(f) = value.as_float() {
            return Ok(Some(number(f)));
        }
        if let Some(b) = value.as_bool() {
            return Ok(Some(Json::Bool(b)));
        }
        if value.is_null() {
            return Ok(Some(Json::Null));
        }
        if let Some(s) = value.as_string() {
            // A lone surrogate (typically from cutting a string between the halves of an emoji) fails
            // the plain conversion. JSON text cannot carry it into a message (Rocket.Chat's database
            // driver makes it U+FFFD), so it becomes U+FFFD here too rather than failing the call.
            let text = s
                .to_string()
                .ok()
                .or_else(|| well_formed(&self.ctx, &value));
            return match text {
                Some(t) => {
                    self.spend(t.len())?;
                    Ok(Some(Json::String(t)))
                }
                None => self.delegate(key, value),
            };
        }
        if value.is_undefined() || value.is_symbol() {
            return Ok(None);
        }
        let Some(obj) = value.as_object() else {
            // BigInt (and anything newer): `JSON.stringify` decides.
            return self.delegate(key, value);
        };
        if value.is_proxy() || self.stack.contains(&value) {
            return self.delegate(key, value);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(CopyError::Unrepresentable(format!(
                "it nests deeper than {MAX_DEPTH} levels"
            )));
        }
        // Looked up first, even on functions: `JSON.stringify` calls a `toJSON` with the key.
        let to_json: Value = obj.get(PredefinedAtom::ToJSON)?;
        if !to_json.is_undefined() {
            return self.delegate(key, value);
        }
        if value.is_function() {
            return Ok(None);
        }
        if value.is_array() {
            return self.array(key, obj.clone(), value);
        }
        if !self.is_plain(obj) {
            return self.delegate(key, value);
        }
        self.object(obj.clone(), value)
    }

    /// An object whose prototype is `Object.prototype` or `null`: nothing but its own properties counts.
    fn is_plain(&mut self, obj: &Object<'js>) -> bool {
        let proto = obj.get_prototype();
        let Some(proto) = proto else {
            return true;
        };
        if self.object_proto.is_none() {
            // A new object's prototype is the realm's own `Object.prototype`, whatever the script did to
            // the global `Object`.
            let p = Object::new(self.ctx.clone())
                .ok()
                .and_then(|o| o.get_prototype());
            self.object_proto = Some(p);
        }
        matches!(&self.object_proto, Some(Some(p)) if *p == proto)
    }

    fn object(&mut self, obj: Object<'js>, value: Value<'js>) -> Result<Option<Json>, CopyError> {
        self.stack.push(value);
        let mut map = Map::new();
        for atom in obj.own_keys::<Atom>(Filter::new().string().enum_only()) {
            let atom = atom?;
            let key = atom.to_string()?;
            let v: Value = obj.get(atom)?;
            if let Some(j) = self.property(Key::Name(&key), v)? {
                self.spend(key.len())?;
                map.insert(key, j);
            }
        }
        self.stack.pop();
        Ok(Some(Json::Object(map)))
    }

    fn array(
        &mut self,
        key: Key<'_>,
        obj: Object<'js>,
        value: Value<'js>,
    ) -> Result<Option<Json>, CopyError> {
        let len: Value = obj.get(PredefinedAtom::Length)?;
        let len = match len.as_int() {
            Some(n) if (0..=WALK_ARRAY_MAX as i32).contains(&n) => n as u32,
            _ => return self.delegate(key, value),
        };
        self.stack.push(value);
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            let v: Value = obj.get(i)?;
            let j = self.property(Key::Index(i), v)?;
            items.push(j.unwrap_or(Json::Null));
        }
        self.stack.pop();
        Ok(Some(Json::Array(items)))
    }

    /// Lets `JSON.stringify` serialise `value` as the property `key` (so a `toJSON` gets the key it would
    /// have got), and parses what it printed.
    fn delegate(&mut self, key: Key<'_>, value: Value<'js>) -> Result<Option<Json>, CopyError> {
        let key = match key {
            Key::Name(k) => k.to_string(),
            Key::Index(i) => i.to_string(),
        };
        let holder = Object::new(self.ctx.clone())?;
        // Without a prototype, so that an `Object.prototype.toJSON` cannot turn the holder itself into
        // something else.
        holder.set_prototype(None)?;
        holder.prop(key.as_str(), Property::from(value).enumerable())?;
        let Some(text) = self.ctx.json_stringify(holder)? else {
            return Ok(None);
        };
        let text = text.to_string()?;
        self.spend(text.len())?;
        let parsed: Json =
            serde_json::from_str(&text).map_err(|e| CopyError::Unrepresentable(e.to_string()))?;
        match parsed {
            Json::Object(mut m) => Ok(m.swap_remove(&key)),
            _ => Ok(None),
        }
    }
}

/// `value` (a string) with lone surrogates replaced by U+FFFD, by the engine's `String.prototype.toWellFormed`.
fn well_formed<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> Option<String> {
    let string: Object = ctx.globals().get("String").ok()?;
    let proto: Object = string.get(PredefinedAtom::Prototype).ok()?;
    let f: Function = proto.get("toWellFormed").ok()?;
    let fixed: rquickjs::String = f.call((This(value.clone()),)).ok()?;
    fixed.to_string().ok()
}

/// A JavaScript number as `JSON.stringify` prints it and `serde_json` reads it back: integral values
/// below 1e21 print as digits and come back as integers where they fit; non-finite values print `null`.
fn number(f: f64) -> Json {
    if !f.is_finite() {
        return Json::Null;
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f == 0.0 {
            return Json::from(0u64);
        }
        if f > 0.0 && f < 18_446_744_073_709_551_616.0 {
            return Json::from(f as u64);
        }
        // `serde_json` reads -2^63 itself as a float.
        if f < 0.0 && f > -9_223_372_036_854_775_808.0 {
            return Json::from(f as i64);
        }
    }
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}
