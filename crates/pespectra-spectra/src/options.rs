//! What a verification may spend: working precision, requested width, budgets and the limits
//! every option is validated against.

use crate::SpectraError;
use std::time::Duration;

/// Working precision of a verification.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Precision {
    /// Binary64 with verified GEMMs.
    F64,
    /// MPFR with this many bits (≥ 54).
    Bits(u32),
    /// f64, then 128, 256, … bits until the width is met or the budget is spent.
    Auto,
}

/// Largest working precision accepted, in bits (explicit or as the ceiling of `Auto`): 2^16 bits
/// is about 19,700 decimal digits, far beyond what an f64 input can need.
pub const MAX_PRECISION_BITS: u32 = 1 << 16;

/// Longest wall-clock budget accepted for `Auto` (one week).
pub const MAX_BUDGET: Duration = Duration::from_secs(7 * 24 * 3600);

/// Most memory the MPFR path may plan for its matrices (8 GiB); a precision whose estimate
/// exceeds it is refused before anything is allocated (`Auto` stops escalating there instead).
pub const MAX_MP_BYTES: u64 = 8 << 30;

/// Conservative estimate of the MPFR path's memory at precision `prec` for an `n`×`n` input:
/// about ten live n×n matrices of `Float`s (A, X, the refinement's products and residuals),
/// doubled for complex data; each `Float` is a 32-byte header plus its limbs.
pub fn mp_bytes(n: usize, prec: u32, complex: bool) -> u64 {
    let per = 32 + 8 * (prec as u64).div_ceil(64);
    let parts = if complex { 2 } else { 1 };
    (n as u64)
        .saturating_mul(n as u64)
        .saturating_mul(per)
        .saturating_mul(10 * parts)
}

/// Options of [`eigenvalues`](crate::eigenvalues) and [`singular_values`](crate::singular_values).
#[derive(Clone, Debug)]
pub struct EigOptions {
    /// Working precision.
    pub precision: Precision,
    /// Requested maximal absolute width of every enclosure (`None`: no requirement).
    pub width: Option<f64>,
    /// Largest precision `Auto` may try.
    pub max_bits: u32,
    /// Wall-clock budget of `Auto` (checked between precision levels).
    pub budget: Duration,
}

impl Default for EigOptions {
    fn default() -> Self {
        Self {
            precision: Precision::F64,
            width: None,
            max_bits: 2048,
            budget: Duration::from_secs(120),
        }
    }
}

impl EigOptions {
    /// The precision an exact (point) answer is reported at: 53 for f64 and auto.
    pub(crate) fn precision_bits(&self) -> u32 {
        match self.precision {
            Precision::Bits(p) => p,
            _ => 53,
        }
    }

    /// Checks every option against its documented range ([`MAX_PRECISION_BITS`],
    /// [`MAX_BUDGET`], a finite non-negative width).
    pub fn validate(&self) -> Result<(), SpectraError> {
        let bad = |m: String| Err(SpectraError::BadParameter(m));
        if let Precision::Bits(p) = self.precision {
            if !(54..=MAX_PRECISION_BITS).contains(&p) {
                return bad(format!(
                    "precision must be 53 (f64) or between 54 and {MAX_PRECISION_BITS} bits, got {p}"
                ));
            }
        }
        if self.max_bits > MAX_PRECISION_BITS {
            return bad(format!(
                "the largest precision of auto must be at most {MAX_PRECISION_BITS} bits, got {}",
                self.max_bits
            ));
        }
        if self.budget > MAX_BUDGET || self.budget.is_zero() {
            return bad(format!(
                "the time budget must be positive and at most {} s, got {} s",
                MAX_BUDGET.as_secs(),
                self.budget.as_secs_f64()
            ));
        }
        if let Some(w) = self.width {
            if !w.is_finite() || w < 0.0 {
                return bad(format!(
                    "the width must be a finite non-negative number, got {w}"
                ));
            }
        }
        Ok(())
    }
}
