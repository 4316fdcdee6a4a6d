//! Verified spectra of dense matrices.
//!
//! Every eigenvalue of a real symmetric or complex Hermitian matrix is enclosed, in decreasing
//! order, by an interval *proved* to contain the k-th eigenvalue — clusters and exact
//! multiplicities included (no eigenvalue gap is ever needed). Singular values of general square
//! matrices go through the Hermitian Jordan–Wielandt matrix `[[0, A], [Aᴴ, 0]]`.
//!
//! Paths: f64 ([`Precision::F64`], GEMM-speed, width ≈ n²·u·‖A‖), MPFR at a requested precision
//! ([`Precision::Bits`]) and [`Precision::Auto`], which escalates precision until a requested
//! width is met or a budget runs out. Certificates of `λ_min > c` ([`cholesky`]) and exact
//! rational inertia, counting and bisection ([`exact`]) complete the engine.
//!
//! ```
//! use faer::mat;
//! use pespectra_spectra::{eigenvalues, matrix::{CMat, HermitianInput}, EigOptions};
//! let a = HermitianInput::new(CMat::real(mat![[2.0, 1.0], [1.0, 2.0]])).unwrap();
//! let enc = eigenvalues(&a, &EigOptions::default()).unwrap();
//! assert!(enc.values[0].lo_f64() <= 3.0 && 3.0 <= enc.values[0].hi_f64());
//! assert!(enc.values[1].lo_f64() <= 1.0 && 1.0 <= enc.values[1].hi_f64());
//! ```

pub mod cholesky;
pub mod eig_f64;
pub mod eig_mp;
pub mod exact;
pub mod matrix;
pub mod weyl;

use eig_f64::Approx;
use faer::Mat;
use matrix::{CMat, HermitianInput};
use pespectra_arith::gemm::{norm2_upper, par_for};
use pespectra_arith::mp::MpInterval;
use rug::float::Round;
use rug::Float;
use std::time::{Duration, Instant};

/// Errors of the spectral engine; each message names the problem.
#[derive(Debug, Clone, PartialEq)]
pub enum SpectraError {
    /// A dimension is zero.
    Empty,
    /// Rows ≠ columns.
    NotSquare { rows: usize, cols: usize },
    /// NaN or ±∞ at this position.
    NonFinite { row: usize, col: usize },
    /// `a_ij ≠ conj(a_ji)` at this position.
    NotHermitian { row: usize, col: usize },
    /// The floating-point decomposition failed to converge.
    Decomposition(String),
    /// The residual bounds were too large to prove anything at this precision.
    VerificationFailed(String),
    /// A parameter is out of range.
    BadParameter(String),
}

impl std::fmt::Display for SpectraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "matrix is empty"),
            Self::NotSquare { rows, cols } => write!(f, "matrix is not square ({rows}×{cols})"),
            Self::NonFinite { row, col } => write!(f, "entry ({row}, {col}) is NaN or infinite"),
            Self::NotHermitian { row, col } => write!(f, "matrix is not Hermitian: entry ({row}, {col}) differs from the conjugate of ({col}, {row}) (use --hermitian-part to analyse (A + Aᴴ)/2)"),
            Self::Decomposition(m) => write!(f, "floating-point eigendecomposition failed: {m}"),
            Self::VerificationFailed(m) => write!(f, "verification failed: {m}"),
            Self::BadParameter(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for SpectraError {}

/// Working precision of a verification.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Precision {
    /// Binary64 with verified GEMMs.
    F64,
    /// MPFR with this many bits (≥ 54).
    Bits(u32),
    /// f64, then 128, 256, … bits until the width is met or the budget is spent.
    Auto,
}

/// Options of [`eigenvalues`] and [`singular_values`].
#[derive(Clone, Debug)]
pub struct EigOptions {
    /// Working precision.
    pub precision: Precision,
    /// Requested maximal absolute width of every enclosure (`None`: no requirement).
    pub width: Option<f64>,
    /// Largest precision `Auto` may try.
    pub max_bits: u32,
    /// Wall-clock budget of `Auto` (checked between precision levels).
    pub budget: Duration,
}

