//! Certificates of `λ_min(A) > c` from one floating-point Cholesky factorisation (Rump-style,
//! BIT 46 (2006)), n³/3 flops.
//!
//! **Theorem used and rounding assumptions.** Let `Ã` be real symmetric with f64 entries and let
//! the Cholesky loop below run to completion in IEEE binary64 round-to-nearest with gradual
//! underflow (dot products in any order, with or without FMA), producing an upper-triangular `R̃`
//! with positive diagonal. Then `R̃ᵀR̃ = Ã + ΔA` with
//! `|ΔA| ≤ γ_{n+1}|R̃ᵀ||R̃| + τ·11ᵀ` (Higham, *Accuracy and Stability*, Thm 10.3, plus an absolute
//! term `τ = (n+2)(1 + max r̃_jj)·η` for underflow, η = 2⁻¹⁰⁷⁴). By Cauchy–Schwarz
//! `|R̃ᵀ||R̃| ≤ [√(d_i d_j)]` with `d_i = Σ_k r̃_ki²`, a rank-one matrix of norm `Σ d_i`, so
//! `‖ΔA‖₂ ≤ γ_{n+1}·Σ_i d_i + n·τ =: β`, evaluated with upward rounding from the computed `R̃`.
//! `R̃ᵀR̃ ≻ 0`, so `λ_min(Ã) > −β`. With `Ã = A − cI` formed in floating point,
//! `A = Ã + diag(a_ii − ã_ii)` and `λ_min(A) > min_i(a_ii − ã_ii) − β` (rounded downward).
//! Complex Hermitian input is embedded as the real symmetric `[[Re A, −Im A], [Im A, Re A]]`,
//! which has the same eigenvalues, each twice.

use crate::matrix::HermitianInput;
use crate::SpectraError;
use faer::Mat;
use pespectra_arith::gemm::{gamma_factor, ETA64};
use pespectra_arith::round::{add_up, mul_up, sub_down};

/// Outcome of [`certify_min_eig_above`].
#[derive(Clone, Debug, PartialEq)]
pub enum MinEigVerdict {
    /// `λ_min(A) > lower_bound ≥ c` is proved.
    Proved {
        /// A certified strict lower bound of λ_min(A).
        lower_bound: f64,
        /// The diagonal shift that was factored.
        shift: f64,
    },
    /// The certificate could not be produced (the claim may be false, or too tight for f64).
    Refused(String),
}

/// Real symmetric form of the input (the complex embedding when needed).
pub fn real_embedding(input: &HermitianInput) -> Mat<f64> {
    let c = &input.center;
    let n = c.nrows();
    match &c.im {
        None => c.re.clone(),
        Some(im) => Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, true) => c.re[(i, j)],
            (true, false) => -im[(i, j - n)],
            (false, true) => im[(i - n, j)],
            (false, false) => c.re[(i - n, j - n)],
        }),
    }
}

/// Tries to prove `λ_min(A) > c` for an exactly Hermitian input.
pub fn certify_min_eig_above(
    input: &HermitianInput,
    c: f64,
) -> Result<MinEigVerdict, SpectraError> {
    if !c.is_finite() {
        return Err(SpectraError::BadParameter(format!(
            "threshold must be finite, got {c}"
        )));
    }
    if input.radius.is_some() {
        return Err(SpectraError::BadParameter(
            "the Cholesky certificate needs an exactly Hermitian matrix".into(),
        ));
    }
    let a = real_embedding(input);
    let n = a.nrows();
    let g = gamma_factor(n + 1);
    // Predicted rounding error of the factorisation, doubled as a safety margin for the shift.
    let mut trace = 0.0;
    for i in 0..n {
        trace = add_up(trace, sub_down(a[(i, i)], c).max(0.0).abs());
    }
    let margin = mul_up(mul_up(2.0, g), trace);
    let shift = add_up(c, margin);
    let mut r = Mat::<f64>::zeros(n, n);
    let mut min_diag_gap = f64::INFINITY;
    for i in 0..n {
        let ai = a[(i, i)] - shift;
        // a_ii − ã_ii ≥ sub_down(a_ii, ã_ii): exact bound on what the shift removed.
        min_diag_gap = min_diag_gap.min(sub_down(a[(i, i)], ai));
        r[(i, i)] = ai;
        for j in i + 1..n {
            r[(i, j)] = a[(i, j)];
        }
    }
    // Right-looking Cholesky on the upper triangle: row j of R̃ from the trailing submatrix.
    for j in 0..n {
        let mut s = r[(j, j)];
        for k in 0..j {
            s -= r[(k, j)] * r[(k, j)];
        }
        if s.is_nan() || s <= 0.0 || s.is_infinite() {
            return Ok(MinEigVerdict::Refused(format!(
                "Cholesky of A − {shift:e}·I breaks down at pivot {j} (value {s:e})"
            )));
        }
        let d = s.sqrt();
        r[(j, j)] = d;
        for l in j + 1..n {
            let mut t = r[(j, l)];
            for k in 0..j {
                t -= r[(k, j)] * r[(k, l)];
            }
            r[(j, l)] = t / d;
        }
    }
    let mut sum_d = 0.0;
    let mut max_rjj = 0.0f64;
    for j in 0..n {
        max_rjj = max_rjj.max(r[(j, j)]);
        for k in 0..=j {
            sum_d = add_up(sum_d, mul_up(r[(k, j)], r[(k, j)]));
        }
    }
    let tau = mul_up(mul_up((n + 2) as f64, add_up(1.0, max_rjj)), ETA64);
    let beta = add_up(mul_up(g, sum_d), mul_up(n as f64, tau));
    let lower = sub_down(min_diag_gap, beta);
    if lower >= c {
        Ok(MinEigVerdict::Proved {
            lower_bound: lower,
            shift,
        })
    } else {
        Ok(MinEigVerdict::Refused(format!(
            "certified bound λ_min > {lower:e} does not reach {c:e}"
        )))
    }
}
