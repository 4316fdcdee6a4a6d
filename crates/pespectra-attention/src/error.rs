//! Error type: every problem with user input is reported as a value, never a panic,
//! because the CLI and the spectral checks feed this crate with shapes read from files.

use std::fmt;

/// Everything that can go wrong when validating or running attention.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A configuration value is out of range or inconsistent (message says which).
    InvalidConfig(String),
    /// A buffer does not have the length the configuration implies.
    ShapeMismatch {
        /// Which tensor (`"q"`, `"k"`, `"v"`, `"rope_key"`, ...).
        tensor: &'static str,
        /// Length implied by the configuration.
        expected: usize,
        /// Length actually passed.
        actual: usize,
    },
    /// An input contains NaN or ±inf; attention of such inputs is meaningless and the
    /// flash path's online softmax would silently propagate it.
    NonFinite {
        /// Which tensor.
        tensor: &'static str,
        /// Flat index of the first offending element.
        index: usize,
        /// The offending value (NaN or ±inf).
        value: f64,
    },
    /// A dispatch path was forced that this CPU cannot execute.
    IsaUnavailable(&'static str),
    /// The Rayon thread pool could not be built.
    ThreadPool(String),
    /// The buffers a call needs exceed a documented limit, or could not be allocated.
    TooLarge {
        /// What was being sized (`"benchmark inputs"`, ...).
        what: &'static str,
        /// Bytes requested (saturated at `u64::MAX` when the size overflows).
        bytes: u64,
        /// The limit in bytes that applies.
        limit: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig(m) => write!(f, "invalid attention configuration: {m}"),
            Error::ShapeMismatch {
                tensor,
                expected,
                actual,
            } => write!(
                f,
                "shape mismatch for `{tensor}`: expected {expected} elements, got {actual}"
            ),
            Error::NonFinite {
                tensor,
                index,
                value,
            } => write!(
                f,
                "non-finite input in `{tensor}` at flat index {index} (value {value}); \
                 attention inputs must be finite"
            ),
            Error::IsaUnavailable(isa) => {
                write!(f, "instruction set `{isa}` is not available on this CPU")
            }
            Error::ThreadPool(m) => write!(f, "could not build thread pool: {m}"),
            Error::TooLarge { what, bytes, limit } => write!(
                f,
                "{what} would need {bytes} bytes, above the limit of {limit} bytes (or could not be allocated)"
            ),
        }
    }
}

impl std::error::Error for Error {}
