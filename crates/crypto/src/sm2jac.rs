//! SM2 curve points in Jacobian coordinates over fiat-crypto's SM2 field (formally verified
//! Montgomery arithmetic, the same code the `sm2` crate uses underneath), for verification only:
//! variable time, public inputs.
//!
//! Why not the `sm2` crate's points: its complete projective formulas cost about 14
//! multiplications per mixed addition, and its coordinates are private, so the final
//! `x1 ≡ r − e` check needed a square root. Here a mixed addition is 7 multiplications and 4
//! squarings, and the check is `X == c·Z²` (x = X/Z² in Jacobian form): no root, no inversion.
//!
//! The formulas are incomplete, so every special case is handled explicitly: the accumulator at
//! infinity, an addend equal to the accumulator (doubling) or to its negation (infinity).
//! Field elements are always fully reduced (fiat's postconditions), so equality is limb
//! equality.

use fiat_crypto::sm2_64::{
    fiat_sm2_add, fiat_sm2_from_bytes, fiat_sm2_montgomery_domain_field_element as M, fiat_sm2_mul, fiat_sm2_non_montgomery_domain_field_element as NM,
    fiat_sm2_opp, fiat_sm2_square, fiat_sm2_sub, fiat_sm2_to_montgomery,
};

/// A field element mod p, in Montgomery form, fully reduced.
#[derive(Clone, Copy)]
pub(crate) struct Fe(M);

impl PartialEq for Fe {
    fn eq(&self, other: &Fe) -> bool {
        self.0.0 == other.0.0
    }
}

impl Fe {
    const ZERO: Fe = Fe(M([0; 4]));

    /// From 32 big-endian bytes of an integer below p (the caller guarantees the bound).
    pub(crate) fn from_be_below_p(be: &[u8; 32]) -> Fe {
        let mut le = *be;
        le.reverse();
        let mut limbs = [0u64; 4];
        fiat_sm2_from_bytes(&mut limbs, &le);
        let mut out = M([0; 4]);
        fiat_sm2_to_montgomery(&mut out, &NM(limbs));
        Fe(out)
    }

    fn mul(&self, other: &Fe) -> Fe {
        let mut out = M([0; 4]);
        fiat_sm2_mul(&mut out, &self.0, &other.0);
        Fe(out)
    }

    fn square(&self) -> Fe {
        let mut out = M([0; 4]);
        fiat_sm2_square(&mut out, &self.0);
        Fe(out)
    }

    fn add(&self, other: &Fe) -> Fe {
        let mut out = M([0; 4]);
        fiat_sm2_add(&mut out, &self.0, &other.0);
        Fe(out)
    }

    fn sub(&self, other: &Fe) -> Fe {
        let mut out = M([0; 4]);
        fiat_sm2_sub(&mut out, &self.0, &other.0);
        Fe(out)
    }

    fn neg(&self) -> Fe {
        let mut out = M([0; 4]);
        fiat_sm2_opp(&mut out, &self.0);
        Fe(out)
    }

    fn double(&self) -> Fe {
        self.add(self)
    }

    fn is_zero(&self) -> bool {
        self.0.0 == [0; 4]
    }
}

/// An affine point that is not the identity (table entries and converted points).
#[derive(Clone, Copy)]
pub(crate) struct Affine {
    x: Fe,
    y: Fe,
}

impl Affine {
    /// From the point's uncompressed SEC1 coordinates (on the curve: the caller parsed them).
    pub(crate) fn from_xy(x: &[u8; 32], y: &[u8; 32]) -> Affine {
        Affine { x: Fe::from_be_below_p(x), y: Fe::from_be_below_p(y) }
    }
}

