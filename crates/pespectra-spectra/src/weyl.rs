//! The Weyl + Ostrowski enclosure: from rigorous bounds on the residual of an approximate
//! eigendecomposition to an enclosure of every eigenvalue, in order, with no gap condition.
//!
//! **Theorem used.** Let `A` be Hermitian, `X` any square matrix, `D = diag(d)` real, and
//! `R = AX − XD`, `F = XᴴX − I` with `‖R‖₂ ≤ r`, `‖F‖₂ ≤ a < 1`. Then
//! `XᴴAX − D = XᴴR + FD`, so `‖XᴴAX − D‖₂ ≤ e := √(1+a)·r + a·max|d|` and by Weyl's inequality the
//! k-th largest eigenvalue μ_k of the Hermitian `XᴴAX` satisfies `|μ_k − d_(k)| ≤ e` (d sorted
//! decreasingly). `X` is nonsingular (σ_min(X)² ≥ 1 − a > 0), and Ostrowski's theorem (Horn &
//! Johnson, *Matrix Analysis*, Thm 4.5.9) gives `μ_k = θ_k·λ_k(A)` with
//! `θ_k ∈ [λ_min(XᴴX), λ_max(XᴴX)] ⊂ [1 − a, 1 + a]`. Hence
//! `λ_k(A) ∈ [d_(k) − e, d_(k) + e] / [1 − a, 1 + a]`. If the matrix meant is only known within an
//! entrywise radius whose spectral norm is at most δ, Weyl adds ±δ.
//!
//! **Rounding assumptions:** all arithmetic here is MPFR with outward (directed) rounding
//! ([`pespectra_arith::mp`]); the inputs `d`, `r`, `a`, `δ` are exact binary floats.

use crate::SpectraError;
use pespectra_arith::mp::MpInterval;
use rug::float::Round;
use rug::Float;

/// Rigorous upper bounds feeding the enclosure.
#[derive(Clone, Debug)]
pub struct ResidualBounds {
    /// Upper bound of ‖AX − XD‖₂.
    pub r: Float,
    /// Upper bound of ‖XᴴX − I‖₂.
    pub a: Float,
    /// Upper bound of the spectral norm of the input's uncertainty (0 for exact input).
    pub delta: Float,
}

/// Enclosures of all eigenvalues in decreasing order, at precision `prec`.
///
/// `d` are the approximate eigenvalues in any order (exact binary values); they are sorted here.
pub fn enclose(
    mut d: Vec<Float>,
    b: &ResidualBounds,
    prec: u32,
) -> Result<Vec<MpInterval>, SpectraError> {
    if b.a >= 1 || !b.a.is_finite() || !b.r.is_finite() || !b.delta.is_finite() {
        return Err(SpectraError::VerificationFailed(format!(
            "residual bounds too large (‖XᴴX − I‖ ≤ {}, ‖AX − XD‖ ≤ {}): the approximate eigenvectors are not accurate enough at this precision",
            b.a.to_f64_round(Round::Up),
            b.r.to_f64_round(Round::Up)
        )));
    }
    d.sort_by(|x, y| {
        y.partial_cmp(x)
            .expect("approximate eigenvalues are finite")
    });
    let dmax = d
        .iter()
        .map(|x| Float::with_val(prec, x.abs_ref()))
        .fold(Float::new(prec), |m, x| if x > m { x } else { m });
    let one_plus_a = Float::with_val_round(prec, 1 + &b.a, Round::Up).0;
    let sqrt_term = Float::with_val_round(prec, one_plus_a.sqrt_ref(), Round::Up).0;
    let t1 = Float::with_val_round(prec, &sqrt_term * &b.r, Round::Up).0;
    let t2 = Float::with_val_round(prec, &b.a * &dmax, Round::Up).0;
    let e = Float::with_val_round(prec, &t1 + &t2, Round::Up).0;
    let theta = MpInterval::from_floats(
        Float::with_val_round(prec, 1 - &b.a, Round::Down).0,
        Float::with_val_round(prec, 1 + &b.a, Round::Up).0,
    )
    .expect("1 − a ≤ 1 + a");
    let delta = MpInterval::ball(&Float::new(prec), &b.delta);
    d.into_iter()
        .map(|dk| {
            let dk = Float::with_val(prec.max(dk.prec()), dk);
            let mu = MpInterval::ball(&dk, &e);
            let lam = mu.div_pos(&theta).expect("θ > 0 since a < 1");
            Ok(lam.add(&delta))
        })
        .collect()
}
