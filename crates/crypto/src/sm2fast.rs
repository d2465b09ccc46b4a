//! SM2 verification with precomputed tables (GB/T 32918.2 §7, steps B1–B7).
//!
//! Verification computes `s·G + t·P` for public values. The `sm2` crate does it as one
//! constant-time linear combination (about 256 doublings and 128 additions of projective
//! points). Here both points have a fixed-base table of signed 7-bit windows:
//! `table[w][j] = (j+1)·2^(7w)·B` for `j` in `0..64`, in affine form. A scalar then costs 37
//! mixed additions and no doublings, so a verification is 74 additions, in Jacobian
//! coordinates ([`crate::sm2jac`]: 7M + 4S each), and a final `X == c·Z²`: no inversion.
//!
//! * `G`'s table is built once per process.
//! * A member key's table is built once it has been used [`TABLE_AFTER_USES`] times, and kept
//!   in a process-wide cache of at most [`TABLE_KEYS`] keys, evicted by least recent use.
//!   Until then, `t·P` is a plain variable-base multiplication.
//!
//! Nothing here is secret: the scalars, points and signatures are all public, so the code is
//! variable-time on purpose. Signing stays in the `sm2` crate (constant time).
//!
//! The verdict is the same with or without a table, and equals the `sm2` crate's (tests:
//! `tests/sm2_differential.rs`, against that crate and OpenSSL 3). The field arithmetic is
//! fiat-crypto's (as in the `sm2` crate); the point formulas and the scalar-multiplication
//! strategy are ours; building tables and the untabled `t·P` use the `sm2` crate's points.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};

use sm2::elliptic_curve::ff::PrimeField as _;
use sm2::elliptic_curve::group::Group as _;
use sm2::elliptic_curve::ops::Reduce as _;
use sm2::elliptic_curve::sec1::{FromSec1Point as _, ToSec1Point as _};
use sm2::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};

use crate::sm2jac::{Affine, Jacobian};
use sm3::Digest as _;

/// Bits per signed window. 7 bits: 37 windows of 64 points, 170 KB per table (72 bytes per
/// affine point). 8 bits would save 5 additions per scalar for twice the memory.
const WINDOW_BITS: usize = 7;
/// Windows to cover a 256-bit scalar plus the carry of signed recoding: ceil(257 / 7).
const WINDOWS: usize = 257_usize.div_ceil(WINDOW_BITS);
/// Points per window: multiples 1..=64 (a signed digit is in -64..=64).
const HALF: usize = 1 << (WINDOW_BITS - 1);

/// Most keys with a table at once: 128 × 170 KB ≈ 22 MB. A consortium has tens of member keys;
/// the bound only matters when many keys sign at once.
pub const TABLE_KEYS: usize = 128;
/// A key gets its table at its 4th verification. A table costs about 40 verifications to build,
/// so a key that signs once (a stranger, an attacker) never pays for one.
pub const TABLE_AFTER_USES: u32 = 4;
/// Most keys whose uses are counted; the count is forgotten, all at once, when it is full.
const USES_TRACKED: usize = 4096;

/// The default distinguishing ID of GB/T 35276 (also OpenSSL's): "1234567812345678".
pub const DEFAULT_DISTID: &[u8] = b"1234567812345678";

/// The curve's a, b, Gx and Gy as they enter `Z` (GB/T 32918.2 §5.5).
const A_B_G: [&str; 4] = [
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
];

/// A parsed SM2 public key: its point, its `Z` under the default ID, and its coordinates.
#[derive(Clone)]
pub struct Key {
    point: AffinePoint,
    z: [u8; 32],
    xy: [u8; 64],
}

impl Key {
    /// Parses a 65-byte uncompressed SEC1 point on the curve (not the identity).
    pub fn from_sec1(bytes: &[u8]) -> Option<Key> {
        if bytes.len() != 65 || bytes[0] != 4 {
            return None;
        }
        let point: Option<AffinePoint> = AffinePoint::from_sec1_bytes(bytes).ok().filter(|p| !bool::from(p.is_identity()));
        let point = point?;
        let xy: [u8; 64] = bytes[1..].try_into().expect("65 bytes");
        Some(Key { point, z: z_hash(DEFAULT_DISTID, &xy), xy })
    }

    /// `Z_A` under the default ID.
    pub fn z(&self) -> [u8; 32] {
        self.z
    }

    /// `e = SM3(Z_A ‖ M)` as 32 bytes.
    pub fn message_hash(&self, message: &[u8]) -> [u8; 32] {
        let mut h = sm3::Sm3::new();
        h.update(self.z);
        h.update(message);
        h.finalize().into()
    }
}

