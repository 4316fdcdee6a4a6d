//! Rigorous dense matrix products at GEMM speed (midpoint–radius with a priori error bounds).
//!
//! **Rounding assumptions.** The products are computed by faer's f64 GEMM, which evaluates every
//! entry as a sum of `k` products in *some* order, each operation (multiply, add, or fused
//! multiply-add) correctly rounded to nearest in binary64 with gradual underflow. For any such
//! evaluation order the classical bound (Higham, *Accuracy and Stability of Numerical
//! Algorithms*, §3.1, with the underflow model `fl(x op y) = (x op y)(1+δ) + ε`, |δ| ≤ u,
//! |ε| ≤ η/2, ε = 0 for additions) gives, with `u = 2⁻⁵³`, `η = 2⁻¹⁰⁷⁴` and `γ_k = ku/(1−ku)`:
//!
//! `|fl(AB) − AB| ≤ γ_k·S + k·η`, where `S = |A|·|B|` exactly.
//!
//! `S` itself is computed as `T = fl(|A|·|B|)` by the same GEMM, so `S ≤ (T + kη)/(1 − γ_k)`,
//! hence `|fl(AB) − AB| ≤ c_k·(T + kη) + kη` with `c_k = ku/(1 − 2ku)`. Every scalar step of that
//! bound is evaluated with upward rounding ([`crate::round`]), so the returned radius is a true
//! upper bound. The only requirement on the GEMM is the one above (no Strassen-like algorithm,
//! no reduced-precision accumulation), which faer's f64 kernels satisfy; the test suite checks
//! the enclosures against exact rational products.

use crate::round::{add_up, div_up, mul_up, sub_down};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

/// Unit roundoff of binary64.
pub const U64: f64 = 1.0 / 9_007_199_254_740_992.0; // 2^-53
/// Smallest positive subnormal binary64.
pub const ETA64: f64 = f64::from_bits(1); // 2^-1074

/// A matrix enclosure: every true entry lies in `[mid − rad, mid + rad]`.
#[derive(Clone, Debug)]
pub struct BallMat {
    /// Midpoints.
    pub mid: Mat<f64>,
    /// Entrywise radii (non-negative, possibly +∞).
    pub rad: Mat<f64>,
}

/// Upper bound of `c_k = ku/(1 − 2ku)` for inner dimension `k`.
pub fn gamma_factor(k: usize) -> f64 {
    let ku = mul_up(k as f64, U64);
    let denom = sub_down(1.0, mul_up(2.0, ku));
    if denom <= 0.0 {
        f64::INFINITY
    } else {
        div_up(ku, denom)
    }
}

/// Parallelism for verification GEMMs of dimension about `n`: sequential below 192, where
/// starting threads costs more than it saves (and callers such as campaigns already run many
/// checks in parallel), all Rayon threads above.
pub fn par_for(n: usize) -> Par {
    if n < 192 {
        Par::Seq
    } else {
        Par::rayon(rayon_threads())
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Upper bound of `a·t + b` for every finite `t ≥ 0`, in two plain round-to-nearest operations
/// per entry: with `a' ≥ a(1+4u)` and `b' ≥ (b(1+2u) + η)`, `fl(fl(a't) + b') ≥
/// (a't(1−u) − η/2 + b')(1−u) ≥ a·t + b` (the product may underflow by η/2; the sum of two
/// non-negative numbers has relative error ≤ u and never underflows).
struct AffineUpper {
    a: f64,
    b: f64,
}

impl AffineUpper {
    fn new(a: f64, b: f64) -> Self {
        Self {
            a: mul_up(a, add_up(1.0, 4.0 * U64)),
            b: add_up(mul_up(b, add_up(1.0, 2.0 * U64)), ETA64),
        }
    }

    #[inline]
    fn eval(&self, t: f64) -> f64 {
        self.a * t + self.b
    }
}

fn abs_mat(a: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)].abs())
}

fn gemm(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let mut c = Mat::<f64>::zeros(a.nrows(), b.ncols());
    matmul(c.as_mut(), Accum::Replace, a, b, 1.0, par);
    c
}

