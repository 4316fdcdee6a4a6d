//! Verified singular values of square matrices through the Hermitian Jordan–Wielandt matrix
//! `[[0, A], [Aᴴ, 0]]`, whose eigenvalues are ±σ.

use crate::eig_f64::Approx;
use crate::matrix::{self, CMat, HermitianInput};
use crate::{diagonal, scale};
use crate::{
    enclose_with_policy, scaled_options, unscale_enclosure, EigOptions, SpectraError,
    SpectrumEnclosure,
};
use faer::Mat;
use pespectra_arith::mp::MpInterval;
use rug::Float;

/// Verified enclosures of all singular values of a general square matrix, in decreasing order.
///
/// They are the n largest eigenvalues of the Hermitian `H = [[0, A], [Aᴴ, 0]]`, whose spectrum is
/// `{±σ_k}`; the approximate eigenvectors `[[U, U], [V, −V]]/√2` come from faer's SVD, and the
/// lower ends are clipped at 0 (singular values are non-negative).
pub fn singular_values(a: &CMat, opts: &EigOptions) -> Result<SpectrumEnclosure, SpectraError> {
    singular_values_ball(a, None, opts)
}

/// Like [`singular_values`], for every matrix within the entrywise modulus `radius` of `a`.
pub fn singular_values_ball(
    a: &CMat,
    radius: Option<&Mat<f64>>,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    opts.validate()?;
    matrix::check_general(a)?;
    if let Some(values) = diagonal::singular_values(a, radius, opts.precision_bits()) {
        return Ok(SpectrumEnclosure::exact(values, opts));
    }
    match scale::exponent_for(scale::max_abs_cmat(a, radius)) {
        None => singular_values_unscaled(a, radius, opts),
        Some(e) => {
            let (sa, lost) = scale::scale_cmat(a, e);
            let rad = match (radius.map(|r| scale::scale_radius(r, e)), lost) {
                (None, l) => l,
                (Some(r), None) => Some(r),
                (Some(r), Some(l)) => Some(Mat::from_fn(r.nrows(), r.ncols(), |i, j| {
                    pespectra_arith::round::add_up(r[(i, j)], l[(i, j)])
                })),
            };
            let enc = singular_values_unscaled(&sa, rad.as_ref(), &scaled_options(opts, e))?;
            Ok(unscale_enclosure(enc, e, opts))
        }
    }
}

fn singular_values_unscaled(
    a: &CMat,
    radius: Option<&Mat<f64>>,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    let n = a.nrows();
    let fail = |e: faer::linalg::svd::SvdError| SpectraError::Decomposition(format!("{e:?}"));
    let (u, v, s): (CMat, CMat, Vec<f64>) = if a.is_complex() {
        let svd = a.to_c64().svd().map_err(fail)?;
        let s = (0..n).map(|k| svd.S()[k].re).collect();
        (
            CMat::from_c64(&svd.U().to_owned()),
            CMat::from_c64(&svd.V().to_owned()),
            s,
        )
    } else {
        let svd = a.re.svd().map_err(fail)?;
        let s = (0..n).map(|k| svd.S()[k]).collect();
        (
            CMat::real(svd.U().to_owned()),
            CMat::real(svd.V().to_owned()),
            s,
        )
    };
    let mut h = jordan_wielandt(a);
    h.radius = radius.map(|rad| {
        Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, false) => rad[(i, j - n)],
            (false, true) => rad[(j, i - n)],
            _ => 0.0,
        })
    });
    let r = std::f64::consts::FRAC_1_SQRT_2;
    let block = |m: &Mat<f64>, w: &Mat<f64>, sign: f64| {
        Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, true) => r * m[(i, j)],
            (true, false) => r * m[(i, j - n)],
            (false, true) => r * w[(i - n, j)],
            (false, false) => sign * r * w[(i - n, j - n)],
        })
    };
    let zero = Mat::<f64>::zeros(n, n);
    let x = CMat::complex(
        block(&u.re, &v.re, -1.0),
        block(
            u.im.as_ref().unwrap_or(&zero),
            v.im.as_ref().unwrap_or(&zero),
            -1.0,
        ),
    );
    let d = s.iter().copied().chain(s.iter().map(|v| -v)).collect();
    let mut enc = enclose_with_policy(&h, &Approx { x, d }, opts)?;
    enc.values.truncate(n);
    let zero_f = Float::new(enc.precision_bits);
    enc.values = enc
        .values
        .into_iter()
        .map(|v| {
            let lo = if *v.lo() < 0 {
                zero_f.clone()
            } else {
                v.lo().clone()
            };
            MpInterval::from_floats(lo, v.hi().clone()).expect("σ ≥ 0 keeps the interval non-empty")
        })
        .collect();
    Ok(enc)
}

/// The exactly Hermitian `[[0, A], [Aᴴ, 0]]` (every entry is an entry of A or its conjugate).
pub fn jordan_wielandt(a: &CMat) -> HermitianInput {
    let n = a.nrows();
    let part = |re: bool| {
        Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, false) => {
                if re {
                    a.re[(i, j - n)]
                } else {
                    a.im_at(i, j - n)
                }
            }
            (false, true) => {
                if re {
                    a.re[(j, i - n)]
                } else {
                    -a.im_at(j, i - n)
                }
            }
            _ => 0.0,
        })
    };
    HermitianInput {
        center: CMat::complex(part(true), part(false)),
        radius: None,
    }
}