/// `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ Gx ‖ Gy ‖ x ‖ y)`.
fn z_hash(distid: &[u8], xy: &[u8; 64]) -> [u8; 32] {
    let mut h = sm3::Sm3::new();
    let entl = u16::try_from(distid.len() * 8).expect("a short ID");
    h.update(entl.to_be_bytes());
    h.update(distid);
    for c in A_B_G {
        h.update(hex::decode(c).expect("constant hex"));
    }
    h.update(xy);
    h.finalize().into()
}

/// A signature's scalars, each checked to be in `1..n` (step B1, B2).
#[derive(Clone, Copy)]
pub struct Sig {
    r: Scalar,
    s: Scalar,
}

impl Sig {
    /// From DER `SEQUENCE { r, s }` in its one minimal encoding.
    pub fn from_der(der: &[u8]) -> Option<Sig> {
        let sig = sm2::dsa::Signature::from_der(der).ok()?;
        if sig.to_der().as_bytes() != der {
            return None;
        }
        Some(Sig { r: *sig.r(), s: *sig.s() })
    }

    /// A DER signature as `r ‖ s` (the fixed form consensus votes use).
    pub fn der_to_fixed(der: &[u8]) -> Option<[u8; 64]> {
        let sig = sm2::dsa::Signature::from_der(der).ok()?;
        Some(sig.to_bytes().into())
    }

    /// From `r ‖ s`, 32 bytes each, big-endian.
    pub fn from_fixed(bytes: &[u8]) -> Option<Sig> {
        let sig = sm2::dsa::Signature::from_slice(bytes).ok()?;
        Some(Sig { r: *sig.r(), s: *sig.s() })
    }
}

/// Fixed-base multiples of one point: `points[w * HALF + j] = (j+1)·2^(7w)·B`.
pub struct Table {
    points: Box<[Affine]>,
}

impl Table {
    /// The table of a key's point.
    pub fn for_key(key: &Key) -> Table {
        Table::new(&key.point)
    }

    /// 37 × 64 projective additions and one batch normalisation (a few milliseconds).
    pub fn new(base: &AffinePoint) -> Table {
        let mut projective = Vec::with_capacity(WINDOWS * HALF);
        let mut window_base = ProjectivePoint::from(*base);
        for _ in 0..WINDOWS {
            let mut multiple = window_base;
            for j in 0..HALF {
                if j > 0 {
                    multiple += window_base;
                }
                projective.push(multiple);
            }
            // The next window's base is 2^7 times this one's: twice the last multiple (64·B).
            window_base = multiple.double();
        }
        let mut points = vec![AffinePoint::IDENTITY; projective.len()];
        <ProjectivePoint as sm2::elliptic_curve::group::Curve>::batch_normalize(&projective, &mut points);
        // No multiple is the identity: j·2^(7w) has no factor n.
        let points: Vec<Affine> = points.iter().map(|p| to_affine(p).expect("no multiple is the identity")).collect();
        Table { points: points.into_boxed_slice() }
    }

    /// `acc += k·B`, one mixed addition per non-zero signed digit of `k`.
    fn add_multiple(&self, acc: &mut Jacobian, k: &Scalar) {
        for (w, digit) in signed_digits(k).iter().enumerate() {
            let magnitude = digit.unsigned_abs() as usize;
            if magnitude == 0 {
                continue;
            }
            acc.add_mixed(&self.points[w * HALF + magnitude - 1], *digit < 0);
        }
    }
}

/// `k` as 37 signed digits `d_w` in `-64..=64` with `k = Σ d_w·2^(7w)`.
fn signed_digits(k: &Scalar) -> [i8; WINDOWS] {
    let be: FieldBytes = k.to_repr();
    let mut le = [0u8; 33];
    for (i, b) in be.iter().rev().enumerate() {
        le[i] = *b;
    }
    let bits_at = |pos: usize| -> u32 {
        // 7 bits starting at bit `pos`, little-endian; reads at most 2 bytes.
        let byte = pos / 8;
        let lo = le[byte] as u32 | (le.get(byte + 1).copied().unwrap_or(0) as u32) << 8;
        (lo >> (pos % 8)) & ((1 << WINDOW_BITS) - 1)
    };
    let mut digits = [0i8; WINDOWS];
    let mut carry = 0u32;
    for (w, digit) in digits.iter_mut().enumerate() {
        let v = bits_at(w * WINDOW_BITS) + carry;
        if v > HALF as u32 {
            *digit = (v as i32 - (1 << WINDOW_BITS)) as i8;
            carry = 1;
        } else {
            *digit = v as i8;
            carry = 0;
        }
    }
    debug_assert_eq!(carry, 0, "the top window of a 256-bit scalar has room for the carry");
    digits
}

