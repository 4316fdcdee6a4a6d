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

#![warn(missing_docs)]
pub mod ball;
pub mod cholesky;
pub mod diagonal;
pub mod eig_f64;
pub mod eig_mp;
pub mod exact;
pub mod matrix;
#[cfg(feature = "nalgebra")]
pub mod nalgebra_interop;
pub mod scale;
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
    NotSquare {
        /// Rows of the input.
        rows: usize,
        /// Columns of the input.
        cols: usize,
    },
    /// NaN or ±∞ at this position.
    NonFinite {
        /// Row of the entry.
        row: usize,
        /// Column of the entry.
        col: usize,
    },
    /// `a_ij ≠ conj(a_ji)` at this position.
    NotHermitian {
        /// Row of the first entry found (lower triangle).
        row: usize,
        /// Column of that entry.
        col: usize,
    },
    /// The floating-point decomposition failed to converge.
    Decomposition(String),
    /// The residual bounds were too large to prove anything at this precision.
    VerificationFailed(String),
    /// A parameter is out of range.
    BadParameter(String),
    /// The working memory a request needs exceeds [`MAX_MP_BYTES`].
    TooLarge {
        /// Estimated bytes.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}

impl std::fmt::Display for SpectraError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "matrix is empty"),
            Self::NotSquare { rows, cols } => write!(f, "matrix is not square ({rows}×{cols})"),
            Self::NonFinite { row, col } => write!(f, "entry ({row}, {col}) is NaN or infinite"),
            Self::NotHermitian { row, col } => write!(f, "matrix is not Hermitian: entry ({row}, {col}) differs from the conjugate of ({col}, {row}) (its Hermitian part (A + Aᴴ)/2 can be analysed instead)"),
            Self::Decomposition(m) => write!(f, "floating-point eigendecomposition failed: {m}"),
            Self::VerificationFailed(m) => write!(f, "verification failed: {m}"),
            Self::BadParameter(m) => write!(f, "{m}"),
            Self::TooLarge { bytes, limit } => write!(
                f,
                "this precision and size would need about {bytes} bytes of MPFR matrices, above the limit of {limit} bytes"
            ),
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

/// Largest working precision accepted, in bits (explicit or as the ceiling of `Auto`): 2^16 bits
/// is about 19,700 decimal digits, far beyond what an f64 input can need.
pub const MAX_PRECISION_BITS: u32 = 1 << 16;

/// Longest wall-clock budget accepted for `Auto` (one week).
pub const MAX_BUDGET: Duration = Duration::from_secs(7 * 24 * 3600);

/// Most memory the MPFR path may plan for its matrices (8 GiB); a precision whose estimate
/// exceeds it is refused before anything is allocated (`Auto` stops escalating there instead).
pub const MAX_MP_BYTES: u64 = 8 << 30;

