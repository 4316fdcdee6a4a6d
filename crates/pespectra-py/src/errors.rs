//! Python exceptions from the libraries' typed errors: each exception is chosen by the error's
//! variant, never by parsing its message; the message is the CLI's one line.

use pyo3::create_exception;
use pyo3::exceptions::{
    PyArithmeticError, PyMemoryError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;

use pespectra_spectra::SpectraError;
use pespectra_theorems::CheckError;

create_exception!(
    _native,
    VerificationError,
    PyArithmeticError,
    "The floating-point decomposition or its verification failed at this precision: nothing \
     was proved (try a higher precision or precision='auto')."
);
create_exception!(
    _native,
    TooCostlyError,
    PyRuntimeError,
    "A certificate's estimated checking cost, or its wall-clock time, exceeds the limits: it \
     was not checked."
);

/// The exception of a spectral-engine error.
pub fn spectra(e: SpectraError) -> PyErr {
    let msg = e.to_string();
    spectra_with(&e, msg)
}

/// The exception class of `e`, carrying `msg`.
fn spectra_with(e: &SpectraError, msg: String) -> PyErr {
    match e {
        SpectraError::Empty
        | SpectraError::NotSquare { .. }
        | SpectraError::NonFinite { .. }
        | SpectraError::NotHermitian { .. }
        | SpectraError::BadParameter(_) => PyValueError::new_err(msg),
        SpectraError::TooLarge { .. } => PyMemoryError::new_err(msg),
        SpectraError::Decomposition(_) | SpectraError::VerificationFailed(_) => {
            VerificationError::new_err(msg)
        }
    }
}

/// The exception of a theorem-check error (a bad matrix keeps its name, "A: …", in the
/// message and the engine's exception class).
pub fn check(e: CheckError) -> PyErr {
    let msg = e.to_string();
    match &e {
        CheckError::Spectra(s) | CheckError::BadMatrix { source: s, .. } => spectra_with(s, msg),
        CheckError::NeedsB(_) => PyTypeError::new_err(msg),
        CheckError::Internal(_) => PyRuntimeError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// The exception of an attention-core error.
pub fn attention(e: pespectra_attention::Error) -> PyErr {
    use pespectra_attention::Error as E;
    let msg = e.to_string();
    match e {
        E::TooLarge { .. } => PyMemoryError::new_err(msg),
        E::IsaUnavailable(_) | E::ThreadPool(_) => PyRuntimeError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}
