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
mod exact_checks;
mod spectral_checks;

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

/// Why a check could not decide: bad parameters or matrices, or a failure of the engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    /// Not a catalogue id.
    #[error("unknown theorem id '{0}' (see the catalogue: `pespectra theorems`)")]
    UnknownId(String),
    /// The instance size is outside 2..=1024.
    #[error("n must be between 2 and 1024, got {0}")]
    BadSize(usize),
    /// The entry has no user-matrix form.
    #[error("checking {0} on user matrices is not supported (supported: {list})", list = USER_MATRIX_IDS.join(", "))]
    NoUserCheck(&'static str),
    /// The entry needs a second matrix.
    #[error("{0} needs a second matrix B")]
    NeedsB(&'static str),
    /// A user matrix is unusable (empty, not square, not finite).
    #[error("{name}: {source}")]
    BadMatrix {
        /// "A" or "B".
        name: &'static str,
        /// What is wrong with it.
        source: pespectra_spectra::SpectraError,
    },
    /// A and B differ in size.
    #[error("A is {a}×{a} but B is {b}×{b}")]
    SizeMismatch {
        /// Order of A.
        a: usize,
        /// Order of B.
        b: usize,
    },
    /// The spectral engine failed.
    #[error(transparent)]
    Spectra(#[from] pespectra_spectra::SpectraError),
    /// The positional-encoding reference refused its input.
    #[error(transparent)]
    Pe(#[from] pespectra_pe::PeError),
    /// An invariant of the check's own construction broke (a bug; the message says which).
    #[error("internal: {0}")]
    Internal(&'static str),
}

/// The catalogue entries that check user matrices ([`run_on`]).
pub const USER_MATRIX_IDS: [&str; 7] = ["T2", "T3", "T4", "T5", "T7", "T9", "T10"];

/// What a check concluded, before timing.
pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub margin: Option<f64>,
    pub detail: String,
    pub certificate: Option<serde_json::Value>,
}

impl Outcome {
    /// HOLDS when the certified margin is ≥ 0, FAILS when the claim is certified violated
    /// (`violation > 0`), otherwise INCONCLUSIVE.
    pub fn from_margin(margin: f64, violation: f64, detail: String) -> Self {
        if margin >= 0.0 {
            Self::new(Verdict::Holds, margin, detail)
        } else if violation > 0.0 {
            Self::new(Verdict::Fails, violation, detail)
        } else {
            Self::inconclusive(detail)
        }
    }

    /// Nothing certified.
    pub fn inconclusive(detail: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Inconclusive,
            margin: None,
            detail: detail.into(),
            certificate: None,
        }
    }

    /// A verdict with its certified margin and no certificate.
    pub fn new(verdict: Verdict, margin: f64, detail: String) -> Self {
        Self {
            verdict,
            margin: Some(margin),
            detail,
            certificate: None,
        }
    }

    /// Attaches a certificate when there is a verdict for it to certify.
    pub fn with_certificate(mut self, cert: Option<serde_json::Value>) -> Self {
        if self.verdict != Verdict::Inconclusive {
            self.certificate = cert;
        }
        self
    }
}

/// One catalogue entry.
pub struct Entry {
    /// Stable id (THEOREMS.md).
    pub id: &'static str,
    /// The statement in one line.
    pub statement: &'static str,
    /// The verdict a correct implementation reaches on the default instance.
    pub expected: Verdict,
    run: fn(&Params) -> Result<Outcome, CheckError>,
}

/// The whole catalogue, in THEOREMS.md order.
pub fn catalogue() -> Vec<Entry> {
    use Verdict::{Fails, Holds};
    let e = |id, statement, expected, run| Entry {
        id,
        statement,
        expected,
        run,
    };
    vec![
        e("D1", "RoPE logits = Σ_f Re(G^f ∘ E^f) (both pairings), within rigorous rounding bounds", Holds, spectral_checks::d1),
        e("D2", "additive logits = G_cc + G_cp + G_pc + G_pp + B, within rigorous rounding bounds", Holds, spectral_checks::d2),
        e("T1", "X ∘ (u uᴴ) = diag(u) X diag(u)ᴴ for |u_j| = 1 (exact), so G^f∘E^f has the spectrum of G^f", Holds, exact_checks::t1),
        e("T2", "A Hermitian, B PSD: spec(A∘B) ⊂ [min(λmin·βmin, λmin·βmax), max(λmax·βmin, λmax·βmax)]", Holds, spectral_checks::t2),
        e("T3", "A Hermitian, B PSD unit-diagonal: λ(A∘B) ≺ λ(A)", Holds, spectral_checks::t3),
        e("T4", "any A, B PSD: σ(A∘B) ≺_w (max b_ii)·σ(A)", Holds, spectral_checks::t4),
        e("T5", "H Hermitian: λ(Re H) ≺ λ(H)", Holds, spectral_checks::t5),
        e("T6", "RoPE per frequency: σ(Re(G^f∘E^f)) ≺_w σ(G^f); λ(Re(G^f∘E^f)) ≺ λ(G^f) for Hermitian G^f", Holds, spectral_checks::t6),
        e("T7", "Weyl: λ_k(G)+λmin(B) ≤ λ_k(G+B) ≤ λ_k(G)+λmax(B); σ_k(A+B) ≤ σ_k(A)+σ_1(B)", Holds, spectral_checks::t7),
        e("T8", "D_n=[|i−j|]: inertia (1, n−1), (n²−1)/3 ≤ λmax ≤ n(n−1)/2", Holds, spectral_checks::t8),
        e("T9", "symmetric Toeplitz T_n: spec ⊂ [min s, max s], s(ω) = t_0 + 2Σ t_k cos kω", Holds, spectral_checks::t9),
        e("T10", "A ≻ 0, B PSD unit-diagonal: A∘B ≻ 0, λmin, λmax inside A's, κ(A∘B) ≤ κ(A)", Holds, spectral_checks::t10),
        e("R1", "false: RoPE lowers λmax of the symmetric logits compared with NoPE", Fails, spectral_checks::r1),
        e("R2", "false: multiplicative coupling never increases the spectral radius (non-symmetric)", Fails, exact_checks::r2),
        e("R3", "false: any unit-diagonal Toeplitz kernel contracts (PSD is needed)", Fails, spectral_checks::r3),
        e("R4", "false: RoPE logits = Re(G_qk ∘ G_e) for one summed Toeplitz kernel G_e", Fails, exact_checks::r4),
        e("R5", "false: RoPE changes the eigenvalues of causally masked logits (they are the diagonal)", Fails, exact_checks::r5),
        e("R6", "false: absolute PE contributes a Toeplitz term P W Pᵀ", Fails, exact_checks::r6),
    ]
}

/// The catalogue entry with this id (case-insensitive).
pub fn entry(id: &str) -> Result<Entry, CheckError> {
    catalogue()
        .into_iter()
        .find(|e| e.id.eq_ignore_ascii_case(id))
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

/// Runs T2, T3, T4, T5, T7 (`A` content, `B` additive bias), T9 (`A` symmetric Toeplitz) or T10
/// (`A` ≻ 0, `B` PSD unit-diagonal) on user matrices `A` (and `B`); every hypothesis (Hermitian,
/// PSD, positive definite, unit diagonal, Toeplitz) is verified rigorously first, and one that
/// cannot be verified makes the verdict INCONCLUSIVE with the reason.
pub fn run_on(
    id: &str,
    a: &pespectra_spectra::matrix::CMat,
    b: Option<&pespectra_spectra::matrix::CMat>,
) -> Result<CheckResult, CheckError> {
    let e = entry(id)?;
    timed(&e, || spectral_checks::user_check(e.id, a, b))
}

/// Runs one check by id on the built-in instance for `params`.
pub fn run(id: &str, params: &Params) -> Result<CheckResult, CheckError> {
    let e = entry(id)?;
    if params.n < 2 || params.n > 1024 {
        return Err(CheckError::BadSize(params.n));
    }
    timed(&e, || (e.run)(params))
}
