//! The MPFR path: refine an f64 eigendecomposition to the working precision (Ogita–Aishima
//! iterations, unverified), then bound the residuals with directed-rounding dot products and
//! apply [`crate::weyl::enclose`].
//!
//! **Rounding assumptions:** refinement uses MPFR round-to-nearest and claims nothing; the
//! verification step uses [`pespectra_arith::mp::dot_bounds`] (every product and sum rounded
//! outward), so the bounds hold for the exact matrices whatever the refinement produced.

use crate::matrix::CMat;
use crate::weyl::ResidualBounds;
use pespectra_arith::mp::dot_bounds;
use rayon::prelude::*;
use rug::float::Round;
use rug::Float;

/// Dense square-or-rectangular MPFR matrix, row-major, optional imaginary part.
#[derive(Clone, Debug)]
pub struct MpMat {
    rows: usize,
    cols: usize,
    re: Vec<Float>,
    im: Option<Vec<Float>>,
}

impl MpMat {
    /// Exact copy of an f64 matrix at precision `prec` (≥ 53).
    pub fn from_cmat(m: &CMat, prec: u32) -> Self {
        let (rows, cols) = (m.nrows(), m.ncols());
        let get = |f: &dyn Fn(usize, usize) -> f64| -> Vec<Float> {
            (0..rows * cols)
                .map(|t| Float::with_val(prec, f(t / cols, t % cols)))
                .collect()
        };
        let re = get(&|i, j| m.re[(i, j)]);
        let im = m.im.as_ref().map(|im| get(&|i, j| im[(i, j)]));
        Self { rows, cols, re, im }
    }

    fn zero_im(&self, prec: u32) -> Vec<Float> {
        vec![Float::new(prec); self.rows * self.cols]
    }

    /// Rows of `op(self)` as (re, im) vectors; `op` is the conjugate transpose when `adjoint`.
    fn op_rows(&self, adjoint: bool, prec: u32) -> Vec<(Vec<Float>, Vec<Float>)> {
        let im = self.im.clone().unwrap_or_else(|| self.zero_im(prec));
        if adjoint {
            (0..self.cols)
                .map(|j| {
                    let re = (0..self.rows)
                        .map(|i| self.re[i * self.cols + j].clone())
                        .collect();
                    let imv = (0..self.rows)
                        .map(|i| -im[i * self.cols + j].clone())
                        .collect();
                    (re, imv)
                })
                .collect()
        } else {
            (0..self.rows)
                .map(|i| {
                    let r = i * self.cols..(i + 1) * self.cols;
                    (self.re[r.clone()].to_vec(), im[r].to_vec())
                })
                .collect()
        }
    }

    /// Columns as (re, −im, im) vectors, the shapes the complex dot products below need.
    fn cols_for_dot(&self, prec: u32) -> Vec<[Vec<Float>; 3]> {
        let im = self.im.clone().unwrap_or_else(|| self.zero_im(prec));
        (0..self.cols)
            .map(|j| {
                let re: Vec<Float> = (0..self.rows)
                    .map(|i| self.re[i * self.cols + j].clone())
                    .collect();
                let imv: Vec<Float> = (0..self.rows)
                    .map(|i| im[i * self.cols + j].clone())
                    .collect();
                let neg = imv.iter().map(|v| -v.clone()).collect();
                [re, neg, imv]
            })
            .collect()
    }

    fn is_complex(&self) -> bool {
        self.im.is_some()
    }

    /// Entry (i, j) as (re, im).
    fn at(&self, i: usize, j: usize) -> (&Float, Option<&Float>) {
        let t = i * self.cols + j;
        (&self.re[t], self.im.as_ref().map(|v| &v[t]))
    }
}

/// `op(A)·B` entrywise through a caller-supplied real dot product `f`: complex entries are
/// `Re = f(row_re ++ row_im, col_re ++ (−col_im))` and `Im = f(row_re ++ row_im, col_im ++ col_re)`.
fn product_with<T: Send>(
    a: &MpMat,
    adjoint: bool,
    b: &MpMat,
    prec: u32,
    f: impl Fn(&[Float], &[Float]) -> T + Sync,
) -> (Vec<T>, Option<Vec<T>>) {
    let complex = a.is_complex() || b.is_complex();
    let rows: Vec<Vec<Float>> = a
        .op_rows(adjoint, prec)
        .into_iter()
        .map(|(re, im)| {
            if complex {
                re.into_iter().chain(im).collect()
            } else {
                re
            }
        })
        .collect();
    let cols: Vec<(Vec<Float>, Vec<Float>)> = b
        .cols_for_dot(prec)
        .into_iter()
        .map(|[re, neg, im]| {
            if complex {
                let for_re = re.iter().chain(&neg).cloned().collect();
                (for_re, im.into_iter().chain(re).collect())
            } else {
                (re, Vec::new())
            }
        })
        .collect();
    let (m, n) = (rows.len(), cols.len());
    let entries: Vec<(T, Option<T>)> = (0..m * n)
        .into_par_iter()
        .map(|t| {
            let (row, col) = (&rows[t / n], &cols[t % n]);
            (f(row, &col.0), complex.then(|| f(row, &col.1)))
        })
        .collect();
    let (re, im): (Vec<T>, Vec<Option<T>>) = entries.into_iter().unzip();
    let im = complex.then(|| im.into_iter().map(|v| v.expect("complex entry")).collect());
    (re, im)
}

