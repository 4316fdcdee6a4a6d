//! Checks decided in exact rational arithmetic (T1, R2, R4, R5, R6): Pythagorean rotation angles
//! make every RoPE and sinusoidal entry a Gaussian rational, so these verdicts involve no
//! rounding at all.

use crate::ball::{QComplex, ANGLES};
use crate::spectral_checks::rng;
use crate::{CheckError, Outcome, Params, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rand::Rng;

fn q(v: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(v))
}

fn qc(re: i64, im: i64) -> QComplex {
    QComplex::new(q(re), q(im))
}

fn f(x: &BigRational) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// T1 exactly: `X∘(u uᴴ) = diag(u)·X·diag(u)ᴴ` entrywise with `u_j = z^j`, |z| = 1.
pub(crate) fn t1(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n.min(24);
    let mut r = rng(p, 21);
    let x: Vec<Vec<QComplex>> = (0..n)
        .map(|_| {
            (0..n)
                .map(|_| qc(r.gen_range(-9..=9), r.gen_range(-9..=9)))
                .collect()
        })
        .collect();
    for angle in ANGLES {
        let u = angle.powers(n);
        for i in 0..n {
            for j in 0..n {
                let lhs = x[i][j].mul(&u[i].mul(&u[j].conj()));
                let rhs = u[i].mul(&x[i][j]).mul(&u[j].conj());
                if lhs != rhs {
                    return Ok(Outcome {
                        certificate: None,
                        verdict: Verdict::Fails,
                        margin: Some(f(&lhs.sub(&rhs).re.abs())),
                        detail: format!("entry ({i}, {j}) differs"),
                    });
                }
            }
        }
        // |u_j| = 1 exactly
        if u.iter().any(|w| w.mul(&w.conj()) != QComplex::one()) {
            return Ok(Outcome {
                certificate: None,
                verdict: Verdict::Inconclusive,
                margin: None,
                detail: "hypothesis |u_j| = 1 failed".into(),
            });
        }
    }
    Ok(Outcome::new(Verdict::Holds, 0.0, format!("exact identity on {n}×{n} Gaussian-integer X for 6 Pythagorean angles (margin 0: an equality); diag(u) unitary ⇒ identical eigen- and singular values")))
}

/// Spectral radius of a real 2×2 matrix enclosed in MPFR: eigenvalues (t ± √(t² − 4Δ))/2.
fn rho_2x2(a: [[BigRational; 2]; 2]) -> (f64, f64) {
    use rug::float::Round;
    use rug::Float;
    let prec = 128;
    let tr = &a[0][0] + &a[1][1];
    let det = &a[0][0] * &a[1][1] - &a[0][1] * &a[1][0];
    let disc = &tr * &tr - BigRational::from_integer(4.into()) * &det;
    let to_float = |x: &BigRational, r: Round| {
        Float::with_val_round(
            prec,
            rug::Rational::from((
                rug::Integer::from_str_radix(&x.numer().to_str_radix(16), 16).expect("hex"),
                rug::Integer::from_str_radix(&x.denom().to_str_radix(16), 16).expect("hex"),
            )),
            r,
        )
        .0
    };
    if disc.is_negative() {
        // complex pair: ρ = √det
        let lo = Float::with_val_round(prec, to_float(&det, Round::Down).sqrt_ref(), Round::Down).0;
        let hi = Float::with_val_round(prec, to_float(&det, Round::Up).sqrt_ref(), Round::Up).0;
        return (lo.to_f64_round(Round::Down), hi.to_f64_round(Round::Up));
    }
    // ρ = (|t| + √disc)/2
    let t = tr.abs();
    let s_lo = Float::with_val_round(prec, to_float(&disc, Round::Down).sqrt_ref(), Round::Down).0;
    let s_hi = Float::with_val_round(prec, to_float(&disc, Round::Up).sqrt_ref(), Round::Up).0;
    let lo = Float::with_val_round(prec, to_float(&t, Round::Down) + s_lo, Round::Down).0 / 2u32;
    let hi = Float::with_val_round(prec, to_float(&t, Round::Up) + s_hi, Round::Up).0 / 2u32;
    (lo.to_f64_round(Round::Down), hi.to_f64_round(Round::Up))
}

