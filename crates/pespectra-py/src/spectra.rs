//! `eig` and `svd`: verified enclosures of every eigenvalue / singular value.

use std::time::Duration;

use numpy::{PyArray1, PyReadonlyArray2};
use pespectra_spectra::matrix::HermitianInput;
use pespectra_spectra::{eigenvalues, singular_values, EigOptions, Precision, SpectraError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::{blocking, errors, matrix};

/// lo, hi (outward-rounded float64), decimal (lo, hi) pairs, precision bits, met width, max width.
type EnclosureParts<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<(String, String)>,
    u32,
    bool,
    f64,
);

fn options(
    precision: u32,
    width: Option<f64>,
    max_bits: u32,
    budget_seconds: f64,
) -> PyResult<EigOptions> {
    if let Some(w) = width {
        if !(w.is_finite() && w >= 0.0) {
            return Err(PyValueError::new_err(format!(
                "width must be a finite non-negative number, got {w}"
            )));
        }
    }
    let max_budget = pespectra_spectra::MAX_BUDGET.as_secs_f64();
    if !(budget_seconds > 0.0 && budget_seconds <= max_budget) {
        return Err(PyValueError::new_err(format!(
            "budget_seconds must be positive and at most {max_budget} (one week), got {budget_seconds}"
        )));
    }
    let precision = match precision {
        0 => Precision::Auto,
        53 => Precision::F64,
        b if b >= 54 => Precision::Bits(b),
        b => {
            return Err(PyValueError::new_err(format!(
                "precision must be 53, a number of bits ≥ 54, or 'auto'; got {b}"
            )))
        }
    };
    let opts = EigOptions {
        precision,
        width,
        max_bits,
        budget: Duration::from_secs_f64(budget_seconds),
    };
    opts.validate().map_err(errors::spectra)?;
    Ok(opts)
}

/// Significant decimal digits that keep the enclosure's own precision (as the CLI prints).
fn digits(prec: u32) -> usize {
    (prec as f64 * std::f64::consts::LOG10_2).ceil() as usize + 2
}

fn parts(py: Python<'_>, enc: pespectra_spectra::SpectrumEnclosure) -> EnclosureParts<'_> {
    let dg = digits(enc.precision_bits);
    let lo: Vec<f64> = enc.values.iter().map(|v| v.lo_f64()).collect();
    let hi: Vec<f64> = enc.values.iter().map(|v| v.hi_f64()).collect();
    let dec = enc.values.iter().map(|v| v.decimal_bounds(dg)).collect();
    (
        PyArray1::from_vec(py, lo),
        PyArray1::from_vec(py, hi),
        dec,
        enc.precision_bits,
        enc.met_width,
        enc.max_width,
    )
}

/// Enclosures of every eigenvalue of the Hermitian matrix `re + i·im`, largest first.
/// `precision`: 53 (f64), bits ≥ 54 (MPFR) or 0 for auto.
#[pyfunction]
#[pyo3(signature = (re, im, precision, width, hermitian_part, max_bits, budget_seconds))]
#[allow(clippy::too_many_arguments)]
pub fn eig<'py>(
    py: Python<'py>,
    re: PyReadonlyArray2<'py, f64>,
    im: Option<PyReadonlyArray2<'py, f64>>,
    precision: u32,
    width: Option<f64>,
    hermitian_part: bool,
    max_bits: u32,
    budget_seconds: f64,
) -> PyResult<EnclosureParts<'py>> {
    let opts = options(precision, width, max_bits, budget_seconds)?;
    let m = matrix::cmat(&re, im.as_ref())?;
    let enc = blocking::run(py, None, move |_| {
        let input = if hermitian_part {
            HermitianInput::hermitian_part(m)
        } else {
            HermitianInput::new(m)
        }?;
        eigenvalues(&input, &opts)
    })?
    .map_err(|e| match e {
        SpectraError::NotHermitian { .. } => {
            PyValueError::new_err(format!("{e}; pass hermitian_part=True to do so"))
        }
        e => errors::spectra(e),
    })?;
    Ok(parts(py, enc))
}

/// Enclosures of every singular value of the square matrix `re + i·im`, largest first.
#[pyfunction]
#[pyo3(signature = (re, im, precision, width, max_bits, budget_seconds))]
pub fn svd<'py>(
    py: Python<'py>,
    re: PyReadonlyArray2<'py, f64>,
    im: Option<PyReadonlyArray2<'py, f64>>,
    precision: u32,
    width: Option<f64>,
    max_bits: u32,
    budget_seconds: f64,
) -> PyResult<EnclosureParts<'py>> {
    let opts = options(precision, width, max_bits, budget_seconds)?;
    let m = matrix::cmat(&re, im.as_ref())?;
    let enc =
        blocking::run(py, None, move |_| singular_values(&m, &opts))?.map_err(errors::spectra)?;
    Ok(parts(py, enc))
}
