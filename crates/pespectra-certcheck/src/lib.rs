//! Independent checker for pespectra certificates.
//!
//! A certificate (`pespectra-certificate/1`, specified in
//! `proofs/CERTIFICATE_FORMAT.md`) carries the exact input of a spectral check
//! — every `f64` written as the dyadic rational it is — together with the
//! claimed bounds and a conclusion. This crate re-verifies it with exact
//! rational arithmetic only (`num-bigint`/`num-rational`): eigenvalue
//! enclosures are decided by exact inertia counts (fraction-free symmetric
//! elimination and Sylvester's law of inertia), never by floating point.
//!
//! # Why a separate crate
//! The producer computes enclosures with directed rounding, MPFR and verified
//! GEMM bounds; a subtle bug there could make it certify a false bound. This
//! checker shares no numeric code with the producer (its only dependencies are
//! `num-bigint`, `num-rational`, `num-traits` and `serde`), so a certificate it
//! accepts is correct unless *both* implementations are wrong in the same way.
//!
//! # Example
//! The false reading R3 ("any unit-diagonal kernel contracts"): with
//! `A = 11ᵀ` and `B = [[1,5],[5,1]]`, `λ_max(A∘B) = 6 > 2 = λ_max(A)`.
//!
//! ```
//! use pespectra_certcheck::{verify_str, Verdict};
//! let cert = r#"{
//!   "format": "pespectra-certificate/1",
//!   "id": "R3",
//!   "statement": "lambda_max(A o B) <= lambda_max(A) for unit-diagonal B",
//!   "verdict": "FAILS",
//!   "matrices": {
//!     "A": {"rows": 2, "cols": 2, "re": ["1", "1", "1", "1"], "im": null},
//!     "B": {"rows": 2, "cols": 2, "re": ["1", "5", "5", "1"]}
//!   },
//!   "derived": [{"name": "C", "op": "hadamard", "args": ["A", "B"]}],
//!   "claims": [
//!     {"kind": "unit_diagonal", "matrix": "B"},
//!     {"kind": "eigenvalue", "matrix": "C", "index": 1, "lo": "6", "hi": "6"},
//!     {"kind": "eigenvalue", "matrix": "A", "index": 1, "lo": "2", "hi": "2"}
//!   ],
//!   "conclusion": {"lhs": {"claim": 1, "end": "lo"}, "rel": "le",
//!                  "rhs": {"claim": 2, "end": "hi"}, "margin": "4"}
//! }"#;
//! let report = verify_str(cert).unwrap();
//! assert_eq!(report.verdict, Verdict::Fails);
//! assert_eq!(report.margin.to_string(), "4");
//!
//! // Moving the lower end of claim 1 up by one f64 ulp (6 + 2^-50) is caught.
//! let tampered = cert.replace(r#""lo": "6""#, r#""lo": "6755399441055745/1125899906842624""#);
//! let err = verify_str(&tampered).unwrap_err();
//! assert!(err.is_invalid());
//! assert_eq!(err.exit_code(), 1);
//! ```

#![warn(missing_docs)]
use std::path::Path;

mod cert;
pub mod cost;
pub mod inertia;
pub mod matrix;
pub mod scalar;

pub use cert::{
    verify_str, verify_str_with, CertError, Report, Verdict, FORMAT, MAX_CLAIMS, MAX_INPUT_BYTES,
};
pub use cost::{Limits, DEFAULT_MAX_SECONDS, DEFAULT_MAX_WORK};

/// Read and verify a certificate file. I/O errors (missing file, not UTF-8,
/// larger than [`MAX_INPUT_BYTES`]) are [`CertError::Unreadable`].
pub fn verify_file(path: &Path) -> Result<Report, CertError> {
    verify_file_with(path, &Limits::default())
}

/// [`verify_file`] under explicit [`Limits`].
pub fn verify_file_with(path: &Path, limits: &Limits) -> Result<Report, CertError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CertError::Unreadable(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_INPUT_BYTES as u64 {
        return Err(CertError::Unreadable(format!(
            "{}: larger than {MAX_INPUT_BYTES} bytes",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CertError::Unreadable(format!("{}: {e}", path.display())))?;
    verify_str_with(&text, limits)
}

/// Exit code of `pespectra verify` for a verification result: 0 valid,
/// 1 invalid, 2 unreadable.
pub fn exit_code(result: &Result<Report, CertError>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(e) => e.exit_code(),
    }
}
