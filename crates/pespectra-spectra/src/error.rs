//! Errors of the spectral engine.

/// Errors of the spectral engine; each message names the problem.
#[derive(Debug, Clone, PartialEq)]
pub enum SpectraError {
    /// A dimension is zero.
    Empty,
    /// Rows ≠ columns.
    NotSquare {
        /// Rows of the input.
        rows: usize,
        /// Columns of the input.
        cols: usize,
    },
    /// NaN or ±∞ at this position.
    NonFinite {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
    /// `a_ij ≠ conj(a_ji)` at this position.
    NotHermitian {
        /// Row of the first entry found (lower triangle).
        row: usize,
        /// Column of that entry.
        col: usize,
    },
    /// The floating-point decomposition failed to converge.
    Decomposition(String),
    /// The residual bounds were too large to prove anything at this precision.
    VerificationFailed(String),
    /// A parameter is out of range.
    BadParameter(String),
    /// The working memory a request needs exceeds [`MAX_MP_BYTES`](crate::MAX_MP_BYTES).
    TooLarge {
        /// Estimated bytes.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}

impl std::fmt::Display for SpectraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "matrix is empty"),
            Self::NotSquare { rows, cols } => write!(f, "matrix is not square ({rows}×{cols})"),
            Self::NonFinite { row, col } => write!(f, "entry ({row}, {col}) is NaN or infinite"),
            Self::NotHermitian { row, col } => write!(f, "matrix is not Hermitian: entry ({row}, {col}) differs from the conjugate of ({col}, {row}) (its Hermitian part (A + Aᴴ)/2 can be analysed instead)"),
            Self::Decomposition(m) => write!(f, "floating-point eigendecomposition failed: {m}"),
            Self::VerificationFailed(m) => write!(f, "verification failed: {m}"),
            Self::BadParameter(m) => write!(f, "{m}"),
            Self::TooLarge { bytes, limit } => write!(
                f,
                "this precision and size would need about {bytes} bytes of MPFR matrices, above the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for SpectraError {}
