//! Writes `pespectra-certificate/1` documents (format: `proofs/CERTIFICATE_FORMAT.md`) for
//! small instances, so that the independent exact checker (`pespectra-certcheck`) can re-decide
//! the verdict without any of this crate's numerics.

use crate::ball::QComplex;
use faer::Mat;
use num_rational::BigRational;
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

/// A Gaussian-rational matrix given entrywise.
pub fn complex_matrix(n: usize, f: impl Fn(usize, usize) -> QComplex) -> Value {
    let entries: Vec<QComplex> = (0..n * n).map(|t| f(t / n, t % n)).collect();
    let re: Vec<String> = entries.iter().map(|z| scalar(&z.re)).collect();
    let im: Vec<String> = entries.iter().map(|z| scalar(&z.im)).collect();
    json!({"rows": n, "cols": n, "re": re, "im": im})
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
