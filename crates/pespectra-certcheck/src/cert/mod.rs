//! The certificate schema (`pespectra-certificate/1`) and its verification.
//!
//! Verification runs in two passes so that the two error classes never mix:
//! 1. *Reading*: JSON, schema, scalars, size limits, derived operations, and
//!    every name/shape/index a claim or the conclusion refers to. Any problem
//!    here is [`CertError::Unreadable`]: the certificate says nothing checkable.
//! 2. *Checking*: every claim is decided exactly, then the conclusion. A false
//!    claim or an inconsistent conclusion is [`CertError::Invalid`].

mod check;
mod read;
mod schema;

use check::*;
use read::*;
use schema::*;

use std::collections::BTreeMap;
use std::fmt;

use num_rational::BigRational;

use crate::cost::{Limits, Meter};
use crate::matrix::{CMat, EXPIRED, MAX_DIM, MAX_ENTRY_BITS};
use crate::scalar::format_scalar;

/// The only `format` string this checker accepts.
pub const FORMAT: &str = "pespectra-certificate/1";

/// Largest number of claims (and, separately, of derived operations).
pub const MAX_CLAIMS: usize = 10_000;

/// Largest certificate text accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 << 20;

/// Why a certificate was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// It could not be read or interpreted: I/O, JSON syntax, schema, a bad
    /// scalar, a size limit, an unknown name or an out-of-range index.
    /// `pespectra verify` exits with 2.
    #[error("unreadable certificate: {0}")]
    Unreadable(String),
    /// It was read, but a claim is false or the conclusion does not follow.
    /// `claim` is the 0-based index of the failing claim (`None` for the
    /// conclusion). `pespectra verify` exits with 1.
    #[error("invalid certificate: {}: {message}", failing(claim))]
    Invalid {
        /// Index of the failing claim; `None` for the conclusion.
        claim: Option<usize>,
        /// What is false.
        message: String,
    },
    /// Checking it would cost more than the [`Limits`] allow (estimated before a step, or
    /// stopped by the wall-clock guard): it was not checked. `pespectra verify` exits with 2.
    #[error("certificate not checked (too costly): {0}")]
    TooCostly(String),
}

/// "claim i" or "conclusion".
fn failing(claim: &Option<usize>) -> String {
    match claim {
        Some(i) => format!("claim {i}"),
        None => "conclusion".into(),
    }
}

impl CertError {
    /// Process exit code of `pespectra verify` for this error (1 or 2).
    pub fn exit_code(&self) -> i32 {
        match self {
            CertError::Unreadable(_) | CertError::TooCostly(_) => 2,
            CertError::Invalid { .. } => 1,
        }
    }

    /// `true` for [`CertError::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, CertError::Invalid { .. })
    }

    /// `true` for [`CertError::Unreadable`].
    pub fn is_unreadable(&self) -> bool {
        matches!(self, CertError::Unreadable(_))
    }
}

/// The certificate's verdict on its statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The statement holds on this input, with a non-negative margin.
    Holds,
    /// The certificate is a counterexample: the (false) reading fails.
    Fails,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "HOLDS",
            Verdict::Fails => "FAILS",
        })
    }
}

