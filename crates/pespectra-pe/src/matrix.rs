//! Minimal dense row-major matrices: this crate needs storage and indexing, not linear algebra.

use num_complex::Complex64;

use crate::error::{check_finite, PeError};

/// Dense real matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct RealMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl RealMatrix {
    /// Wraps row-major `data`; fails if `data.len() != rows * cols`. Entries may be any f64
    /// (masked logits hold −∞); entry points that compute check finiteness themselves.
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, PeError> {
        let len = rows
            .checked_mul(cols)
            .ok_or_else(|| PeError::Shape(format!("{rows} x {cols} overflows usize")))?;
        if data.len() != len {
            return Err(PeError::Shape(format!(
                "buffer of length {} for a {rows} x {cols} matrix",
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds a matrix from rows of equal length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, PeError> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some(bad) = rows.iter().position(|r| r.len() != cols) {
            return Err(PeError::Shape(format!(
                "row {bad} has length {} but row 0 has {cols}",
                rows[bad].len()
            )));
        }
        Self::new(rows.len(), cols, rows.concat())
    }

    /// `rows x cols` matrix with entry `(i, j) = f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// All-zero matrix.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row-major entries.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// Entry `(i, j)`; panics when out of range, like slice indexing.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        assert!(i < self.rows && j < self.cols, "index out of range");
        self.data[i * self.cols + j]
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub(crate) fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Transpose.
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |i, j| self.get(j, i))
    }

    /// Largest |self − other| entrywise (∞ if shapes differ, so a mismatch can never pass a
    /// tolerance test).
    pub fn max_abs_diff(&self, other: &RealMatrix) -> f64 {
        if self.rows != other.rows || self.cols != other.cols {
            return f64::INFINITY;
        }
        self.data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    /// Overwrites the strictly upper triangle (key after query) with `fill`, e.g. −∞ for softmax
    /// or 0 for a triangular matrix whose spectrum is its diagonal (R5). Logits here are always
    /// pre-mask; masking is the caller's explicit choice.
    pub fn causal_mask(&mut self, fill: f64) {
        let cols = self.cols;
        for i in 0..self.rows {
            for x in &mut self.data[i * cols + (i + 1).min(cols)..(i + 1) * cols] {
                *x = fill;
            }
        }
    }

    /// Error unless at least one row and column and all entries are finite.
    pub(crate) fn validate(&self, what: &str) -> Result<(), PeError> {
        if self.rows == 0 || self.cols == 0 {
            return Err(PeError::Empty(format!(
                "{what} is {} x {}",
                self.rows, self.cols
            )));
        }
        check_finite(what, &self.data)
    }
}

/// Dense complex matrix, row-major (content matrices G^f and kernels E^f).
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexMatrix {
    rows: usize,
    cols: usize,
    data: Vec<Complex64>,
}

impl ComplexMatrix {
    /// `rows x cols` matrix with entry `(i, j) = f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> Complex64) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row-major entries.
    pub fn data(&self) -> &[Complex64] {
        &self.data
    }

    /// Entry `(i, j)`; panics when out of range, like slice indexing.
    pub fn get(&self, i: usize, j: usize) -> Complex64 {
        assert!(i < self.rows && j < self.cols, "index out of range");
        self.data[i * self.cols + j]
    }

    /// Entrywise (Hadamard) product; shapes must match.
    pub fn hadamard(&self, other: &ComplexMatrix) -> Result<ComplexMatrix, PeError> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(PeError::Shape(format!(
                "Hadamard product of {} x {} and {} x {}",
                self.rows, self.cols, other.rows, other.cols
            )));
        }
        Ok(Self {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(a, b)| a * b)
                .collect(),
        })
    }

    /// Entrywise real part.
    pub fn re(&self) -> RealMatrix {
        RealMatrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|z| z.re).collect(),
        }
    }
}