/// R2: with θ = π/2 at n = 2 the real RoPE kernel is I (cos(±π/2) = 0 exactly), so
/// ρ(A∘I) = max |a_ii| may exceed ρ(A) for a non-symmetric A.
pub(crate) fn r2(p: &Params) -> Result<Outcome, CheckError> {
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
        let (_, rho_hi) = rho_2x2(a.clone());
        let viol = f(&rho_diag) - rho_hi;
        if viol > 0.0 {
            return Ok(Outcome::new(Verdict::Fails, viol, format!("attempt {attempt}: A = [[{}, {}], [{}, {}]], θ = π/2, n = 2 ⇒ Re E = I: ρ(A∘I) = {} > ρ(A) ≤ {rho_hi:.6} (MPFR enclosure)", a[0][0], a[0][1], a[1][0], a[1][1], rho_diag)));
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no counterexample in 256 attempts".into(),
    })
}

/// Exact RoPE logits `L_ij = Σ_f Re(conj(a_i^f) b_j^f z_f^(j−i))` and the content Gram `QKᵀ`
/// for small integer content (interleaved pairs).
struct ExactRope {
    rope: Vec<Vec<BigRational>>,
    content: Vec<Vec<BigRational>>,
    kernel_sum: Vec<Vec<QComplex>>,
}

fn exact_rope(n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>]) -> ExactRope {
    let nf = d / 2;
    let pw: Vec<Vec<QComplex>> = (0..nf).map(|f| ANGLES[f].powers(n)).collect();
    let ker = |f: usize, i: usize, j: usize| {
        if j >= i {
            pw[f][j - i].clone()
        } else {
            pw[f][i - j].conj()
        }
    };
    let mut rope = vec![vec![BigRational::zero(); n]; n];
    let mut content = vec![vec![BigRational::zero(); n]; n];
    let mut kernel_sum = vec![vec![QComplex::new(BigRational::zero(), BigRational::zero()); n]; n];
    for i in 0..n {
        for j in 0..n {
            for fr in 0..nf {
                let a = qc(qv[i][2 * fr], qv[i][2 * fr + 1]);
                let b = qc(kv[j][2 * fr], kv[j][2 * fr + 1]);
                rope[i][j] += a.conj().mul(&b).mul(&ker(fr, i, j)).re;
                kernel_sum[i][j] = kernel_sum[i][j].add(&ker(fr, i, j));
            }
            content[i][j] = (0..d).map(|t| q(qv[i][t] * kv[j][t])).sum();
        }
    }
    ExactRope {
        rope,
        content,
        kernel_sum,
    }
}

fn random_content(r: &mut rand_chacha::ChaCha8Rng, n: usize, d: usize) -> Vec<Vec<i64>> {
    (0..n)
        .map(|_| (0..d).map(|_| r.gen_range(-5..=5)).collect())
        .collect()
}

/// R4: the one-kernel reading Re(QKᵀ ∘ Σ_f E^f) (or its 1/F normalisation) differs from the RoPE
/// logits once two frequencies differ.
pub(crate) fn r4(p: &Params) -> Result<Outcome, CheckError> {
    let (n, d) = (6, 4);
    let mut r = rng(p, 24);
    for attempt in 0..32 {
        let (qv, kv) = (random_content(&mut r, n, d), random_content(&mut r, n, d));
        let e = exact_rope(n, d, &qv, &kv);
        let mut worst = (BigRational::zero(), (0, 0));
        let mut both_wrong = true;
        for scale in [q(1), BigRational::new(1.into(), BigInt::from(d / 2))] {
            let mut w = BigRational::zero();
            for i in 0..n {
                for j in 0..n {
                    let summed = (&e.content[i][j] * &e.kernel_sum[i][j].re) * &scale;
                    let diff = (&summed - &e.rope[i][j]).abs();
                    if diff > w {
                        w = diff.clone();
                    }
                    if diff > worst.0 {
                        worst = (diff, (i, j));
                    }
                }
            }
            both_wrong &= !w.is_zero();
        }
        if both_wrong {
            return Ok(Outcome::new(Verdict::Fails, f(&worst.0), format!("attempt {attempt}: n = {n}, d = {d}, θ = atan(4/3), atan(5/12): |Re(QKᵀ∘ΣE^f) − RoPE logits| = {} at {:?} (exact rationals; also with the 1/F normalisation)", worst.0, worst.1)));
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no counterexample found".into(),
    })
}