/// Enclosure of the exact product `A·B` of two f64 matrices (entries taken as exact reals).
///
/// Costs two GEMMs. Non-finite midpoints get an infinite radius, so callers that need a finite
/// bound see the failure instead of a silently wrong result.
///
/// # Panics
/// If the inner dimensions differ (a programming error, not user input).
pub fn matmul_ball(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> BallMat {
    assert_eq!(a.ncols(), b.nrows(), "matmul_ball: inner dimensions differ");
    let k = a.ncols();
    let mid = gemm(a, b, par);
    let t = gemm(abs_mat(a).as_ref(), abs_mat(b).as_ref(), par);
    let c = gamma_factor(k);
    let keta = mul_up(k as f64, ETA64);
    // c·(T + kη) + kη = c·T + (c·kη + kη)
    let bound = AffineUpper::new(c, add_up(mul_up(c, keta), keta));
    let rad = Mat::from_fn(mid.nrows(), mid.ncols(), |i, j| {
        let (m, s) = (mid[(i, j)], t[(i, j)]);
        if !m.is_finite() || !s.is_finite() {
            f64::INFINITY
        } else {
            bound.eval(s)
        }
    });
    BallMat { mid, rad }
}

/// Upper bounds of the Euclidean norms of the rows (`rows = true`) or columns of `m`. Each line
/// is scaled by a power of two `2⁻ᵉ` (its largest entry's binade) so the squares neither
/// underflow nor overflow; the plain sum of squares is inflated by `1 + c_k` plus `kη`, rooted
/// upward, and scaled back with an upward multiplication.
fn line_norms_upper(m: MatRef<'_, f64>, rows: bool) -> Vec<f64> {
    let (lines, len) = if rows {
        (m.nrows(), m.ncols())
    } else {
        (m.ncols(), m.nrows())
    };
    let at = |l: usize, t: usize| if rows { m[(l, t)] } else { m[(t, l)] };
    let one_plus = add_up(1.0, gamma_factor(2 * len.max(1)));
    let bound = AffineUpper::new(one_plus, mul_up(one_plus, mul_up(len as f64, ETA64)));
    (0..lines)
        .map(|l| {
            let big = (0..len).map(|t| at(l, t).abs()).fold(0.0, f64::max);
            if big == 0.0 || !big.is_finite() {
                return big;
            }
            let e = (exponent(big).unwrap_or(-1022)).clamp(-1000, 1000);
            let (down, up) = (pow2(-e), pow2(e));
            // scaling down may round a subnormal result: round it upward
            let s: f64 = (0..len)
                .map(|t| {
                    let v = at(l, t).abs();
                    let w = v * down;
                    if w < f64::MIN_POSITIVE && v != 0.0 {
                        mul_up(v, down)
                    } else {
                        w
                    }
                })
                .map(|v| v * v)
                .sum();
            mul_up(crate::round::sqrt_up(bound.eval(s)), up)
        })
        .collect()
}

/// `2^e` for a normal exponent.
fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Binary exponent `e` with `2^e ≤ x < 2^(e+1)` for a normal positive `x`; `None` otherwise.
fn exponent(x: f64) -> Option<i32> {
    (x.is_normal() && x > 0.0).then(|| ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023)
}

/// Splits `m = hi + lo` exactly, where along each row (`by_rows`) or column every entry of `hi`
/// is a multiple of `2^e` below `2^(e+β)` in magnitude (`e` per row/column, returned).
/// `hi = trunc(x·2^(−e))·2^e` and `lo = x − hi` are exact operations for the exponents allowed
/// here (normal `2^e`); `None` when an exponent falls outside that range.
fn split(m: MatRef<'_, f64>, beta: i32, by_rows: bool) -> Option<(Mat<f64>, Mat<f64>, Vec<i32>)> {
    let lines = if by_rows { m.nrows() } else { m.ncols() };
    let len = if by_rows { m.ncols() } else { m.nrows() };
    let at = |l: usize, t: usize| if by_rows { m[(l, t)] } else { m[(t, l)] };
    let mut exps = Vec::with_capacity(lines);
    for l in 0..lines {
        let mu = (0..len).map(|t| at(l, t).abs()).fold(0.0, f64::max);
        let e = if mu == 0.0 {
            0
        } else {
            exponent(mu)? + 1 - beta
        };
        if !(-1022..=1023 - 53).contains(&e) || (mu != 0.0 && !(-1022..=1023).contains(&(e + beta)))
        {
            return None;
        }
        exps.push(e);
    }
    let hi = Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        let e = exps[if by_rows { i } else { j }];
        (m[(i, j)] * pow2(-e)).trunc() * pow2(e)
    });
    let lo = Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] - hi[(i, j)]);
    Some((hi, lo, exps))
}

