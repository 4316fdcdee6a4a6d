//! R2, refuted in exact rationals: for a non-symmetric A, a Hadamard product with the RoPE
//! kernel can raise the spectral radius.

use crate::ball::QComplex;
use crate::certificate::{
    self as cert, Bound, Certificate, CertificateError, Claim, ClaimId, End, Op, Rel,
};
use crate::exact::{f, q, sqrt_dir, sqrt_half_root, to_float};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand::Rng;
use serde_json::Value;

pub(crate) const ENTRY: Entry = Entry {
    id: "R2",
    statement: "false: multiplicative coupling never increases the spectral radius (non-symmetric)",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// Spectral radius of a real 2×2 matrix enclosed in MPFR: eigenvalues (t ± √(t² − 4Δ))/2.
fn rho_2x2(a: &[[BigRational; 2]; 2]) -> (f64, f64) {
    use rug::float::Round;
    use rug::Float;
    let prec = 128;
    let tr = &a[0][0] + &a[1][1];
    let det = &a[0][0] * &a[1][1] - &a[0][1] * &a[1][0];
    let disc = &tr * &tr - BigRational::from_integer(4.into()) * &det;
    if disc.is_negative() {
        // complex pair: ρ = √det
        let lo = sqrt_dir(to_float(&det, prec, Round::Down), Round::Down);
        let hi = sqrt_dir(to_float(&det, prec, Round::Up), Round::Up);
        return (lo.to_f64_round(Round::Down), hi.to_f64_round(Round::Up));
    }
    // ρ = (|t| + √disc)/2
    let t = tr.abs();
    let s_lo = sqrt_dir(to_float(&disc, prec, Round::Down), Round::Down);
    let s_hi = sqrt_dir(to_float(&disc, prec, Round::Up), Round::Up);
    let lo =
        Float::with_val_round(prec, to_float(&t, prec, Round::Down) + s_lo, Round::Down).0 / 2u32;
    let hi = Float::with_val_round(prec, to_float(&t, prec, Round::Up) + s_hi, Round::Up).0 / 2u32;
    (lo.to_f64_round(Round::Down), hi.to_f64_round(Round::Up))
}

type Q2 = [[BigRational; 2]; 2];

fn mul2(a: &Q2, b: &Q2) -> Q2 {
    let e = |i: usize, j: usize| &a[i][0] * &b[0][j] + &a[i][1] * &b[1][j];
    [[e(0, 0), e(0, 1)], [e(1, 0), e(1, 1)]]
}

/// A rational basis V in which `T = V⁻¹AV` is nearly normal, so `ρ(A) ≤ ‖T‖₂ ≈ ρ(A)`:
/// approximate eigenvectors (real eigenvalues), `[Re v, Im v]` of an approximate complex
/// eigenvector (then T ≈ α·I + β·J, whose norm is |λ|), or a Jordan basis scaled by 2⁻²⁰
/// (T = [[λ, 2⁻²⁰], [0, λ]]). Any invertible V gives a valid bound; only its tightness
/// depends on these approximations. `None` if V came out singular.
fn near_normal_basis(a: &Q2) -> Option<(Q2, Q2)> {
    let fr = |x: f64| BigRational::from_float(x).expect("finite");
    let (tr, det) = (
        &a[0][0] + &a[1][1],
        &a[0][0] * &a[1][1] - &a[0][1] * &a[1][0],
    );
    let disc = &tr * &tr - q(4) * &det;
    let half_t = &tr / q(2);
    let (b, c) = (&a[0][1], &a[1][0]);
    let v: Q2 = if disc.is_positive() {
        let root = f(&disc).sqrt() / 2.0;
        let (l1, l2) = (fr(f(&half_t) + root), fr(f(&half_t) - root));
        if !b.is_zero() {
            [[b.clone(), b.clone()], [&l1 - &a[0][0], &l2 - &a[0][0]]]
        } else if !c.is_zero() {
            [[&l1 - &a[1][1], &l2 - &a[1][1]], [c.clone(), c.clone()]]
        } else {
            [[q(1), q(0)], [q(0), q(1)]]
        }
    } else if disc.is_negative() {
        // b ≠ 0 here (bc < 0); v = (b, λ − a) with λ = t/2 + iβ
        let beta = fr((-f(&disc)).sqrt() / 2.0);
        [[b.clone(), q(0)], [&half_t - &a[0][0], beta]]
    } else {
        let eps = BigRational::new(1.into(), BigInt::from(1u64 << 20));
        if !b.is_zero() {
            [[b.clone(), q(0)], [&half_t - &a[0][0], eps]]
        } else if !c.is_zero() {
            [[q(0), eps / c], [q(1), q(0)]]
        } else {
            [[q(1), q(0)], [q(0), q(1)]]
        }
    };
    let dv = &v[0][0] * &v[1][1] - &v[0][1] * &v[1][0];
    if dv.is_zero() {
        return None;
    }
    let s = [
        [&v[1][1] / &dv, -&v[0][1] / &dv],
        [-&v[1][0] / &dv, &v[0][0] / &dv],
    ];
    Some((s, v))
}

/// `[lo, hi] ∋ σ₁(T)` for an exact 2×2 T: σ₁² = (f + √(f² − 4δ²))/2, f = ‖T‖_F², δ = det T.
fn sigma1_2x2(t: &Q2) -> (f64, f64) {
    let fro: BigRational = t.iter().flatten().map(|x| x * x).sum();
    let det = &t[0][0] * &t[1][1] - &t[0][1] * &t[1][0];
    let disc = &fro * &fro - q(4) * &det * &det;
    sqrt_half_root(&fro, &disc)
}

/// R2: with θ = π/2 at n = 2 the real RoPE kernel is I (cos(±π/2) = 0 exactly), so
/// ρ(A∘I) = max |a_ii| may exceed ρ(A) for a non-symmetric A. ρ(A) is bounded above by
/// ‖V⁻¹AV‖₂ for a rational near-eigenbasis V (any invertible V gives a valid bound), which is
/// what the certificate states; the MPFR enclosure of ρ(A) is reported alongside.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let mut r = rng(p, 22);
    for attempt in 0..256 {
        let quarter = |r: &mut rand_chacha::ChaCha8Rng| {
            BigRational::new(BigInt::from(r.gen_range(-12i64..=12)), BigInt::from(4))
        };
        let a = [
            [quarter(&mut r), quarter(&mut r)],
            [quarter(&mut r), quarter(&mut r)],
        ];
        let rho_diag = a[0][0].abs().max(a[1][1].abs());
        let Some((s, v)) = near_normal_basis(&a) else {
            continue;
        };
        let t = mul2(&mul2(&s, &a), &v);
        let (_, t_hi) = sigma1_2x2(&t);
        let margin = &rho_diag - BigRational::from_float(t_hi).expect("finite");
        if margin.is_positive() {
            let (rho_lo, rho_hi) = rho_2x2(&a);
            let out = Outcome::new(Verdict::Fails, f(&margin), format!("attempt {attempt}: A = [[{}, {}], [{}, {}]], θ = π/2, n = 2 ⇒ Re E = I: ρ(A∘I) = {} > ρ(A) ≤ ‖V⁻¹AV‖₂ ≤ {t_hi:.6} (ρ(A) ∈ [{rho_lo:.6}, {rho_hi:.6}], MPFR)", a[0][0], a[0][1], a[1][0], a[1][1], rho_diag));
            return Ok(out.with_certificate(
                p.certificates
                    .then(|| r2_certificate(&a, &s, &v, &rho_diag, t_hi, &margin))
                    .transpose()?,
            ));
        }
    }
    Ok(Outcome::inconclusive("no counterexample in 256 attempts"))
}

