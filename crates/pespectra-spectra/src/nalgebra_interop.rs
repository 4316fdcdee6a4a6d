//! nalgebra interop (feature `nalgebra`): matrices in, enclosure bounds out.
//!
//! Any dense nalgebra matrix — `DMatrix`, statically sized `Matrix3`, views — of `f64` or
//! `Complex<f64>` converts into a [`CMat`] (one copy: faer owns its storage) and, validated like
//! the `.npy` path (square, finite, exactly Hermitian, the same [`SpectraError`]s), into a
//! [`HermitianInput`]. Enclosures come back as two `DVector`s of f64 lower and upper bounds,
//! rounded outward, so they are still valid bounds.
//!
//! ```
//! use nalgebra::DMatrix;
//! use pespectra_spectra::{eigenvalues, matrix::HermitianInput, EigOptions};
//! let a = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
//! let enc = eigenvalues(&HermitianInput::try_from(&a)?, &EigOptions::default())?;
//! let (lo, hi) = enc.bounds();
//! assert!(lo[0] <= 3.0 && 3.0 <= hi[0] && lo[1] <= 1.0 && 1.0 <= hi[1]);
//! # Ok::<(), pespectra_spectra::SpectraError>(())
//! ```

use crate::matrix::{CMat, HermitianInput};
use crate::{SpectraError, SpectrumEnclosure};
use faer::Mat;
use nalgebra::{Complex, DVector, Dim, Matrix, RawStorage};

impl<R: Dim, C: Dim, S: RawStorage<f64, R, C>> From<&Matrix<f64, R, C, S>> for CMat {
    fn from(m: &Matrix<f64, R, C, S>) -> Self {
        CMat::real(Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)]))
    }
}

impl<R: Dim, C: Dim, S: RawStorage<Complex<f64>, R, C>> From<&Matrix<Complex<f64>, R, C, S>>
    for CMat
{
    /// A complex matrix whose imaginary parts are all zero becomes a real [`CMat`].
    fn from(m: &Matrix<Complex<f64>, R, C, S>) -> Self {
        let (r, c) = (m.nrows(), m.ncols());
        CMat::complex(
            Mat::from_fn(r, c, |i, j| m[(i, j)].re),
            Mat::from_fn(r, c, |i, j| m[(i, j)].im),
        )
    }
}

impl<R: Dim, C: Dim, S: RawStorage<f64, R, C>> TryFrom<&Matrix<f64, R, C, S>> for HermitianInput {
    type Error = SpectraError;
    /// Validates like [`HermitianInput::new`]: empty, non-square, non-finite and non-symmetric
    /// matrices are refused with the position of the first offending entry.
    fn try_from(m: &Matrix<f64, R, C, S>) -> Result<Self, SpectraError> {
        HermitianInput::new(CMat::from(m))
    }
}

impl<R: Dim, C: Dim, S: RawStorage<Complex<f64>, R, C>> TryFrom<&Matrix<Complex<f64>, R, C, S>>
    for HermitianInput
{
    type Error = SpectraError;
    /// Validates like [`HermitianInput::new`] (`a_ij = conj(a_ji)` exactly).
    fn try_from(m: &Matrix<Complex<f64>, R, C, S>) -> Result<Self, SpectraError> {
        HermitianInput::new(CMat::from(m))
    }
}

impl SpectrumEnclosure {
    /// `(lo, hi)`: f64 bounds of every enclosed value, `lo` rounded down and `hi` up (so
    /// `lo[k] ≤ λ_k ≤ hi[k]` still holds), in the enclosure's (decreasing) order.
    pub fn bounds(&self) -> (DVector<f64>, DVector<f64>) {
        (
            DVector::from_iterator(self.values.len(), self.values.iter().map(|v| v.lo_f64())),
            DVector::from_iterator(self.values.len(), self.values.iter().map(|v| v.hi_f64())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{eigenvalues, EigOptions};
    use nalgebra::{DMatrix, Matrix2, Matrix3};

    #[test]
    fn static_and_dynamic_matrices_give_the_same_enclosure() {
        // tridiagonal Toeplitz [2, −1]: eigenvalues 2 − 2cos(kπ/4), k = 1..3 (closed form)
        let s = Matrix3::new(2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0);
        let d = DMatrix::from_column_slice(3, 3, s.as_slice());
        let opts = EigOptions::default();
        let (a, b) = (
            eigenvalues(&HermitianInput::try_from(&s).unwrap(), &opts).unwrap(),
            eigenvalues(&HermitianInput::try_from(&d).unwrap(), &opts).unwrap(),
        );
        let (lo, hi) = a.bounds();
        assert_eq!((lo.clone(), hi.clone()), b.bounds());
        let exact = [2.0 + 2f64.sqrt(), 2.0, 2.0 - 2f64.sqrt()];
        for k in 0..3 {
            assert!(lo[k] <= exact[k] && exact[k] <= hi[k], "{k}: {lo} {hi}");
            approx::assert_abs_diff_eq!(lo[k], exact[k], epsilon = 1e-12);
        }
        // a view of the top-left 2×2 block: eigenvalues 1 and 3
        let v = s.view((0, 0), (2, 2));
        let (lo, hi) = eigenvalues(&HermitianInput::try_from(&v).unwrap(), &opts)
            .unwrap()
            .bounds();
        assert!(lo[0] <= 3.0 && 3.0 <= hi[0] && lo[1] <= 1.0 && 1.0 <= hi[1]);
    }

    #[test]
    fn complex_hermitian_input_is_accepted_and_checked() {
        // [[2, i], [−i, 2]]: eigenvalues 3 and 1
        let m = Matrix2::new(
            Complex::new(2.0, 0.0),
            Complex::new(0.0, 1.0),
            Complex::new(0.0, -1.0),
            Complex::new(2.0, 0.0),
        );
        let input = HermitianInput::try_from(&m).unwrap();
        assert!(input.center.is_complex());
        let (lo, hi) = eigenvalues(&input, &EigOptions::default())
            .unwrap()
            .bounds();
        assert!(lo[0] <= 3.0 && 3.0 <= hi[0] && lo[1] <= 1.0 && 1.0 <= hi[1]);
        let mut bad = m;
        bad[(1, 0)] = Complex::new(0.0, 1.0); // conj(i) ≠ i
        assert_eq!(
            HermitianInput::try_from(&bad).unwrap_err(),
            SpectraError::NotHermitian { row: 1, col: 0 }
        );
    }

    #[test]
    fn bad_shapes_and_values_are_typed_errors() {
        let rect = DMatrix::<f64>::zeros(2, 3);
        assert_eq!(
            HermitianInput::try_from(&rect).unwrap_err(),
            SpectraError::NotSquare { rows: 2, cols: 3 }
        );
        assert_eq!(
            HermitianInput::try_from(&DMatrix::<f64>::zeros(0, 0)).unwrap_err(),
            SpectraError::Empty
        );
        let mut nan = DMatrix::<f64>::identity(3, 3);
        nan[(2, 1)] = f64::NAN;
        assert!(matches!(
            HermitianInput::try_from(&nan).unwrap_err(),
            SpectraError::NonFinite { .. }
        ));
        let mut asym = DMatrix::<f64>::identity(3, 3);
        asym[(0, 2)] = 1e-300;
        assert!(matches!(
            HermitianInput::try_from(&asym).unwrap_err(),
            SpectraError::NotHermitian { .. }
        ));
    }
}
