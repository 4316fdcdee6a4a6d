//! Directed rounding of single f64 operations without touching the FPU rounding mode.
//!
//! **Rounding assumptions.** Every function here assumes IEEE 754 binary64 arithmetic in the
//! default round-to-nearest-even mode (which Rust guarantees: it never enables fast-math and
//! never changes MXCSR), with gradual underflow, and a correctly rounded `f64::mul_add` (FMA) and
//! `f64::sqrt`. Each operation is computed to nearest, then its exact rounding error is recovered
//! with an error-free transformation (TwoSum for `+`/`−`, FMA for `×`, `÷` and `√`). The sign of
//! that error tells in which direction the rounded result missed, and one `next_up`/`next_down`
//! step gives the correctly directed result. Where the error-free transformation is not exact
//! (results near the underflow threshold, overflow, NaN), the functions fall back to moving one
//! ulp outward unconditionally, which is always a valid (if one ulp looser) bound.
//!
//! Why this instead of switching the rounding mode: it is thread-safe, portable to every target,
//! needs no compile-time CPU floor (inari needs `-C target-cpu=haswell`), and SIMD GEMM libraries
//! can keep running in round-to-nearest while we bound their error a priori (see [`crate::gemm`]).

/// Below this magnitude the FMA residual of a product or quotient may itself underflow, so the
/// exact-error trick is not trusted and we widen unconditionally.
const EFT_SAFE_MIN: f64 = 1e-290;

#[inline]
fn widen_up(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x.next_up()
    }
}

#[inline]
fn widen_down(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x.next_down()
    }
}

/// Exact rounding error of `s = fl(a + b)` (Knuth's TwoSum): `a + b = s + e` exactly when no
/// overflow occurs.
#[inline]
fn two_sum_err(a: f64, b: f64, s: f64) -> f64 {
    let bp = s - a;
    let ap = s - bp;
    (a - ap) + (b - bp)
}

/// Sign of the exact error `exact − rounded`: `Some(ordering)` when it is known exactly.
#[inline]
fn direction(err: f64) -> Option<std::cmp::Ordering> {
    if err.is_nan() {
        None
    } else {
        err.partial_cmp(&0.0)
    }
}

#[inline]
fn finish_up(r: f64, dir: Option<std::cmp::Ordering>) -> f64 {
    match dir {
        Some(std::cmp::Ordering::Greater) => r.next_up(),
        Some(_) => r,
        None => widen_up(r),
    }
}

#[inline]
fn finish_down(r: f64, dir: Option<std::cmp::Ordering>) -> f64 {
    match dir {
        Some(std::cmp::Ordering::Less) => r.next_down(),
        Some(_) => r,
        None => widen_down(r),
    }
}

fn add_dir(a: f64, b: f64, s: f64) -> Option<std::cmp::Ordering> {
    if s.is_finite() {
        direction(two_sum_err(a, b, s))
    } else {
        None
    }
}

/// Smallest f64 ≥ a + b.
#[inline]
pub fn add_up(a: f64, b: f64) -> f64 {
    let s = a + b;
    finish_up(s, add_dir(a, b, s))
}

/// Largest f64 ≤ a + b.
#[inline]
pub fn add_down(a: f64, b: f64) -> f64 {
    let s = a + b;
    finish_down(s, add_dir(a, b, s))
}

/// Smallest f64 ≥ a − b.
#[inline]
pub fn sub_up(a: f64, b: f64) -> f64 {
    add_up(a, -b)
}

/// Largest f64 ≤ a − b.
#[inline]
pub fn sub_down(a: f64, b: f64) -> f64 {
    add_down(a, -b)
}

fn mul_dir(a: f64, b: f64, p: f64) -> Option<std::cmp::Ordering> {
    if p == 0.0 && (a == 0.0 || b == 0.0) {
        return Some(std::cmp::Ordering::Equal);
    }
    if !p.is_finite() || p.abs() < EFT_SAFE_MIN {
        return None;
    }
    direction(a.mul_add(b, -p))
}

/// Smallest f64 ≥ a · b.
#[inline]
pub fn mul_up(a: f64, b: f64) -> f64 {
    let p = a * b;
    finish_up(p, mul_dir(a, b, p))
}

/// Largest f64 ≤ a · b.
#[inline]
pub fn mul_down(a: f64, b: f64) -> f64 {
    let p = a * b;
    finish_down(p, mul_dir(a, b, p))
}

fn div_dir(a: f64, b: f64, q: f64) -> Option<std::cmp::Ordering> {
    if a == 0.0 && b != 0.0 {
        return Some(std::cmp::Ordering::Equal);
    }
    if !q.is_finite() || q.abs() < EFT_SAFE_MIN || a.abs() < EFT_SAFE_MIN {
        return None;
    }
    // a = q·b + r exactly; the true quotient is q + r/b.
    let r = (-q).mul_add(b, a);
    direction(r).map(|o| if b < 0.0 { o.reverse() } else { o })
}

/// Smallest f64 ≥ a / b (b ≠ 0; division by zero gives ±∞ or NaN, widened outward).
#[inline]
pub fn div_up(a: f64, b: f64) -> f64 {
    let q = a / b;
    finish_up(q, div_dir(a, b, q))
}