/// `op(A)·B` rounded to nearest at precision `prec`.
fn mul_nearest(a: &MpMat, adjoint: bool, b: &MpMat, prec: u32) -> MpMat {
    let rows = if adjoint { a.cols } else { a.rows };
    let (re, im) = product_with(a, adjoint, b, prec, |x, y| {
        Float::with_val(prec, Float::dot(x.iter().zip(y)))
    });
    MpMat {
        rows,
        cols: b.cols,
        re,
        im,
    }
}

/// One Ogita–Aishima refinement step (SIAM J. Matrix Anal. Appl./Japan J. Indust. Appl. Math.
/// 2018–2019, "Iterative refinement for symmetric eigenvalue decomposition"), extended to
/// Hermitian input: `R = I − XᴴX`, `S = XᴴAX`, `λ̃_i = s_ii/(1 − r_ii)`,
/// `Ẽ_ij = (s_ij + λ̃_j r_ij)/(λ̃_j − λ̃_i)` for well-separated pairs and `r_ij/2` inside clusters,
/// `X ← X + XẼ`. Returns the new X and λ̃.
fn refine_step(a: &MpMat, x: &MpMat, prec: u32) -> (MpMat, Vec<Float>) {
    let n = x.cols;
    let ax = mul_nearest(a, false, x, prec);
    let s = mul_nearest(x, true, &ax, prec);
    let g = mul_nearest(x, true, x, prec);
    let complex = s.is_complex() || g.is_complex();
    let r_at = |i: usize, j: usize| -> (Float, Float) {
        let (gr, gi) = g.at(i, j);
        let re = if i == j {
            Float::with_val(prec, 1 - gr)
        } else {
            Float::with_val(prec, -gr)
        };
        let im = gi.map_or(Float::new(prec), |v| Float::with_val(prec, -v));
        (re, im)
    };
    let lam: Vec<Float> = (0..n)
        .map(|i| {
            let (rii, _) = r_at(i, i);
            Float::with_val(prec, s.at(i, i).0 / Float::with_val(prec, 1 - rii))
        })
        .collect();
    // Cluster threshold δ = 2(‖S − D̃‖_F + ‖A‖_F‖R‖_F) (Frobenius norms as cheap estimates).
    let frob = |f: &dyn Fn(usize, usize) -> (Float, Float)| -> Float {
        let mut acc = Float::new(prec);
        for i in 0..n {
            for j in 0..n {
                let (re, im) = f(i, j);
                acc +=
                    Float::with_val(prec, re.square_ref()) + Float::with_val(prec, im.square_ref());
            }
        }
        acc.sqrt()
    };
    let s_off = frob(&|i, j| {
        let (sr, si) = s.at(i, j);
        let re = if i == j {
            Float::with_val(prec, sr - &lam[i])
        } else {
            sr.clone()
        };
        (re, si.cloned().unwrap_or_else(|| Float::new(prec)))
    });
    let a_norm = frob(&|i, j| {
        let (ar, ai) = a.at(i, j);
        (ar.clone(), ai.cloned().unwrap_or_else(|| Float::new(prec)))
    });
    let r_norm = frob(&r_at);
    let delta = Float::with_val(prec, 2 * (s_off + a_norm * r_norm));
    let mut e_re = Vec::with_capacity(n * n);
    let mut e_im = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let (rr, ri) = r_at(i, j);
            let gap = Float::with_val(prec, &lam[j] - &lam[i]);
            if i != j && Float::with_val(prec, gap.abs_ref()) > delta {
                let (sr, si) = s.at(i, j);
                let num_re = Float::with_val(prec, sr + Float::with_val(prec, &lam[j] * &rr));
                e_re.push(Float::with_val(prec, num_re / &gap));
                let si = si.cloned().unwrap_or_else(|| Float::new(prec));
                let num_im = Float::with_val(prec, si + Float::with_val(prec, &lam[j] * &ri));
                e_im.push(Float::with_val(prec, num_im / &gap));
            } else {
                e_re.push(Float::with_val(prec, rr / 2));
                e_im.push(Float::with_val(prec, ri / 2));
            }
        }
    }
    let e = MpMat {
        rows: n,
        cols: n,
        re: e_re,
        im: complex.then_some(e_im),
    };
    let xe = mul_nearest(x, false, &e, prec);
    let add = |p: &[Float], q: &[Float]| {
        p.iter()
            .zip(q)
            .map(|(u, v)| Float::with_val(prec, u + v))
            .collect::<Vec<_>>()
    };
    let re = add(&x.re, &xe.re);
    let im = match (&x.im, &xe.im) {
        (Some(a), Some(b)) => Some(add(a, b)),
        (None, Some(b)) => Some(b.clone()),
        (Some(a), None) => Some(a.clone()),
        (None, None) => None,
    };
    (
        MpMat {
            rows: x.rows,
            cols: n,
            re,
            im,
        },
        lam,
    )
}

