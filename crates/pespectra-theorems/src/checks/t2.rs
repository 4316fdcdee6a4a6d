//! T2: the Schur bound on spec(A∘B) for A Hermitian and B PSD, on a seeded instance or user
//! matrices.

use crate::ball::{PythagoreanAngle, QComplex, ANGLES};
use crate::certificate::{self as cert, Bound, Certificate, Claim, End, Op, Rel, MAX_CERT_N};
use crate::enclose::eig;
use crate::hypotheses::a_and_psd_b;
use crate::instances::{random_symmetric, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;

pub(crate) const ENTRY: Entry = Entry {
    id: "T2",
    statement:
        "A Hermitian, B PSD: spec(A∘B) ⊂ [min(λmin·βmin, λmin·βmax), max(λmax·βmin, λmax·βmax)]",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::AAndB,
        homogeneity: Homogeneity::InEach,
        check: on_matrices,
    }),
};

/// T2 on A random symmetric and B the real RoPE kernel (PSD by construction, unit diagonal).
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n;
    let a = random_symmetric(&mut rng(p, 3), n);
    let b = ANGLES[0].cos_kernel(n);
    let exact = (p.certificates && n <= MAX_CERT_N).then(|| {
        let pw = ANGLES[0].powers(n);
        let b = cert::complex_matrix(n, |i, j| {
            QComplex::new(
                PythagoreanAngle::kernel_entry(&pw, i, j).re,
                num_rational::BigRational::from_integer(0.into()),
            )
        });
        (cert::real_matrix(&a.center.re), b)
    });
    instance(
        &a,
        &b,
        exact,
        "A random symmetric, B = cos((j−i)θ) with cos θ = 3/5 (PSD: B = vvᵀ + wwᵀ exactly)",
    )
}

/// T2 on balls A (Hermitian) and B (PSD, guaranteed by the caller); `exact` holds the exact
/// matrices A and B, as the certificate writes them, when a certificate is wanted.
pub(crate) fn instance(
    a: &Ball,
    b: &Ball,
    exact: Option<(cert::Matrix, cert::Matrix)>,
    what: &str,
) -> Result<Outcome, CheckError> {
    let n = a.n();
    let ea = eig(&a.hermitian_input()?)?;
    let ec = eig(&a.hadamard(b).hermitian_input()?)?;
    let diag: Vec<Interval> = (0..n)
        .map(|i| Interval::ball(b.center.re[(i, i)], b.radius[(i, i)]))
        .collect();
    let bmin = diag.iter().fold(diag[0], |m, d| {
        Interval::new(m.lo().min(d.lo()), m.hi().min(d.hi())).expect("ordered")
    });
    let bmax = diag.iter().fold(diag[0], |m, d| {
        Interval::new(m.lo().max(d.lo()), m.hi().max(d.hi())).expect("ordered")
    });
    let (lmax, lmin) = (ea[0], ea[n - 1]);
    // lower bound of max(λmax·βmin, λmax·βmax), upper bound of min(λmin·βmin, λmin·βmax)
    let upper_end = (lmax * bmin).lo().max((lmax * bmax).lo());
    let lower_end = (lmin * bmin).hi().min((lmin * bmax).hi());
    let m_up = (Interval::point(upper_end) - ec[0]).lo();
    let m_lo = (ec[n - 1] - Interval::point(lower_end)).lo();
    let viol = (ec[0] - Interval::point((lmax * bmin).hi().max((lmax * bmax).hi())))
        .lo()
        .max((Interval::point((lmin * bmin).lo().min((lmin * bmax).lo())) - ec[n - 1]).lo());
    // certificate of the upper end for unit-diagonal B: λmax(A∘B) ≤ λmax(A)
    let certificate = exact
        .filter(|_| bmin == Interval::point(1.0) && bmax == bmin)
        .map(|(ma, mb)| {
            let mut c = Certificate::new(
                "T2",
                "A Hermitian, B PSD with unit diagonal: lambda_max(A o B) <= lambda_max(A)",
                Verdict::Holds,
            );
            c.matrix("A", ma).matrix("B", mb);
            c.derive("C", Op::Hadamard, &["A", "B"]);
            c.claim(Claim::psd("B"));
            c.claim(Claim::unit_diagonal("B"));
            let top_c = c.claim(Claim::eigenvalue("C", 1, ec[0]));
            let top_a = c.claim(Claim::eigenvalue("A", 1, ea[0]));
            c.finish(
                Bound::Claim(top_c, End::Hi),
                Rel::Le,
                Bound::Claim(top_a, End::Lo),
                cert::margin(ea[0].lo(), ec[0].hi()),
            )
        })
        .transpose()?;
    Ok(Outcome::from_margin(
        m_up.min(m_lo),
        viol,
        format!(
            "n = {n}, {what}: λmax(A∘B) ≤ {:.6} ≤ bound {:.6}, λmin(A∘B) ≥ {:.6} ≥ bound {:.6}",
            ec[0].hi(),
            upper_end,
            ec[n - 1].lo(),
            lower_end
        ),
    )
    .with_certificate(certificate))
}

/// T2 on user matrices: B ⪰ 0 certified, A Hermitian verified.
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    match a_and_psd_b(u, true)? {
        Ok((a, b, how)) => instance(&a, &b, None, &UserInput::described(&how)),
        Err(unverified) => Ok(unverified),
    }
}
