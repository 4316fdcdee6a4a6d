//! Split products: most of `A·B` (or of the Gram matrix `XᵀX`) computed exactly, the rest with an
//! a priori radius, and the fused bound of `|P − x·y|` that the residuals of an eigendecomposition
//! need.
//!
//! **Rounding assumptions:** as in [`super`] (any-order sums of correctly rounded binary64
//! operations with gradual underflow for the GEMMs; round to nearest for the entrywise passes,
//! whose errors are bounded explicitly).

use super::backend::{multiply, multiply_lower};
use super::par::column_chunk;
use super::split::{col, col_mut, exponents_fit, split, split_bits, unit_rows, ColumnSplit};
#[cfg(test)]
use super::BallMat;
use super::{gamma_factor, gemm, matmul_ball, AffineUpper, ETA64, U64};
use crate::round::{add_up, mul_up};
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

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
    #[cfg(test)]
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
    /// The parallelism the product was computed with, reused by its entrywise pass.
    par: Par,
}

impl SplitProduct {
    /// `(exact, mid, rad)` of entry `(i, j)`, read from the lower triangle for symmetric products.
    #[cfg(test)]
    fn entry(&self, i: usize, j: usize) -> (f64, f64, f64) {
        let (i, j) = if self.lower_only && i < j {
            (j, i)
        } else {
            (i, j)
        };
        (self.exact[(i, j)], self.mid[(i, j)], self.radius.at(i, j))
    }