/// Conservative estimate of the MPFR path's memory at precision `prec` for an `n`×`n` input:
/// about ten live n×n matrices of `Float`s (A, X, the refinement's products and residuals),
/// doubled for complex data; each `Float` is a 32-byte header plus its limbs.
pub fn mp_bytes(n: usize, prec: u32, complex: bool) -> u64 {
    let per = 32 + 8 * (prec as u64).div_ceil(64);
    let parts = if complex { 2 } else { 1 };
    (n as u64)
        .saturating_mul(n as u64)
        .saturating_mul(per)
        .saturating_mul(10 * parts)
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

impl EigOptions {
    /// The precision an exact (point) answer is reported at: 53 for f64 and auto.
    fn precision_bits(&self) -> u32 {
        match self.precision {
            Precision::Bits(p) => p,
            _ => 53,
        }
    }

    /// Checks every option against its documented range ([`MAX_PRECISION_BITS`],
    /// [`MAX_BUDGET`], a finite non-negative width).
    pub fn validate(&self) -> Result<(), SpectraError> {
        let bad = |m: String| Err(SpectraError::BadParameter(m));
        if let Precision::Bits(p) = self.precision {
            if !(54..=MAX_PRECISION_BITS).contains(&p) {
                return bad(format!(
                    "precision must be 53 (f64) or between 54 and {MAX_PRECISION_BITS} bits, got {p}"
                ));
            }
        }
        if self.max_bits > MAX_PRECISION_BITS {
            return bad(format!(
                "the largest precision of auto must be at most {MAX_PRECISION_BITS} bits, got {}",
                self.max_bits
            ));
        }
        if self.budget > MAX_BUDGET || self.budget.is_zero() {
            return bad(format!(
                "the time budget must be positive and at most {} s, got {} s",
                MAX_BUDGET.as_secs(),
                self.budget.as_secs_f64()
            ));
        }
        if let Some(w) = self.width {
            if !w.is_finite() || w < 0.0 {
                return bad(format!(
                    "the width must be a finite non-negative number, got {w}"
                ));
            }
        }
        Ok(())
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

impl SpectrumEnclosure {
    /// Point enclosures (width 0), which meet every width target.
    fn exact(values: Vec<MpInterval>, opts: &EigOptions) -> Self {
        Self {
            values,
            precision_bits: opts.precision_bits(),
            max_width: 0.0,
            met_width: true,
        }
    }

    /// The enclosures as f64 intervals, decreasing: each end rounded outward, so every
    /// interval still contains its value (a NaN end widens it to the whole line).
    pub fn intervals(&self) -> Vec<pespectra_arith::interval::Interval> {
        use pespectra_arith::interval::Interval;
        self.values
            .iter()
            .map(|v| {
                Interval::new(v.lo_f64(), v.hi_f64())
                    .unwrap_or_else(|| Interval::ball(0.0, f64::INFINITY))
            })
            .collect()
    }
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
            let bytes = mp_bytes(input.n(), p, input.center.is_complex());
            if bytes > MAX_MP_BYTES {
                return Err(SpectraError::TooLarge {
                    bytes,
                    limit: MAX_MP_BYTES,
                });
            }
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
                    Precision::Bits(p) => p.saturating_mul(2),
                    _ => 128,
                };
                if next > opts.max_bits
                    || start.elapsed() >= opts.budget
                    || mp_bytes(input.n(), next, input.center.is_complex()) > MAX_MP_BYTES
                {
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
///
/// Inputs whose largest entry is far from 1 are analysed as `2^e·A` and the enclosures scaled
/// back exactly ([`scale`]), so matrices anywhere in the f64 range verify.
pub fn eigenvalues(
    input: &HermitianInput,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    opts.validate()?;
    if let Some(values) = diagonal::eigenvalues(input, opts.precision_bits()) {
        return Ok(SpectrumEnclosure::exact(values, opts));
    }
    let max = scale::max_abs_cmat(&input.center, input.radius.as_ref());
    match scale::exponent_for(max) {
        None => {
            let approx = eig_f64::approx_eig(&input.center)?;
            enclose_with_policy(input, &approx, opts)
        }
        Some(e) => {
            let scaled = scale::scale_input(input, e);
            let approx = eig_f64::approx_eig(&scaled.center)?;
            let enc = enclose_with_policy(&scaled, &approx, &scaled_options(opts, e))?;
            Ok(unscale_enclosure(enc, e, opts))
        }
    }
}

/// The options for the scaled problem: the width target scales with the matrix.
fn scaled_options(opts: &EigOptions, e: i32) -> EigOptions {
    EigOptions {
        width: opts.width.map(|w| {
            let s = rug::Float::with_val(64, w) << e;
            s.to_f64_round(Round::Down)
        }),
        ..opts.clone()
    }
}

/// `2^−e` times an enclosure of the scaled problem, with width and target re-evaluated.
fn unscale_enclosure(enc: SpectrumEnclosure, e: i32, opts: &EigOptions) -> SpectrumEnclosure {
    let values: Vec<MpInterval> = enc.values.iter().map(|v| scale::unscale(v, e)).collect();
    let max_width = values.iter().map(scale::width_up).fold(0.0, f64::max);
    SpectrumEnclosure {
        met_width: opts.width.is_none_or(|w| max_width <= w),
        values,
        max_width,
        precision_bits: enc.precision_bits,
    }
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
