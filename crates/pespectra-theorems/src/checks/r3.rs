//! R3, refuted: a unit-diagonal Toeplitz kernel that is not PSD expands the spectrum.

use crate::certificate::{self as cert, Bound, Certificate, CertificateError, Claim, End, Op, Rel};
use crate::enclose::eig;
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;
use rand::Rng;

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
            return Ok(Outcome::new(Verdict::Fails, viol, format!("attempt {attempt}: A = 11ᵀ ({n}×{n}), B Toeplitz with first row {t:?} (unit diagonal, λmin(B) ≤ {:.4} < 0): spec(A∘B) ⊂ [{:.4}, {:.4}] leaves [λmin(A), λmax(A)] = [0, {n}]", eb[n - 1].hi(), ec[n - 1].lo(), ec[0].hi())).with_certificate(p.certificates.then(|| r3_certificate(&a, &b, &ea, &eb, &ec)).transpose()?));
        }
    }
    Ok(Outcome::inconclusive(
        "no certified counterexample in 64 attempts",
    ))
}

/// Certificate of an R3 counterexample: whichever end of spec(A∘B) provably leaves A's range,
/// plus B's unit diagonal and a certified negative eigenvalue (B is not PSD).
fn r3_certificate(
    a: &Ball,
    b: &Ball,
    ea: &[Interval],
    eb: &[Interval],
    ec: &[Interval],
) -> Result<serde_json::Value, CertificateError> {
    let n = a.n();
    let mut c = Certificate::new(
        "R3",
        "FALSE reading: every unit-diagonal Toeplitz kernel contracts, spec(A o B) within [lambda_min(A), lambda_max(A)] (B is not PSD here)",
        Verdict::Fails,
    );
    c.matrix("A", cert::real_matrix(&a.center.re));
    c.matrix("B", cert::real_matrix(&b.center.re));
    c.derive("C", Op::Hadamard, &["A", "B"]);
    c.claim(Claim::unit_diagonal("B"));
    c.claim(Claim::eigenvalue("B", n, eb[n - 1]));
    // whichever end of spec(A∘B) provably leaves [λmin(A), λmax(A)]
    let (above, below, margin) = if (ec[0] - ea[0]).lo() > 0.0 {
        let above = c.claim(Claim::eigenvalue("C", 1, ec[0]));
        let below = c.claim(Claim::eigenvalue("A", 1, ea[0]));
        (above, below, cert::margin(ec[0].lo(), ea[0].hi()))
    } else {
        let above = c.claim(Claim::eigenvalue("A", n, ea[n - 1]));
        let below = c.claim(Claim::eigenvalue("C", n, ec[n - 1]));
        (above, below, cert::margin(ea[n - 1].lo(), ec[n - 1].hi()))
    };
    c.finish(
        Bound::Claim(above, End::Lo),
        Rel::Le,
        Bound::Claim(below, End::Hi),
        margin,
    )
}