static G_TABLE: LazyLock<Table> = LazyLock::new(|| Table::new(&AffinePoint::GENERATOR));

/// Steps B4–B7 with `s·G` from `G`'s table and `t·P` from `table` (or, with none, a plain
/// multiplication): accepts iff `(e + x1) mod n == r`.
pub fn verify_prehash(key: &Key, table: Option<&Table>, e: &[u8; 32], sig: &Sig) -> bool {
    let Some(acc) = accumulate(key, table, sig) else { return false };
    // B4, B7: R = (e + x1) mod n == r, i.e. x1 ≡ r - e (mod n). As x1 < p < 2n, x1 is c = r - e
    // or c + n (when below p). Each candidate is compared in Jacobian form, X == c·Z²: no
    // inversion, no square root.
    let c = sig.r - Scalar::reduce(&FieldBytes::from(*e));
    let c_bytes: [u8; 32] = c.to_repr().into();
    if has_x(&acc, &c_bytes) {
        return true;
    }
    let c_int = U256::from_be_slice(&c_bytes);
    c_int < *P_MINUS_N && has_x(&acc, &c_int.wrapping_add(&N).to_be_bytes().into())
}

/// Steps B5 and B6: `s·G + t·P`, or `None` when `t = 0` or the sum is the point at infinity.
fn accumulate(key: &Key, table: Option<&Table>, sig: &Sig) -> Option<Jacobian> {
    // B5: t = (r + s) mod n, refused when 0.
    let t = sig.r + sig.s;
    if bool::from(t.is_zero()) {
        return None;
    }
    // B6: (x1, y1) = s·G + t·P, refused at infinity.
    let mut acc = Jacobian::INFINITY;
    G_TABLE.add_multiple(&mut acc, &sig.s);
    match table {
        Some(table) => table.add_multiple(&mut acc, &t),
        // Without a table: the sm2 crate's variable-base multiplication, added once (t·P is
        // never the identity here, t being non-zero and P of prime order, but it is checked).
        None => {
            if let Some(tp) = to_affine(&(ProjectivePoint::from(key.point) * t).to_affine()) {
                acc.add_mixed(&tp, false);
            }
        }
    }
    (!acc.is_infinity()).then_some(acc)
}

/// A point of the `sm2` crate as ours, `None` for the identity.
fn to_affine(p: &AffinePoint) -> Option<Affine> {
    if bool::from(p.is_identity()) {
        return None;
    }
    let enc = p.to_sec1_point(false);
    let b = enc.as_bytes();
    Some(Affine::from_xy(b[1..33].try_into().expect("32 bytes"), b[33..65].try_into().expect("32 bytes")))
}

/// Many verifications, one verdict each, equal to [`verify_prehash`]'s. (Each check is already
/// free of inversions, so a batch shares nothing; the function stays for callers that batch.)
pub fn verify_prehash_many(items: &[(&Key, Option<&Table>, [u8; 32], Sig)]) -> Vec<bool> {
    items.iter().map(|(key, table, e, sig)| verify_prehash(key, *table, e, sig)).collect()
}

/// [`verify`] for many signatures at once (see [`verify_prehash_many`]).
pub fn verify_many(items: &[(&Key, &[u8], Sig)]) -> Vec<bool> {
    let tables: Vec<Option<Arc<Table>>> = items.iter().map(|(key, _, _)| CACHE.table_for(key)).collect();
    let prepared: Vec<(&Key, Option<&Table>, [u8; 32], Sig)> =
        items.iter().zip(&tables).map(|((key, msg, sig), table)| (*key, table.as_deref(), key.message_hash(msg), *sig)).collect();
    verify_prehash_many(&prepared)
}

/// The curve order n and p - n (the candidates c + n < p need c < p - n).
const N: U256 = U256::from_be_hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
static P_MINUS_N: LazyLock<U256> = LazyLock::new(|| U256::from_be_hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF").wrapping_sub(&N));

/// Whether the (non-identity) point's affine x is `x` (an integer below p).
fn has_x(point: &Jacobian, x: &[u8; 32]) -> bool {
    point.has_x(x)
}

/// Verifies `sig` over `message` (as signed: `e = SM3(Z ‖ message)`), with a table once the key
/// has earned one.
pub fn verify(key: &Key, message: &[u8], sig: &Sig) -> bool {
    let e = key.message_hash(message);
    let table = CACHE.table_for(key);
    verify_prehash(key, table.as_deref(), &e, sig)
}

/// The `sm2` crate's own verification of a DER signature, for benchmarks and differential tests.
pub fn reference_verify(sec1: &[u8], message: &[u8], der: &[u8]) -> bool {
    use sm2::dsa::signature::Verifier as _;
    let Ok(distid) = std::str::from_utf8(DEFAULT_DISTID) else { return false };
    let Ok(vk) = sm2::dsa::VerifyingKey::from_sec1_bytes(distid, sec1) else { return false };
    let Ok(sig) = sm2::dsa::Signature::from_der(der) else { return false };
    vk.verify(message, &sig).is_ok()
}

/// The key's encoding as the SEC1 bytes it was parsed from.
pub fn sec1(key: &Key) -> [u8; 65] {
    let mut out = [4u8; 65];
    out[1..].copy_from_slice(&key.xy);
    debug_assert_eq!(key.point.to_sec1_point(false).as_bytes(), &out[..]);
    out
}

static CACHE: LazyLock<TableCache> = LazyLock::new(TableCache::default);

#[derive(Default)]
struct TableCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    /// Tables by key, with the tick of their last use. Ordered maps: no hash iteration order.
    tables: BTreeMap<[u8; 64], (Arc<Table>, u64)>,
    uses: BTreeMap<[u8; 64], u32>,
    tick: u64,
}

