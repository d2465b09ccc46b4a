//! W3C Bitstring Status List v1.0 `encodedList` values: the bitstring (index 0 is the most
//! significant bit of the first byte) GZIP-compressed, then multibase base64url without
//! padding (`u…`).

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::VcError;

/// The smallest list the specification allows (16 KB: herd privacy for its holders).
pub const MIN_BITS: usize = 131_072;
/// The largest list [`decode`] inflates (a GZIP bomb stops here).
pub const MAX_BITS: usize = 1 << 27;

/// `encodedList` of `bits` (MSB first), padded with zeros to [`MIN_BITS`].
pub fn encode(bits: &[u8]) -> String {
    let mut padded = bits.to_vec();
    if padded.len() < MIN_BITS / 8 {
        padded.resize(MIN_BITS / 8, 0);
    }
    // The header carries no time or name (flate2 writes mtime 0), so the list is the same
    // bytes on every node.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&padded).expect("writes to a Vec");
    let compressed = gz.finish().expect("writes to a Vec");
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

/// The bitstring of an `encodedList`.
pub fn decode(encoded: &str) -> Result<Vec<u8>, VcError> {
    let b64 = encoded.strip_prefix('u').ok_or_else(|| VcError::BadStatusList("encodedList is multibase base64url (u…)".into()))?;
    let compressed = URL_SAFE_NO_PAD.decode(b64).map_err(|e| VcError::BadStatusList(format!("base64url: {e}")))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .take((MAX_BITS / 8 + 1) as u64)
        .read_to_end(&mut out)
        .map_err(|e| VcError::BadStatusList(format!("gzip: {e}")))?;
    if out.len() > MAX_BITS / 8 {
        return Err(VcError::BadStatusList(format!("longer than {MAX_BITS} bits")));
    }
    if out.len() < MIN_BITS / 8 {
        return Err(VcError::BadStatusList(format!("shorter than the {MIN_BITS} bits a list has")));
    }
    Ok(out)
}

/// Bit `index` of a bitstring (MSB first); `None` past its end.
pub fn bit(bits: &[u8], index: usize) -> Option<bool> {
    bits.get(index / 8).map(|b| b & (0x80 >> (index % 8)) != 0)
}

/// Sets bit `index` (MSB first), growing the string as needed.
pub fn set(bits: &mut Vec<u8>, index: usize) {
    if bits.len() <= index / 8 {
        bits.resize(index / 8 + 1, 0);
    }
    bits[index / 8] |= 0x80 >> (index % 8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_and_bad_ones_are_refused() {
        let mut bits = Vec::new();
        for i in [0, 7, 8, 1000, 131_071] {
            set(&mut bits, i);
        }
        let e = encode(&bits);
        assert_eq!(e, encode(&bits), "deterministic");
        let d = decode(&e).unwrap();
        assert_eq!(d.len(), MIN_BITS / 8);
        for i in 0..MIN_BITS {
            assert_eq!(bit(&d, i).unwrap(), [0, 7, 8, 1000, 131_071].contains(&i), "bit {i}");
        }
        assert_eq!(bit(&d, MIN_BITS), None);
        assert!(decode(&e[1..]).is_err());
        assert!(decode("uAAAA").is_err());
        // A bomb: 32 MiB of zeros inflates past the limit and is refused.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; MAX_BITS / 8 + 1]).unwrap();
        let bomb = format!("u{}", URL_SAFE_NO_PAD.encode(gz.finish().unwrap()));
        assert!(matches!(decode(&bomb), Err(VcError::BadStatusList(m)) if m.contains("longer")));
    }
}
