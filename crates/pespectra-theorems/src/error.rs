//! Why a check could not decide.

/// Why a check could not decide: bad parameters or matrices, or a failure of the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    /// Not a catalogue id.
    #[error("unknown theorem id '{0}' (see the catalogue: `pespectra theorems`)")]
    UnknownId(String),
    /// The instance size is outside 2..=1024.
    #[error("n must be between 2 and 1024, got {0}")]
    BadSize(usize),
    /// The entry has no user-matrix form.
    #[error("checking {0} on user matrices is not supported (supported: {list})", list = crate::user_matrix_ids().join(", "))]
    NoUserCheck(&'static str),
    /// The entry needs a second matrix.
    #[error("{0} needs a second matrix B")]
    NeedsB(&'static str),
    /// A user matrix is unusable (empty, not square, not finite).
    #[error("{name}: {source}")]
    BadMatrix {
        /// "A" or "B".
        name: &'static str,
        /// What is wrong with it.
        source: pespectra_spectra::SpectraError,
    },
    /// A and B differ in size.
    #[error("A is {a}×{a} but B is {b}×{b}")]
    SizeMismatch {
        /// Order of A.
        a: usize,
        /// Order of B.
        b: usize,
    },
    /// The spectral engine failed.
    #[error(transparent)]
    Spectra(#[from] pespectra_spectra::SpectraError),
    /// The positional-encoding reference refused its input.
    #[error(transparent)]
    Pe(#[from] pespectra_pe::PeError),
    /// A certificate the check built does not resolve (a bug in the check).
    #[error(transparent)]
    Certificate(#[from] crate::certificate::CertificateError),
    /// An invariant of the check's own construction broke (a bug; the message says which).
    #[error("internal: {0}")]
    Internal(&'static str),
}
