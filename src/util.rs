//! Small shared helpers: Meteor-style random ids, token hashing, and the two date renderings
//! (ISO strings for REST, EJSON `{"$date": ms}` for DDP) that every document type uses.

use base64::Engine;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The alphabet Meteor's `Random.id()` draws from; Rocket.Chat clients sometimes validate ids against it.
const ID_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz";

/// A random id of `len` characters (17 for documents, 24 or 48 for tokens), from the OS-seeded CSPRNG.
pub fn random_id(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())] as char)
        .collect()
}

/// A 17-character document id: 8 characters of the current time in milliseconds, then 9 random ones
/// (about 52 bits). The alphabet is in ASCII order, so ids made later sort later: new rows land at the end
/// of the primary-key index instead of on a random page each, which keeps a group commit to a few dirty
/// pages instead of one per row. Clients see the same 17-character Meteor-style id as ever.
pub fn new_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let base = ID_ALPHABET.len() as u64;
    let mut out = [0u8; 17];
    let mut t = ms;
    for slot in out[..8].iter_mut().rev() {
        *slot = ID_ALPHABET[(t % base) as usize];
        t /= base;
    }
    // One 64-bit draw spelled in base 55 gives the nine characters (55^9 is about 2^52): a document id
    // only has to be unique, and a draw per character cost more than the rest of the id.
    let mut r: u64 = rand::thread_rng().gen();
    for slot in out[8..].iter_mut() {
        *slot = ID_ALPHABET[(r % base) as usize];
        r /= base;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `bytes` as text, invalid sequences replaced by U+FFFD, as `String::from_utf8_lossy` does; valid text
/// (nearly all of it) is checked by the much faster `std::str::from_utf8` first, which matters for
/// request bodies of tens of kilobytes.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A login token as Meteor makes them: 43 characters of URL-safe base64 from 32 random bytes.
pub fn new_login_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How login tokens are stored: SHA-256, base64 — the same scheme as Rocket.Chat, so a leaked database does
/// not leak usable sessions.
pub fn hash_token(token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(token.as_bytes()))
}

/// Lower-case hex SHA-256, the digest Meteor clients send instead of a plain password.
pub fn sha256_hex(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(64);
    for b in d {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `2024-01-10T14:12:07.739Z`, the one date format of the REST API.
pub fn iso(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Parses a date as JavaScript's `new Date(x)` would for the forms clients send: RFC 3339 / ISO 8601 with or
/// without a zone, a bare date, or a number of milliseconds.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc().timestamp_millis());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    None
}

/// Which wire format a document's dates take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateStyle {
    /// REST: ISO-8601 strings.
    Iso,
    /// DDP: EJSON `{"$date": ms}`.
    Ejson,
}

impl DateStyle {
    pub fn date(self, ms: i64) -> Value {
        match self {
            DateStyle::Iso => Value::String(iso(ms)),
            DateStyle::Ejson => json!({ "$date": ms }),
        }
    }
}

/// Constant-time string comparison for secrets (hook tokens), so response timing leaks nothing.
pub fn secure_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_borrows_valid_text_and_replaces_the_rest() {
        assert!(matches!(
            lossy("café".as_bytes()),
            std::borrow::Cow::Borrowed("café")
        ));
        assert_eq!(lossy(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(lossy(b"\xe2\x82"), "\u{fffd}");
    }

    #[test]
    fn ids_use_meteor_alphabet() {
        let id = new_id();
        assert_eq!(id.len(), 17);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)));
        assert_ne!(new_id(), new_id());
        // Every character of the random tail ranges over the whole alphabet (missing one of 55 in 2000 ids
        // by chance has a probability of about e^-36).
        let ids: Vec<Vec<u8>> = (0..2000).map(|_| new_id().into_bytes()).collect();
        for pos in 8..17 {
            let seen: std::collections::HashSet<u8> = ids.iter().map(|id| id[pos]).collect();
            assert_eq!(seen.len(), ID_ALPHABET.len(), "position {pos}");
        }
    }

    #[test]
    fn ids_made_later_sort_later() {
        // The alphabet must be in byte order for the time prefix to sort.
        assert!(ID_ALPHABET.windows(2).all(|w| w[0] < w[1]));
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(3));
        let later: Vec<String> = (0..100).map(|_| new_id()).collect();
        assert!(later.iter().all(|id| *id > first), "{first} vs {later:?}");
        // The random tail keeps ids made in the same millisecond distinct.
        let mut unique = later.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), later.len());
    }

    #[test]
    fn iso_round_trips_through_parse() {
        let ms = 1_704_895_927_739;
        assert_eq!(iso(ms), "2024-01-10T14:12:07.739Z");
        assert_eq!(parse_date(&iso(ms)), Some(ms));
        assert_eq!(parse_date("2024-01-10"), Some(1_704_844_800_000));
        assert_eq!(parse_date("not a date"), None);
    }

    #[test]
    fn token_hash_is_base64_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
