//! What the precision policy verifies: one approximate eigendecomposition of a Hermitian
//! problem, its rigorous f64 residual bounds, and, only when an MPFR level runs, the matrices
//! MPFR refinement starts from (the SVD's `2n × 2n` Jordan–Wielandt matrices are never built for
//! an f64 enclosure).

use crate::eig_f64::{self, Approx};
use crate::matrix::{CMat, HermitianInput};
use crate::weyl::ResidualBounds;
use pespectra_arith::gemm::{norm2_upper, par_for};
use std::borrow::Cow;

/// An approximate decomposition `H ≈ X·diag(d)·Xᴴ` of a Hermitian `H`, ready to be enclosed.
pub(crate) trait Verifiable {
    /// The order of `H`.
    fn order(&self) -> usize;
    /// Whether `H` has an imaginary part (MPFR storage doubles).
    fn is_complex(&self) -> bool;
    /// The approximate eigenvalues `d` (exact binary values, any order).
    fn values(&self) -> &[f64];
    /// Rigorous f64 upper bounds of `‖HX − XD‖₂` and `‖XᴴX − I‖₂` (δ left 0).
    fn f64_bounds(&self) -> ResidualBounds;
    /// Upper bound of the spectral norm of the input's uncertainty, when it has one.
    fn radius_norm(&self) -> Option<f64>;
    /// `H` (exact) and `X`, for MPFR refinement.
    fn hermitian(&self) -> (Cow<'_, CMat>, Cow<'_, CMat>);
}

/// A Hermitian input and its approximate eigendecomposition.
pub(crate) struct Eig<'a> {
    pub(crate) input: &'a HermitianInput,
    pub(crate) approx: Approx,
}

impl Verifiable for Eig<'_> {
    fn order(&self) -> usize {
        self.input.n()
    }

    fn is_complex(&self) -> bool {
        self.input.center.is_complex()
    }

    fn values(&self) -> &[f64] {
        &self.approx.d
    }

    fn f64_bounds(&self) -> ResidualBounds {
        let (a, x) = (&self.input.center, &self.approx.x);
        eig_f64::residual_bounds(a, x, &self.approx.d, par_for(self.order()))
    }

    fn radius_norm(&self) -> Option<f64> {
        self.input.radius.as_ref().map(|r| norm2_upper(r.as_ref()))
    }

    fn hermitian(&self) -> (Cow<'_, CMat>, Cow<'_, CMat>) {
        (
            Cow::Borrowed(&self.input.center),
            Cow::Borrowed(&self.approx.x),
        )
    }
}
