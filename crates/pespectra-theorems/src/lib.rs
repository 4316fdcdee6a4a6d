//! Rigorous checks of the theorem catalogue (`shared/THEOREMS.md`): identities D1–D2, theorems
//! T1–T10 and the false readings R1–R6.
//!
//! Every check returns HOLDS only when verified enclosures (or exact rational arithmetic) prove
//! the claim on its instance, with a certified margin; FAILS only with a certified
//! counterexample; INCONCLUSIVE otherwise. Floating-point agreement is never a verdict.
//!
//! ```
//! use pespectra_theorems::{run, Params, Verdict};
//! let r = run("R3", &Params::default()).unwrap();
//! assert_eq!(r.verdict, Verdict::Fails); // a unit-diagonal non-PSD kernel expands the spectrum
//! ```

#![warn(missing_docs)]
pub mod ball;
pub mod certificate;
mod checks;
pub mod decide;
mod enclose;
mod error;
mod exact;
mod exact_rope;
mod hypotheses;
mod instances;
mod outcome;
mod registry;
mod user;

pub use error::CheckError;
pub(crate) use outcome::Outcome;
pub use registry::{Entry, Operands};

use std::time::Instant;

/// The three possible outcomes of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Proved on the instance, with a certified margin ≥ 0.
    Holds,
    /// A certified counterexample.
    Fails,
    /// Neither could be proved (precision or hypotheses).
    Inconclusive,
}

impl Verdict {
    /// Upper-case name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holds => "HOLDS",
            Self::Fails => "FAILS",
            Self::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// Parameters of the built-in instances.
#[derive(Clone, Debug)]
pub struct Params {
    /// Seed of every random choice (instances are reproducible from it).
    pub seed: u64,
    /// Sequence length of the spectral instances.
    pub n: usize,
    /// Also write a certificate for small instances (n ≤ 16). Off by default: building the
    /// exact rational matrices costs more than the check itself, and campaigns need one only
    /// for a counterexample.
    pub certificates: bool,
}

impl Params {
    /// The instance `seed` at size `n`, without certificates.
    pub fn new(seed: u64, n: usize) -> Self {
        Self {
            seed,
            n,
            certificates: false,
        }
    }

    /// The same instance, with certificates for small sizes.
    pub fn with_certificates(self) -> Self {
        Self {
            certificates: true,
            ..self
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Self::new(42, 64)
    }
}

/// Result of one check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// Catalogue id.
    pub id: &'static str,
    /// Outcome.
    pub verdict: Verdict,
    /// Certified margin: for HOLDS a lower bound of the slack of the claim, for FAILS a lower
    /// bound of the violation; `None` when nothing was certified.
    pub margin: Option<f64>,
    /// What was checked on which instance, and hypotheses verified.
    pub detail: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// A `pespectra-certificate/1` document for small instances (n ≤ 16) when
    /// [`Params::certificates`] is set, re-verifiable by the independent checker.
    pub certificate: Option<serde_json::Value>,
}

/// The whole catalogue, in THEOREMS.md order.
pub fn catalogue() -> Vec<Entry> {
    registry::REGISTRY.to_vec()
}

/// The ids of the entries that check user matrices ([`run_on`]), in catalogue order.
pub fn user_matrix_ids() -> Vec<&'static str> {
    registry::REGISTRY
        .iter()
        .filter(|e| e.user.is_some())
        .map(|e| e.id)
        .collect()
}

/// The catalogue entry with this id (case-insensitive).
pub fn entry(id: &str) -> Result<Entry, CheckError> {
    registry::REGISTRY
        .iter()
        .find(|e| e.id.eq_ignore_ascii_case(id))
        .copied()
        .ok_or_else(|| CheckError::UnknownId(id.to_string()))
}

/// Runs `check` and times it.
fn timed(
    entry: &Entry,
    check: impl FnOnce() -> Result<Outcome, CheckError>,
) -> Result<CheckResult, CheckError> {
    let start = Instant::now();
    let o = check()?;
    Ok(CheckResult {
        id: entry.id,
        verdict: o.verdict,
        margin: o.margin,
        detail: o.detail,
        seconds: start.elapsed().as_secs_f64(),
        certificate: o.certificate,
    })
}

/// Runs an entry that applies to user matrices ([`user_matrix_ids`]: T2, T3, T4, T5, T7 with
/// `A` content and `B` additive bias, T9 with `A` symmetric Toeplitz, T10 with `A` ≻ 0 and `B`
/// PSD unit-diagonal) on `A` (and `B`, for entries whose [`Entry::user_operands`] is
/// [`Operands::AAndB`]); every hypothesis (Hermitian, PSD, positive definite, unit diagonal,
/// Toeplitz) is verified rigorously first, and one that cannot be verified makes the verdict
/// INCONCLUSIVE with the reason.
pub fn run_on(
    id: &str,
    a: &pespectra_spectra::matrix::CMat,
    b: Option<&pespectra_spectra::matrix::CMat>,
) -> Result<CheckResult, CheckError> {
    let e = entry(id)?;
    timed(&e, || user::run(&e, a, b))
}

/// Runs one check by id on the built-in instance for `params`.
pub fn run(id: &str, params: &Params) -> Result<CheckResult, CheckError> {
    let e = entry(id)?;
    if params.n < 2 || params.n > 1024 {
        return Err(CheckError::BadSize(params.n));
    }
    timed(&e, || (e.seeded)(params))
}
