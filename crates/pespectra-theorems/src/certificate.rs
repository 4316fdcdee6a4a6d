//! Writes `pespectra-certificate/1` documents (format: `proofs/CERTIFICATE_FORMAT.md`) for
//! small instances, so that the independent exact checker (`pespectra-certcheck`) can re-decide
//! the verdict without any of this crate's numerics.

use crate::ball::QComplex;
use faer::Mat;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use pespectra_arith::interval::Interval;
use serde_json::{json, Value};

/// Largest n for which certificates are emitted (exact inertia grows like n³ times entry size).
pub const MAX_CERT_N: usize = 16;

/// Exact decimal-free scalar: "p/q" or "p".
pub fn scalar(x: &BigRational) -> String {
    if x.denom() == &1.into() {
        x.numer().to_string()
    } else {
        format!("{}/{}", x.numer(), x.denom())
    }
}

/// The exact value of an f64 as a scalar string.
pub fn f64_scalar(x: f64) -> String {
    scalar(&BigRational::from_float(x).expect("finite"))
}

/// A real f64 matrix, exactly.
pub fn real_matrix(m: &Mat<f64>) -> Value {
    let re: Vec<String> = (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| f64_scalar(m[(i, j)]))
        .collect();
    json!({"rows": m.nrows(), "cols": m.ncols(), "re": re, "im": null})
}

/// A Gaussian-rational n×n matrix given entrywise.
pub fn complex_matrix(n: usize, f: impl Fn(usize, usize) -> QComplex) -> Value {
    rational_matrix(n, n, f)
}

/// A Gaussian-rational `rows × cols` matrix given entrywise (`im` null when every entry is
/// real, as the format allows).
pub fn rational_matrix(rows: usize, cols: usize, f: impl Fn(usize, usize) -> QComplex) -> Value {
    let entries: Vec<QComplex> = (0..rows * cols).map(|t| f(t / cols, t % cols)).collect();
    let re: Vec<String> = entries.iter().map(|z| scalar(&z.re)).collect();
    let im: Value = if entries.iter().all(|z| z.im.is_zero()) {
        Value::Null
    } else {
        entries.iter().map(|z| scalar(&z.im)).collect()
    };
    json!({"rows": rows, "cols": cols, "re": re, "im": im})
}

/// Claim that the top eigenvalue of `jw`, the Jordan–Wielandt matrix of a real matrix D with
/// the given exact entries, lies in `[max |d_ij|, Σ |d_ij|]`: `|d_ij| = |e_iᵀ D e_j| ≤ σ₁(D)`
/// and `σ₁(D) ≤ ‖D‖_F ≤ Σ |d_ij|`, and the top eigenvalue of `[[0, D], [Dᵀ, 0]]` is σ₁(D).
/// A positive lower end certifies `D ≠ 0` (the checker re-decides both ends by exact inertia).
pub fn top_singular_value_claim(jw: &str, entries: &[BigRational]) -> (Value, BigRational) {
    let abs: Vec<BigRational> = entries.iter().map(|x| x.abs()).collect();
    let lo = abs.iter().max().cloned().unwrap_or_else(BigRational::zero);
    let hi = abs.iter().fold(BigRational::zero(), |s, x| s + x);
    (
        json!({"kind": "eigenvalue", "matrix": jw, "index": 1, "lo": scalar(&lo), "hi": scalar(&hi)}),
        lo,
    )
}

/// Claim: the k-th largest (1-based) eigenvalue of `matrix` lies in the f64 enclosure `iv`.
pub fn eigenvalue_claim(matrix: &str, k: usize, iv: Interval) -> Value {
    json!({"kind": "eigenvalue", "matrix": matrix, "index": k, "lo": f64_scalar(iv.lo()), "hi": f64_scalar(iv.hi())})
}

/// Exact margin of a conclusion between two f64 endpoints (`a − b`).
pub fn margin(a: f64, b: f64) -> String {
    scalar(
        &(BigRational::from_float(a).expect("finite")
            - BigRational::from_float(b).expect("finite")),
    )
}

/// Assembles a certificate.
pub fn document(
    id: &str,
    statement: &str,
    verdict: &str,
    matrices: Value,
    derived: Value,
    claims: Vec<Value>,
    conclusion: Value,
) -> Value {
    json!({
        "format": "pespectra-certificate/1",
        "id": id,
        "statement": statement,
        "verdict": verdict,
        "notes": "produced by pespectra-theorems (verified f64 enclosures written as exact dyadic rationals)",
        "matrices": matrices,
        "derived": derived,
        "claims": claims,
        "conclusion": conclusion,
    })
}

/// Replaces a document's `notes` (the derivation a reader needs to link the verified claims
/// to the catalogue statement).
pub fn with_notes(mut doc: Value, notes: &str) -> Value {
    doc["notes"] = notes.into();
    doc
}
