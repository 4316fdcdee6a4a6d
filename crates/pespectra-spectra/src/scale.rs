//! Exact power-of-two rescaling, so that matrices anywhere in the f64 range verify like ordinary
//! ones.
//!
//! The f64 path bounds residuals such as `|A|·|X|`, whose entries are about `n·max|a_ij|`: near
//! 1e308 they overflow (and faer's eigensolver stops converging), near the subnormal range the
//! underflow terms `kη` swamp them. Eigenvalues and singular values are homogeneous of degree one,
//! so `λ(2^e·A) = 2^e·λ(A)`: the engine analyses `2^e·A` with `max|a_ij|·2^e ∈ [1/2, 1)` and
//! multiplies the enclosures back by `2^−e`, which MPFR does exactly (its exponent range is far
//! wider than f64's).
//!
//! **Rounding assumptions.** Multiplying a binary64 number by `2^e` is exact unless the result
//! leaves the normal range. Scaling up (`e > 0`) never overflows here because the largest entry
//! lands below 1. Scaling down (`e < 0`) may push small entries into the subnormal range and drop
//! bits; every such entry is detected (the product does not scale back to the original) and
//! gets a radius of one subnormal ulp `2⁻¹⁰⁷⁴`, which bounds the round-to-nearest error (at most
//! half of it), so the scaled ball still contains the scaled matrix.

use crate::matrix::{CMat, HermitianInput};
use faer::Mat;
use pespectra_arith::gemm::ETA64;
use pespectra_arith::mp::MpInterval;
use rug::float::Round;

/// Matrices whose largest entry lies in `[2^−64, 2^64]` are analysed as they are: their residual
/// bounds are far from both ends of the f64 range, and the output stays bit-for-bit what it was
/// before rescaling existed.
const QUIET_RANGE: i32 = 64;

/// The exponent `e` such that `2^e·max|entry| ∈ [1/2, 1)`, or `None` when no rescaling is needed
/// (zero matrix, or largest entry already in the quiet range).
pub fn exponent_for(max_abs: f64) -> Option<i32> {
    if max_abs == 0.0 || !max_abs.is_finite() {
        return None;
    }
    // frexp: max_abs = f·2^k with f ∈ [1/2, 1); exact through the bits, subnormals included.
    let k = frexp_exponent(max_abs);
    (!(-QUIET_RANGE..=QUIET_RANGE).contains(&k)).then_some(-k)
}

fn frexp_exponent(x: f64) -> i32 {
    let bits = x.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // subnormal: x = m·2^−1074 with m < 2^52
        let m = bits & ((1u64 << 52) - 1);
        -1074 + (64 - m.leading_zeros() as i32)
    } else {
        biased - 1022
    }
}

/// `2^e` as an f64 for `e` in the whole exponent range of binary64 (subnormal powers included).
fn pow2(e: i32) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

/// Multiplies every entry by `2^e`, in up to two exact steps (a single `2^e` factor may not be
/// representable for large |e|). Returns the scaled matrix and, when some entries underflowed,
/// the entrywise radius that covers their rounding.
fn scale_mat(m: &Mat<f64>, e: i32) -> (Mat<f64>, bool, Mat<f64>) {
    let (e1, e2) = (e / 2, e - e / 2);
    let (f1, f2) = (pow2(e1), pow2(e2));
    let (b1, b2) = (pow2(-e1), pow2(-e2));
    let mut lossy = false;
    let mut rad = Mat::<f64>::zeros(m.nrows(), m.ncols());
    let out = Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        let x = m[(i, j)];
        let y = x * f1 * f2;
        if y * b2 * b1 != x {
            lossy = true;
            rad[(i, j)] = ETA64;
        }
        y
    });
    (out, lossy, rad)
}

/// Scales a complex matrix by `2^e`; the radius is `Some` when an entry was rounded.
pub fn scale_cmat(m: &CMat, e: i32) -> (CMat, Option<Mat<f64>>) {
    let (re, lossy_re, rad_re) = scale_mat(&m.re, e);
    let (im, rad) = match &m.im {
        None => (None, lossy_re.then_some(rad_re)),
        Some(im) => {
            let (im, lossy_im, rad_im) = scale_mat(im, e);
            let rad = (lossy_re || lossy_im).then(|| {
                // |Δre + iΔim| ≤ |Δre| + |Δim|
                Mat::from_fn(m.nrows(), m.ncols(), |i, j| rad_re[(i, j)] + rad_im[(i, j)])
            });
            (Some(im), rad)
        }
    };
    (CMat { re, im }, rad)
}

