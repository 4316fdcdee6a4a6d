//! R6, refuted in exact rationals: P Pᵀ is Toeplitz for sinusoidal positions but P W Pᵀ is
//! not.

use crate::ball::{QComplex, ANGLES};
use crate::certificate as cert;
use crate::exact::{f, q, qc};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand::Rng;
use serde_json::{json, Value};

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
                    let out = Outcome::new(Verdict::Fails, f(&diff), format!("attempt {attempt}: P Pᵀ is exactly Toeplitz (n = {n}, 2 frequencies) but (P W Pᵀ)_({i},{j}) − (P W Pᵀ)_({},{}) = ±{diff} ≠ 0 for an integer W", i + 1, j + 1));
                    return Ok(out.with_certificate(p.certificates.then(|| {
                        let shifted = |w: &[Vec<BigRational>]| -> Vec<BigRational> {
                            (0..n - 1)
                                .flat_map(|i| (0..n - 1).map(move |j| (i, j)))
                                .map(|(i, j)| form(w, i, j) - form(w, i + 1, j + 1))
                                .collect()
                        };
                        r6_certificate(&pos, &w, &shifted(&w))
                    })));
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

/// R6 certificate: positions P (n × 2F, exact sinusoidal rows for Pythagorean angles) and an
/// integer W; with selections S₀ = [I | 0], S₁ = [0 | I] ((n−1) × n), `M ↦ S₀MS₀ᵀ − S₁MS₁ᵀ`
/// is zero exactly for Toeplitz M. It is certified zero for P Pᵀ and non-zero for P W Pᵀ.
fn r6_certificate(
    pos: &[Vec<BigRational>],
    w: &[Vec<BigRational>],
    diffs: &[BigRational],
) -> Value {
    let (n, d) = (pos.len(), w.len());
    let real = |x: &BigRational| QComplex::new(x.clone(), BigRational::zero());
    let sel =
        |off: usize| cert::rational_matrix(n - 1, n, move |i, j| qc(i64::from(j == i + off), 0));
    let matrices = json!({
        "P": cert::rational_matrix(n, d, |i, j| real(&pos[i][j])),
        "W": cert::rational_matrix(d, d, |i, j| real(&w[i][j])),
        "S0": sel(0),
        "S1": sel(1),
    });
    let mut derived = vec![
        json!({"name": "Pt", "op": "adjoint", "args": ["P"]}),
        json!({"name": "S0t", "op": "adjoint", "args": ["S0"]}),
        json!({"name": "S1t", "op": "adjoint", "args": ["S1"]}),
        json!({"name": "PW", "op": "matmul", "args": ["P", "W"]}),
        json!({"name": "M", "op": "matmul", "args": ["PW", "Pt"]}),
        json!({"name": "MI", "op": "matmul", "args": ["P", "Pt"]}),
    ];
    for m in ["M", "MI"] {
        for (s, st) in [("S0", "S0t"), ("S1", "S1t")] {
            derived.push(json!({"name": format!("{s}{m}"), "op": "matmul", "args": [s, m]}));
            derived.push(json!({"name": format!("{s}{m}{s}"), "op": "matmul", "args": [format!("{s}{m}"), st]}));
        }
        derived.push(json!({"name": format!("D{m}"), "op": "sub", "args": [format!("S0{m}S0"), format!("S1{m}S1")]}));
        derived.push(
            json!({"name": format!("JD{m}"), "op": "jordan_wielandt", "args": [format!("D{m}")]}),
        );
    }
    let (claim, lo) = cert::top_singular_value_claim("JDM", diffs);
    let claims = vec![
        json!({"kind": "eigenvalue", "matrix": "JDMI", "index": 1, "lo": "0", "hi": "0"}),
        claim,
    ];
    let doc = cert::document(
        "R6",
        "FALSE reading: absolute PE contributes a Toeplitz term, P W P^T Toeplitz for sinusoidal positions P",
        "FAILS",
        matrices,
        json!(derived),
        claims,
        json!({"lhs": {"claim": 1, "end": "lo"}, "rel": "le", "rhs": {"value": "0"}, "margin": cert::scalar(&lo)}),
    );
    cert::with_notes(doc, &format!("Produced by pespectra-theorems (exact rationals). Row i of P is (cos i theta_f, sin i theta_f)_f for the Pythagorean angles cos theta = 3/5 and 12/13 (n = {n}). A matrix M is Toeplitz iff M[i, j] = M[i+1, j+1] for all i, j < n - 1, i.e. iff D(M) = S0 M S0^T - S1 M S1^T = 0. Claim 0: sigma_1(D(P P^T)) = 0, so P P^T is Toeplitz (D2). Claim 1: sigma_1(D(P W P^T)) >= margin > 0, so P W P^T is not Toeplitz."))
}