/// Refines `x0` (f64 eigenvectors of `a`) to precision `prec`: enough Newton-like steps for the
/// quadratic convergence to reach `prec` bits from 53 (plus one safety step).
pub fn refine(a: &MpMat, x0: &CMat, prec: u32) -> (MpMat, Vec<Float>) {
    let mut x = MpMat::from_cmat(x0, prec);
    let mut bits = 40u32;
    loop {
        let (nx, lam) = refine_step(a, &x, prec);
        x = nx;
        if bits >= prec {
            return (x, lam);
        }
        bits = bits.saturating_mul(2);
    }
}

/// Rigorous `‖AX − XD‖₂` and `‖XᴴX − I‖₂` upper bounds in MPFR with outward rounding.
pub fn residual_bounds(a: &MpMat, x: &MpMat, d: &[Float], prec: u32) -> ResidualBounds {
    let bounds = |v: &[Float], w: &[Float]| dot_bounds(prec, v, w);
    let n = x.cols;
    let (ax_re, ax_im) = product_with(a, false, x, prec, bounds);
    let (g_re, g_im) = product_with(x, true, x, prec, bounds);
    // |[lo, hi] − s| ≤ max(|lo − s|, |hi − s|) with outward rounding.
    let mag_minus = |b: &(Float, Float), s: &Float| -> Float {
        let l = Float::with_val_round(prec, &b.0 - s, Round::Down).0.abs();
        let h = Float::with_val_round(prec, &b.1 - s, Round::Up).0.abs();
        if l > h {
            l
        } else {
            h
        }
    };
    let modulus = |re: Float, im: Option<Float>| -> Float {
        match im {
            None => re,
            Some(im) => {
                let s = Float::with_val_round(prec, re.square_ref(), Round::Up).0
                    + Float::with_val_round(prec, im.square_ref(), Round::Up).0;
                Float::with_val_round(prec, s.sqrt_ref(), Round::Up).0
            }
        }
    };
    let mut r_mod = Vec::with_capacity(n * n);
    let mut f_mod = Vec::with_capacity(n * n);
    let zero = Float::new(prec);
    let one = Float::with_val(prec, 1);
    for t in 0..x.rows * n {
        let (i, j) = (t / n, t % n);
        // X·D entry is an exact product at double the precision.
        let (xr, xi) = x.at(i, j);
        let xd_re = Float::with_val(2 * prec + 64, xr * &d[j]);
        let re = mag_minus(&ax_re[t], &xd_re);
        let im = ax_im.as_ref().map(|v| {
            let xd_im = xi.map_or(Float::new(prec), |xi| {
                Float::with_val(2 * prec + 64, xi * &d[j])
            });
            mag_minus(&v[t], &xd_im)
        });
        r_mod.push(modulus(re, im));
    }
    for t in 0..n * n {
        let (i, j) = (t / n, t % n);
        let re = mag_minus(&g_re[t], if i == j { &one } else { &zero });
        let im = g_im.as_ref().map(|v| mag_minus(&v[t], &zero));
        f_mod.push(modulus(re, im));
    }
    ResidualBounds {
        r: norm2_upper(&r_mod, x.rows, n, prec),
        a: norm2_upper(&f_mod, n, n, prec),
        delta: Float::new(prec),
    }
}

/// `min(√(‖M‖₁‖M‖∞), ‖M‖_F)` for a non-negative row-major matrix, rounded upward.
fn norm2_upper(m: &[Float], rows: usize, cols: usize, prec: u32) -> Float {
    let mut row_max = Float::new(prec);
    let mut col_sums = vec![Float::new(prec); cols];
    let mut frob = Float::new(prec);
    for i in 0..rows {
        let mut s = Float::new(prec);
        for (j, c) in col_sums.iter_mut().enumerate() {
            let v = &m[i * cols + j];
            s = Float::with_val_round(prec, &s + v, Round::Up).0;
            *c = Float::with_val_round(prec, &*c + v, Round::Up).0;
            frob = Float::with_val_round(
                prec,
                &frob + Float::with_val_round(prec, v.square_ref(), Round::Up).0,
                Round::Up,
            )
            .0;
        }
        if s > row_max {
            row_max = s;
        }
    }
    let col_max = col_sums
        .into_iter()
        .fold(Float::new(prec), |a, b| if b > a { b } else { a });
    let prod = Float::with_val_round(prec, &row_max * &col_max, Round::Up).0;
    let h = Float::with_val_round(prec, prod.sqrt_ref(), Round::Up).0;
    let f = Float::with_val_round(prec, frob.sqrt_ref(), Round::Up).0;
    if h < f {
        h
    } else {
        f
    }
}
