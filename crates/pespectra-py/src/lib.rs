//! `pespectra._native`: the Rust half of the `pespectra` Python package.
//!
//! Every function here is a thin adapter over the library calls the CLI makes (the same crates,
//! the same functions); the pure-Python half (`python/pespectra/__init__.py`) turns array-likes
//! into contiguous float arrays and wraps results in small classes. Long calls run on a worker
//! thread while the calling thread waits without the GIL, polls for Ctrl-C every 50 ms and
//! forwards progress (module `blocking`); a Rust panic is caught there and never reaches Python.

use pyo3::prelude::*;

mod attention;
mod audit;
mod blocking;
mod campaign;
mod checks;
mod errors;
mod matrix;
mod spectra;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "VerificationError",
        py.get_type::<errors::VerificationError>(),
    )?;
    m.add("TooCostlyError", py.get_type::<errors::TooCostlyError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_MAX_WORK", pespectra_certcheck::DEFAULT_MAX_WORK)?;
    m.add(
        "DEFAULT_MAX_SECONDS",
        pespectra_certcheck::DEFAULT_MAX_SECONDS,
    )?;
    m.add_function(wrap_pyfunction!(spectra::eig, m)?)?;
    m.add_function(wrap_pyfunction!(spectra::svd, m)?)?;
    m.add_function(wrap_pyfunction!(checks::check, m)?)?;
    m.add_function(wrap_pyfunction!(checks::theorems, m)?)?;
    m.add_function(wrap_pyfunction!(checks::verify, m)?)?;
    m.add_function(wrap_pyfunction!(audit::audit_head, m)?)?;
    m.add_function(wrap_pyfunction!(audit::audit, m)?)?;
    m.add_function(wrap_pyfunction!(audit::audit_captures, m)?)?;
    m.add_function(wrap_pyfunction!(attention::attention, m)?)?;
    m.add_function(wrap_pyfunction!(attention::logits, m)?)?;
    m.add_function(wrap_pyfunction!(campaign::campaign, m)?)?;
    m.add_class::<audit::AuditRun>()?;
    Ok(())
}
