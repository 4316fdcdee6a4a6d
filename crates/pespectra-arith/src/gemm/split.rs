//! The error-free splitting `M = hi + lo` (Rump–Ogita–Oishi `ExtractScalar`) that makes the
//! leading part of a product exact, with upper bounds of every line's Euclidean norm.
//!
//! **Rounding assumptions:** binary64 round to nearest with gradual underflow; every step is
//! exact except the norm accumulation, whose error is bounded in [`NormFinish`].

use super::par::{column_chunk, map_column_blocks};
use super::{gamma_factor, AffineUpper, ETA64};
use crate::round::{add_up, mul_up};
use faer::reborrow::ReborrowMut;
use faer::{Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// `2^e` for a normal exponent.
pub(super) fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Binary exponent `e` with `2^e ≤ x < 2^(e+1)` for a normal positive `x`; `None` otherwise.
fn exponent(x: f64) -> Option<i32> {
    (x.is_normal() && x > 0.0).then(|| ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023)
}

/// Column `j` of a matrix with unit row stride, as a slice.
pub(super) fn col<'a>(m: MatRef<'a, f64>, j: usize) -> &'a [f64] {
    m.col(j)
        .try_as_col_major()
        .expect("caller passes unit row stride")
        .as_slice()
}

/// Column `j` of a mutable matrix with unit row stride, as a slice.
pub(super) fn col_mut<'a>(m: MatMut<'a, f64>, j: usize) -> &'a mut [f64] {
    m.col_mut(j)
        .try_as_col_major_mut()
        .expect("caller passes unit row stride")
        .as_slice_mut()
}

/// A view with unit row stride: `m` itself, or a column-major copy kept alive in `slot`.
pub(super) fn unit_rows<'a>(m: MatRef<'a, f64>, slot: &'a mut Option<Mat<f64>>) -> MatRef<'a, f64> {
    if m.row_stride() == 1 {
        m
    } else {
        slot.insert(m.to_owned()).as_ref()
    }
}

/// `β = ⌊(53 − ⌈log₂ k⌉)/2⌋`: with `|a₁|, |b₁| ≤ 2^β` units, `k·2^(2β) ≤ 2^53`.
pub(super) fn split_bits(k: usize) -> i32 {
    (53 - (usize::BITS - (k.max(1) - 1).leading_zeros()) as i32) / 2
}

/// An exact splitting `M = hi + lo` along lines (rows or columns) with upper bounds of the
/// Euclidean norm of every line of `hi` and of `lo`.
pub(super) struct LineSplit {
    pub(super) exps: Vec<i32>,
    pub(super) hi: Mat<f64>,
    pub(super) lo: Mat<f64>,
    pub(super) hi_norm: Vec<f64>,
    pub(super) lo_norm: Vec<f64>,
}

