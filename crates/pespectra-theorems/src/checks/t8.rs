//! T8: the distance matrix D_n = [|i−j|] has inertia (1, n−1) and (n²−1)/3 ≤ λmax ≤ n(n−1)/2,
//! by enclosures or, where the bounds can be attained, by exact rational inertia.

use crate::certificate::{self as cert, Bound, Certificate, Claim, End, Rel, MAX_CERT_N};
use crate::enclose::eig;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;
use rug::float::{Constant, Round};
use rug::Float;

pub(crate) const ENTRY: Entry = Entry {
    id: "T8",
    statement: "D_n=[|i−j|]: inertia (1, n−1), (n²−1)/3 ≤ λmax ≤ n(n−1)/2",
    expected: Verdict::Holds,
    seeded,
    user: None,
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n;
    let d = Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| i.abs_diff(j) as f64)));
    let e = eig(&d.hermitian_input()?)?;
    let nf = n as f64;
    // (n² − 1)/3 and n(n − 1)/2 are exact in f64 for n ≤ 1024
    let (lower, upper) = ((nf * nf - 1.0) / 3.0, nf * (nf - 1.0) / 2.0);
    let lower_hi = Interval::point(nf * nf - 1.0)
        .div_pos(Interval::point(3.0))
        .expect("3 > 0")
        .hi();
    let mut margin = (e[0] - Interval::point(lower_hi))
        .lo()
        .min((Interval::point(upper) - e[0]).lo())
        .min(e[0].lo());
    for v in &e[1..] {
        margin = margin.min(-v.hi());
    }
    let viol = (Interval::point(lower) - e[0])
        .lo()
        .max((e[0] - Interval::point(upper)).lo());
    let (plus, minus) = limit_constants();
    // Equality cases (n = 2: λmax = (n² − 1)/3 = n(n − 1)/2 = 1) leave no positive margin for a
    // floating-point enclosure to certify; small n are then decided exactly by inertia.
    if margin < 0.0 && viol <= 0.0 && n <= 32 {
        return exact(&d, p.certificates && n <= MAX_CERT_N);
    }
    let certificate = (p.certificates && n <= MAX_CERT_N)
        .then(|| {
            let third = num_rational::BigRational::new(((n * n - 1) as i64).into(), 3.into());
            let mut c = Certificate::new(
                "T8",
                "D_n = [|i-j|] has exactly one positive and n-1 negative eigenvalues, and (n^2-1)/3 <= lambda_max(D_n)",
                Verdict::Holds,
            );
            c.matrix("D", cert::real_matrix(&d.center.re));
            c.claim(inertia_one_positive(n));
            let top = c.claim(Claim::eigenvalue("D", 1, e[0]));
            c.finish(
                Bound::Value(cert::scalar(&third)),
                Rel::Le,
                Bound::Claim(top, End::Lo),
                cert::margin_over(e[0].lo(), &third),
            )
        })
        .transpose()?;
    Ok(Outcome::from_margin(margin, viol, format!("n = {n}: 1 positive and {} negative eigenvalues certified; λmax/n² ∈ [{:.6}, {:.6}], λmin/n² ∈ [{:.6}, {:.6}]; limits: 2/ω₀² ∈ [{}, {}] (ω₀·tanh(ω₀/2) = 2), −2/π² ∈ [{}, {}]", n - 1, e[0].lo() / (nf * nf), e[0].hi() / (nf * nf), e[n - 1].lo() / (nf * nf), e[n - 1].hi() / (nf * nf), plus.0, plus.1, minus.0, minus.1)).with_certificate(certificate))
}

