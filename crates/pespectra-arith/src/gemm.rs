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
use faer::linalg::matmul::triangular::{self, BlockStructure};
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
#[derive(Clone, Copy, Debug)]
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

/// `2^e` for a normal exponent.
fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Binary exponent `e` with `2^e ≤ x < 2^(e+1)` for a normal positive `x`; `None` otherwise.
fn exponent(x: f64) -> Option<i32> {
    (x.is_normal() && x > 0.0).then(|| ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023)
}

/// Column `j` of a matrix with unit row stride, as a slice.
fn col<'a>(m: MatRef<'a, f64>, j: usize) -> &'a [f64] {
    m.col(j)
        .try_as_col_major()
        .expect("caller passes unit row stride")
        .as_slice()
}

/// An exact splitting `M = hi + lo` along lines (rows or columns) with upper bounds of the
/// Euclidean norm of every line of `hi` and of `lo`.
struct LineSplit {
    exps: Vec<i32>,
    hi: Mat<f64>,
    lo: Mat<f64>,
    hi_norm: Vec<f64>,
    lo_norm: Vec<f64>,
}

/// Line exponent `e = ⌊log₂ μ⌋ + 1 − β` of a line with largest magnitude `μ`, if every step of
/// [`split`] is exact for it: `σ = 1.5·2^(e+52)` finite and `2^(±e)` normal.
fn line_exponent(mu: f64, beta: i32) -> Option<i32> {
    let e = if mu == 0.0 {
        0
    } else {
        exponent(mu)? + 1 - beta
    };
    (-1022..=1023 - 53).contains(&e).then_some(e)
}

/// Upper bound of `√(Σ v²)·2^e` from `s = fl(Σ fl(v²))` over `len` values `v` that were scaled by
/// `2^−e` (each exact up to η/2 when subnormal). The `len` squares lose at most `u` relative plus
/// `η/2` each, the sum of non-negatives at most `γ_len`, and the scaling `η·|v| ≤ η` per entry
/// (every scaled value here is ≤ 2^β); so `Σv² ≤ (1 + γ_2len)(s + 2·len·η)`.
struct NormFinish {
    bound: AffineUpper,
}

impl NormFinish {
    fn new(len: usize) -> Self {
        let one_plus = add_up(1.0, gamma_factor(2 * len.max(1)));
        Self {
            bound: AffineUpper::new(one_plus, mul_up(one_plus, mul_up(2.0 * len as f64, ETA64))),
        }
    }

    fn finish(&self, s: f64, e: i32) -> f64 {
        mul_up(crate::round::sqrt_up(self.bound.eval(s)), pow2(e))
    }
}

