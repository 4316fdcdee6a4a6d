//! R3, refuted: a unit-diagonal Toeplitz kernel that is not PSD expands the spectrum.

use crate::ball::Ball;
use crate::certificate as cert;
use crate::enclose::eig;
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::matrix::CMat;
use rand::Rng;
use serde_json::json;

pub(crate) const ENTRY: Entry = Entry {
    id: "R3",
    statement: "false: any unit-diagonal Toeplitz kernel contracts (PSD is needed)",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// R3: a unit-diagonal Toeplitz kernel that is not PSD expands the spectrum of A = 11ᵀ.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let mut r = rng(p, 12);
    for attempt in 0..64 {
        let n = 2 + attempt % 4;
        let t: Vec<f64> = (0..n)
            .map(|k| {
                if k == 0 {
                    1.0
                } else {
                    r.gen_range(-6i32..=6) as f64
                }
            })
            .collect();
        let b = Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| t[i.abs_diff(j)])));
        let a = Ball::exact(CMat::real(Mat::from_fn(n, n, |_, _| 1.0)));
        let (ea, eb, ec) = (
            eig(&a.hermitian_input()?)?,
            eig(&b.hermitian_input()?)?,
            eig(&a.hadamard(&b).hermitian_input()?)?,
        );
        let not_psd = eb[n - 1].hi() < 0.0;
        let viol = (ec[0] - ea[0]).lo().max((ea[n - 1] - ec[n - 1]).lo());
        if not_psd && viol > 0.0 {
            return Ok(Outcome::new(Verdict::Fails, viol, format!("attempt {attempt}: A = 11ᵀ ({n}×{n}), B Toeplitz with first row {t:?} (unit diagonal, λmin(B) ≤ {:.4} < 0): spec(A∘B) ⊂ [{:.4}, {:.4}] leaves [λmin(A), λmax(A)] = [0, {n}]", eb[n - 1].hi(), ec[n - 1].lo(), ec[0].hi())).with_certificate(p.certificates.then(|| r3_certificate(&a, &b, &ea, &eb, &ec))));
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no certified counterexample in 64 attempts".into(),
    })
}

/// Certificate of an R3 counterexample: whichever end of spec(A∘B) provably leaves A's range,
/// plus B's unit diagonal and a certified negative eigenvalue (B is not PSD).
fn r3_certificate(
    a: &Ball,
    b: &Ball,
    ea: &[Interval],
    eb: &[Interval],
    ec: &[Interval],
) -> serde_json::Value {
    let n = a.n();
    let top = (ec[0] - ea[0]).lo() > 0.0;
    let (claims, conclusion) = if top {
        (
            vec![
                json!({"kind": "unit_diagonal", "matrix": "B"}),
                cert::eigenvalue_claim("B", n, eb[n - 1]),
                cert::eigenvalue_claim("C", 1, ec[0]),
                cert::eigenvalue_claim("A", 1, ea[0]),
            ],
            json!({"lhs": {"claim": 2, "end": "lo"}, "rel": "le", "rhs": {"claim": 3, "end": "hi"}, "margin": cert::margin(ec[0].lo(), ea[0].hi())}),
        )
    } else {
        (
            vec![
                json!({"kind": "unit_diagonal", "matrix": "B"}),
                cert::eigenvalue_claim("B", n, eb[n - 1]),
                cert::eigenvalue_claim("A", n, ea[n - 1]),
                cert::eigenvalue_claim("C", n, ec[n - 1]),
            ],
            json!({"lhs": {"claim": 2, "end": "lo"}, "rel": "le", "rhs": {"claim": 3, "end": "hi"}, "margin": cert::margin(ea[n - 1].lo(), ec[n - 1].hi())}),
        )
    };
    cert::document(
        "R3",
        "FALSE reading: every unit-diagonal Toeplitz kernel contracts, spec(A o B) within [lambda_min(A), lambda_max(A)] (B is not PSD here)",
        "FAILS",
        json!({"A": cert::real_matrix(&a.center.re), "B": cert::real_matrix(&b.center.re)}),
        json!([{"name": "C", "op": "hadamard", "args": ["A", "B"]}]),
        claims,
        conclusion,
    )
}