/// What a valid certificate established.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The certificate's `id`.
    pub id: String,
    /// The certificate's statement, as written in it.
    pub statement: String,
    /// HOLDS or FAILS, as re-derived by the checker (not as claimed).
    pub verdict: Verdict,
    /// The exact margin (`rhs − lhs` for HOLDS, `lhs − rhs` for FAILS).
    pub margin: BigRational,
    /// Number of claims verified (all of them).
    pub claims_checked: usize,
    /// One line per claim, e.g. `"2 eigenvalue C[1] in [6, 6]"`.
    pub claim_summaries: Vec<String>,
    /// Estimated work spent, in the units of [`Limits::max_work`].
    pub work: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "VALID {} {}: {}", self.id, self.verdict, self.statement)?;
        writeln!(f, "margin {}", format_scalar(&self.margin))?;
        writeln!(f, "claims checked {}", self.claims_checked)?;
        for s in &self.claim_summaries {
            writeln!(f, "  {s}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- raw schema

/// Verify a certificate given as JSON text.
pub fn verify_str(text: &str) -> Result<Report, CertError> {
    verify_str_with(text, &Limits::default())
}

/// [`verify_str`] under explicit [`Limits`] on the work and the wall-clock time.
pub fn verify_str_with(text: &str, limits: &Limits) -> Result<Report, CertError> {
    let mut meter = Meter::new(*limits);
    if text.len() > MAX_INPUT_BYTES {
        return Err(unreadable(format!(
            "input larger than {MAX_INPUT_BYTES} bytes"
        )));
    }
    let raw: RawCert =
        serde_json::from_str(text).map_err(|e| unreadable(format!("JSON/schema: {e}")))?;
    if raw.format != FORMAT {
        return Err(unreadable(format!(
            "format {:?}, expected {FORMAT:?}",
            raw.format
        )));
    }
    let verdict = match raw.verdict.as_str() {
        "HOLDS" => Verdict::Holds,
        "FAILS" => Verdict::Fails,
        v => {
            return Err(unreadable(format!(
                "verdict {v:?} is neither HOLDS nor FAILS"
            )))
        }
    };
    if raw.claims.len() > MAX_CLAIMS {
        return Err(unreadable(format!("more than {MAX_CLAIMS} claims")));
    }
    if raw.derived.len() > MAX_CLAIMS {
        return Err(unreadable(format!(
            "more than {MAX_CLAIMS} derived operations"
        )));
    }

    // Pass 1a: input matrices.
    let mut mats: BTreeMap<String, CMat> = BTreeMap::new();
    for (name, m) in &raw.matrices {
        mats.insert(name.clone(), read_matrix(name, m)?);
    }
    // Pass 1b: derived matrices, in order.
    for (k, d) in raw.derived.iter().enumerate() {
        if d.name.is_empty() || mats.contains_key(&d.name) {
            return Err(unreadable(format!(
                "derived[{k}]: name {:?} is empty or already defined",
                d.name
            )));
        }
        let what = format!("derived[{k}] {:?}", d.name);
        meter.charge(&what, derive_cost(&mats, d))?;
        let m = derive(&mats, d, meter.clock()).map_err(|e| {
            if e == EXPIRED {
                meter.expired(&what)
            } else {
                unreadable(format!("{what}: {e}"))
            }
        })?;
        if m.rows > MAX_DIM || m.cols > MAX_DIM {
            return Err(unreadable(format!(
                "derived[{k}]: result exceeds {MAX_DIM}x{MAX_DIM}"
            )));
        }
        if m.max_bits() > MAX_ENTRY_BITS {
            return Err(unreadable(format!(
                "derived[{k}]: entries exceed {MAX_ENTRY_BITS} bits"
            )));
        }
        mats.insert(d.name.clone(), m);
    }
    // Pass 1c: claims and conclusion resolved against the matrices.
    let claims: Vec<Claim> = raw
        .claims
        .iter()
        .enumerate()
        .map(|(i, c)| resolve_claim(&mats, i, c))
        .collect::<Result<_, _>>()?;
    let lhs = resolve_bound(&claims, "lhs", &raw.conclusion.lhs)?;
    let rhs = resolve_bound(&claims, "rhs", &raw.conclusion.rhs)?;
    let strict = match raw.conclusion.rel.as_str() {
        "le" => false,
        "lt" => true,
        r => {
            return Err(unreadable(format!(
                "conclusion rel {r:?} is neither le nor lt"
            )))
        }
    };
    let margin = scalar(&raw.conclusion.margin, || "conclusion margin".into())?;

    // Pass 2: decide every claim exactly.
    let mut summaries = Vec::with_capacity(claims.len());
    for (i, c) in claims.iter().enumerate() {
        let what = format!("claim {i}");
        meter.charge(&what, claim_cost(&mats, c, meter.left()))?;
        let (summary, ok) = check_claim(&mats, c, meter.clock()).map_err(|e| match e {
            ClaimError::Expired => meter.expired(&what),
            ClaimError::Bad(message) => CertError::Invalid {
                claim: Some(i),
                message,
            },
        })?;
        if let Err(message) = ok {
            return Err(CertError::Invalid {
                claim: Some(i),
                message: format!("{summary}: {message}"),
            });
        }
        summaries.push(format!("{i} {summary}"));
    }

    // Pass 2b: the conclusion.
    check_conclusion(&claims, verdict, &lhs, &rhs, strict, &margin).map_err(|message| {
        CertError::Invalid {
            claim: None,
            message,
        }
    })?;

    Ok(Report {
        work: meter.spent(),
        id: raw.id,
        statement: raw.statement,
        verdict,
        margin,
        claims_checked: claims.len(),
        claim_summaries: summaries,
    })
}
