//! # pespectra
//!
//! Proves, rather than plots, what positional encodings do to attention. This facade is the one
//! dependency a Rust user adds; it re-exports the stable API of the workspace's crates:
//!
//! | need | items |
//! |---|---|
//! | verified eigen- and singular values | [`eigenvalues`], [`singular_values`], [`EigOptions`], [`SpectrumEnclosure`], [`HermitianInput`], [`CMat`] |
//! | the theorem catalogue (HOLDS / FAILS / INCONCLUSIVE) | [`catalogue`], [`check`], [`check_matrices`], [`Params`], [`CheckResult`], [`Verdict`] |
//! | certificates, checked by code sharing nothing with the producer | [`verify_certificate`], [`certcheck`] |
//! | property campaigns on all cores | [`campaign`] |
//! | attention core (SIMD flash path, f64 reference, logits mode) | [`attention`] |
//! | audits of trained heads and the model registry | [`audit`], [`sources`], [`models`], [`capture`] |
//! | the arithmetic and the PE reference underneath | [`arith`], [`pe`], [`spectra`], [`theorems`] |
//!
//! With the default `nalgebra` feature, any dense nalgebra matrix of `f64` or `Complex<f64>`
//! (dynamic, static or a view) converts into a [`HermitianInput`] or a [`CMat`], enclosures come
//! back as nalgebra vectors of bounds ([`SpectrumEnclosure::bounds`]), and attention inputs can
//! be borrowed from `dim × tokens` matrices. [`nalgebra`] itself is re-exported so the versions
//! match.
//!
//! ```
//! use pespectra::nalgebra::DMatrix;
//! use pespectra::{check_matrices, eigenvalues, CMat, EigOptions, HermitianInput, Verdict};
//!
//! // the ALiBi distance matrix [|i − j|] of size 4
//! let d = DMatrix::from_fn(4, 4, |i, j| (i as f64 - j as f64).abs());
//! let enc = eigenvalues(&HermitianInput::try_from(&d)?, &EigOptions::default())?;
//! let (lo, hi) = enc.bounds();
//! assert!(lo[0] > 0.0 && hi[1] < 0.0); // one positive, three negative eigenvalues
//!
//! // T3 (majorization λ(A∘B) ≺ λ(A)) on A = D and B = (I + cos((i − j)·0.3))/2, a damped RoPE
//! // kernel: unit diagonal, PSD (λmin ≥ 1/2) — both hypotheses are verified, then the claim.
//! let b = DMatrix::from_fn(4, 4, |i, j| {
//!     if i == j { 1.0 } else { 0.5 * ((i as f64 - j as f64) * 0.3).cos() }
//! });
//! let r = check_matrices("T3", &CMat::from(&d), Some(&CMat::from(&b)))?;
//! assert_eq!(r.verdict, Verdict::Holds);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub use pespectra_arith as arith;
pub use pespectra_attention as attention;
pub use pespectra_audit as audit;
pub use pespectra_campaign as campaign;
pub use pespectra_capture as capture;
pub use pespectra_certcheck as certcheck;
pub use pespectra_models as models;
pub use pespectra_pe as pe;
pub use pespectra_sources as sources;
pub use pespectra_spectra as spectra;
pub use pespectra_theorems as theorems;

#[cfg(feature = "nalgebra")]
pub use nalgebra;

pub use pespectra_spectra::matrix::{CMat, HermitianInput};
pub use pespectra_spectra::{
    eigenvalues, singular_values, singular_values_ball, EigOptions, Precision, SpectraError,
    SpectrumEnclosure,
};
pub use pespectra_theorems::{
    catalogue, run as check, run_on as check_matrices, user_matrix_ids, CheckError, CheckResult,
    Entry, Operands, Params, Verdict,
};

/// Verifies a `pespectra-certificate/1` document with the independent exact-rational checker
/// ([`certcheck`]) under its default cost limits.
pub fn verify_certificate(text: &str) -> Result<certcheck::Report, certcheck::CertError> {
    certcheck::verify_str(text)
}
