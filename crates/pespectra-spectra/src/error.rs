//! Errors of the spectral engine.

/// Errors of the spectral engine; each message names the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpectraError {
    /// A dimension is zero.
    #[error("matrix is empty")]
    Empty,
    /// Rows ≠ columns.
    #[error("matrix is not square ({rows}×{cols})")]
    NotSquare {
        /// Rows of the input.
        rows: usize,
        /// Columns of the input.
        cols: usize,
    },
    /// NaN or ±∞ at this position.
    #[error("entry ({row}, {col}) is NaN or infinite")]
    NonFinite {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
    /// `a_ij ≠ conj(a_ji)` at this position.
    #[error("matrix is not Hermitian: entry ({row}, {col}) differs from the conjugate of ({col}, {row}) (its Hermitian part (A + Aᴴ)/2 can be analysed instead)")]
    NotHermitian {
        /// Row of the first entry found (lower triangle).
        row: usize,
        /// Column of that entry.
        col: usize,
    },
    /// The floating-point decomposition failed to converge.
    #[error("floating-point eigendecomposition failed: {0}")]
    Decomposition(String),
    /// The residual bounds were too large to prove anything at this precision.
    #[error("verification failed: {0}")]
    VerificationFailed(String),
    /// A parameter is out of range.
    #[error("{0}")]
    BadParameter(String),
    /// The working memory a request needs exceeds [`MAX_MP_BYTES`](crate::MAX_MP_BYTES).
    #[error("this precision and size would need about {bytes} bytes of MPFR matrices, above the limit of {limit} bytes")]
    TooLarge {
        /// Estimated bytes.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}