    /// One ball per entry: `fl(exact + mid)` with the sum's rounding error (exact, by TwoSum)
    /// added to the radius. Only the tests need the enclosure entry by entry (to compare with
    /// exact products); callers use [`Self::modulus_minus_products`].
    #[cfg(test)]
    pub(super) fn into_ball(self) -> BallMat {
        let (m, n) = (self.exact.nrows(), self.exact.ncols());
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
    /// `P` (for a symmetric product the shift must be symmetric too), fused into one pass that
    /// overwrites the exact part in place, column chunks in parallel when the product was.
    ///
    /// With `p = fl(xy)`, `t = fl(E − p)`, `w = fl(t + m)` (round to nearest):
    /// `|P − xy| ≤ |E + m − xy| + ρ ≤ |w| + u|w| + u|t| + u'|p| + η/2 + ρ` (`u' = u/(1−u)`; only
    /// the product can underflow). `q = fl(fl(|w|+|t|)+|p|) ≥ q_exact(1−u)²` and `c = 1.02u`
    /// give `u'·q_exact ≤ fl(c·q) + η/2`, and `s = fl(fl(|w| + ρ) + fl(c·q))` loses at most
    /// `(1−u)²`, so the truth is `≤ (1+3u)·s + η`, evaluated upward by `AffineUpper`.
    /// Non-finite intermediate values give `+∞`.
    pub fn modulus_minus_products(
        self,
        shift: impl Fn(usize, usize) -> (f64, f64) + Sync,
    ) -> Mat<f64> {
        let SplitProduct {
            mut exact,
            mid,
            radius,
            lower_only,
            par,
        } = self;
        let (m, n) = (exact.nrows(), exact.ncols());
        let fin = AffineUpper::new(add_up(1.0, 3.0 * U64), ETA64);
        let c = 1.02 * U64;
        let one = |e: f64, mid: f64, rho: f64, (x, y): (f64, f64)| {
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
        let columns = |j0: usize, mut out: MatMut<'_, f64>| {
            for jj in 0..out.ncols() {
                let j = j0 + jj;
                let first = if lower_only { j.min(m) } else { 0 };
                let o = &mut col_mut(out.rb_mut(), jj)[first..];
                let md = &col(mid.as_ref(), j)[first..];
                match &radius {
                    Radius::Lines {
                        a,
                        a_lo,
                        b_lo,
                        b_hi,
                        bound,
                    } => {
                        let (bl, bh) = (b_lo[j], b_hi[j]);
                        for (k, (o, &md)) in o.iter_mut().zip(md).enumerate() {
                            let i = first + k;
                            let rho = bound.eval(a[i] * bl + a_lo[i] * bh);
                            *o = one(*o, md, rho, shift(i, j));
                        }
                    }
                    Radius::Dense(r) => {
                        let rd = &col(r.as_ref(), j)[first..];
                        for (k, ((o, &md), &rho)) in o.iter_mut().zip(md).zip(rd).enumerate() {
                            *o = one(*o, md, rho, shift(first + k, j));
                        }
                    }
                }
            }
        };
        let chunk = column_chunk(n, par);
        if chunk >= n {
            columns(0, exact.as_mut());
        } else {
            exact
                .as_mut()
                .par_col_chunks_mut(chunk)
                .enumerate()
                .for_each(|(t, out)| columns(t * chunk, out));
        }
        if lower_only {
            mirror_lower(exact.as_mut());
        }
        exact
    }

    /// The plain two-GEMM enclosure ([`matmul_ball`]) in split form, with a zero exact part.
    fn plain(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Self {
        let ball = matmul_ball(a, b, par);
        SplitProduct {
            exact: Mat::zeros(a.nrows(), b.ncols()),
            mid: ball.mid,
            radius: Radius::Dense(ball.rad),
            lower_only: false,
            par,
        }
    }
}

/// Copies the strict lower triangle of a square matrix onto the upper one, by tiles (a plain
/// transpose loop misses the cache on every write).
fn mirror_lower(mut m: MatMut<'_, f64>) {
    const TILE: usize = 64;
    let n = m.nrows();
    for jb in (0..n).step_by(TILE) {
        for ib in (0..=jb).step_by(TILE) {
            for j in jb..(jb + TILE).min(n) {
                for i in ib..(ib + TILE).min(j) {
                    m[(i, j)] = m[(j, i)];
                }
            }
        }
    }
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
/// error-free splitting): `A = A₁ + A₂`, `B = B₁ + B₂` (the `split` module) with `A₁`, `B₁`
/// holding the leading `β = ⌊(53 − ⌈log₂ k⌉)/2⌋` bits of each row of A / column of B on a common
/// exponent, so every partial sum of `A₁B₁` is an integer multiple of `2^(e_i + f_j)` of
/// magnitude at most `k·2^(2β)·2^(e_i+f_j) ≤ 2^(53 + e_i + f_j)`: the GEMM computes it without
/// any rounding, in any order, with or without FMA. The remainder `A·B₂ + A₂·B₁` is about `2^−β`
/// times smaller and is computed by two accumulated GEMMs (one sum of `2k` products, in some
/// order) with the a priori bound of `remainder_bound`. The radius is about `2^−β·√k` times the
/// a priori bound of a plain product, for the cost of three plain GEMMs. Falls back to
/// [`matmul_ball`] alone when exponents would leave the normal range or an entry is not finite.
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul_split(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> SplitProduct {
    matmul_split_with(a, &ColumnSplit::new(b, par), par)
}

/// [`matmul_split`] with the right factor already split (so one split serves several products).
///
/// # Panics
/// If the inner dimensions differ.
pub fn matmul_split_with(a: MatRef<'_, f64>, b: &ColumnSplit<'_>, par: Par) -> SplitProduct {
    let bm = b.matrix();
    assert_eq!(
        a.ncols(),
        bm.nrows(),
        "matmul_split: inner dimensions differ"
    );
    let mut a_slot = None;
    let a = unit_rows(a, &mut a_slot);
    let beta = split_bits(a.ncols());
    let parts = b
        .parts
        .as_ref()
        .zip(split(a, beta, true, par))
        .filter(|(sb, sa)| exponents_fit(sa, sb));
    let Some((sb, sa)) = parts else {
        return SplitProduct::plain(a, bm, par);
    };
    let exact = gemm(sa.hi.as_ref(), sb.hi.as_ref(), par);
    let mut mid = gemm(a, sb.lo.as_ref(), par);
    multiply(
        mid.as_mut(),
        Accum::Add,
        sa.lo.as_ref(),
        sb.hi.as_ref(),
        par,
    );
    SplitProduct {
        exact,
        mid,
        radius: Radius::Lines {
            a: add_norms(&sa.hi_norm, &sa.lo_norm),
            a_lo: sa.lo_norm,
            b_lo: sb.lo_norm.clone(),
            b_hi: sb.hi_norm.clone(),
            bound: remainder_bound(a.ncols().max(1)),
        },
        lower_only: false,
        par,
    }
}

/// Enclosure of the symmetric Gram product `XᵀX`, computing only its lower triangle: one
/// column split `X = X₁ + X₂` serves both factors, `X₁ᵀX₁` is exact (as in [`matmul_split`]) and
/// symmetric, so the remainder `XᵀX₂ + X₂ᵀX₁ = XᵀX − X₁ᵀX₁` is symmetric *as an exact matrix*
/// and its ball at `(i, j)`, `i ≥ j`, also encloses entry `(j, i)`. The three triangular GEMMs
/// cost about half of [`matmul_split`]'s three full ones. faer's triangular product obeys the
/// same rounding assumptions (a sum of the `k` or `2k` products in some order).
pub fn gram_split(x: MatRef<'_, f64>, par: Par) -> SplitProduct {
    gram_split_with(&ColumnSplit::new(x, par), par)
}

/// [`gram_split`] of an already split matrix.
pub fn gram_split_with(xs: &ColumnSplit<'_>, par: Par) -> SplitProduct {
    let x = xs.matrix();
    let k = x.nrows().max(1);
    let Some(s) = xs.parts.as_ref().filter(|s| exponents_fit(s, s)) else {
        return SplitProduct::plain(x.transpose(), x, par);
    };
    let n = x.ncols();
    let lower = |dst: &mut Mat<f64>, acc, l: MatRef<'_, f64>, r: MatRef<'_, f64>| {
        multiply_lower(dst.as_mut(), acc, l, r, par)
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
            b_lo: s.lo_norm.clone(),
            b_hi: s.hi_norm.clone(),
            bound: remainder_bound(k),
        },
        lower_only: true,
        par,
    }
}
