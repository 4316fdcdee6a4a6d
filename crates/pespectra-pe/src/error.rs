//! Error type: every failure reachable from user input is reported, never panicked on.

use std::fmt;

/// Why a positional-encoding computation was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum PeError {
    /// A dimension that must be positive is zero (n = 0, d = 0, no heads, ...).
    Empty(String),
    /// Two inputs do not fit together, or a buffer has the wrong length.
    Shape(String),
    /// An input holds NaN or ±∞ (`what`, flat row-major index).
    NonFinite {
        /// Which input.
        what: String,
        /// Flat row-major index of the first offending entry.
        index: usize,
    },
    /// RoPE needs an even number of rotated dimensions to form pairs.
    OddRotaryDim(usize),
    /// A configuration value is outside its meaningful range.
    InvalidParameter(String),
}

impl fmt::Display for PeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeError::Empty(s) => write!(f, "empty input: {s}"),
            PeError::Shape(s) => write!(f, "shape mismatch: {s}"),
            PeError::NonFinite { what, index } => {
                write!(f, "non-finite value in {what} at flat index {index}")
            }
            PeError::OddRotaryDim(d) => write!(
                f,
                "RoPE needs an even number of rotated dimensions, got {d}"
            ),
            PeError::InvalidParameter(s) => write!(f, "invalid parameter: {s}"),
        }
    }
}

impl std::error::Error for PeError {}

/// Rejects NaN/±∞ so that every later bound is about finite data.
pub(crate) fn check_finite(what: &str, data: &[f64]) -> Result<(), PeError> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(PeError::NonFinite {
            what: what.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

/// Rejects a non-finite or out-of-range scalar parameter.
pub(crate) fn check_param(what: &str, x: f64, ok: bool) -> Result<(), PeError> {
    if x.is_finite() && ok {
        Ok(())
    } else {
        Err(PeError::InvalidParameter(format!("{what} = {x}")))
    }
}
