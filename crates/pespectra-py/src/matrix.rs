//! NumPy matrices into the engine's `CMat` (any strides: the Python side passes float64
//! arrays, the real and imaginary parts separately).

use faer::Mat;
use numpy::PyReadonlyArray2;
use pespectra_spectra::matrix::CMat;
use pyo3::exceptions::PyValueError;
use pyo3::PyResult;

/// `re + i·im` as a `CMat` (`im` absent: real).
pub fn cmat(
    re: &PyReadonlyArray2<'_, f64>,
    im: Option<&PyReadonlyArray2<'_, f64>>,
) -> PyResult<CMat> {
    let r = re.as_array();
    let (rows, cols) = r.dim();
    let real = Mat::from_fn(rows, cols, |i, j| r[[i, j]]);
    Ok(match im {
        None => CMat::real(real),
        Some(im) => {
            let m = im.as_array();
            if m.dim() != (rows, cols) {
                return Err(PyValueError::new_err(
                    "the real and imaginary parts differ in shape",
                ));
            }
            CMat::complex(real, Mat::from_fn(rows, cols, |i, j| m[[i, j]]))
        }
    })
}