/// An enclosure `exact + rest` of a product, where `exact` carries no error at all.
#[derive(Clone, Debug)]
pub struct SplitProduct {
    /// Exactly computed part.
    pub exact: Mat<f64>,
    /// Enclosure of the remainder.
    pub rest: BallMat,
}

impl SplitProduct {
    /// One ball: `fl(exact + mid)` with the sum's rounding error (exact, by TwoSum) added to the
    /// radius.
    pub fn into_ball(self) -> BallMat {
        let Self { exact, rest } = self;
        let mid = Mat::from_fn(exact.nrows(), exact.ncols(), |i, j| {
            exact[(i, j)] + rest.mid[(i, j)]
        });
        let rad = Mat::from_fn(exact.nrows(), exact.ncols(), |i, j| {
            let (a, b, s) = (exact[(i, j)], rest.mid[(i, j)], mid[(i, j)]);
            let bp = s - a;
            let e = (a - (s - bp)) + (b - bp);
            if s.is_finite() && e.is_finite() {
                add_up(rest.rad[(i, j)], e.abs())
            } else {
                f64::INFINITY
            }
        });
        BallMat { mid, rad }
    }
}

/// Enclosure of `A·B` with most of the product computed **exactly** (an Ozaki-style
/// error-free splitting): `A = A₁ + A₂`, `B = B₁ + B₂` with `A₁`, `B₁` holding the leading
/// `β = ⌊(53 − ⌈log₂ k⌉)/2⌋` bits of each row of A / column of B on a common exponent, so every
/// partial sum of `A₁B₁` is a multiple of `2^(e_i + f_j)` below `2^(53 + e_i + f_j)`: the GEMM
/// computes it without any rounding, in any order, with or without FMA. The remainder
/// `A·B₂ + A₂·B₁` is about `2^−β` times smaller and is enclosed by one GEMM of inner dimension
/// 2k with a Cauchy–Schwarz a priori bound per half. The radius is about `2^−β·√k` times the a
/// priori bound of a plain product, for the cost of three plain GEMMs instead of two.
/// Falls back to [`matmul_ball`] alone when exponents would leave the normal range.
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul_split(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> SplitProduct {
    assert_eq!(
        a.ncols(),
        b.nrows(),
        "matmul_split: inner dimensions differ"
    );
    let k = a.ncols().max(1);
    let beta = (53 - (usize::BITS - (k - 1).leading_zeros()) as i32) / 2;
    let parts =
        split(a, beta, true)
            .zip(split(b, beta, false))
            .filter(|((_, _, ea), (_, _, eb))| {
                let (emin, emax) = (
                    ea.iter().min().unwrap_or(&0) + eb.iter().min().unwrap_or(&0),
                    ea.iter().max().unwrap_or(&0) + eb.iter().max().unwrap_or(&0),
                );
                emin >= -1022 && emax + 53 <= 1023
            });
    let Some(((a1, a2, _), (b1, b2, _))) = parts else {
        return SplitProduct {
            exact: Mat::zeros(a.nrows(), b.ncols()),
            rest: matmul_ball(a, b, par),
        };
    };
    let exact = gemm(a1.as_ref(), b1.as_ref(), par);
    // remainder A·B₂ + A₂·B₁ = [A | A₂]·[B₂ ; B₁], one GEMM of inner dimension 2k
    let (m, n) = (a.nrows(), b.ncols());
    let left = Mat::from_fn(
        m,
        2 * k,
        |i, j| if j < k { a[(i, j)] } else { a2[(i, j - k)] },
    );
    let right = Mat::from_fn(
        2 * k,
        n,
        |i, j| if i < k { b2[(i, j)] } else { b1[(i - k, j)] },
    );
    // a priori bound γ_2k·S + 2kη with S = Σ|A||B₂| + Σ|A₂||B₁| ≤ ‖A_i‖‖B₂^j‖ + ‖A₂_i‖‖B₁^j‖
    // (Cauchy–Schwarz on each half, instead of a second GEMM)
    let mid = gemm(left.as_ref(), right.as_ref(), par);
    let (na, na2) = (
        line_norms_upper(a, true),
        line_norms_upper(a2.as_ref(), true),
    );
    let (nb2, nb1) = (
        line_norms_upper(b2.as_ref(), false),
        line_norms_upper(b1.as_ref(), false),
    );
    let c = gamma_factor(2 * k);
    let keta = mul_up((2 * k) as f64, ETA64);
    // S = ‖A_i‖‖B₂^j‖ + ‖A₂_i‖‖B₁^j‖ evaluated to nearest as s satisfies S ≤ (1+3u)s + 2η
    // (two products that may underflow by η/2, one sum of non-negatives), so
    // c·S + (c·kη + kη) ≤ c(1+3u)·s + (2cη + c·kη + kη): one plain multiply-add per entry.
    let bound = AffineUpper::new(
        mul_up(c, add_up(1.0, 3.0 * U64)),
        add_up(add_up(mul_up(c, keta), keta), mul_up(2.0 * ETA64, c)),
    );
    let rad = Mat::from_fn(m, n, |i, j| {
        let s = na[i] * nb2[j] + na2[i] * nb1[j];
        if mid[(i, j)].is_finite() && s.is_finite() {
            bound.eval(s)
        } else {
            f64::INFINITY
        }
    });
    let rest = BallMat { mid, rad };
    SplitProduct { exact, rest }
}

/// Entrywise upper bound of the exact product `P·Q` of two **non-negative** f64 matrices.
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul_nonneg_upper(p: MatRef<'_, f64>, q: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    assert_eq!(
        p.ncols(),
        q.nrows(),
        "matmul_nonneg_upper: inner dimensions differ"
    );
    let k = p.ncols();
    let t = gemm(p, q, par);
    let one_plus_c = add_up(1.0, gamma_factor(k));
    let keta = mul_up(k as f64, ETA64);
    // (T + kη)(1 + c) = (1 + c)·T + (1 + c)·kη
    let bound = AffineUpper::new(one_plus_c, mul_up(one_plus_c, keta));
    Mat::from_fn(t.nrows(), t.ncols(), |i, j| {
        let s = t[(i, j)];
        if s.is_finite() {
            bound.eval(s)
        } else {
            f64::INFINITY
        }
    })
}

