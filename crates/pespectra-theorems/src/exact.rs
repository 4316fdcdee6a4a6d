//! Exact rational helpers of the checks decided without rounding (T1, R2, R4–R6): small
//! constructors and directed-rounding MPFR conversions of exact values.

use crate::ball::QComplex;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::ToPrimitive;

pub(crate) fn q(v: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(v))
}

pub(crate) fn qc(re: i64, im: i64) -> QComplex {
    QComplex::new(q(re), q(im))
}

pub(crate) fn f(x: &BigRational) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// `x` as an MPFR float of `prec` bits rounded in direction `r`.
pub(crate) fn to_float(x: &BigRational, prec: u32, r: rug::float::Round) -> rug::Float {
    let big = |v: &BigInt| rug::Integer::from_str_radix(&v.to_str_radix(16), 16).expect("hex");
    rug::Float::with_val_round(
        prec,
        rug::Rational::from((big(x.numer()), big(x.denom()))),
        r,
    )
    .0
}

/// `√x` rounded in direction `dir`.
pub(crate) fn sqrt_dir(mut x: rug::Float, dir: rug::float::Round) -> rug::Float {
    x.sqrt_round(dir);
    x
}

/// `[lo, hi] ∋ √((f + √disc)/2)` for exact `f, disc ≥ 0`, in 128-bit MPFR with every
/// operation rounded down (for `lo`) or up (for `hi`); returned as f64 rounded the same way.
pub(crate) fn sqrt_half_root(f: &BigRational, disc: &BigRational) -> (f64, f64) {
    use rug::float::Round::{Down, Up};
    let bound = |dir: rug::float::Round| {
        let root = sqrt_dir(to_float(disc, 128, dir), dir);
        let sum = rug::Float::with_val_round(128, to_float(f, 128, dir) + root, dir).0;
        sqrt_dir(sum / 2u32, dir).to_f64_round(dir)
    };
    (bound(Down), bound(Up))
}
