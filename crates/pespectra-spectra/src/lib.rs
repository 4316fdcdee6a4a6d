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
mod error;
pub mod exact;
pub mod matrix;
#[cfg(feature = "nalgebra")]
pub mod nalgebra_interop;
mod options;
mod problem;
pub mod scale;
mod svd;
pub mod weyl;

pub use error::SpectraError;
pub use options::{mp_bytes, EigOptions, Precision, MAX_BUDGET, MAX_MP_BYTES, MAX_PRECISION_BITS};
pub use svd::{jordan_wielandt, singular_values, singular_values_ball};

use matrix::HermitianInput;

use problem::{Eig, Verifiable};

use pespectra_arith::mp::MpInterval;

use rug::float::Round;

use rug::Float;

use std::time::Instant;

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
fn enclose_at(p: &dyn Verifiable, precision: Precision) -> Result<SpectrumEnclosure, SpectraError> {
    let (mut bounds, d, prec) = match precision {
        Precision::F64 | Precision::Auto => (p.f64_bounds(), floats(p.values(), 53), 53),
        Precision::Bits(bits) => {
            let bytes = mp_bytes(p.order(), bits, p.is_complex());
            if bytes > MAX_MP_BYTES {
                return Err(SpectraError::TooLarge {
                    bytes,
                    limit: MAX_MP_BYTES,
                });
            }
            let (h, x) = p.hermitian();
            let a = eig_mp::MpMat::from_cmat(&h, bits);
            let (x, lam) = eig_mp::refine(&a, &x, bits);
            (eig_mp::residual_bounds(&a, &x, &lam, bits), lam, bits)
        }
    };
    if let Some(r) = p.radius_norm() {
        bounds.delta = Float::with_val(prec, r);
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
pub(crate) fn enclose_with_policy(
    p: &dyn Verifiable,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    let meets = |e: &SpectrumEnclosure| opts.width.is_none_or(|w| e.max_width <= w);
    let finish = |mut e: SpectrumEnclosure| {
        e.met_width = meets(&e);
        e
    };
    match opts.precision {
        Precision::F64 => enclose_at(p, Precision::F64).map(finish),
        Precision::Bits(bits) if bits < 54 => Err(SpectraError::BadParameter(format!(
            "precision must be 53 (f64) or at least 54 bits, got {bits}"
        ))),
        Precision::Bits(bits) => enclose_at(p, Precision::Bits(bits)).map(finish),
        Precision::Auto => {
            let start = Instant::now();
            let mut best: Option<SpectrumEnclosure> = None;
            let mut last_err = None;
            let mut level = Precision::F64;
            loop {
                match enclose_at(p, level) {
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
                    Precision::Bits(bits) => bits.saturating_mul(2),
                    _ => 128,
                };
                if next > opts.max_bits
                    || start.elapsed() >= opts.budget
                    || mp_bytes(p.order(), next, p.is_complex()) > MAX_MP_BYTES
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
            enclose_with_policy(&Eig { input, approx }, opts)
        }
        Some(e) => {
            let scaled = scale::scale_input(input, e);
            let approx = eig_f64::approx_eig(&scaled.center)?;
            let problem = Eig {
                input: &scaled,
                approx,
            };
            let enc = enclose_with_policy(&problem, &scaled_options(opts, e))?;
            Ok(unscale_enclosure(enc, e, opts))
        }
    }
}

/// The options for the scaled problem: the width target scales with the matrix.
pub(crate) fn scaled_options(opts: &EigOptions, e: i32) -> EigOptions {
    EigOptions {
        width: opts.width.map(|w| {
            let s = rug::Float::with_val(64, w) << e;
            s.to_f64_round(Round::Down)
        }),
        ..opts.clone()
    }
}

/// `2^−e` times an enclosure of the scaled problem, with width and target re-evaluated.
pub(crate) fn unscale_enclosure(
    enc: SpectrumEnclosure,
    e: i32,
    opts: &EigOptions,
) -> SpectrumEnclosure {
    let values: Vec<MpInterval> = enc.values.iter().map(|v| scale::unscale(v, e)).collect();
    let max_width = values.iter().map(scale::width_up).fold(0.0, f64::max);
    SpectrumEnclosure {
        met_width: opts.width.is_none_or(|w| max_width <= w),
        values,
        max_width,
        precision_bits: enc.precision_bits,
    }
}
