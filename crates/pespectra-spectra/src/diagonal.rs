//! Exact spectra of diagonal inputs: the equality cases of the catalogue's bounds.
//!
//! A bound attained with equality (n = 1, scalar or diagonal matrices, B = I) can never be
//! certified from enclosures that have positive width, so such checks used to answer
//! INCONCLUSIVE although the statement holds. For an exactly diagonal Hermitian matrix with no
//! radius the eigenvalues *are* the diagonal entries, and for a real diagonal matrix the singular
//! values are their moduli: returned as point enclosures, with no rounding anywhere (an f64 is
//! exact at every MPFR precision ≥ 53, and `|x|` is exact).

use crate::matrix::{CMat, HermitianInput};
use faer::Mat;
use pespectra_arith::mp::MpInterval;

fn is_diagonal(m: &CMat) -> bool {
    let off_zero =
        |x: &Mat<f64>| (0..x.ncols()).all(|j| (0..x.nrows()).all(|i| i == j || x[(i, j)] == 0.0));
    off_zero(&m.re) && m.im.as_ref().is_none_or(off_zero)
}

fn no_radius(r: Option<&Mat<f64>>) -> bool {
    r.is_none_or(|r| (0..r.ncols()).all(|j| (0..r.nrows()).all(|i| r[(i, j)] == 0.0)))
}

fn points(mut v: Vec<f64>, prec: u32) -> Vec<MpInterval> {
    v.sort_by(|a, b| b.total_cmp(a));
    v.into_iter()
        .map(|x| MpInterval::from_f64(prec, x))
        .collect()
}

/// Eigenvalues of an exactly diagonal input with no radius, decreasing (the diagonal of a
/// Hermitian matrix is real); `None` otherwise.
pub fn eigenvalues(input: &HermitianInput, prec: u32) -> Option<Vec<MpInterval>> {
    (is_diagonal(&input.center) && no_radius(input.radius.as_ref())).then(|| {
        points(
            (0..input.n()).map(|i| input.center.re[(i, i)]).collect(),
            prec,
        )
    })
}

/// Singular values of an exactly diagonal *real* matrix with no radius, decreasing; `None`
/// otherwise (a complex modulus is not exact in f64).
pub fn singular_values(a: &CMat, radius: Option<&Mat<f64>>, prec: u32) -> Option<Vec<MpInterval>> {
    (!a.is_complex() && is_diagonal(a) && no_radius(radius))
        .then(|| points((0..a.nrows()).map(|i| a.re[(i, i)].abs()).collect(), prec))
}