/// A point in Jacobian coordinates: (X/Z², Y/Z³); Z = 0 is the point at infinity.
#[derive(Clone, Copy)]
pub(crate) struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Jacobian {
    pub(crate) const INFINITY: Jacobian = Jacobian { x: Fe::ZERO, y: Fe::ZERO, z: Fe::ZERO };

    pub(crate) fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    /// `self += ±q` (`negate`: add −q).
    pub(crate) fn add_mixed(&mut self, q: &Affine, negate: bool) {
        let qy = if negate { q.y.neg() } else { q.y };
        if self.is_infinity() {
            // Z = 1 in Montgomery form is R mod p: obtained without a constant as 1·1.
            *self = Jacobian { x: q.x, y: qy, z: ONE };
            return;
        }
        // madd-2007-bl (7M + 4S), with the cases it does not cover checked first.
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = qy.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r_half = s2.sub(&self.y);
        if h.is_zero() {
            if r_half.is_zero() {
                // q equals the accumulator.
                self.double_in_place();
            } else {
                // q is the accumulator's negation.
                *self = Jacobian::INFINITY;
            }
            return;
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let r = r_half.double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        *self = Jacobian { x: x3, y: y3, z: z3 };
    }

    /// `self = 2·self` for a curve with a = −3 (dbl-2001-b, 3M + 5S).
    fn double_in_place(&mut self) {
        if self.is_infinity() || self.y.is_zero() {
            // 2·O = O; a point with y = 0 has order 2 (none on SM2's prime-order curve).
            *self = Jacobian::INFINITY;
            return;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.mul(&gamma);
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let beta4 = beta.double().double();
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = self.y.add(&self.z).square().sub(&gamma).sub(&delta);
        let gamma_sq8 = gamma.square().double().double().double();
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma_sq8);
        *self = Jacobian { x: x3, y: y3, z: z3 };
    }

    /// Whether this (non-infinite) point's affine x is the integer `x` (below p): `X == x·Z²`.
    pub(crate) fn has_x(&self, x: &[u8; 32]) -> bool {
        !self.is_infinity() && self.x == Fe::from_be_below_p(x).mul(&self.z.square())
    }
}

/// 1 in Montgomery form.
const ONE: Fe = {
    // R mod p = 2^256 mod p = 2^224 + 2^96 − 2^64 + 1, as little-endian limbs.
    Fe(M([1, 0x0000_0000_FFFF_FFFF, 0, 0x0000_0001_0000_0000]))
};

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::elliptic_curve::sec1::ToSec1Point as _;
    use sm2::{AffinePoint, ProjectivePoint, Scalar};

    fn affine(p: &ProjectivePoint) -> Affine {
        let a: AffinePoint = p.to_affine();
        let enc = a.to_sec1_point(false);
        let b = enc.as_bytes();
        Affine::from_xy(b[1..33].try_into().unwrap(), b[33..65].try_into().unwrap())
    }

    fn x_of(p: &ProjectivePoint) -> [u8; 32] {
        p.to_affine().to_sec1_point(false).as_bytes()[1..33].try_into().unwrap()
    }

    #[test]
    fn one_is_montgomery_one() {
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(Fe::from_be_below_p(&one) == ONE);
        let g = affine(&ProjectivePoint::GENERATOR);
        assert!(g.x.mul(&ONE) == g.x);
    }

    /// Sums of multiples of G, with every special case (doubling, cancelling, infinity), agree
    /// with the `sm2` crate's complete formulas.
    #[test]
    fn mixed_additions_and_special_cases_equal_the_sm2_crate() {
        let g = ProjectivePoint::GENERATOR;
        let multiples: Vec<ProjectivePoint> = (1..=20u64).map(|k| g * Scalar::from(k)).collect();
        let table: Vec<Affine> = multiples.iter().map(affine).collect();
        // Steps chosen to hit acc == q (doubling) and acc == -q (infinity) and to restart after.
        let steps: [(usize, bool); 12] =
            [(0, false), (0, false), (1, false), (3, true), (0, true), (4, false), (9, false), (2, true), (11, true), (11, false), (6, false), (19, true)];
        let mut ours = Jacobian::INFINITY;
        let mut theirs = ProjectivePoint::IDENTITY;
        for (i, negate) in steps {
            ours.add_mixed(&table[i], negate);
            theirs += if negate { -multiples[i] } else { multiples[i] };
            let identity = bool::from(sm2::elliptic_curve::group::Group::is_identity(&theirs));
            assert_eq!(ours.is_infinity(), identity, "step {i}");
            if !identity {
                assert!(ours.has_x(&x_of(&theirs)), "step {i}");
                let mut other = x_of(&theirs);
                other[31] ^= 1;
                assert!(!ours.has_x(&other));
            }
        }
    }
}
