//! Personal fields: on chain only as salted digests; the holder keeps the salts.
//!
//! A personal field's *disclosure* is the JSON object `{"field": name, "salt": s, "value": v}`
//! (`s`: 16 random bytes, base64url without padding; `v`: the field's value in the clear). Its
//! digest is the chain suite's hash (SHA-256 or SM3) of the disclosure's RFC 8785 (JCS) bytes,
//! in lower-case hex. A holder reveals a field by handing over its disclosure; a verifier
//! recomputes the digest and compares it with the credential's (or a state-proven entry's)
//! `personal` member of the same name.

use base64::Engine;
use cairn_crypto::Suite;
use serde_json::{Map, Value, json};

use crate::schema::{ContentError, EntrySchema, jcs};

/// Random bytes in a salt: enough that a digest of a guessable value (a birth date) cannot be
/// found by trying values.
pub const SALT_BYTES: usize = 16;

/// The digest of a disclosure (hex).
pub fn digest(suite: Suite, disclosure: &Value) -> String {
    hex::encode(suite.hash(&jcs(disclosure)))
}

/// A disclosure with a fresh salt.
pub fn disclose(field: &str, value: &Value) -> Value {
    let salt: [u8; SALT_BYTES] = rand::random();
    json!({"field": field, "salt": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(salt), "value": value})
}

/// Checks a disclosure's shape (the three members, a salt of the right length).
pub fn check_disclosure(d: &Value) -> Result<(&str, &Value), String> {
    let o = d.as_object().ok_or("a disclosure is a JSON object")?;
    if o.len() != 3 {
        return Err("a disclosure has exactly \"field\", \"salt\" and \"value\"".into());
    }
    let field = o.get("field").and_then(Value::as_str).ok_or("a disclosure's \"field\" is a string")?;
    let salt = o.get("salt").and_then(Value::as_str).ok_or("a disclosure's \"salt\" is a string")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(salt).map_err(|_| "a disclosure's salt is base64url without padding")?;
    if bytes.len() != SALT_BYTES {
        return Err(format!("a disclosure's salt is {SALT_BYTES} bytes"));
    }
    Ok((field, o.get("value").ok_or("a disclosure has a \"value\"")?))
}

/// Splits fields in the clear into chain content (canonical bytes: public fields, digests of
/// the personal ones) and the holder's disclosures, after checking them against the full
/// schema.
pub fn seal(suite: Suite, schema: &EntrySchema, clear: &Map<String, Value>) -> Result<(Vec<u8>, Vec<Value>), ContentError> {
    schema.check_clear(&Value::Object(clear.clone()))?;
    let mut fields = Map::new();
    let mut personal = Map::new();
    let mut disclosures = Vec::new();
    for (k, v) in clear {
        if schema.personal.contains(k) {
            let d = disclose(k, v);
            personal.insert(k.clone(), Value::String(digest(suite, &d)));
            disclosures.push(d);
        } else {
            fields.insert(k.clone(), v.clone());
        }
    }
    let content = jcs(&json!({"fields": fields, "personal": personal}));
    schema.check_content(&content)?;
    Ok((content, disclosures))
}

/// Whether a disclosure matches the digest a content gives for its field.
pub fn verify_disclosure(suite: Suite, content: &Value, d: &Value) -> Result<(), String> {
    let (field, _) = check_disclosure(d)?;
    let want = content.pointer(&format!("/personal/{}", field.replace('~', "~0").replace('/', "~1"))).and_then(Value::as_str);
    match want {
        None => Err(format!("the content has no personal field {field:?}")),
        Some(w) if w == digest(suite, d) => Ok(()),
        Some(_) => Err(format!("the disclosure of {field:?} does not match its digest")),
    }
}
