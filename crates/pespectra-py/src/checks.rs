//! The theorem catalogue, checks on seeded instances or user matrices, and the independent
//! certificate checker.

use numpy::PyReadonlyArray2;
use pespectra_theorems::{catalogue, entry, run, run_on, Params};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::TooCostlyError;
use crate::{blocking, errors, matrix};

/// `(id, statement, expected verdict)` of every catalogue entry, in THEOREMS.md order.
#[pyfunction]
pub fn theorems() -> Vec<(&'static str, &'static str, &'static str)> {
    catalogue()
        .into_iter()
        .map(|e| (e.id, e.statement, e.expected.as_str()))
        .collect()
}

/// id, verdict, margin (a certified lower bound, rounded toward −∞, 6 digits), detail,
/// seconds, certificate JSON, expected verdict, statement.
type CheckParts = (
    &'static str,
    &'static str,
    Option<String>,
    String,
    f64,
    Option<String>,
    &'static str,
    &'static str,
);

/// Runs catalogue entry `id` on its seeded instance (`a` absent) or on user matrices.
#[pyfunction]
#[pyo3(signature = (id, a_re, a_im, b_re, b_im, n, seed, certificates))]
#[allow(clippy::too_many_arguments)]
pub fn check<'py>(
    py: Python<'py>,
    id: &str,
    a_re: Option<PyReadonlyArray2<'py, f64>>,
    a_im: Option<PyReadonlyArray2<'py, f64>>,
    b_re: Option<PyReadonlyArray2<'py, f64>>,
    b_im: Option<PyReadonlyArray2<'py, f64>>,
    n: usize,
    seed: u64,
    certificates: bool,
) -> PyResult<CheckParts> {
    let e = entry(id).map_err(errors::check)?;
    let a = a_re
        .as_ref()
        .map(|re| matrix::cmat(re, a_im.as_ref()))
        .transpose()?;
    let b = b_re
        .as_ref()
        .map(|re| matrix::cmat(re, b_im.as_ref()))
        .transpose()?;
    if b.is_some() && a.is_none() {
        return Err(PyValueError::new_err("b needs a as well"));
    }
    let id = e.id;
    let r = blocking::run(py, None, move |_| match &a {
        Some(a) => run_on(id, a, b.as_ref()),
        None => run(
            id,
            &Params {
                certificates,
                ..Params::new(seed, n)
            },
        ),
    })?
    .map_err(errors::check)?;
    let margin = r.margin.map(|m| {
        pespectra_arith::mp::decimal(&rug::Float::with_val(53, m), 6, rug::float::Round::Down)
    });
    Ok((
        r.id,
        r.verdict.as_str(),
        margin,
        r.detail,
        r.seconds,
        r.certificate.map(|c| c.to_string()),
        e.expected.as_str(),
        e.statement,
    ))
}

/// Re-verifies a certificate (JSON text) with the independent checker. Returns
/// `(valid, id, statement, verdict, margin, claims_checked, summaries, work, message)`;
/// an unreadable certificate raises `ValueError`, one too costly to check `TooCostlyError`.
#[pyfunction]
#[pyo3(signature = (text, max_work, max_seconds))]
#[allow(clippy::type_complexity)]
pub fn verify(
    py: Python<'_>,
    text: String,
    max_work: u64,
    max_seconds: f64,
) -> PyResult<(
    bool,
    String,
    String,
    String,
    String,
    usize,
    Vec<String>,
    u64,
    String,
)> {
    use pespectra_certcheck::{CertError, Limits};
    if !(max_seconds > 0.0 && max_seconds <= 7.0 * 24.0 * 3600.0) {
        return Err(PyValueError::new_err(format!(
            "max_seconds must be positive and at most one week, got {max_seconds}"
        )));
    }
    let limits = Limits {
        max_work,
        max_seconds,
    };
    let r = blocking::run(py, None, move |_| {
        pespectra_certcheck::verify_str_with(&text, &limits)
    })?;
    match r {
        Ok(rep) => Ok((
            true,
            rep.id.clone(),
            rep.statement.clone(),
            rep.verdict.to_string(),
            rep.margin.to_string(),
            rep.claims_checked,
            rep.claim_summaries.clone(),
            rep.work,
            rep.to_string(),
        )),
        Err(e @ CertError::Invalid { .. }) => Ok((
            false,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            0,
            Vec::new(),
            0,
            e.to_string(),
        )),
        Err(e @ CertError::Unreadable(_)) => Err(PyValueError::new_err(e.to_string())),
        Err(e @ CertError::TooCostly(_)) => Err(TooCostlyError::new_err(e.to_string())),
    }
}
