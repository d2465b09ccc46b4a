//! Reading a JSON submission (`POST /v1/transactions`) with its limits applied while parsing,
//! so that memory follows the transactions accepted, not the body a client sent.
//!
//! The body is first checked as JSON without building a tree (`RawValue`: a slice of the body;
//! the check allocates nothing but serde_json's bounded recursion);
//! then the list holds at most `max_txs` slices, and each transaction is decoded alone, from a
//! slice at most [`MAX_JSON_PER_TX_BYTE`] times the chain's largest transaction. A body of a
//! million `0`s stops at its first element; one huge object is refused before it becomes a tree.

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// How much longer than its bytes a transaction's JSON may be (hex doubles every byte; the JSON
/// form of arguments adds names and quotes). The tree of one such text is built at a time
/// (`api.rs`), so this bounds the memory a JSON submission can take.
pub const MAX_JSON_PER_TX_BYTE: usize = 2;
/// Members of a top-level object: `{"transactions", "wait"}` or one transaction's six fields.
const MAX_TOP_LEVEL_KEYS: usize = 8;

/// One transaction as sent: hex of its bytes, or its JSON form.
#[derive(Debug)]
pub enum Item<'a> {
    Hex(&'a str),
    Json(&'a RawValue),
}

/// What a submission asks for.
#[derive(Debug)]
pub struct Submission<'a> {
    pub items: Vec<Item<'a>>,
    /// `{"transactions": [...], "wait": true}`.
    pub wait: bool,
}

/// Why a submission is refused, before any transaction is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON at all (400).
    NotJson(String),
    /// JSON, but not of a submission's shape (400).
    Malformed(String),
    /// More transactions than a request may carry (413).
    TooMany { max: usize },
    /// One transaction's text is longer than any transaction of the chain can be (413).
    TooLarge { index: usize, max_bytes: usize },
}

/// Parses `body` as a submission of at most `max_txs` transactions, each at most `max_tx_bytes`
/// once encoded.
pub fn parse(body: &[u8], max_txs: usize, max_tx_bytes: usize) -> Result<Submission<'_>, Refusal> {
    let text = std::str::from_utf8(body).map_err(|e| Refusal::NotJson(format!("request body is not UTF-8: {e}")))?;
    let top: &RawValue = serde_json::from_str(text).map_err(|e| Refusal::NotJson(format!("request body is not valid JSON: {e}")))?;
    let max_json = max_tx_bytes.saturating_mul(MAX_JSON_PER_TX_BYTE).saturating_add(4096);
    let raw = top.get();
    let submission = match raw.as_bytes().first() {
        Some(b'[') => Submission { items: list(raw, max_txs)?, wait: false },
        Some(b'{') => match wrapper(raw)? {
            Some((list_raw, wait)) => Submission { items: list(list_raw.get(), max_txs)?, wait },
            None => Submission { items: vec![Item::Json(top)], wait: false },
        },
        Some(b'"') => Submission { items: vec![item(top, 0)?], wait: false },
        _ => return Err(Refusal::Malformed("a submission is a transaction (hex or an object), a list of them, or {\"transactions\": [...]}".into())),
    };
    if submission.items.is_empty() {
        return Err(Refusal::Malformed("no transactions in the request".into()));
    }
    for (index, it) in submission.items.iter().enumerate() {
        let len = match it {
            Item::Hex(h) => h.len() / 2,
            Item::Json(j) => j.get().len() / MAX_JSON_PER_TX_BYTE,
        };
        if len > max_tx_bytes || matches!(it, Item::Json(j) if j.get().len() > max_json) {
            return Err(Refusal::TooLarge { index, max_bytes: max_tx_bytes });
        }
    }
    Ok(submission)
}

/// A transaction element: a hex string (borrowed; an escaped string is not hex) or an object.
fn item(raw: &RawValue, index: usize) -> Result<Item<'_>, Refusal> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let inner = &text[1..text.len() - 1];
            if inner.contains('\\') {
                return Err(Refusal::Malformed(format!("transaction {index}: not lowercase hex")));
            }
            Ok(Item::Hex(inner))
        }
        Some(b'{') => Ok(Item::Json(raw)),
        _ => Err(Refusal::Malformed(format!("transaction {index} must be hex or an object"))),
    }
}

/// The elements of a JSON list, at most `max` of them (the rest is not kept).
fn list(raw: &str, max: usize) -> Result<Vec<Item<'_>>, Refusal> {
    let too_many = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(raw);
    let elements = LimitedList { max, too_many: &too_many }.deserialize(&mut de);
    match elements {
        Ok(elements) => elements.into_iter().enumerate().map(|(i, e)| item(e, i)).collect(),
        Err(_) if too_many.get() => Err(Refusal::TooMany { max }),
        Err(e) => Err(Refusal::Malformed(format!("\"transactions\" must be a list: {e}"))),
    }
}