/// Splits `m = hi + lo` exactly (Rump–Ogita–Oishi `ExtractScalar`): on each line (row when
/// `by_rows`, else column) with largest magnitude `μ` and exponent `e` ([`line_exponent`]),
/// `σ = 1.5·2^(e+52)` and `hi = fl(fl(x + σ) − σ)`. Since `|x| < 2^(e+β) ≪ 2^(e+51)`, `x + σ`
/// lies in `[2^(e+52), 2^(e+53))` where the doubles are spaced `2^e`, so `hi` is `x` rounded to a
/// multiple of `2^e` (the subtraction is exact by Sterbenz) and `|hi| ≤ 2^(e+β)`; `lo = x − hi`
/// is exact (`|lo| ≤ 2^(e−1)`, and either `hi = 0` or `lo` is a multiple of ulp(x) below
/// `2^(exponent(x)+1)`). Line norms are accumulated in the same pass on values scaled by `2^−e`.
/// Needs unit row stride. `None` for non-finite entries or exponents out of range.
fn split(m: MatRef<'_, f64>, beta: i32, by_rows: bool) -> Option<LineSplit> {
    let (r, c) = (m.nrows(), m.ncols());
    let mut hi = Mat::<f64>::zeros(r, c);
    let mut lo = Mat::<f64>::zeros(r, c);
    // NaN or ±∞ anywhere makes this NaN
    let mut poison = 0.0f64;
    let (lines, len) = if by_rows { (r, c) } else { (c, r) };
    let mut acc_hi = vec![0.0f64; lines];
    let mut acc_lo = vec![0.0f64; lines];
    let mut exps = vec![0i32; lines];
    if by_rows {
        let mut mu = vec![0.0f64; r];
        for j in 0..c {
            for (mi, &x) in mu.iter_mut().zip(col(m, j)) {
                *mi = mi.max(x.abs());
                poison += x * 0.0;
            }
        }
        if poison != 0.0 {
            return None;
        }
        for (e, &mu) in exps.iter_mut().zip(&mu) {
            *e = line_exponent(mu, beta)?;
        }
        let sigma: Vec<f64> = exps.iter().map(|&e| 1.5 * pow2(e + 52)).collect();
        let down: Vec<f64> = exps.iter().map(|&e| pow2(-e)).collect();
        for j in 0..c {
            let src = col(m, j);
            let h = hi.col_as_slice_mut(j);
            let l = lo.col_as_slice_mut(j);
            for i in 0..r {
                let x = src[i];
                let y = (x + sigma[i]) - sigma[i];
                let z = x - y;
                h[i] = y;
                l[i] = z;
                let (ys, zs) = (y * down[i], z * down[i]);
                acc_hi[i] += ys * ys;
                acc_lo[i] += zs * zs;
            }
        }
    } else {
        for j in 0..c {
            let src = col(m, j);
            let mut mu = 0.0f64;
            for &x in src {
                mu = mu.max(x.abs());
                poison += x * 0.0;
            }
            if poison != 0.0 {
                return None;
            }
            let e = line_exponent(mu, beta)?;
            exps[j] = e;
            let (sigma, down) = (1.5 * pow2(e + 52), pow2(-e));
            let h = hi.col_as_slice_mut(j);
            let l = lo.col_as_slice_mut(j);
            let (mut sh, mut sl) = (0.0, 0.0);
            for ((&x, h), l) in src.iter().zip(h.iter_mut()).zip(l.iter_mut()) {
                let y = (x + sigma) - sigma;
                let z = x - y;
                *h = y;
                *l = z;
                let (ys, zs) = (y * down, z * down);
                sh += ys * ys;
                sl += zs * zs;
            }
            acc_hi[j] = sh;
            acc_lo[j] = sl;
        }
    }
    let fin = NormFinish::new(len);
    let norms = |acc: &[f64]| -> Vec<f64> {
        acc.iter()
            .zip(&exps)
            .map(|(&s, &e)| fin.finish(s, e))
            .collect()
    };
    Some(LineSplit {
        hi_norm: norms(&acc_hi),
        lo_norm: norms(&acc_lo),
        exps,
        hi,
        lo,
    })
}

/// Entrywise radius of the remainder of a split product.
#[derive(Clone, Debug)]
enum Radius {
    /// `bound(‖A_i‖·‖B₂^j‖ + ‖A₂_i‖·‖B₁^j‖)` (Cauchy–Schwarz on each half of the remainder).
    Lines {
        a: Vec<f64>,
        a_lo: Vec<f64>,
        b_lo: Vec<f64>,
        b_hi: Vec<f64>,
        bound: AffineUpper,
    },
    /// Explicit radii (the plain [`matmul_ball`] fallback).
    Dense(Mat<f64>),
}

impl Radius {
    #[inline]
    fn at(&self, i: usize, j: usize) -> f64 {
        match self {
            Radius::Lines {
                a,
                a_lo,
                b_lo,
                b_hi,
                bound,
            } => bound.eval(a[i] * b_lo[j] + a_lo[i] * b_hi[j]),
            Radius::Dense(r) => r[(i, j)],
        }
    }
}

/// An enclosure `exact + [mid ± rad]` of a product, where `exact` carries no error at all.
#[derive(Clone, Debug)]
pub struct SplitProduct {
    exact: Mat<f64>,
    mid: Mat<f64>,
    radius: Radius,
    /// Only the lower triangle (with diagonal) was computed; the product is symmetric.
    lower_only: bool,
}

impl SplitProduct {
    /// Dimensions of the product.
    fn shape(&self) -> (usize, usize) {
        (self.exact.nrows(), self.exact.ncols())
    }

    /// `(exact, mid, rad)` of entry `(i, j)`, read from the lower triangle for symmetric products.
    #[inline]
    fn entry(&self, i: usize, j: usize) -> (f64, f64, f64) {
        let (i, j) = if self.lower_only && i < j {
            (j, i)
        } else {
            (i, j)
        };
        (self.exact[(i, j)], self.mid[(i, j)], self.radius.at(i, j))
    }

    /// One ball: `fl(exact + mid)` with the sum's rounding error (exact, by TwoSum) added to the
    /// radius. Only the tests need the enclosure entry by entry (to compare with exact
    /// products); callers use [`Self::modulus_minus_products`].
    #[cfg(test)]
    fn into_ball(self) -> BallMat {
        let (m, n) = self.shape();
        let mut mid = Mat::<f64>::zeros(m, n);
        let mut rad = Mat::<f64>::zeros(m, n);
        for j in 0..n {
            for i in 0..m {
                let (a, b, r) = self.entry(i, j);
                let s = a + b;
                let bp = s - a;
                let e = (a - (s - bp)) + (b - bp);
                mid[(i, j)] = s;
                rad[(i, j)] = if s.is_finite() && e.is_finite() {
                    add_up(r, e.abs())
                } else {
                    f64::INFINITY
                };
            }
        }
        BallMat { mid, rad }
    }