impl Default for EigOptions {
    fn default() -> Self {
        Self {
            precision: Precision::F64,
            width: None,
            max_bits: 2048,
            budget: Duration::from_secs(120),
        }
    }
}

/// Verified enclosures of a spectrum, in decreasing order.
#[derive(Clone, Debug)]
pub struct SpectrumEnclosure {
    /// `values[k]` holds the (k+1)-th largest eigenvalue (or singular value).
    pub values: Vec<MpInterval>,
    /// Working precision of the enclosure that is returned (53 for the f64 path).
    pub precision_bits: u32,
    /// Upper bound of the largest width.
    pub max_width: f64,
    /// Whether every width is ≤ the requested width (true when none was requested).
    pub met_width: bool,
}

fn floats(d: &[f64], prec: u32) -> Vec<Float> {
    d.iter().map(|&v| Float::with_val(prec, v)).collect()
}

/// Enclosure at one precision from a given approximate decomposition.
fn enclose_at(
    input: &HermitianInput,
    approx: &Approx,
    precision: Precision,
) -> Result<SpectrumEnclosure, SpectraError> {
    let (mut bounds, d, prec) = match precision {
        Precision::F64 | Precision::Auto => {
            let b =
                eig_f64::residual_bounds(&input.center, &approx.x, &approx.d, par_for(input.n()));
            (b, floats(&approx.d, 53), 53)
        }
        Precision::Bits(p) => {
            let a = eig_mp::MpMat::from_cmat(&input.center, p);
            let (x, lam) = eig_mp::refine(&a, &approx.x, p);
            (eig_mp::residual_bounds(&a, &x, &lam, p), lam, p)
        }
    };
    if let Some(rad) = &input.radius {
        bounds.delta = Float::with_val(prec, norm2_upper(rad.as_ref()));
    }
    let values = weyl::enclose(d, &bounds, prec)?;
    let max_width = values
        .iter()
        .map(|v| v.width().to_f64_round(Round::Up))
        .fold(0.0, f64::max);
    Ok(SpectrumEnclosure {
        values,
        precision_bits: prec,
        max_width,
        met_width: true,
    })
}

/// Runs the precision policy of `opts` on one approximate decomposition.
fn enclose_with_policy(
    input: &HermitianInput,
    approx: &Approx,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    let meets = |e: &SpectrumEnclosure| opts.width.is_none_or(|w| e.max_width <= w);
    let finish = |mut e: SpectrumEnclosure| {
        e.met_width = meets(&e);
        e
    };
    match opts.precision {
        Precision::F64 => enclose_at(input, approx, Precision::F64).map(finish),
        Precision::Bits(p) if p < 54 => Err(SpectraError::BadParameter(format!(
            "precision must be 53 (f64) or at least 54 bits, got {p}"
        ))),
        Precision::Bits(p) => enclose_at(input, approx, Precision::Bits(p)).map(finish),
        Precision::Auto => {
            let start = Instant::now();
            let mut best: Option<SpectrumEnclosure> = None;
            let mut last_err = None;
            let mut level = Precision::F64;
            loop {
                match enclose_at(input, approx, level) {
                    Ok(e) => {
                        if best.as_ref().is_none_or(|b| e.max_width < b.max_width) {
                            best = Some(e);
                        }
                    }
                    Err(e) => last_err = Some(e),
                }
                if best.as_ref().is_some_and(&meets) {
                    break;
                }
                let next = match level {
                    Precision::Bits(p) => p * 2,
                    _ => 128,
                };
                if next > opts.max_bits || start.elapsed() >= opts.budget {
                    break;
                }
                level = Precision::Bits(next);
            }
            match best {
                Some(e) => Ok(finish(e)),
                None => Err(last_err.expect("at least one level ran")),
            }
        }
    }
}

/// Verified enclosures of all eigenvalues of a Hermitian matrix, in decreasing order.
pub fn eigenvalues(
    input: &HermitianInput,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    let approx = eig_f64::approx_eig(&input.center)?;
    enclose_with_policy(input, &approx, opts)
}

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
    matrix::check_general(a)?;
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
