//! Error type: every problem with user input is reported as a value, never a panic,
//! because the CLI and the spectral checks feed this crate with shapes read from files.

/// Everything that can go wrong when validating or running attention.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range or inconsistent (message says which).
    #[error("invalid attention configuration: {0}")]
    InvalidConfig(String),
    /// A buffer does not have the length the configuration implies.
    #[error("shape mismatch for `{tensor}`: expected {expected} elements, got {actual}")]
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
    #[error(
        "non-finite input in `{tensor}` at flat index {index} (value {value}); attention inputs must be finite"
    )]
    NonFinite {
        /// Which tensor.
        tensor: &'static str,
        /// Flat index of the first offending element.
        index: usize,
        /// The offending value (NaN or ±inf).
        value: f64,
    },
    /// A dispatch path was forced that this CPU cannot execute.
    #[error("instruction set `{0}` is not available on this CPU")]
    IsaUnavailable(&'static str),
    /// The Rayon thread pool could not be built.
    #[error("could not build thread pool: {0}")]
    ThreadPool(String),
    /// The buffers a call needs exceed a documented limit, or could not be allocated.
    #[error("{what} would need {bytes} bytes, above the limit of {limit} bytes (or could not be allocated)")]
    TooLarge {
        /// What was being sized (`"benchmark inputs"`, ...).
        what: &'static str,
        /// Bytes requested (saturated at `u64::MAX` when the size overflows).
        bytes: u64,
        /// The limit in bytes that applies.
        limit: u64,
    },
}