    /// Entrywise upper bounds of `|P_ij − x·y|`, `(x, y) = shift(i, j)`, for the exact product
    /// `P` (for a symmetric product the shift must be symmetric too), fused into one pass.
    ///
    /// With `p = fl(xy)`, `t = fl(E − p)`, `w = fl(t + m)` (round to nearest):
    /// `|P − xy| ≤ |E + m − xy| + ρ ≤ |w| + u|w| + u|t| + u'|p| + η/2 + ρ` (`u' = u/(1−u)`; only
    /// the product can underflow). `q = fl(fl(|w|+|t|)+|p|) ≥ q_exact(1−u)²` and `c = 1.02u`
    /// give `u'·q_exact ≤ fl(c·q) + η/2`, and `s = fl(fl(|w| + ρ) + fl(c·q))` loses at most
    /// `(1−u)²`, so the truth is `≤ (1+3u)·s + η`, evaluated upward by `AffineUpper`.
    /// Non-finite intermediate values give `+∞`.
    pub fn modulus_minus_products(&self, shift: impl Fn(usize, usize) -> (f64, f64)) -> Mat<f64> {
        let (m, n) = self.shape();
        let fin = AffineUpper::new(add_up(1.0, 3.0 * U64), ETA64);
        let c = 1.02 * U64;
        let one = |i: usize, j: usize| {
            let (e, mid, rho) = self.entry(i, j);
            let (x, y) = shift(i, j);
            let p = x * y;
            let t = e - p;
            let w = t + mid;
            let q = (w.abs() + t.abs()) + p.abs();
            let s = (w.abs() + rho) + c * q;
            if s.is_finite() {
                fin.eval(s)
            } else {
                f64::INFINITY
            }
        };
        let mut out = Mat::<f64>::zeros(m, n);
        if self.lower_only {
            for j in 0..n {
                for i in j..m {
                    let v = one(i, j);
                    out[(i, j)] = v;
                    out[(j, i)] = v;
                }
            }
        } else {
            for j in 0..n {
                let o = out.col_as_slice_mut(j);
                for (i, o) in o.iter_mut().enumerate() {
                    *o = one(i, j);
                }
            }
        }
        out
    }
}

impl SplitProduct {
    /// The plain two-GEMM enclosure ([`matmul_ball`]) in split form, with a zero exact part.
    fn plain(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Self {
        let ball = matmul_ball(a, b, par);
        SplitProduct {
            exact: Mat::zeros(a.nrows(), b.ncols()),
            mid: ball.mid,
            radius: Radius::Dense(ball.rad),
            lower_only: false,
        }
    }
}

/// A view with unit row stride: `m` itself, or a column-major copy kept alive in `slot`.
fn unit_rows<'a>(m: MatRef<'a, f64>, slot: &'a mut Option<Mat<f64>>) -> MatRef<'a, f64> {
    if m.row_stride() == 1 {
        m
    } else {
        slot.insert(m.to_owned()).as_ref()
    }
}

/// `β = ⌊(53 − ⌈log₂ k⌉)/2⌋`: with `|a₁|, |b₁| ≤ 2^β` units, `k·2^(2β) ≤ 2^53`.
fn split_bits(k: usize) -> i32 {
    (53 - (usize::BITS - (k.max(1) - 1).leading_zeros()) as i32) / 2
}

/// Whether every product of leading parts (unit `2^(e_i + f_j)`) stays a normal multiple of its
/// unit and every partial sum (below `2^(53 + e_i + f_j)`) stays finite.
fn exponents_fit(a: &LineSplit, b: &LineSplit) -> bool {
    let lo = |s: &LineSplit| s.exps.iter().copied().min().unwrap_or(0);
    let hi = |s: &LineSplit| s.exps.iter().copied().max().unwrap_or(0);
    lo(a) + lo(b) >= -1022 && hi(a) + hi(b) + 53 <= 1023
}

/// The radius rule of the remainder `A·B₂ + A₂·B₁` computed by GEMMs of total inner dimension
/// `2k`: a priori `γ_2k·S + 2kη` with `S ≤ ‖A_i‖‖B₂^j‖ + ‖A₂_i‖‖B₁^j‖` (Cauchy–Schwarz on each
/// half). `S` evaluated to nearest as `s` satisfies `S ≤ (1+3u)s + 2η` (two products that may
/// underflow by η/2, one sum of non-negatives), so `c·S + (c·2kη + 2kη) ≤ c(1+3u)·s +
/// (2cη + c·2kη + 2kη)`: one plain multiply-add per entry.
fn remainder_bound(k: usize) -> AffineUpper {
    let c = gamma_factor(2 * k);
    let keta = mul_up((2 * k) as f64, ETA64);
    AffineUpper::new(
        mul_up(c, add_up(1.0, 3.0 * U64)),
        add_up(add_up(mul_up(c, keta), keta), mul_up(2.0 * ETA64, c)),
    )
}

fn add_norms(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(&x, &y)| add_up(x, y)).collect()
}

