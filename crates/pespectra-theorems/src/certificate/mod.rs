//! Writes `pespectra-certificate/1` documents (format: `proofs/CERTIFICATE_FORMAT.md`) for
//! small instances, so that the independent exact checker (`pespectra-certcheck`) can re-decide
//! the verdict without any of this crate's numerics.
//!
//! Every producer builds its document through [`Certificate`]: claims are added as typed
//! [`Claim`]s and referred to by the [`ClaimId`] the builder hands back (never by a positional
//! index), derived matrices by typed [`Op`]s, and [`Certificate::finish`] refuses a document
//! whose names do not resolve, so a producer cannot write a certificate the checker would read
//! differently from what it meant. The checker keeps its own reader of the format.
//!
//! ```
//! use pespectra_theorems::certificate::{Bound, Certificate, Claim, End, Op, Rel, real_matrix};
//! use pespectra_theorems::Verdict;
//! use faer::Mat;
//! let mut c = Certificate::new("X", "lambda_max(2A) <= 3", Verdict::Holds);
//! c.matrix("A", real_matrix(&Mat::from_fn(1, 1, |_, _| 1.0)));
//! c.derive("B", Op::Scale("2".into()), &["A"]);
//! let top = c.claim(Claim::eigenvalue_exact("B", 1, "2", "2"));
//! let doc = c
//!     .finish(Bound::Claim(top, End::Hi), Rel::Le, Bound::Value("3".into()), "1".into())
//!     .unwrap();
//! assert_eq!(doc["conclusion"]["lhs"]["claim"], 0);
//! ```

mod claim;
mod scalars;

pub use claim::{Claim, Op};
pub use scalars::{
    cmat_matrix, complex_matrix, f64_scalar, margin, margin_over, rational_matrix, real_matrix,
    scalar, Matrix,
};

use crate::Verdict;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Largest n for which certificates are emitted (exact inertia grows like n³ times entry size).
pub const MAX_CERT_N: usize = 16;

/// A document that would not mean what its producer meant (a bug in the producer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Two matrices (given or derived) share a name.
    #[error("certificate: matrix name {0:?} is defined twice")]
    DuplicateName(String),
    /// A derived matrix or a claim names a matrix not defined before it.
    #[error("certificate: {user} refers to the undefined matrix {name:?}")]
    UnknownName {
        /// What refers to it ("derived D", "claim 3").
        user: String,
        /// The missing name.
        name: String,
    },
    /// A conclusion refers to a claim of another document.
    #[error("certificate: the conclusion refers to claim {0}, which this document does not have")]
    UnknownClaim(usize),
    /// Only HOLDS and FAILS are certified.
    #[error("certificate: an INCONCLUSIVE verdict has nothing to certify")]
    NoVerdict,
}

#[derive(Serialize)]
struct Derived {
    name: String,
    op: &'static str,
    args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scalar: Option<String>,
}

/// A claim of the document being built: the only way to refer to one in a conclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimId(usize);

impl ClaimId {
    /// Its 0-based position in the document's `claims` (for notes that cite it).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Which end of a claimed enclosure a conclusion reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The lower end.
    Lo,
    /// The upper end.
    Hi,
}

/// One side of the conclusion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    /// An end of a claim's enclosure.
    Claim(ClaimId, End),
    /// An exact scalar.
    Value(String),
}

