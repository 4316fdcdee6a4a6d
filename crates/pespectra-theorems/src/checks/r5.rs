//! R5, refuted in exact rationals: under a causal mask the logits are triangular, so RoPE
//! cannot change their eigenvalues (the diagonal).

use crate::certificate::{self as cert, Bound, Certificate, CertificateError, Claim, End, Op, Rel};
use crate::exact::{f, q, qc};
use crate::exact_rope::{differences, exact_rope, random_content, rope_cert, ExactRope};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;

pub(crate) const ENTRY: Entry = Entry {
    id: "R5",
    statement:
        "false: RoPE changes the eigenvalues of causally masked logits (they are the diagonal)",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// R5: under a causal mask the logit matrix is triangular, so its eigenvalues are its diagonal,
/// and RoPE does not change the diagonal (E_ii = 1): the masked RoPE and NoPE logits differ
/// while their eigenvalues are identical — "RoPE contracts causal-logit eigenvalues" is vacuous.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let (n, d) = (8, 4);
    let mut r = rng(p, 25);
    for attempt in 0..32 {
        let (qv, kv) = (random_content(&mut r, n, d), random_content(&mut r, n, d));
        let e = exact_rope(n, d, &qv, &kv);
        let same_diag = (0..n).all(|i| e.rope[i][i] == e.content[i][i]);
        let mut change = BigRational::zero();
        for i in 0..n {
            for j in 0..i {
                let diff = (&e.rope[i][j] - &e.content[i][j]).abs();
                if diff > change {
                    change = diff;
                }
            }
        }
        if same_diag && !change.is_zero() {
            let out = Outcome::new(Verdict::Fails, f(&change), format!("attempt {attempt}: n = {n}, d = {d}: masked RoPE logits differ from masked NoPE logits by up to {change} below the diagonal, yet both are triangular with the same diagonal, hence identical eigenvalues (exact); singular values still obey T4"));
            return Ok(out.with_certificate(
                p.certificates
                    .then(|| r5_certificate(n, d, &qv, &kv, &e))
                    .transpose()?,
            ));
        }
    }
    Ok(Outcome::inconclusive("no instance found"))
}

/// R5 certificate: the checker derives the causally masked RoPE and NoPE logits; their
/// difference is non-zero (certified top singular value > 0) while its diagonal is exactly zero
/// (the Jordan–Wielandt matrix of diag(difference) has top eigenvalue exactly 0). Both masked
/// matrices are lower triangular, so their eigenvalues are their (identical) diagonals.
fn r5_certificate(
    n: usize,
    d: usize,
    qv: &[Vec<i64>],
    kv: &[Vec<i64>],
    e: &ExactRope,
) -> Result<Value, CertificateError> {
    let mut c = Certificate::new(
        "R5",
        "FALSE reading: under a causal mask RoPE changes (contracts) the eigenvalues of the logit matrix; the masked logits are triangular, so their eigenvalues are their diagonal, which RoPE leaves unchanged",
        Verdict::Fails,
    );
    rope_cert(&mut c, n, d, qv, kv);
    c.matrix(
        "I",
        cert::rational_matrix(n, n, |i, j| qc(i64::from(i == j), 0)),
    );
    c.derive("Kt", Op::Adjoint, &["K"]);
    c.derive("C", Op::Matmul, &["Q", "Kt"]);
    c.derive("ML", Op::MaskLower, &["L"]);
    c.derive("MC", Op::MaskLower, &["C"]);
    c.derive("D", Op::Sub, &["ML", "MC"]);
    c.derive("JD", Op::JordanWielandt, &["D"]);
    c.derive("X", Op::Hadamard, &["D", "I"]);
    c.derive("JX", Op::JordanWielandt, &["X"]);
    let masked = |m: &[Vec<BigRational>]| -> Vec<Vec<BigRational>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| if j <= i { m[i][j].clone() } else { q(0) })
                    .collect()
            })
            .collect()
    };
    let (claim, _) =
        Claim::top_singular_value("JD", &differences(&masked(&e.rope), &masked(&e.content)));
    let moved = c.claim(claim);
    let diagonal = c.claim(Claim::eigenvalue_exact("JX", 1, "0", "0"));
    c.notes(format!("Produced by pespectra-theorems (exact rationals). L and C = Q K^T are the RoPE and NoPE logits of integer Q, K (n = {n}, d = {d}; derivation as in the R4 certificate); ML, MC their causal masks (lower triangular), D = ML - MC. Claim {}: sigma_1(D) > 0, so RoPE does change the masked logits. Claim {}: X = diag(D) has sigma_1(X) = 0 exactly, so diag(ML) = diag(MC); the eigenvalues of a triangular matrix are its diagonal entries, hence max_i |lambda_i(ML) - lambda_i(MC)| <= sigma_1(X) = 0. The reading 'the eigenvalues move' (0 < sigma_1(X)) is false: eigenvalue contraction is vacuous under a causal mask (singular values still obey T4).", moved.index(), diagonal.index()));
    c.finish(
        Bound::Value("0".into()),
        Rel::Lt,
        Bound::Claim(diagonal, End::Hi),
        "0".into(),
    )
}