/// Enclosure of `A·B` with most of the product computed **exactly** (an Ozaki-style
/// error-free splitting): `A = A₁ + A₂`, `B = B₁ + B₂` (`split`) with `A₁`, `B₁` holding the
/// leading `β = ⌊(53 − ⌈log₂ k⌉)/2⌋` bits of each row of A / column of B on a common exponent, so
/// every partial sum of `A₁B₁` is an integer multiple of `2^(e_i + f_j)` of magnitude at most
/// `k·2^(2β)·2^(e_i+f_j) ≤ 2^(53 + e_i + f_j)`: the GEMM computes it without any rounding, in
/// any order, with or without FMA. The remainder `A·B₂ + A₂·B₁` is about `2^−β` times smaller
/// and is computed by two accumulated GEMMs (one sum of `2k` products, in some order) with the
/// a priori bound of `remainder_bound`. The radius is about `2^−β·√k` times the a priori bound
/// of a plain product, for the cost of three plain GEMMs. Falls back to [`matmul_ball`] alone
/// when exponents would leave the normal range or an entry is not finite.
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul_split(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> SplitProduct {
    assert_eq!(
        a.ncols(),
        b.nrows(),
        "matmul_split: inner dimensions differ"
    );
    let (mut a_slot, mut b_slot) = (None, None);
    let a = unit_rows(a, &mut a_slot);
    let b = unit_rows(b, &mut b_slot);
    let k = a.ncols().max(1);
    let beta = split_bits(k);
    let parts = split(a, beta, true)
        .zip(split(b, beta, false))
        .filter(|(sa, sb)| exponents_fit(sa, sb));
    let Some((sa, sb)) = parts else {
        return SplitProduct::plain(a, b, par);
    };
    let exact = gemm(sa.hi.as_ref(), sb.hi.as_ref(), par);
    let mut mid = gemm(a, sb.lo.as_ref(), par);
    matmul(
        mid.as_mut(),
        Accum::Add,
        sa.lo.as_ref(),
        sb.hi.as_ref(),
        1.0,
        par,
    );
    SplitProduct {
        exact,
        mid,
        radius: Radius::Lines {
            a: add_norms(&sa.hi_norm, &sa.lo_norm),
            a_lo: sa.lo_norm,
            b_lo: sb.lo_norm,
            b_hi: sb.hi_norm,
            bound: remainder_bound(k),
        },
        lower_only: false,
    }
}

/// Enclosure of the symmetric Gram product `XᵀX`, computing only its lower triangle: one
/// column split `X = X₁ + X₂` (`split`) serves both factors, `X₁ᵀX₁` is exact (as in
/// [`matmul_split`]) and symmetric, so the remainder `XᵀX₂ + X₂ᵀX₁ = XᵀX − X₁ᵀX₁` is symmetric
/// *as an exact matrix* and its ball at `(i, j)`, `i ≥ j`, also encloses entry `(j, i)`. The
/// three triangular GEMMs cost about half of [`matmul_split`]'s three full ones. faer's
/// triangular product obeys the same rounding assumptions (a sum of the `k` or `2k` products in
/// some order).
pub fn gram_split(x: MatRef<'_, f64>, par: Par) -> SplitProduct {
    let mut slot = None;
    let x = unit_rows(x, &mut slot);
    let (k, n) = (x.nrows().max(1), x.ncols());
    let Some(s) = split(x, split_bits(k), false).filter(|s| exponents_fit(s, s)) else {
        return SplitProduct::plain(x.transpose(), x, par);
    };
    let lower = |dst: &mut Mat<f64>, acc, l: MatRef<'_, f64>, r: MatRef<'_, f64>| {
        triangular::matmul(
            dst.as_mut(),
            BlockStructure::TriangularLower,
            acc,
            l,
            BlockStructure::Rectangular,
            r,
            BlockStructure::Rectangular,
            1.0,
            par,
        )
    };
    let mut exact = Mat::<f64>::zeros(n, n);
    lower(&mut exact, Accum::Replace, s.hi.transpose(), s.hi.as_ref());
    let mut mid = Mat::<f64>::zeros(n, n);
    lower(&mut mid, Accum::Replace, x.transpose(), s.lo.as_ref());
    lower(&mut mid, Accum::Add, s.lo.transpose(), s.hi.as_ref());
    SplitProduct {
        exact,
        mid,
        radius: Radius::Lines {
            a: add_norms(&s.hi_norm, &s.lo_norm),
            a_lo: s.lo_norm.clone(),
            b_lo: s.lo_norm,
            b_hi: s.hi_norm,
            bound: remainder_bound(k),
        },
        lower_only: true,
    }
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

    /// The Gram product's lower-triangle balls enclose every entry of the exact `XᵀX`, for badly
    /// scaled columns and the strided-input path, and stay far tighter than the plain bound.
    #[test]
    fn gram_split_encloses_exact_gram() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
        for (k, n, spread) in [(9, 7, 0), (64, 20, 3), (40, 12, 250)] {
            let x = random(&mut rng, k, n, spread);
            let xt = x.transpose().to_owned();
            for strided in [false, true] {
                let view = if strided { xt.transpose() } else { x.as_ref() };
                let ball = gram_split(view, par_for(1024)).into_ball();
                let plain = matmul_ball(x.transpose(), x.as_ref(), Par::Seq);
                for i in 0..n {
                    for j in 0..n {
                        let exact = exact_product(&xt, &x, i, j);
                        let err = (q(ball.mid[(i, j)]) - &exact).abs();
                        assert!(err <= q(ball.rad[(i, j)]), "({i},{j})");
                        if spread == 0 {
                            let floor = 2.0 * U64 * ball.mid[(i, j)].abs();
                            assert!(ball.rad[(i, j)] <= plain.rad[(i, j)] * 1e-3 + floor);
                        }
                    }
                }
            }
        }
        // out-of-range exponents fall back to the plain product, still enclosing
        let x = Mat::from_fn(3, 3, |i, j| if i == j { 1e-310 } else { 1e300 });
        let ball = gram_split(x.as_ref(), Par::Seq).into_ball();
        let xt = x.transpose().to_owned();
        for i in 0..3 {
            for j in 0..3 {
                if ball.rad[(i, j)].is_finite() {
                    let exact = exact_product(&xt, &x, i, j);
                    assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                }
            }
        }
    }

    /// `|P − x·y|` bounds dominate the exact rational value for general and Gram products
    /// (shift `X·diag(d)` and the identity), and exceed it by little for well-scaled data.
    #[test]
    fn modulus_minus_products_dominates_exact() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
        for (n, spread) in [(6, 0), (17, 2), (12, 200)] {
            let a = random(&mut rng, n, n, spread);
            let x = random(&mut rng, n, n, 0);
            let d: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
            let m = matmul_split(a.as_ref(), x.as_ref(), Par::Seq)
                .modulus_minus_products(|i, j| (x[(i, j)], d[j]));
            let g = gram_split(x.as_ref(), Par::Seq)
                .modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0));
            let xt = x.transpose().to_owned();
            for i in 0..n {
                for j in 0..n {
                    let t = (exact_product(&a, &x, i, j) - q(x[(i, j)]) * q(d[j])).abs();
                    assert!(t <= q(m[(i, j)]), "AX−XD ({i},{j})");
                    let one = if i == j { 1.0 } else { 0.0 };
                    let f = (exact_product(&xt, &x, i, j) - q(one)).abs();
                    assert!(f <= q(g[(i, j)]), "XᵀX−I ({i},{j})");
                    assert_eq!(g[(i, j)], g[(j, i)]);
                    if spread == 0 {
                        // slack: a few ulps of the computed entry plus the remainder radius
                        let slack = q(16.0 * U64 * (1.0 + m[(i, j)]));
                        assert!(q(m[(i, j)]) - t <= slack, "AX−XD too loose ({i},{j})");
                    }
                }
            }
        }
        // non-finite data gives +∞, never a finite bound
        let a = Mat::from_fn(3, 3, |i, j| if i == j { f64::NAN } else { 1.0 });
        let m = matmul_split(a.as_ref(), a.as_ref(), Par::Seq)
            .modulus_minus_products(|_, _| (0.0, 0.0));
        assert!(m[(0, 0)].is_infinite());
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
