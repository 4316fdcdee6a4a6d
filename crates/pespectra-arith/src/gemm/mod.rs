//! Rigorous dense matrix products at GEMM speed (midpoint–radius with a priori error bounds).
//!
//! **Rounding assumptions.** The products are computed by faer's f64 GEMM or the system OpenBLAS
//! (`backend`), each of which evaluates every entry as a sum of `k` products in *some* order,
//! each operation (multiply, add, or fused multiply-add) correctly rounded to nearest in binary64
//! with gradual underflow. For any such evaluation order the classical bound (Higham, *Accuracy
//! and Stability of Numerical Algorithms*, §3.1, with the underflow model `fl(x op y) = (x op y)(1+δ) + ε`, |δ| ≤ u,
//! |ε| ≤ η/2, ε = 0 for additions) gives, with `u = 2⁻⁵³`, `η = 2⁻¹⁰⁷⁴` and `γ_k = ku/(1−ku)`:
//!
//! `|fl(AB) − AB| ≤ γ_k·S + k·η`, where `S = |A|·|B|` exactly.
//!
//! `S` itself is computed as `T = fl(|A|·|B|)` by the same GEMM, so `S ≤ (T + kη)/(1 − γ_k)`,
//! hence `|fl(AB) − AB| ≤ c_k·(T + kη) + kη` with `c_k = ku/(1 − 2ku)`. Every scalar step of that
//! bound is evaluated with upward rounding ([`crate::round`]), so the returned radius is a true
//! upper bound. The only requirement on the GEMM is the one above (no Strassen-like algorithm,
//! no reduced-precision accumulation), which faer's and OpenBLAS's f64 kernels satisfy; the test
//! suite checks the enclosures against exact rational products on both.

//!
//! This file holds the plain products; `split` the error-free splitting ([`ColumnSplit`]),
//! `product` the split products, `norm` the spectral-norm bound, `par` the thread policy and
//! `backend` which GEMM runs them.

mod backend;
mod norm;
mod par;
mod product;
mod split;
#[cfg(test)]
mod tests;

pub use backend::{
    gemm_description, requested_blas_error, system_blas_status, with_backend, Backend,
    BlasUnavailable,
};
pub use norm::norm2_upper;
pub use par::par_for;
pub use product::{gram_split, gram_split_with, matmul_split, matmul_split_with, SplitProduct};
pub use split::ColumnSplit;

use crate::round::{add_up, div_up, mul_up, sub_down};
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
    backend::multiply(c.as_mut(), Accum::Replace, a, b, par);
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