/// R5: under a causal mask the logit matrix is triangular, so its eigenvalues are its diagonal,
/// and RoPE does not change the diagonal (E_ii = 1): the masked RoPE and NoPE logits differ
/// while their eigenvalues are identical — "RoPE contracts causal-logit eigenvalues" is vacuous.
pub(crate) fn r5(p: &Params) -> Result<Outcome, CheckError> {
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
            return Ok(Outcome::new(Verdict::Fails, f(&change), format!("attempt {attempt}: n = {n}, d = {d}: masked RoPE logits differ from masked NoPE logits by up to {change} below the diagonal, yet both are triangular with the same diagonal, hence identical eigenvalues (exact); singular values still obey T4")));
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no instance found".into(),
    })
}

/// R6: with sinusoidal-style positions p_i = (cos iθ_f, sin iθ_f)_f (Pythagorean angles, exact),
/// P Pᵀ is Toeplitz while P W Pᵀ is not for a generic W.
pub(crate) fn r6(p: &Params) -> Result<Outcome, CheckError> {
    let (n, nf) = (6, 2);
    let d = 2 * nf;
    let pw: Vec<Vec<QComplex>> = (0..nf).map(|fr| ANGLES[fr].powers(n)).collect();
    let pos: Vec<Vec<BigRational>> = (0..n)
        .map(|i| {
            (0..nf)
                .flat_map(|fr| [pw[fr][i].re.clone(), pw[fr][i].im.clone()])
                .collect()
        })
        .collect();
    let form = |w: &[Vec<BigRational>], i: usize, j: usize| -> BigRational {
        let mut s = BigRational::zero();
        for a in 0..d {
            for b in 0..d {
                s += &pos[i][a] * &w[a][b] * &pos[j][b];
            }
        }
        s
    };
    let eye: Vec<Vec<BigRational>> = (0..d)
        .map(|a| (0..d).map(|b| q((a == b) as i64)).collect())
        .collect();
    let toeplitz =
        (0..n - 1).all(|i| (0..n - 1).all(|j| form(&eye, i, j) == form(&eye, i + 1, j + 1)));
    if !toeplitz {
        return Ok(Outcome {
            certificate: None,
            verdict: Verdict::Inconclusive,
            margin: None,
            detail: "P Pᵀ unexpectedly not Toeplitz".into(),
        });
    }
    let mut r = rng(p, 26);
    for attempt in 0..32 {
        let w: Vec<Vec<BigRational>> = (0..d)
            .map(|_| (0..d).map(|_| q(r.gen_range(-3..=3))).collect())
            .collect();
        for i in 0..n - 1 {
            for j in 0..n - 1 {
                let diff = (form(&w, i, j) - form(&w, i + 1, j + 1)).abs();
                if !diff.is_zero() {
                    return Ok(Outcome::new(Verdict::Fails, f(&diff), format!("attempt {attempt}: P Pᵀ is exactly Toeplitz (n = {n}, 2 frequencies) but (P W Pᵀ)_({i},{j}) − (P W Pᵀ)_({},{}) = ±{diff} ≠ 0 for an integer W", i + 1, j + 1)));
                }
            }
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no counterexample found".into(),
    })
}
