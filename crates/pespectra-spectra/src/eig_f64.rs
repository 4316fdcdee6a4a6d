//! The f64 path: faer's approximate eigendecomposition, then rigorous residual bounds from
//! verified split GEMMs ([`pespectra_arith::gemm`]), then [`crate::weyl::enclose`].

use crate::matrix::CMat;
use crate::weyl::ResidualBounds;
use crate::SpectraError;
use faer::{Mat, Par, Side};
use pespectra_arith::gemm::{
    gram_split, gram_split_with, matmul_split, matmul_split_with, norm2_upper, ColumnSplit,
};
use pespectra_arith::round::hypot_up;
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

/// Entrywise modulus bounds of `AX − Y·diag(d)` and `XᴴX − I` for complex data, through real
/// products: `AX = [Re A | Im A]·[[Re X, Im X], [−Im X, Re X]]`, `Re XᴴX` is the Gram matrix of
/// the stacked `[Re X; Im X]` and `Im XᴴX = [Re X; Im X]ᵀ·[Im X; −Re X]`; real and imaginary
/// bounds combine by an upward `hypot`.
fn complex_moduli(a: &CMat, x: &CMat, y: &CMat, d: &[f64], par: Par) -> (Mat<f64>, Mat<f64>) {
    let (m, k, n) = (a.nrows(), a.ncols(), x.ncols());
    let (rows_x, zero_a, zero_x, zero_y) = (
        x.nrows(),
        Mat::<f64>::zeros(m, k),
        Mat::<f64>::zeros(x.nrows(), n),
        Mat::<f64>::zeros(m, n),
    );
    let ai = a.im.as_ref().unwrap_or(&zero_a);
    let xi = x.im.as_ref().unwrap_or(&zero_x);
    let yi = y.im.as_ref().unwrap_or(&zero_y);
    let left = Mat::from_fn(
        m,
        2 * k,
        |i, j| {
            if j < k {
                a.re[(i, j)]
            } else {
                ai[(i, j - k)]
            }
        },
    );
    let right = Mat::from_fn(2 * k, 2 * n, |i, j| match (i < k, j < n) {
        (true, true) => x.re[(i, j)],
        (true, false) => xi[(i, j - n)],
        (false, true) => -xi[(i - k, j)],
        (false, false) => x.re[(i - k, j - n)],
    });
    let ax = matmul_split(left.as_ref(), right.as_ref(), par).modulus_minus_products(|i, j| {
        if j < n {
            (y.re[(i, j)], d[j])
        } else {
            (yi[(i, j - n)], d[j - n])
        }
    });
    let r_mod = Mat::from_fn(m, n, |i, j| hypot_up(ax[(i, j)], ax[(i, j + n)]));
    let stacked = Mat::from_fn(2 * rows_x, n, |i, j| {
        if i < rows_x {
            x.re[(i, j)]
        } else {
            xi[(i - rows_x, j)]
        }
    });
    let swapped = Mat::from_fn(2 * rows_x, n, |i, j| {
        if i < rows_x {
            xi[(i, j)]
        } else {
            -x.re[(i - rows_x, j)]
        }
    });
    let re = gram_split(stacked.as_ref(), par)
        .modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0));
    let im = matmul_split(stacked.transpose(), swapped.as_ref(), par)
        .modulus_minus_products(|_, _| (0.0, 0.0));
    let f_mod = Mat::from_fn(n, n, |i, j| hypot_up(re[(i, j)], im[(i, j)]));
    (r_mod, f_mod)
}

/// Entrywise upper bounds of `|AX − Y·diag(d)|` and `|XᴴX − I|` for exact f64 data (`Y` the
/// shape of `AX`; `Y = X` for an eigendecomposition).
pub fn residual_moduli(a: &CMat, x: &CMat, y: &CMat, d: &[f64], par: Par) -> (Mat<f64>, Mat<f64>) {
    if !a.is_complex() && !x.is_complex() && !y.is_complex() {
        // real data: one split of X serves both products, and the symmetric XᵀX costs half
        let xs = ColumnSplit::new(x.re.as_ref(), par);
        (
            matmul_split_with(a.re.as_ref(), &xs, par)
                .modulus_minus_products(|i, j| (y.re[(i, j)], d[j])),
            gram_split_with(&xs, par)
                .modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0)),
        )
    } else {
        complex_moduli(a, x, y, d, par)
    }
}

/// Rigorous bounds `‖AX − XD‖₂ ≤ r`, `‖XᴴX − I‖₂ ≤ a` for exact f64 data.
pub fn residual_bounds(a: &CMat, x: &CMat, d: &[f64], par: Par) -> ResidualBounds {
    let (r_mod, f_mod) = residual_moduli(a, x, x, d, par);
    ResidualBounds {
        r: Float::with_val(53, norm2_upper(r_mod.as_ref())),
        a: Float::with_val(53, norm2_upper(f_mod.as_ref())),
        delta: Float::new(53),
    }
}
