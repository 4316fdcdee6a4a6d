//! The f64 path: faer's approximate eigendecomposition, then rigorous residual bounds from
//! verified split GEMMs ([`pespectra_arith::gemm`]), then [`crate::weyl::enclose`].

use crate::matrix::CMat;
use crate::weyl::ResidualBounds;
use crate::SpectraError;
use faer::{Mat, Par, Side};
use pespectra_arith::gemm::{
    ball_minus_product_mag, gram_split, matmul_split, norm2_upper, BallMat,
};
use pespectra_arith::round::{hypot_up, mul_up};
use rug::Float;

/// An approximate eigendecomposition `A ≈ X·diag(d)·Xᴴ` (no accuracy claimed).
#[derive(Clone, Debug)]
pub struct Approx {
    /// Approximate eigenvectors (columns).
    pub x: CMat,
    /// Approximate eigenvalues, matching the columns of `x`.
    pub d: Vec<f64>,
}

/// faer's self-adjoint eigendecomposition of the exactly Hermitian `a`.
pub fn approx_eig(a: &CMat) -> Result<Approx, SpectraError> {
    let fail = |e: faer::linalg::evd::EvdError| SpectraError::Decomposition(format!("{e:?}"));
    if a.is_complex() {
        let evd = a.to_c64().self_adjoint_eigen(Side::Lower).map_err(fail)?;
        let d = (0..a.nrows()).map(|k| evd.S()[k].re).collect();
        Ok(Approx {
            x: CMat::from_c64(&evd.U().to_owned()),
            d,
        })
    } else {
        let evd = a.re.self_adjoint_eigen(Side::Lower).map_err(fail)?;
        let d = (0..a.nrows()).map(|k| evd.S()[k]).collect();
        Ok(Approx {
            x: CMat::real(evd.U().to_owned()),
            d,
        })
    }
}

/// `op(A)` where `op` is the identity or the conjugate transpose, as (re, im) parts.
fn op_parts(a: &CMat, adjoint: bool) -> (Mat<f64>, Option<Mat<f64>>) {
    if adjoint {
        (
            a.re.transpose().to_owned(),
            a.im.as_ref()
                .map(|m| Mat::from_fn(m.ncols(), m.nrows(), |i, j| -m[(j, i)])),
        )
    } else {
        (a.re.clone(), a.im.clone())
    }
}

/// Rigorous enclosure of `op(A)·B` as (real part, imaginary part). Complex products go through
/// one real GEMM of twice the inner dimension: `[Re A, Im A]·[[Re B, Im B], [−Im B, Re B]]`.
pub fn cmatmul_ball(a: &CMat, adjoint: bool, b: &CMat, par: Par) -> (BallMat, Option<BallMat>) {
    let (ar, ai) = op_parts(a, adjoint);
    if ai.is_none() && b.im.is_none() {
        return (
            matmul_split(ar.as_ref(), b.re.as_ref(), par).into_ball(),
            None,
        );
    }
    let (m, k, n) = (ar.nrows(), ar.ncols(), b.ncols());
    let zero_k = Mat::<f64>::zeros(m, k);
    let ai = ai.unwrap_or(zero_k);
    let zero_b = Mat::<f64>::zeros(b.nrows(), n);
    let bi = b.im.as_ref().unwrap_or(&zero_b);
    let left = Mat::from_fn(
        m,
        2 * k,
        |i, j| if j < k { ar[(i, j)] } else { ai[(i, j - k)] },
    );
    let right = Mat::from_fn(2 * k, 2 * n, |i, j| match (i < k, j < n) {
        (true, true) => b.re[(i, j)],
        (true, false) => bi[(i, j - n)],
        (false, true) => -bi[(i - k, j)],
        (false, false) => b.re[(i - k, j - n)],
    });
    let full = matmul_split(left.as_ref(), right.as_ref(), par).into_ball();
    let split = |off: usize| BallMat {
        mid: full.mid.as_ref().submatrix(0, off, m, n).to_owned(),
        rad: full.rad.as_ref().submatrix(0, off, m, n).to_owned(),
    };
    (split(0), Some(split(n)))
}

/// Entrywise modulus bounds of `P − S` for a complex ball matrix `P` and an exact shift `S` whose
/// real and imaginary parts are given as products `x·y` of two f64 each.
fn modulus_bounds(
    re: &BallMat,
    im: Option<&BallMat>,
    shift_re: impl Fn(usize, usize) -> (f64, f64),
    shift_im: impl Fn(usize, usize) -> (f64, f64),
) -> Mat<f64> {
    Mat::from_fn(re.mid.nrows(), re.mid.ncols(), |i, j| {
        let (a, b) = shift_re(i, j);
        let r = ball_minus_product_mag(re.mid[(i, j)], re.rad[(i, j)], a, b);
        let (a, b) = shift_im(i, j);
        match im {
            Some(im) => hypot_up(
                r,
                ball_minus_product_mag(im.mid[(i, j)], im.rad[(i, j)], a, b),
            ),
            None if a != 0.0 && b != 0.0 => hypot_up(r, mul_up(a.abs(), b.abs())),
            None => r,
        }
    })
}

/// Rigorous bounds `‖AX − XD‖₂ ≤ r`, `‖XᴴX − I‖₂ ≤ a` for exact f64 data.
pub fn residual_bounds(a: &CMat, x: &CMat, d: &[f64], par: Par) -> ResidualBounds {
    if !a.is_complex() && !x.is_complex() {
        // real data: fused passes, and the symmetric XᵀX costs half
        let r_mod = matmul_split(a.re.as_ref(), x.re.as_ref(), par)
            .modulus_minus_products(|i, j| (x.re[(i, j)], d[j]));
        let f_mod = gram_split(x.re.as_ref(), par)
            .modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0));
        return ResidualBounds {
            r: Float::with_val(53, norm2_upper(r_mod.as_ref())),
            a: Float::with_val(53, norm2_upper(f_mod.as_ref())),
            delta: Float::new(53),
        };
    }
    let (ax_re, ax_im) = cmatmul_ball(a, false, x, par);
    let r_mod = modulus_bounds(
        &ax_re,
        ax_im.as_ref(),
        |i, j| (x.re[(i, j)], d[j]),
        |i, j| (x.im_at(i, j), d[j]),
    );
    let (g_re, g_im) = cmatmul_ball(x, true, x, par);
    let f_mod = modulus_bounds(
        &g_re,
        g_im.as_ref(),
        |i, j| (if i == j { 1.0 } else { 0.0 }, 1.0),
        |_, _| (0.0, 0.0),
    );
    ResidualBounds {
        r: Float::with_val(53, norm2_upper(r_mod.as_ref())),
        a: Float::with_val(53, norm2_upper(f_mod.as_ref())),
        delta: Float::new(53),
    }
}
