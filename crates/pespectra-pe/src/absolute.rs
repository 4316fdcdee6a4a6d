//! Sinusoidal absolute position tables (learned tables are plain caller-provided matrices).

use crate::error::{check_param, PeError};
use crate::matrix::RealMatrix;

/// Where the sines and cosines of frequency f live in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinusoidalLayout {
    /// Vaswani et al.: PE(p, 2f) = sin(p·ω_f), PE(p, 2f+1) = cos(p·ω_f).
    Interleaved,
    /// Marian / fairseq: sines in the first half, cosines in the second.
    Split,
}

/// n × d sinusoidal table with ω_f = base^(−2f/d) for positions 0..n (base 10000 in Vaswani).
///
/// Row p has sin/cos pairs whose inner products depend only on the offset:
/// ⟨P_i, P_j⟩ = Σ_f cos((i − j)ω_f), which is why P Pᵀ is Toeplitz (D2).
pub fn sinusoidal_table(
    n: usize,
    d: usize,
    base: f64,
    layout: SinusoidalLayout,
) -> Result<RealMatrix, PeError> {
    if n == 0 || d == 0 {
        return Err(PeError::Empty(format!("sinusoidal table {n} x {d}")));
    }
    if d & 1 == 1 {
        return Err(PeError::InvalidParameter(format!(
            "sinusoidal table needs an even width, got {d}"
        )));
    }
    check_param("sinusoidal base", base, base > 1.0)?;
    let half = d / 2;
    let omega: Vec<f64> = (0..half)
        .map(|f| 1.0 / base.powf((2 * f) as f64 / d as f64))
        .collect();
    Ok(RealMatrix::from_fn(n, d, |p, c| {
        let (f, is_cos) = match layout {
            SinusoidalLayout::Interleaved => (c / 2, c % 2 == 1),
            SinusoidalLayout::Split => (c % half, c >= half),
        };
        let angle = p as f64 * omega[f];
        if is_cos {
            angle.cos()
        } else {
            angle.sin()
        }
    }))
}