/// The conclusion's relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rel {
    /// `lhs ≤ rhs`.
    Le,
    /// `lhs < rhs`.
    Lt,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RawBound {
    Claim { claim: usize, end: &'static str },
    Value { value: String },
}

#[derive(Serialize)]
struct Conclusion {
    lhs: RawBound,
    rel: Rel,
    rhs: RawBound,
    margin: String,
}

#[derive(Serialize)]
struct Document {
    format: &'static str,
    id: String,
    statement: String,
    verdict: &'static str,
    notes: String,
    matrices: BTreeMap<String, Matrix>,
    derived: Vec<Derived>,
    claims: Vec<Claim>,
    conclusion: Conclusion,
}

/// A certificate under construction.
pub struct Certificate {
    id: String,
    statement: String,
    verdict: Verdict,
    notes: String,
    matrices: Vec<(String, Matrix)>,
    derived: Vec<Derived>,
    claims: Vec<Claim>,
}

impl Certificate {
    /// A document certifying `verdict` (HOLDS or FAILS) of catalogue entry `id`'s `statement`.
    pub fn new(id: &str, statement: &str, verdict: Verdict) -> Self {
        Self {
            id: id.into(),
            statement: statement.into(),
            verdict,
            notes: "produced by pespectra-theorems (verified f64 enclosures written as exact dyadic rationals)".into(),
            matrices: Vec::new(),
            derived: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// Replaces the notes (the derivation a reader needs to link the verified claims to the
    /// catalogue statement).
    pub fn notes(&mut self, notes: impl Into<String>) -> &mut Self {
        self.notes = notes.into();
        self
    }

    /// Adds an exact input matrix.
    pub fn matrix(&mut self, name: impl Into<String>, m: Matrix) -> &mut Self {
        self.matrices.push((name.into(), m));
        self
    }

    /// Adds the matrix `name = op(args)`.
    pub fn derive(&mut self, name: impl Into<String>, op: Op, args: &[&str]) -> &mut Self {
        let scalar = match &op {
            Op::Scale(s) => Some(s.clone()),
            _ => None,
        };
        self.derived.push(Derived {
            name: name.into(),
            op: op.name(),
            args: args.iter().map(|a| a.to_string()).collect(),
            scalar,
        });
        self
    }

    /// Adds a claim and returns its handle.
    pub fn claim(&mut self, c: Claim) -> ClaimId {
        self.claims.push(c);
        ClaimId(self.claims.len() - 1)
    }

    /// The document with the conclusion `lhs rel rhs` and its exact `margin`, after checking
    /// that every name resolves (inputs first, then each derived matrix from earlier ones),
    /// no name is defined twice, and the conclusion's claims exist.
    pub fn finish(
        self,
        lhs: Bound,
        rel: Rel,
        rhs: Bound,
        margin: String,
    ) -> Result<serde_json::Value, CertificateError> {
        let verdict = match self.verdict {
            Verdict::Inconclusive => return Err(CertificateError::NoVerdict),
            v => v.as_str(),
        };
        let mut known = BTreeSet::new();
        for (name, _) in &self.matrices {
            if !known.insert(name.clone()) {
                return Err(CertificateError::DuplicateName(name.clone()));
            }
        }
        for d in &self.derived {
            if let Some(a) = d.args.iter().find(|a| !known.contains(*a)) {
                return Err(CertificateError::UnknownName {
                    user: format!("derived {}", d.name),
                    name: a.clone(),
                });
            }
            if !known.insert(d.name.clone()) {
                return Err(CertificateError::DuplicateName(d.name.clone()));
            }
        }
        for (k, c) in self.claims.iter().enumerate() {
            if !known.contains(c.matrix()) {
                return Err(CertificateError::UnknownName {
                    user: format!("claim {k}"),
                    name: c.matrix().into(),
                });
            }
        }
        let raw = |b: Bound| match b {
            Bound::Claim(ClaimId(k), _) if k >= self.claims.len() => {
                Err(CertificateError::UnknownClaim(k))
            }
            Bound::Claim(ClaimId(k), end) => Ok(RawBound::Claim {
                claim: k,
                end: match end {
                    End::Lo => "lo",
                    End::Hi => "hi",
                },
            }),
            Bound::Value(value) => Ok(RawBound::Value { value }),
        };
        let conclusion = Conclusion {
            lhs: raw(lhs)?,
            rel,
            rhs: raw(rhs)?,
            margin,
        };
        let doc = Document {
            format: "pespectra-certificate/1",
            id: self.id,
            statement: self.statement,
            verdict,
            notes: self.notes,
            matrices: self.matrices.into_iter().collect(),
            derived: self.derived,
            claims: self.claims,
            conclusion,
        };
        Ok(serde_json::to_value(doc).expect("the document types serialize to JSON"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    fn one() -> Matrix {
        real_matrix(&Mat::from_fn(1, 1, |_, _| 1.0))
    }

    #[test]
    fn names_must_resolve() {
        let mut c = Certificate::new("X", "s", Verdict::Holds);
        c.matrix("A", one());
        c.derive("B", Op::Hadamard, &["A", "Z"]);
        let k = c.claim(Claim::psd("A"));
        assert_eq!(
            c.finish(
                Bound::Claim(k, End::Lo),
                Rel::Le,
                Bound::Value("1".into()),
                "0".into()
            ),
            Err(CertificateError::UnknownName {
                user: "derived B".into(),
                name: "Z".into()
            })
        );
        let mut c = Certificate::new("X", "s", Verdict::Fails);
        c.matrix("A", one()).matrix("A", one());
        let k = c.claim(Claim::psd("A"));
        assert_eq!(
            c.finish(
                Bound::Claim(k, End::Lo),
                Rel::Le,
                Bound::Value("1".into()),
                "0".into()
            ),
            Err(CertificateError::DuplicateName("A".into()))
        );
        let mut c = Certificate::new("X", "s", Verdict::Fails);
        c.matrix("A", one());
        let k = c.claim(Claim::psd("B"));
        assert!(matches!(
            c.finish(
                Bound::Claim(k, End::Lo),
                Rel::Le,
                Bound::Value("1".into()),
                "0".into()
            ),
            Err(CertificateError::UnknownName { .. })
        ));
    }

    #[test]
    fn claims_from_another_document_and_inconclusive_verdicts_are_refused() {
        let mut other = Certificate::new("X", "s", Verdict::Holds);
        other.matrix("A", one());
        other.claim(Claim::psd("A"));
        let foreign = other.claim(Claim::psd("A"));
        let mut c = Certificate::new("X", "s", Verdict::Holds);
        c.matrix("A", one());
        c.claim(Claim::psd("A"));
        assert_eq!(
            c.finish(
                Bound::Claim(foreign, End::Hi),
                Rel::Lt,
                Bound::Value("1".into()),
                "0".into()
            ),
            Err(CertificateError::UnknownClaim(1))
        );
        let c = Certificate::new("X", "s", Verdict::Inconclusive);
        assert_eq!(
            c.finish(
                Bound::Value("0".into()),
                Rel::Le,
                Bound::Value("1".into()),
                "1".into()
            ),
            Err(CertificateError::NoVerdict)
        );
    }

    /// The written document reads back in the checker's format with the claim indices the
    /// handles stood for.
    #[test]
    fn handles_become_the_indices_the_checker_reads() {
        let mut c = Certificate::new("X", "s", Verdict::Fails);
        c.matrix("A", one());
        c.derive("S", Op::Scale("2".into()), &["A"]);
        c.claim(Claim::unit_diagonal("A"));
        let lo = c.claim(Claim::eigenvalue_exact("S", 1, "2", "2"));
        let doc = c
            .finish(
                Bound::Claim(lo, End::Lo),
                Rel::Le,
                Bound::Value("1".into()),
                "1".into(),
            )
            .unwrap();
        assert_eq!(doc["conclusion"]["lhs"]["claim"], 1);
        assert_eq!(doc["conclusion"]["lhs"]["end"], "lo");
        assert_eq!(doc["derived"][0]["scalar"], "2");
        assert!(doc["matrices"]["A"]["im"].is_null());
        assert_eq!(doc["claims"][1]["kind"], "eigenvalue");
    }
}
