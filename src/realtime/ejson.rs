//! EJSON on input: DDP method and subscription parameters arrive as EJSON, whose special objects
//! (`{"$date":ms}`, `{"$binary":"<base64>"}`, `{"$escape":{…}}`) must be decoded before dispatch so that
//! methods can tell "a date" from "an object that happens to have a `$date` key" (`rooms/get` picks its
//! answer shape by exactly that). We never emit anything but `$date`, which the document renderers in
//! `model` already produce, so there is no encoder here beyond [`EJson::to_json`].

use base64::Engine;
use serde_json::{Map, Number, Value};

/// A decoded EJSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum EJson {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<EJson>),
    /// A plain object; after `$escape` its keys are literal even when they start with `$`.
    Object(Map<String, Value>),
    /// Milliseconds since the Unix epoch.
    Date(i64),
    Binary(Vec<u8>),
}

/// Why a parameter could not be decoded; callers answer it with Meteor's 400 "Match failed".
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Decodes one EJSON value.
pub fn decode(v: Value) -> Result<EJson, Malformed> {
    decode_depth(v, 0)
}

/// EJSON nesting deeper than this is refused rather than recursed into (serde_json already caps parsing
/// depth at 128, so this is belt and braces for values built elsewhere).
const MAX_DEPTH: usize = 128;

fn decode_depth(v: Value, depth: usize) -> Result<EJson, Malformed> {
    if depth > MAX_DEPTH {
        return Err(Malformed);
    }
    Ok(match v {
        Value::Null => EJson::Null,
        Value::Bool(b) => EJson::Bool(b),
        Value::Number(n) => EJson::Number(n),
        Value::String(s) => EJson::String(s),
        Value::Array(a) => EJson::Array(
            a.into_iter()
                .map(|x| decode_depth(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => decode_object(o, depth)?,
    })
}

fn decode_object(mut o: Map<String, Value>, depth: usize) -> Result<EJson, Malformed> {
    // EJSON only treats an object as special when the tag is its sole key (`$type`/`$value` is a pair).
    if o.len() == 1 {
        if let Some(d) = o.get("$date") {
            return match d {
                Value::Number(n) => n
                    .as_i64()
                    .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                    .map(EJson::Date)
                    .ok_or(Malformed),
                // `new Date(NaN)`-style dates are useless to every method; refuse them.
                _ => Err(Malformed),
            };
        }
        if let Some(b) = o.get("$binary") {
            let text = b.as_str().ok_or(Malformed)?;
            return base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(EJson::Binary)
                .map_err(|_| Malformed);
        }
        if let Some(inner) = o.remove("$escape") {
            // One level down the keys are literal; the values are still EJSON.
            let Value::Object(inner) = inner else {
                return Err(Malformed);
            };
            let mut out = Map::new();
            for (k, v) in inner {
                out.insert(k, decode_depth(v, depth + 1)?.to_json());
            }
            return Ok(EJson::Object(out));
        }
    }
    if o.len() == 2 && o.contains_key("$type") && o.contains_key("$value") {
        // Custom types are registered per application; we have none.
        return Err(Malformed);
    }
    let mut out = Map::new();
    for (k, v) in o {
        out.insert(k, decode_depth(v, depth + 1)?.to_json());
    }
    Ok(EJson::Object(out))
}

impl EJson {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            EJson::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<i64> {
        match self {
            EJson::Date(ms) => Some(*ms),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            EJson::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            EJson::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            EJson::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The value as plain JSON for domain code: dates become `{"$date":ms}` (which the message code reads
    /// for a client `ts`), bytes a base64 string. Objects inside an [`EJson::Object`] are already plain.
    pub fn to_json(&self) -> Value {
        match self {
            EJson::Null => Value::Null,
            EJson::Bool(b) => Value::Bool(*b),
            EJson::Number(n) => Value::Number(n.clone()),
            EJson::String(s) => Value::String(s.clone()),
            EJson::Array(a) => Value::Array(a.iter().map(EJson::to_json).collect()),
            EJson::Object(o) => Value::Object(o.clone()),
            EJson::Date(ms) => serde_json::json!({ "$date": ms }),
            EJson::Binary(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_decode_only_as_sole_key() {
        assert_eq!(decode(json!({"$date": 5})), Ok(EJson::Date(5)));
        assert_eq!(decode(json!({"$date": 5.9})), Ok(EJson::Date(5)));
        assert_eq!(decode(json!({"$date": "x"})), Err(Malformed));
        let two = decode(json!({"$date": 5, "x": 1})).unwrap();
        assert_eq!(two.as_date(), None);
        assert!(two.as_object().is_some());
    }

    #[test]
    fn binary_and_escape() {
        assert_eq!(
            decode(json!({"$binary": "AQI="})),
            Ok(EJson::Binary(vec![1, 2]))
        );
        assert_eq!(decode(json!({"$binary": "!!"})), Err(Malformed));
        let e = decode(json!({"$escape": {"$date": 7}})).unwrap();
        assert_eq!(e.as_date(), None);
        assert_eq!(e.to_json(), json!({"$date": 7}));
        assert_eq!(decode(json!({"$type": "x", "$value": 1})), Err(Malformed));
    }

    #[test]
    fn nested_dates_become_plain_json() {
        let v = decode(json!([{"ts": {"$date": 3}, "b": {"$binary": ""}}])).unwrap();
        assert_eq!(v.to_json(), json!([{"ts": {"$date": 3}, "b": ""}]));
    }
}