/// Largest f64 ≤ a / b.
#[inline]
pub fn div_down(a: f64, b: f64) -> f64 {
    let q = a / b;
    finish_down(q, div_dir(a, b, q))
}

fn sqrt_dir(x: f64, s: f64) -> Option<std::cmp::Ordering> {
    if x == 0.0 {
        return Some(std::cmp::Ordering::Equal);
    }
    if !s.is_finite() || x < EFT_SAFE_MIN {
        return None;
    }
    // x − s² exactly (s² near x cannot underflow here).
    direction((-s).mul_add(s, x))
}

/// Smallest f64 ≥ √x for x ≥ 0 (NaN for negative x becomes +∞: callers check the domain).
#[inline]
pub fn sqrt_up(x: f64) -> f64 {
    let s = x.sqrt();
    finish_up(s, sqrt_dir(x, s))
}

/// Largest f64 ≤ √x for x ≥ 0, and 0 for x ≤ 0 (a valid lower bound of a non-negative root).
#[inline]
pub fn sqrt_down(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let s = x.sqrt();
    finish_down(s, sqrt_dir(x, s)).max(0.0)
}

/// Upper bound of √(a² + b²) (complex modulus), scaled by a power of two so that the squares
/// neither underflow nor overflow.
#[inline]
pub fn hypot_up(a: f64, b: f64) -> f64 {
    let (a, b) = (a.abs(), b.abs());
    let m = a.max(b);
    if m == 0.0 || !m.is_finite() || a.min(b) == 0.0 {
        return m;
    }
    let e = m.log2().floor().clamp(-1000.0, 1000.0) as i32;
    let (sa, sb) = (mul_up(a, 2f64.powi(-e)), mul_up(b, 2f64.powi(-e)));
    mul_up(
        sqrt_up(add_up(mul_up(sa, sa), mul_up(sb, sb))),
        2f64.powi(e),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::FromPrimitive;
    use rand::{Rng, SeedableRng};

    fn q(x: f64) -> BigRational {
        BigRational::from_f64(x).unwrap()
    }

    /// Directed results must bracket the exact rational result and be the *nearest* such floats
    /// when the EFT applies (checked against exact rationals, an independent oracle).
    #[test]
    fn add_mul_div_bracket_exact_and_are_tight() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let a: f64 = rng.gen_range(-1e3..1e3) * 10f64.powi(rng.gen_range(-30..30));
            let b: f64 = rng.gen_range(-1e3..1e3) * 10f64.powi(rng.gen_range(-30..30));
            for (lo, hi, exact) in [
                (add_down(a, b), add_up(a, b), q(a) + q(b)),
                (mul_down(a, b), mul_up(a, b), q(a) * q(b)),
                (div_down(a, b), div_up(a, b), q(a) / q(b)),
            ] {
                assert!(q(lo) <= exact && exact <= q(hi), "{a} {b}");
                // tight: the bracket is at most one ulp wide, and collapses on exact results
                assert!(hi == lo || hi == lo.next_up(), "{a} {b} {lo} {hi}");
                if q(lo) == exact {
                    assert_eq!(lo, hi);
                }
            }
        }
    }

    #[test]
    fn sqrt_brackets_exact() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for _ in 0..5_000 {
            let x: f64 = rng.gen_range(0.0..1e3) * 10f64.powi(rng.gen_range(-100..100));
            let (lo, hi) = (sqrt_down(x), sqrt_up(x));
            assert!(q(lo) * q(lo) <= q(x) && q(x) <= q(hi) * q(hi));
            assert!(hi == lo || hi == lo.next_up());
        }
        assert_eq!(sqrt_up(4.0), 2.0);
        assert_eq!(sqrt_down(4.0), 2.0);
    }

    #[test]
    fn hypot_up_is_tight_at_extreme_scales() {
        for s in [1e-310, 1e-300, 1.0, 1e300] {
            let h = hypot_up(3.0 * s, 4.0 * s);
            assert!(h >= 5.0 * s && h <= 5.0 * s * (1.0 + 1e-14), "{s}: {h}");
        }
        assert_eq!(hypot_up(0.0, 1e-320), 1e-320);
    }

    #[test]
    fn overflow_and_underflow_stay_sound() {
        assert_eq!(mul_up(1e300, 1e300), f64::INFINITY);
        assert_eq!(mul_down(1e300, 1e300), f64::MAX);
        let tiny = 1e-200;
        let p_lo = mul_down(tiny, tiny);
        let p_hi = mul_up(tiny, tiny);
        assert!(p_lo <= 0.0 && p_hi > 0.0);
        assert_eq!(add_up(f64::MAX, f64::MAX), f64::INFINITY);
        assert_eq!(add_down(f64::MAX, f64::MAX), f64::MAX);
    }

    /// A bound that is false by a hair must not be produced: the upward sum of 0.1 + 0.2 is the
    /// float just above the exact decimal sum of the two doubles, never the float below.
    #[test]
    fn refuses_one_ulp_too_tight() {
        let hi = add_up(0.1, 0.2);
        let exact = q(0.1) + q(0.2);
        assert!(q(hi) >= exact);
        assert!(q(hi.next_down()) < exact);
    }
}