/// Scales an entrywise radius up (`e > 0`) or down, rounding upward so the scaled ball still
/// contains the scaled set.
pub fn scale_radius(r: &Mat<f64>, e: i32) -> Mat<f64> {
    let (f1, f2) = (pow2(e / 2), pow2(e - e / 2));
    Mat::from_fn(r.nrows(), r.ncols(), |i, j| {
        let y = r[(i, j)] * f1 * f2;
        // scaling down may round a radius to nearest (or to zero): move it one step up
        if e < 0 && r[(i, j)] != 0.0 {
            y.next_up()
        } else {
            y
        }
    })
}

/// `2^e·input` as a Hermitian input, carrying every rounding in the radius.
pub fn scale_input(input: &HermitianInput, e: i32) -> HermitianInput {
    let (center, lost) = scale_cmat(&input.center, e);
    let radius = match (input.radius.as_ref().map(|r| scale_radius(r, e)), lost) {
        (None, r) => r,
        (Some(r), None) => Some(r),
        (Some(r), Some(l)) => Some(Mat::from_fn(r.nrows(), r.ncols(), |i, j| {
            pespectra_arith::round::add_up(r[(i, j)], l[(i, j)])
        })),
    };
    HermitianInput { center, radius }
}

/// Largest modulus bound over the entries of a matrix and its radius.
pub fn max_abs_cmat(m: &CMat, radius: Option<&Mat<f64>>) -> f64 {
    let mut best = 0.0f64;
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            best = best
                .max(m.re[(i, j)].abs())
                .max(m.im_at(i, j).abs())
                .max(radius.map_or(0.0, |r| r[(i, j)]));
        }
    }
    best
}

/// Multiplies an enclosure by `2^−e` exactly (MPFR shifts the exponent; nothing rounds).
pub fn unscale(v: &MpInterval, e: i32) -> MpInterval {
    let lo = v.lo().clone() >> e;
    let hi = v.hi().clone() >> e;
    MpInterval::from_floats(lo, hi).expect("an exact shift keeps lo ≤ hi")
}

/// Width bound of an unscaled enclosure, rounded up.
pub fn width_up(v: &MpInterval) -> f64 {
    v.width().to_f64_round(Round::Up)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_puts_the_largest_entry_in_half_one() {
        for x in [
            1e308,
            f64::MAX,
            3e-300,
            5e-324,
            1e-310,
            2f64.powi(65),
            2f64.powi(-70),
        ] {
            let e = exponent_for(x).unwrap();
            let y = rug::Float::with_val(64, x) << e;
            assert!((0.5..1.0).contains(&y), "{x}: 2^{e}·x = {y}");
        }
        assert_eq!(exponent_for(1.0), None);
        assert_eq!(exponent_for(2f64.powi(63)), None);
        assert_eq!(exponent_for(0.0), None);
    }

    #[test]
    fn scaling_down_covers_underflowed_entries() {
        // 1e308 and 3·2^−1074: scaling by 2^−1024 makes the small entry vanish; its radius must
        // cover the true scaled value 3·2^−2098
        let m = CMat::real(Mat::from_fn(1, 2, |_, j| {
            if j == 0 {
                1e308
            } else {
                f64::from_bits(3)
            }
        }));
        let e = exponent_for(1e308).unwrap();
        let (s, rad) = scale_cmat(&m, e);
        let rad = rad.expect("the subnormal entry is rounded");
        assert_eq!(rad[(0, 0)], 0.0);
        let exact = rug::Float::with_val(64, f64::from_bits(3)) << e;
        let lo = rug::Float::with_val(64, s.re[(0, 1)]) - rad[(0, 1)];
        let hi = rug::Float::with_val(64, s.re[(0, 1)]) + rad[(0, 1)];
        assert!(lo <= exact && exact <= hi);
        // and the large entry is exact
        assert_eq!(
            rug::Float::with_val(64, s.re[(0, 0)]),
            rug::Float::with_val(64, 1e308) << e
        );
    }
}
