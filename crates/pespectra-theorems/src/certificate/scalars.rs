//! Exact numbers and matrices as the format writes them: decimal-free rationals ("p/q") and
//! Gaussian-rational matrices.

use crate::ball::QComplex;
use faer::Mat;
use num_rational::BigRational;
use num_traits::Zero;
use pespectra_spectra::matrix::CMat;
use serde::Serialize;

/// An exact Gaussian-rational matrix as the format writes it (`im` absent when real).
#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    re: Vec<String>,
    im: Option<Vec<String>>,
}

/// Exact decimal-free scalar: "p/q" or "p".
pub fn scalar(x: &BigRational) -> String {
    if x.denom() == &1.into() {
        x.numer().to_string()
    } else {
        format!("{}/{}", x.numer(), x.denom())
    }
}

/// The exact value of a finite f64 as a scalar string (a non-finite value, which no enclosure
/// the producer certifies has, is written as an unparsable "nan" the checker refuses).
pub fn f64_scalar(x: f64) -> String {
    BigRational::from_float(x).map_or_else(|| "nan".into(), |q| scalar(&q))
}

/// A real f64 matrix, exactly.
pub fn real_matrix(m: &Mat<f64>) -> Matrix {
    let re: Vec<String> = (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| f64_scalar(m[(i, j)]))
        .collect();
    Matrix {
        rows: m.nrows(),
        cols: m.ncols(),
        re,
        im: None,
    }
}

/// A real or complex f64 matrix, exactly (`im` absent when it is real).
pub fn cmat_matrix(m: &CMat) -> Matrix {
    let (rows, cols) = (m.nrows(), m.ncols());
    let parts = |x: &Mat<f64>| -> Vec<String> {
        (0..rows)
            .flat_map(|i| (0..cols).map(move |j| (i, j)))
            .map(|(i, j)| f64_scalar(x[(i, j)]))
            .collect()
    };
    Matrix {
        rows,
        cols,
        re: parts(&m.re),
        im: m.im.as_ref().map(parts),
    }
}

/// A Gaussian-rational n×n matrix given entrywise.
pub fn complex_matrix(n: usize, f: impl Fn(usize, usize) -> QComplex) -> Matrix {
    rational_matrix(n, n, f)
}

/// A Gaussian-rational `rows × cols` matrix given entrywise (`im` absent when every entry is
/// real, as the format allows).
pub fn rational_matrix(rows: usize, cols: usize, f: impl Fn(usize, usize) -> QComplex) -> Matrix {
    let entries: Vec<QComplex> = (0..rows * cols).map(|t| f(t / cols, t % cols)).collect();
    let re: Vec<String> = entries.iter().map(|z| scalar(&z.re)).collect();
    let im = (!entries.iter().all(|z| z.im.is_zero()))
        .then(|| entries.iter().map(|z| scalar(&z.im)).collect());
    Matrix { rows, cols, re, im }
}

/// Exact margin of a conclusion between two finite f64 endpoints (`a − b`).
pub fn margin(a: f64, b: f64) -> String {
    match (BigRational::from_float(a), BigRational::from_float(b)) {
        (Some(a), Some(b)) => scalar(&(a - b)),
        _ => "nan".into(),
    }
}

/// Exact margin `a − b` of a finite f64 `a` over an exact `b`.
pub fn margin_over(a: f64, b: &BigRational) -> String {
    BigRational::from_float(a).map_or_else(|| "nan".into(), |a| scalar(&(a - b)))
}