/// Upper bound of `max |z − x·d|` over `z ∈ [mid − rad, mid + rad]`, i.e. `|mid − x·d| + rad`
/// (exact product), with one directed operation.
///
/// With `p = fl(x·d)`, `a = fl(mid − p)`: `|mid − p| ≤ (1+2u)|a|` and `|p − xd| ≤ (u|p| + η/2)/(1−u)
/// ≤ fl(1.02u·|p|) + η` (the product may underflow by η/2); the three non-negative terms summed to
/// nearest lose at most a factor `(1−u)²`, so the truth is ≤ `s(1+5u) + 1.01η ≤ up(s(1+6u)) + 2η`.
#[inline]
pub fn ball_minus_product_mag(mid: f64, rad: f64, x: f64, d: f64) -> f64 {
    let p = x * d;
    let s = (mid - p).abs() + rad + (1.02 * U64) * p.abs();
    if !s.is_finite() {
        return f64::INFINITY;
    }
    add_up(mul_up(s, 1.0 + 6.0 * U64), 2.0 * ETA64)
}

/// Upper bound of the spectral norm of a matrix given an entrywise bound `M ≥ |X|`:
/// `‖X‖₂ ≤ ‖M‖₂ ≤ min(√(‖M‖₁‖M‖∞), ‖M‖_F)`. The matrix is first scaled by a power of two `2⁻ᵉ`
/// so that neither squares nor products under- or overflow (exact unless a scaled entry is
/// subnormal, which is then rounded upward); sums of k non-negative terms are taken to nearest and
/// inflated by `1 + c_k` (they lose at most a factor `(1−u)^(k−1)`), squares get `+kη` for
/// underflow; the final steps are rounded upward.
pub fn norm2_upper(m: MatRef<'_, f64>) -> f64 {
    let (r, c) = (m.nrows(), m.ncols());
    let mut big = 0.0f64;
    for j in 0..c {
        for i in 0..r {
            big = big.max(m[(i, j)]);
        }
    }
    if big == 0.0 || !big.is_finite() {
        return big;
    }
    let e = big.log2().floor() as i32;
    let down = 2f64.powi(-e.clamp(-1000, 1000));
    let up_factor = 2f64.powi(e.clamp(-1000, 1000));
    let scaled = |v: f64| {
        let s = v * down;
        if s < f64::MIN_POSITIVE && v != 0.0 {
            mul_up(v, down)
        } else {
            s
        }
    };
    let mut row_max = 0.0f64;
    let mut col_sums = vec![0.0f64; c];
    let mut frob = 0.0;
    for i in 0..r {
        let mut s = 0.0;
        for (j, cs) in col_sums.iter_mut().enumerate() {
            let v = scaled(m[(i, j)]);
            s += v;
            *cs += v;
            frob += v * v;
        }
        row_max = row_max.max(s);
    }
    let row_max = AffineUpper::new(add_up(1.0, gamma_factor(c)), 0.0).eval(row_max);
    let col_max = AffineUpper::new(add_up(1.0, gamma_factor(r)), 0.0)
        .eval(col_sums.into_iter().fold(0.0, f64::max));
    let k = r * c;
    let one_plus = add_up(1.0, gamma_factor(2 * k));
    let frob = AffineUpper::new(one_plus, mul_up(one_plus, mul_up(k as f64, ETA64))).eval(frob);
    let hoelder = crate::round::sqrt_up(mul_up(row_max, col_max));
    mul_up(hoelder.min(crate::round::sqrt_up(frob)), up_factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::{Signed, Zero};
    use rand::{Rng, SeedableRng};

    fn q(x: f64) -> BigRational {
        BigRational::from_float(x).unwrap()
    }

    fn exact_product(a: &Mat<f64>, b: &Mat<f64>, i: usize, j: usize) -> BigRational {
        let mut s = BigRational::zero();
        for l in 0..a.ncols() {
            s += q(a[(i, l)]) * q(b[(l, j)]);
        }
        s
    }

    fn random(rng: &mut impl Rng, r: usize, c: usize, spread: i32) -> Mat<f64> {
        Mat::from_fn(r, c, |_, _| {
            rng.gen_range(-1.0..1.0) * 2f64.powi(rng.gen_range(-spread..=spread))
        })
    }

    /// The enclosure holds the exact rational product (independent oracle), for badly scaled and
    /// cancelling inputs, with sequential and parallel GEMM.
    #[test]
    fn ball_contains_exact_product() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (m, k, n, spread) in [(5, 7, 3, 0), (16, 40, 9, 30), (33, 65, 17, 200)] {
            let a = random(&mut rng, m, k, spread);
            let b = random(&mut rng, k, n, spread);
            for par in [Par::Seq, par_for(1024)] {
                let c = matmul_ball(a.as_ref(), b.as_ref(), par);
                for i in 0..m {
                    for j in 0..n {
                        let err = (q(c.mid[(i, j)]) - exact_product(&a, &b, i, j)).abs();
                        assert!(err <= q(c.rad[(i, j)]), "({i},{j})");
                    }
                }
            }
        }
    }

    /// A product that underflows entirely still gets a radius covering the exact (tiny) value.
    #[test]
    fn underflowing_products_are_covered() {
        let a = Mat::from_fn(3, 4, |i, j| 1e-170 * (1.0 + i as f64 + j as f64));
        let b = Mat::from_fn(4, 2, |i, j| 3e-170 * (1.0 + i as f64 - j as f64));
        let c = matmul_ball(a.as_ref(), b.as_ref(), Par::Seq);
        for i in 0..3 {
            for j in 0..2 {
                let err = (q(c.mid[(i, j)]) - exact_product(&a, &b, i, j)).abs();
                assert!(err <= q(c.rad[(i, j)]));
                assert!(c.rad[(i, j)] > 0.0);
            }
        }
    }

    #[test]
    fn overflow_gives_infinite_radius() {
        let a = Mat::from_fn(2, 2, |_, _| 1e200);
        let c = matmul_ball(a.as_ref(), a.as_ref(), Par::Seq);
        assert!(c.rad[(0, 0)].is_infinite());
    }

    /// The split product's exact part is exactly the product of the leading parts, and the whole
    /// enclosure holds the exact product, with radii far below the plain a priori bound.
    #[test]
    fn split_product_is_exact_and_tight() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        for (m, k, n, spread) in [(7, 9, 5, 0), (20, 64, 11, 20), (9, 300, 4, 3)] {
            let a = random(&mut rng, m, k, spread);
            let b = random(&mut rng, k, n, spread);
            let sp = matmul_split(a.as_ref(), b.as_ref(), par_for(1024));
            let plain = matmul_ball(a.as_ref(), b.as_ref(), Par::Seq);
            let ball = sp.clone().into_ball();
            for i in 0..m {
                for j in 0..n {
                    let exact = exact_product(&a, &b, i, j);
                    let err = (q(ball.mid[(i, j)]) - &exact).abs();
                    assert!(err <= q(ball.rad[(i, j)]), "({i},{j})");
                    // beyond the unavoidable rounding of the result to one double (≤ u·|mid|)
                    let floor = 2.0 * U64 * ball.mid[(i, j)].abs();
                    // (for well-scaled rows and columns; with a wide spread the small entries
                    // fall entirely into the remainder and the gain shrinks)
                    if spread <= 3 {
                        assert!(
                            ball.rad[(i, j)] <= plain.rad[(i, j)] * 1e-3 + floor,
                            "{} vs {}",
                            ball.rad[(i, j)],
                            plain.rad[(i, j)]
                        );
                    }
                }
            }
        }
    }

    /// Tiny but well-scaled matrices keep relative accuracy (the norms are scaled per line).
    #[test]
    fn split_product_is_tight_for_tiny_matrices() {
        let a = Mat::from_fn(4, 4, |i, j| 1e-260 * (1.0 + (i + 2 * j) as f64 / 7.0));
        let ball = matmul_split(a.as_ref(), a.as_ref(), Par::Seq).into_ball();
        for i in 0..4 {
            for j in 0..4 {
                let exact = exact_product(&a, &a, i, j);
                assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                // product entries are ~1e-520: not representable, so the radius may be η-sized
                assert!(ball.rad[(i, j)] <= 1e-300, "{}", ball.rad[(i, j)]);
            }
        }
        let b = Mat::from_fn(4, 4, |i, j| 1.0 + (i * j) as f64);
        let ball = matmul_split(a.as_ref(), b.as_ref(), Par::Seq).into_ball();
        for i in 0..4 {
            for j in 0..4 {
                assert!(ball.rad[(i, j)] <= 1e-270, "{}", ball.rad[(i, j)]);
            }
        }
    }

    #[test]
    fn split_falls_back_at_extreme_exponents() {
        let a = Mat::from_fn(3, 3, |i, j| if i == j { 1e-310 } else { 1e300 });
        let sp = matmul_split(a.as_ref(), a.as_ref(), Par::Seq);
        let ball = sp.into_ball();
        for i in 0..3 {
            for j in 0..3 {
                let exact = exact_product(&a, &a, i, j);
                if ball.rad[(i, j)].is_finite() {
                    assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                }
            }
        }
    }

    #[test]
    fn nonneg_upper_dominates_exact() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let a = Mat::from_fn(20, 31, |_, _| rng.gen_range(0.0..1.0));
        let b = Mat::from_fn(31, 6, |_, _| rng.gen_range(0.0..1.0));
        let up = matmul_nonneg_upper(a.as_ref(), b.as_ref(), Par::Seq);
        for i in 0..20 {
            for j in 0..6 {
                assert!(exact_product(&a, &b, i, j) <= q(up[(i, j)]));
            }
        }
    }

    #[test]
    fn ball_minus_product_mag_dominates_exact() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        for _ in 0..20_000 {
            let (mid, x, d) = (
                rng.gen_range(-1.0..1.0),
                rng.gen_range(-1.0..1.0),
                rng.gen_range(-10.0..10.0),
            );
            let sc = 2f64.powi(rng.gen_range(-1074..0));
            let rad = rng.gen_range(0.0..1e-12) * sc;
            let (mid, x) = (mid * sc, x * sc.sqrt());
            let b = ball_minus_product_mag(mid, rad, x, d);
            let exact = (q(mid) - q(x) * q(d)).abs() + q(rad);
            assert!(exact <= q(b), "{mid} {rad} {x} {d}");
        }
    }

    #[test]
    fn norm2_upper_survives_extreme_scales() {
        for s in [1e-310, 1e-300, 1e300] {
            let j = Mat::from_fn(5, 5, |_, _| s);
            let b = norm2_upper(j.as_ref());
            assert!(b >= 5.0 * s && b <= 5.0 * s * (1.0 + 1e-12), "{s}: {b}");
        }
    }

    #[test]
    fn norm2_upper_bounds_all_ones() {
        // ‖J_n‖₂ = n exactly; the bound must be ≥ n and here is exact.
        let j = Mat::from_fn(7, 7, |_, _| 1.0);
        assert!(norm2_upper(j.as_ref()) >= 7.0);
        assert!(norm2_upper(j.as_ref()) <= 7.0 * (1.0 + 1e-14));
    }
}
