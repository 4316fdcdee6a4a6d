//! R6, refuted in exact rationals: P Pᵀ is Toeplitz for sinusoidal positions but P W Pᵀ is
//! not.

use crate::ball::{QComplex, ANGLES};
use crate::certificate::{self as cert, Bound, Certificate, CertificateError, Claim, End, Op, Rel};
use crate::exact::{f, q, qc};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand::Rng;
use serde_json::Value;

pub(crate) const ENTRY: Entry = Entry {
    id: "R6",
    statement: "false: absolute PE contributes a Toeplitz term P W Pᵀ",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// R6: with sinusoidal-style positions p_i = (cos iθ_f, sin iθ_f)_f (Pythagorean angles, exact),
/// P Pᵀ is Toeplitz while P W Pᵀ is not for a generic W.
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
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
        return Ok(Outcome::inconclusive("P Pᵀ unexpectedly not Toeplitz"));
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
                    let out = Outcome::new(Verdict::Fails, f(&diff), format!("attempt {attempt}: P Pᵀ is exactly Toeplitz (n = {n}, 2 frequencies) but (P W Pᵀ)_({i},{j}) − (P W Pᵀ)_({},{}) = ±{diff} ≠ 0 for an integer W", i + 1, j + 1));
                    return Ok(out.with_certificate(
                        p.certificates
                            .then(|| {
                                let shifted = |w: &[Vec<BigRational>]| -> Vec<BigRational> {
                                    (0..n - 1)
                                        .flat_map(|i| (0..n - 1).map(move |j| (i, j)))
                                        .map(|(i, j)| form(w, i, j) - form(w, i + 1, j + 1))
                                        .collect()
                                };
                                r6_certificate(&pos, &w, &shifted(&w))
                            })
                            .transpose()?,
                    ));
                }
            }
        }
    }
    Ok(Outcome::inconclusive("no counterexample found"))
}

/// R6 certificate: positions P (n × 2F, exact sinusoidal rows for Pythagorean angles) and an
/// integer W; with selections S₀ = [I | 0], S₁ = [0 | I] ((n−1) × n), `M ↦ S₀MS₀ᵀ − S₁MS₁ᵀ`
/// is zero exactly for Toeplitz M. It is certified zero for P Pᵀ and non-zero for P W Pᵀ.
fn r6_certificate(
    pos: &[Vec<BigRational>],
    w: &[Vec<BigRational>],
    diffs: &[BigRational],
) -> Result<Value, CertificateError> {
    let (n, d) = (pos.len(), w.len());
    let real = |x: &BigRational| QComplex::new(x.clone(), BigRational::zero());
    let sel =
        |off: usize| cert::rational_matrix(n - 1, n, move |i, j| qc(i64::from(j == i + off), 0));
    let mut c = Certificate::new(
        "R6",
        "FALSE reading: absolute PE contributes a Toeplitz term, P W P^T Toeplitz for sinusoidal positions P",
        Verdict::Fails,
    );
    c.matrix("P", cert::rational_matrix(n, d, |i, j| real(&pos[i][j])));
    c.matrix("W", cert::rational_matrix(d, d, |i, j| real(&w[i][j])));
    c.matrix("S0", sel(0)).matrix("S1", sel(1));
    c.derive("Pt", Op::Adjoint, &["P"]);
    c.derive("S0t", Op::Adjoint, &["S0"]);
    c.derive("S1t", Op::Adjoint, &["S1"]);
    c.derive("PW", Op::Matmul, &["P", "W"]);
    c.derive("M", Op::Matmul, &["PW", "Pt"]);
    c.derive("MI", Op::Matmul, &["P", "Pt"]);
    for m in ["M", "MI"] {
        for (s, st) in [("S0", "S0t"), ("S1", "S1t")] {
            c.derive(format!("{s}{m}"), Op::Matmul, &[s, m]);
            c.derive(format!("{s}{m}{s}"), Op::Matmul, &[&format!("{s}{m}"), st]);
        }
        c.derive(
            format!("D{m}"),
            Op::Sub,
            &[&format!("S0{m}S0"), &format!("S1{m}S1")],
        );
        c.derive(format!("JD{m}"), Op::JordanWielandt, &[&format!("D{m}")]);
    }
    let toeplitz = c.claim(Claim::eigenvalue_exact("JDMI", 1, "0", "0"));
    let (claim, lo) = Claim::top_singular_value("JDM", diffs);
    let not_toeplitz = c.claim(claim);
    c.notes(format!("Produced by pespectra-theorems (exact rationals). Row i of P is (cos i theta_f, sin i theta_f)_f for the Pythagorean angles cos theta = 3/5 and 12/13 (n = {n}). A matrix M is Toeplitz iff M[i, j] = M[i+1, j+1] for all i, j < n - 1, i.e. iff D(M) = S0 M S0^T - S1 M S1^T = 0. Claim {}: sigma_1(D(P P^T)) = 0, so P P^T is Toeplitz (D2). Claim {}: sigma_1(D(P W P^T)) >= margin > 0, so P W P^T is not Toeplitz.", toeplitz.index(), not_toeplitz.index()));
    c.finish(
        Bound::Claim(not_toeplitz, End::Lo),
        Rel::Le,
        Bound::Value("0".into()),
        cert::scalar(&lo),
    )
}