impl TableCache {
    /// The key's table, building it (outside the lock) at its `TABLE_AFTER_USES`-th use.
    fn table_for(&self, key: &Key) -> Option<Arc<Table>> {
        {
            let mut inner = self.inner.lock().expect("table cache lock");
            inner.tick += 1;
            let tick = inner.tick;
            if let Some((table, last)) = inner.tables.get_mut(&key.xy) {
                *last = tick;
                return Some(table.clone());
            }
            if inner.uses.len() >= USES_TRACKED && !inner.uses.contains_key(&key.xy) {
                inner.uses.clear();
            }
            let uses = inner.uses.entry(key.xy).or_insert(0);
            *uses += 1;
            if *uses < TABLE_AFTER_USES {
                return None;
            }
            inner.uses.remove(&key.xy);
        }
        let table = Arc::new(Table::new(&key.point));
        let mut inner = self.inner.lock().expect("table cache lock");
        if inner.tables.len() >= TABLE_KEYS {
            let oldest = inner.tables.iter().min_by_key(|(_, (_, last))| *last).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                inner.tables.remove(&oldest);
            }
        }
        let tick = inner.tick;
        inner.tables.insert(key.xy, (table.clone(), tick));
        debug_assert!(inner.tables.len() <= TABLE_KEYS);
        Some(table)
    }
}

/// How many keys have a table now (for metrics and tests).
pub fn cached_tables() -> usize {
    CACHE.inner.lock().expect("table cache lock").tables.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_digits_recompose() {
        for seed in 0u64..200 {
            let mut bytes = [0u8; 32];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i as u32) >> 8) as u8;
            }
            let k = Scalar::reduce(&FieldBytes::from(bytes));
            let mut sum = Scalar::ZERO;
            let mut weight = Scalar::ONE;
            let radix = Scalar::from(1u64 << WINDOW_BITS);
            for d in signed_digits(&k) {
                assert!((-(HALF as i32)..=HALF as i32).contains(&(d as i32)));
                let m = Scalar::from(d.unsigned_abs() as u64) * weight;
                sum = if d < 0 { sum - m } else { sum + m };
                weight *= radix;
            }
            assert_eq!(sum, k);
        }
        // n - 1, the largest scalar.
        let n_minus_1 = -Scalar::ONE;
        assert_eq!(signed_digits(&n_minus_1).len(), WINDOWS);
    }

    #[test]
    fn table_multiples_equal_plain_multiplication() {
        let g = AffinePoint::GENERATOR;
        let x_of = |p: ProjectivePoint| -> [u8; 32] { p.to_affine().to_sec1_point(false).as_bytes()[1..33].try_into().unwrap() };
        let mut ks: Vec<Scalar> = [1u64, 2, 63, 64, 65, 127, 128, 129, 1 << 40, u64::MAX].into_iter().map(Scalar::from).collect();
        ks.extend([-Scalar::ONE, -Scalar::from(64u64), Scalar::from(3u64).invert().unwrap()]);
        for k in ks {
            let mut acc = Jacobian::INFINITY;
            G_TABLE.add_multiple(&mut acc, &k);
            let expected = ProjectivePoint::from(g) * k;
            assert!(acc.has_x(&x_of(expected)), "k = {k:?}");
            // -k·G has the same x: the y sign is checked through a sum that differs.
            let mut plus_g = acc;
            plus_g.add_mixed(&to_affine(&g).unwrap(), false);
            let sum = expected + ProjectivePoint::from(g);
            if bool::from(sum.is_identity()) {
                assert!(plus_g.is_infinity(), "k = {k:?}");
            } else {
                assert!(plus_g.has_x(&x_of(sum)), "k = {k:?}");
            }
        }
    }
}