/// T8 decided in exact rational arithmetic (Sylvester inertia of `D_n − c·I`, no rounding):
/// inertia (1 positive, n − 1 negative), `#{λ ≥ (n² − 1)/3} ≥ 1` and `#{λ > n(n − 1)/2} = 0`.
/// The margin is 0: the bounds may be attained (n = 2).
fn exact(d: &Ball, certificate: bool) -> Result<Outcome, CheckError> {
    use num_rational::BigRational;
    use pespectra_spectra::exact::RationalSymmetric;
    let n = d.n();
    let ex = RationalSymmetric::from_input(&d.hermitian_input()?)
        .ok_or(CheckError::Internal("D_n is not exact"))?;
    let q = |num: usize, den: usize| BigRational::new((num as i64).into(), (den as i64).into());
    let (third, half) = (q(n * n - 1, 3), q(n * (n - 1), 2));
    let at0 = ex.inertia_shifted(&q(0, 1));
    let (lo, hi) = (ex.inertia_shifted(&third), ex.inertia_shifted(&half));
    let holds =
        (at0.pos, at0.zero, at0.neg) == (1, 0, n - 1) && lo.pos + lo.zero >= 1 && hi.pos == 0;
    let detail = format!("n = {n}, decided exactly by rational inertia (the bounds can be attained, so no floating-point margin exists): D_n has {} positive, {} zero, {} negative eigenvalues; #{{λ ≥ {third}}} = {}, #{{λ > {half}}} = {}", at0.pos, at0.zero, at0.neg, lo.pos + lo.zero, hi.pos);
    if !holds {
        return Ok(Outcome::new(Verdict::Fails, 0.0, detail));
    }
    let cert = certificate
        .then(|| {
            let mut c = Certificate::new(
                "T8",
                "D_n = [|i-j|] has exactly one positive and n-1 negative eigenvalues, and (n^2-1)/3 <= lambda_max(D_n) <= n(n-1)/2",
                Verdict::Holds,
            );
            c.matrix("D", cert::real_matrix(&d.center.re));
            c.claim(inertia_one_positive(n));
            let top = c.claim(Claim::eigenvalue_exact(
                "D",
                1,
                &cert::scalar(&third),
                &cert::scalar(&half),
            ));
            c.finish(
                Bound::Value(cert::scalar(&third)),
                Rel::Le,
                Bound::Claim(top, End::Lo),
                "0".into(),
            )
        })
        .transpose()?;
    Ok(Outcome::new(Verdict::Holds, 0.0, detail).with_certificate(cert))
}

/// The claim that D_n has 1 positive, no zero and n − 1 negative eigenvalues.
fn inertia_one_positive(n: usize) -> Claim {
    Claim::Inertia {
        matrix: "D".into(),
        shift: "0".into(),
        neg: n - 1,
        zero: 0,
        pos: 1,
    }
}

/// Certified enclosures (decimal strings) of `lim λmax(D_n)/n² = 2/ω₀²` with ω₀ > 0 the root of
/// `ω·tanh(ω/2) = 2`, and of `lim λmin(D_n)/n² = −2/π²`, in MPFR with directed rounding: the
/// root is bracketed by bisection on `g(ω) = ω·tanh(ω/2) − 2` (increasing for ω > 0), evaluated
/// with all-down and all-up rounding (every factor is positive there).
fn limit_constants() -> ((String, String), (String, String)) {
    let prec = 128;
    let g_bounds = |w: &Float| -> (Float, Float) {
        let half = Float::with_val(prec, w / 2u32);
        let t_lo = Float::with_val_round(prec, half.tanh_ref(), Round::Down).0;
        let t_hi = Float::with_val_round(prec, half.tanh_ref(), Round::Up).0;
        let lo = Float::with_val_round(prec, w * &t_lo, Round::Down).0 - 2u32;
        let hi = Float::with_val_round(prec, w * &t_hi, Round::Up).0 - 2u32;
        (lo, hi)
    };
    let (mut a, mut b) = (Float::with_val(prec, 2), Float::with_val(prec, 3));
    for _ in 0..100 {
        let m = Float::with_val(prec, &a + &b) / 2u32;
        let (lo, hi) = g_bounds(&m);
        if hi < 0 {
            a = m;
        } else if lo > 0 {
            b = m;
        } else {
            break;
        }
    }
    // the root lies in [a, b] (g(a) < 0 < g(b) certified); λ = 2/ω² is decreasing in ω
    let up = |x: &Float, r: Round| {
        Float::with_val_round(
            prec,
            Float::with_val_round(
                prec,
                x.square_ref(),
                if r == Round::Down {
                    Round::Up
                } else {
                    Round::Down
                },
            )
            .0
            .recip_ref(),
            r,
        )
        .0 * 2u32
    };
    let plus = (
        pespectra_arith::mp::decimal(&up(&b, Round::Down), 12, Round::Down),
        pespectra_arith::mp::decimal(&up(&a, Round::Up), 12, Round::Up),
    );
    let pi_lo = Float::with_val_round(prec, Constant::Pi, Round::Down).0;
    let pi_hi = Float::with_val_round(prec, Constant::Pi, Round::Up).0;
    let minus = (
        pespectra_arith::mp::decimal(&-up(&pi_lo, Round::Up), 12, Round::Down),
        pespectra_arith::mp::decimal(&-up(&pi_hi, Round::Down), 12, Round::Up),
    );
    (plus, minus)
}