/// A real 2×2 rational matrix as the certificate writes it.
fn q2_matrix(m: &Q2) -> cert::Matrix {
    cert::rational_matrix(2, 2, |i, j| {
        QComplex::new(m[i][j].clone(), BigRational::zero())
    })
}

/// R2 certificate: Re E = I (unit diagonal, PSD); S·V = I (entry claims), so T = S·A·V is
/// similar to A and ρ(A) ≤ σ₁(T) ≤ `t_hi`; ρ(A∘I) = σ₁(A∘I) = max |a_ii| (A∘I is diagonal),
/// certified through its Jordan–Wielandt matrix as a point enclosure.
fn r2_certificate(
    a: &Q2,
    s: &Q2,
    v: &Q2,
    rho_diag: &BigRational,
    t_hi: f64,
    margin: &BigRational,
) -> Result<Value, CertificateError> {
    let eye: Q2 = [[q(1), q(0)], [q(0), q(1)]];
    let mut c = Certificate::new(
        "R2",
        "FALSE reading: multiplicative coupling never increases the spectral radius, rho(A o Re E) <= rho(A), for non-symmetric A (n = 2, theta = pi/2, so Re E = I)",
        Verdict::Fails,
    );
    c.matrix("A", q2_matrix(a)).matrix("ReE", q2_matrix(&eye));
    c.matrix("S", q2_matrix(s)).matrix("V", q2_matrix(v));
    c.derive("AE", Op::Hadamard, &["A", "ReE"]);
    c.derive("JAE", Op::JordanWielandt, &["AE"]);
    c.derive("SV", Op::Matmul, &["S", "V"]);
    c.derive("SA", Op::Matmul, &["S", "A"]);
    c.derive("T", Op::Matmul, &["SA", "V"]);
    c.derive("JT", Op::JordanWielandt, &["T"]);
    c.claim(Claim::unit_diagonal("ReE"));
    c.claim(Claim::psd("ReE"));
    let inverse: Vec<ClaimId> = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .map(|(row, col)| {
            c.claim(Claim::Entry {
                matrix: "SV".into(),
                row,
                col,
                re: if row == col { "1" } else { "0" }.into(),
                im: "0".into(),
            })
        })
        .collect();
    let rd = cert::scalar(rho_diag);
    let diagonal = c.claim(Claim::eigenvalue_exact("JAE", 1, &rd, &rd));
    let similar = c.claim(Claim::eigenvalue_exact(
        "JT",
        1,
        "0",
        &cert::f64_scalar(t_hi),
    ));
    c.notes(format!("Produced by pespectra-theorems (exact rationals). Re E = I because cos(pi/2) = 0 exactly. Claims {}-{}: S = V^-1, so T = S A V is similar to A and rho(A) <= ||T||_2 = sigma_1(T) <= claim {}'s upper end. A o Re E is diagonal, so its spectral radius is max |a_ii| = sigma_1(A o Re E), the top eigenvalue of its Jordan-Wielandt matrix (claim {}). Hence rho(A o Re E) - rho(A) >= margin > 0.", inverse[0].index(), inverse[3].index(), similar.index(), diagonal.index()));
    c.finish(
        Bound::Claim(diagonal, End::Lo),
        Rel::Le,
        Bound::Claim(similar, End::Hi),
        cert::scalar(margin),
    )
}
