//! Dense input matrices: real or complex, exact f64 entries, with an optional entrywise radius
//! (when the matrix we mean is only known to lie in a ball, e.g. a rounded Hermitian part).

use crate::SpectraError;
use faer::{c64, Mat};
use pespectra_arith::round::{add_up, mul_up};

/// A square matrix stored as real and (optional) imaginary parts.
#[derive(Clone, Debug)]
pub struct CMat {
    /// Real part.
    pub re: Mat<f64>,
    /// Imaginary part; `None` for a real matrix.
    pub im: Option<Mat<f64>>,
}

impl CMat {
    /// Real matrix.
    pub fn real(re: Mat<f64>) -> Self {
        Self { re, im: None }
    }

    /// Complex matrix from parts; an all-zero imaginary part is dropped so real input stays on
    /// the (cheaper, exactly equivalent) real path.
    pub fn complex(re: Mat<f64>, im: Mat<f64>) -> Self {
        let zero = (0..im.ncols()).all(|j| (0..im.nrows()).all(|i| im[(i, j)] == 0.0));
        Self {
            re,
            im: (!zero).then_some(im),
        }
    }

    /// From a faer complex matrix.
    pub fn from_c64(m: &Mat<c64>) -> Self {
        Self::complex(
            Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].re),
            Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].im),
        )
    }

    /// To a faer complex matrix.
    pub fn to_c64(&self) -> Mat<c64> {
        Mat::from_fn(self.nrows(), self.ncols(), |i, j| {
            c64::new(self.re[(i, j)], self.im_at(i, j))
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.re.nrows()
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.re.ncols()
    }

    /// Imaginary part of entry (i, j) (0 for real matrices).
    pub fn im_at(&self, i: usize, j: usize) -> f64 {
        self.im.as_ref().map_or(0.0, |m| m[(i, j)])
    }

    /// Whether the matrix is complex.
    pub fn is_complex(&self) -> bool {
        self.im.is_some()
    }

    /// The conjugate transpose (exact: a transpose and a sign change).
    pub fn adjoint(&self) -> CMat {
        CMat {
            re: self.re.transpose().to_owned(),
            im: self.im.as_ref().map(|im| -im.transpose()),
        }
    }
}

/// A Hermitian matrix to analyse: the exact Hermitian matrix `center`, or, when `radius` is
/// given, *every* Hermitian matrix within that entrywise modulus radius of it.
#[derive(Clone, Debug)]
pub struct HermitianInput {
    /// Exactly Hermitian f64 matrix.
    pub center: CMat,
    /// Entrywise upper bound of |true − center|, if the true matrix is only enclosed.
    pub radius: Option<Mat<f64>>,
}

impl HermitianInput {
    /// Validates an exactly Hermitian square matrix: non-empty, square, finite, `a_ij = conj(a_ji)`.
    pub fn new(m: CMat) -> Result<Self, SpectraError> {
        check_square_finite(&m)?;
        let n = m.nrows();
        for i in 0..n {
            for j in 0..=i {
                let sym_re = m.re[(i, j)] == m.re[(j, i)];
                let sym_im = m.im_at(i, j) == -m.im_at(j, i);
                if !sym_re || !sym_im {
                    return Err(SpectraError::NotHermitian { row: i, col: j });
                }
            }
        }
        Ok(Self {
            center: m,
            radius: None,
        })
    }

    /// The Hermitian part `(A + Aᴴ)/2` of any square matrix. It is generally not representable in
    /// f64, so it is returned as an enclosure: center `fl((a_ij + conj a_ji)/2)` and a radius
    /// bounding the rounding error (exactly computed by TwoSum, halved and rounded up).
    pub fn hermitian_part(m: CMat) -> Result<Self, SpectraError> {
        check_square_finite(&m)?;
        let n = m.nrows();
        let mut any_rad = false;
        let mut rad = Mat::<f64>::zeros(n, n);
        let half_sum = |a: f64, b: f64| -> (f64, f64) {
            let s = a + b;
            let bp = s - a;
            let e = (a - (s - bp)) + (b - bp);
            // s/2 is exact unless it is subnormal; cover that case with one extra ulp.
            let h = s * 0.5;
            let h_err = if h != 0.0 && h.abs() < f64::MIN_POSITIVE {
                f64::from_bits(1)
            } else {
                0.0
            };
            let r = if s.is_finite() {
                add_up(mul_up(e.abs(), 0.5), h_err)
            } else {
                f64::INFINITY
            };
            (h, r)
        };
        let mut re = Mat::<f64>::zeros(n, n);
        let mut im = Mat::<f64>::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                let (hr, rr) = half_sum(m.re[(i, j)], m.re[(j, i)]);
                let (hi, ri) = half_sum(m.im_at(i, j), -m.im_at(j, i));
                re[(i, j)] = hr;
                im[(i, j)] = hi;
                rad[(i, j)] = add_up(rr, ri);
                any_rad |= rad[(i, j)] > 0.0;
            }
        }
        let center = CMat::complex(re, im);
        Ok(Self {
            center,
            radius: any_rad.then_some(rad),
        })
    }

    /// Dimension n.
    pub fn n(&self) -> usize {
        self.center.nrows()
    }

    /// Largest entry modulus bound (for scale-aware widths).
    pub fn max_abs(&self) -> f64 {
        let n = self.n();
        let mut m = 0.0f64;
        for j in 0..n {
            for i in 0..n {
                m = m.max(
                    self.center.re[(i, j)]
                        .abs()
                        .max(self.center.im_at(i, j).abs()),
                );
            }
        }
        m
    }
}

fn check_square_finite(m: &CMat) -> Result<(), SpectraError> {
    let (r, c) = (m.nrows(), m.ncols());
    if r == 0 || c == 0 {
        return Err(SpectraError::Empty);
    }
    if r != c {
        return Err(SpectraError::NotSquare { rows: r, cols: c });
    }
    for j in 0..c {
        for i in 0..r {
            if !m.re[(i, j)].is_finite() || !m.im_at(i, j).is_finite() {
                return Err(SpectraError::NonFinite { row: i, col: j });
            }
        }
    }
    Ok(())
}

/// Validates a general square matrix for singular values (non-empty, square, finite).
pub fn check_general(m: &CMat) -> Result<(), SpectraError> {
    check_square_finite(m)
}