struct LimitedList<'c> {
    max: usize,
    too_many: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for LimitedList<'_> {
    type Value = Vec<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LimitedList<'_> {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of at most {} transactions", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(e) = seq.next_element::<&RawValue>()? {
            if out.len() == self.max {
                self.too_many.set(true);
                return Err(de::Error::custom(format!("more than {} transactions", self.max)));
            }
            out.push(e);
        }
        Ok(out)
    }
}

/// `{"transactions": [...], "wait": bool}`: the list's text and `wait`; `None` for any other
/// object (then a transaction's JSON form).
fn wrapper(raw: &str) -> Result<Option<(&RawValue, bool)>, Refusal> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let members = TopLevel.deserialize(&mut de).map_err(|e| Refusal::Malformed(format!("request body: {e}")))?;
    let Some(list) = members.iter().find(|(k, _)| k == "transactions").map(|(_, v)| *v) else { return Ok(None) };
    let mut wait = false;
    for (key, value) in &members {
        match key.as_str() {
            "transactions" => {}
            "wait" => wait = serde_json::from_str(value.get()).map_err(|_| Refusal::Malformed("\"wait\" must be true or false".into()))?,
            other => return Err(Refusal::Malformed(format!("unknown field {other:?} beside \"transactions\" (known: transactions, wait)"))),
        }
    }
    if !list.get().starts_with('[') {
        return Err(Refusal::Malformed("\"transactions\" must be a list".into()));
    }
    Ok(Some((list, wait)))
}

/// A top-level object's members as slices, at most [`MAX_TOP_LEVEL_KEYS`] of them.
struct TopLevel;

impl<'de> DeserializeSeed<'de> for TopLevel {
    type Value = Vec<(String, &'de RawValue)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(String, &RawValue)> = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, &RawValue>()? {
            if out.len() == MAX_TOP_LEVEL_KEYS {
                return Err(de::Error::custom(format!("more than {MAX_TOP_LEVEL_KEYS} members")));
            }
            if out.iter().any(|(seen, _)| *seen == k) {
                return Err(de::Error::custom(format!("duplicate member {k:?}")));
            }
            out.push((k, v));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Submission<'_> {
        parse(body.as_bytes(), 3, 100).unwrap_or_else(|e| panic!("{body}: {e:?}"))
    }

    #[test]
    fn the_three_shapes_and_wait() {
        assert!(matches!(ok(r#""00ff""#).items[..], [Item::Hex("00ff")]));
        assert!(matches!(ok(r#"["00", {"a": 1}]"#).items[..], [Item::Hex("00"), Item::Json(_)]));
        let s = ok(r#"{"transactions": ["00"], "wait": true}"#);
        assert!(s.wait && s.items.len() == 1);
        assert!(matches!(ok(r#"{"chain_id": "c", "call": {}}"#).items[..], [Item::Json(_)]));
    }

    #[test]
    fn limits_apply_while_parsing() {
        // The fourth element is refused; nothing after it is kept.
        assert_eq!(parse(br#"["00","00","00","00",[1,2,3]]"#, 3, 100).unwrap_err(), Refusal::TooMany { max: 3 });
        // A list of numbers stops at its first.
        let zeros = format!("[{}0]", "0,".repeat(100_000));
        assert!(matches!(parse(zeros.as_bytes(), 200_000, 100).unwrap_err(), Refusal::Malformed(m) if m.contains("transaction 0 must be hex")));
        // One transaction longer than any can be.
        let long = format!("[\"{}\"]", "00".repeat(101));
        assert_eq!(parse(long.as_bytes(), 3, 100).unwrap_err(), Refusal::TooLarge { index: 0, max_bytes: 100 });
        let big_object = format!("[{{\"a\": \"{}\"}}]", "x".repeat(100 * MAX_JSON_PER_TX_BYTE + 8192));
        assert!(matches!(parse(big_object.as_bytes(), 3, 100).unwrap_err(), Refusal::TooLarge { .. }));
    }

    #[test]
    fn malformed_bodies_are_named() {
        assert!(matches!(parse(b"", 3, 100), Err(Refusal::NotJson(m)) if m.contains("not valid JSON")));
        for (body, says) in [
            ("[]", "no transactions"),
            ("{\"transactions\": []}", "no transactions"),
            ("{\"transactions\": \"00\"}", "must be a list"),
            ("{\"transactions\": [], \"x\": 1}", "unknown field"),
            ("{\"transactions\": [], \"wait\": 1}", "\"wait\" must be"),
            ("{\"a\": 1, \"a\": 2}", "duplicate member"),
            ("7", "a submission is"),
            ("[\"\\u0030\"]", "not lowercase hex"),
            ("[1]", "must be hex or an object"),
        ] {
            match parse(body.as_bytes(), 3, 100) {
                Err(Refusal::Malformed(m)) => assert!(m.contains(says), "{body}: {m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(parse(&[0xff, b'"'], 3, 100), Err(Refusal::NotJson(m)) if m.contains("UTF-8")));
    }
}
