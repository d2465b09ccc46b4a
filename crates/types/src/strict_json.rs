//! The JSON that Cairn's offline verifiers accept, stricter than JSON itself so that every
//! verifier reads a file the same way: no object with a member named twice (readers differ on
//! which one counts) and no number with a fraction or an exponent (receipts, proofs and trust
//! files carry only integers; `1.0` is an integer to some readers and not to others). The
//! browser's verifier applies the same rule (`console/verify.js`, `strictJson`).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting a verifier reads (receipts nest a few levels).
pub const MAX_DEPTH: usize = 64;

/// Checks `bytes` is JSON under these rules; the error says what broke them.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de::DeserializeSeed::deserialize(Strict { depth: 0 }, &mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for Strict {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(format!("nested deeper than {MAX_DEPTH}")));
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        Err(E::custom(format!("the number {v} is not an integer written as one (no fraction, no exponent)")))
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict { depth: self.depth + 1 })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("member {key:?} appears twice in one object")));
            }
            map.next_value_seed(Strict { depth: self.depth + 1 })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn duplicates_fractions_and_exponents_are_refused() {
        check(br#"{"a": [1, -2, "x", null, true, {"b": {}}]}"#).unwrap();
        assert!(check(br#"{"a": 1, "a": 1}"#).unwrap_err().contains("twice"));
        assert!(check(br#"{"x": {"a": 1, "a": 2}}"#).unwrap_err().contains("twice"));
        assert!(check(br#"{"a": 1.0}"#).unwrap_err().contains("not an integer"));
        assert!(check(br#"{"a": 1e3}"#).unwrap_err().contains("not an integer"));
        assert!(check(br#"{"a": 1} x"#).is_err());
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(check(deep.as_bytes()).unwrap_err().contains("deeper"));
    }
}