/// Whether every product of leading parts (unit `2^(e_i + f_j)`) stays a normal multiple of its
/// unit and every partial sum (below `2^(53 + e_i + f_j)`) stays finite.
pub(super) fn exponents_fit(a: &LineSplit, b: &LineSplit) -> bool {
    let lo = |s: &LineSplit| s.exps.iter().copied().min().unwrap_or(0);
    let hi = |s: &LineSplit| s.exps.iter().copied().max().unwrap_or(0);
    lo(a) + lo(b) >= -1022 && hi(a) + hi(b) + 53 <= 1023
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
/// `η/2` each, the sum of non-negatives (in any order) at most `γ_len`, and the scaling `η·|v| ≤ η`
/// per entry (every scaled value here is ≤ 2^β); so `Σv² ≤ (1 + γ_2len)(s + 2·len·η)`.
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

/// `hi = fl(fl(x + σ) − σ)`, `lo = x − hi` for one entry (see [`split`]), with the squares of
/// both parts scaled by `down = 2^−e` added to the line accumulators.
#[inline(always)]
fn extract(x: f64, sigma: f64, down: f64, acc_hi: &mut f64, acc_lo: &mut f64) -> (f64, f64) {
    let y = (x + sigma) - sigma;
    let z = x - y;
    let (ys, zs) = (y * down, z * down);
    *acc_hi += ys * ys;
    *acc_lo += zs * zs;
    (y, z)
}

/// Splits `m = hi + lo` exactly (Rump–Ogita–Oishi `ExtractScalar`): on each line (row when
/// `by_rows`, else column) with largest magnitude `μ` and exponent `e` ([`line_exponent`]),
/// `σ = 1.5·2^(e+52)` and `hi = fl(fl(x + σ) − σ)`. Since `|x| < 2^(e+β) ≪ 2^(e+51)`, `x + σ`
/// lies in `[2^(e+52), 2^(e+53))` where the doubles are spaced `2^e`, so `hi` is `x` rounded to a
/// multiple of `2^e` (the subtraction is exact by Sterbenz) and `|hi| ≤ 2^(e+β)`; `lo = x − hi`
/// is exact (`|lo| ≤ 2^(e−1)`, and either `hi = 0` or `lo` is a multiple of ulp(x) below
/// `2^(exponent(x)+1)`). Line norms are accumulated in the same pass on values scaled by `2^−e`.
/// Column chunks are processed in parallel when `par` asks for it (row norms then add up
/// per-chunk partial sums, which the norm bound allows: any order). Needs unit row stride.
/// `None` for non-finite entries or exponents out of range.
pub(super) fn split(m: MatRef<'_, f64>, beta: i32, by_rows: bool, par: Par) -> Option<LineSplit> {
    let (r, c) = (m.nrows(), m.ncols());
    let mut hi = Mat::<f64>::zeros(r, c);
    let mut lo = Mat::<f64>::zeros(r, c);
    let chunk = column_chunk(c, par);
    let (exps, acc_hi, acc_lo, len) = if by_rows {
        let exps = row_exponents(m, beta, chunk)?;
        let (acc_hi, acc_lo) = split_rows(m, &exps, hi.as_mut(), lo.as_mut(), chunk);
        (exps, acc_hi, acc_lo, c)
    } else {
        let (exps, acc_hi, acc_lo) = split_columns(m, beta, hi.as_mut(), lo.as_mut(), chunk)?;
        (exps, acc_hi, acc_lo, r)
    };
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

/// Line exponents of the rows of `m`, from per-chunk row maxima; `None` if an entry is not
/// finite or an exponent is out of range.
fn row_exponents(m: MatRef<'_, f64>, beta: i32, chunk: usize) -> Option<Vec<i32>> {
    let r = m.nrows();
    let maxima = |j0: usize, j1: usize| {
        let mut mu = vec![0.0f64; r];
        // NaN or ±∞ anywhere makes this NaN
        let mut poison = 0.0f64;
        for j in j0..j1 {
            for (mi, &x) in mu.iter_mut().zip(col(m, j)) {
                *mi = mi.max(x.abs());
                poison += x * 0.0;
            }
        }
        (mu, poison)
    };
    let merge = |(mut a, pa): (Vec<f64>, f64), (b, pb): (Vec<f64>, f64)| {
        a.iter_mut().zip(&b).for_each(|(x, &y)| *x = x.max(y));
        (a, pa + pb)
    };
    let (mu, poison) = map_column_blocks(m.ncols(), chunk, maxima, merge);
    if poison != 0.0 {
        return None;
    }
    mu.iter().map(|&mu| line_exponent(mu, beta)).collect()
}

/// The row split of `m` into `hi`, `lo` for known row exponents; returns the row accumulators of
/// the scaled squares of both parts.
fn split_rows(
    m: MatRef<'_, f64>,
    exps: &[i32],
    hi: MatMut<'_, f64>,
    lo: MatMut<'_, f64>,
    chunk: usize,
) -> (Vec<f64>, Vec<f64>) {
    let r = m.nrows();
    let sigma: Vec<f64> = exps.iter().map(|&e| 1.5 * pow2(e + 52)).collect();
    let down: Vec<f64> = exps.iter().map(|&e| pow2(-e)).collect();
    let one = |j0: usize, mut hi: MatMut<'_, f64>, mut lo: MatMut<'_, f64>| {
        let (mut acc_hi, mut acc_lo) = (vec![0.0f64; r], vec![0.0f64; r]);
        for jj in 0..hi.ncols() {
            let src = col(m, j0 + jj);
            let h = col_mut(hi.rb_mut(), jj);
            let l = col_mut(lo.rb_mut(), jj);
            for i in 0..r {
                (h[i], l[i]) = extract(src[i], sigma[i], down[i], &mut acc_hi[i], &mut acc_lo[i]);
            }
        }
        (acc_hi, acc_lo)
    };
    if chunk >= m.ncols() {
        return one(0, hi, lo);
    }
    hi.par_col_chunks_mut(chunk)
        .zip(lo.par_col_chunks_mut(chunk))
        .enumerate()
        .map(|(t, (h, l))| one(t * chunk, h, l))
        .reduce(
            || (vec![0.0; r], vec![0.0; r]),
            |(mut a, mut b), (c, d)| {
                a.iter_mut().zip(&c).for_each(|(x, y)| *x += y);
                b.iter_mut().zip(&d).for_each(|(x, y)| *x += y);
                (a, b)
            },
        )
}

/// Per-line results of the column split: exponents and the accumulators of both parts.
type ColumnLines = (Vec<i32>, Vec<f64>, Vec<f64>);

/// The column split of `m` into `hi`, `lo`: every column is independent.
fn split_columns(
    m: MatRef<'_, f64>,
    beta: i32,
    hi: MatMut<'_, f64>,
    lo: MatMut<'_, f64>,
    chunk: usize,
) -> Option<ColumnLines> {
    let one = |j0: usize, mut hi: MatMut<'_, f64>, mut lo: MatMut<'_, f64>| {
        let width = hi.ncols();
        let mut out = (
            Vec::with_capacity(width),
            Vec::with_capacity(width),
            Vec::with_capacity(width),
        );
        for jj in 0..width {
            let src = col(m, j0 + jj);
            let mut mu = 0.0f64;
            let mut poison = 0.0f64;
            for &x in src {
                mu = mu.max(x.abs());
                poison += x * 0.0;
            }
            if poison != 0.0 {
                return None;
            }
            let e = line_exponent(mu, beta)?;
            let (sigma, down) = (1.5 * pow2(e + 52), pow2(-e));
            let h = col_mut(hi.rb_mut(), jj);
            let l = col_mut(lo.rb_mut(), jj);
            let (mut sh, mut sl) = (0.0, 0.0);
            for ((&x, h), l) in src.iter().zip(h.iter_mut()).zip(l.iter_mut()) {
                (*h, *l) = extract(x, sigma, down, &mut sh, &mut sl);
            }
            out.0.push(e);
            out.1.push(sh);
            out.2.push(sl);
        }
        Some(out)
    };
    if chunk >= m.ncols() {
        return one(0, hi, lo);
    }
    let parts: Option<Vec<ColumnLines>> = hi
        .par_col_chunks_mut(chunk)
        .zip(lo.par_col_chunks_mut(chunk))
        .enumerate()
        .map(|(t, (h, l))| one(t * chunk, h, l))
        .collect();
    let mut all: ColumnLines = (Vec::new(), Vec::new(), Vec::new());
    for (e, h, l) in parts? {
        all.0.extend(e);
        all.1.extend(h);
        all.2.extend(l);
    }
    Some(all)
}

/// A matrix split once by columns, for every product in which it is the right factor (and both
/// factors of its Gram product): the split depends only on the matrix, since the split width `β`
/// depends on the inner dimension, its row count.
pub struct ColumnSplit<'a> {
    view: MatRef<'a, f64>,
    copy: Option<Mat<f64>>,
    pub(super) parts: Option<LineSplit>,
}

impl<'a> ColumnSplit<'a> {
    /// Splits `m` (copied first if its rows are strided). A matrix with non-finite entries or
    /// exponents out of range keeps no split, and its products fall back to the plain bound.
    pub fn new(m: MatRef<'a, f64>, par: Par) -> Self {
        let mut out = ColumnSplit {
            view: m,
            copy: (m.row_stride() != 1).then(|| m.to_owned()),
            parts: None,
        };
        let beta = split_bits(m.nrows());
        out.parts = split(out.matrix(), beta, false, par);
        out
    }

    /// The matrix itself, with unit row stride.
    pub(super) fn matrix(&self) -> MatRef<'_, f64> {
        self.copy.as_ref().map_or(self.view, |c| c.as_ref())
    }
}
