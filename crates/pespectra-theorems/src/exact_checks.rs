//! Checks decided in exact rational arithmetic (T1, R2, R4, R5, R6): Pythagorean rotation angles
//! make every RoPE and sinusoidal entry a Gaussian rational, so these verdicts involve no
//! rounding at all.

use crate::ball::{QComplex, ANGLES};
use crate::certificate as cert;
use crate::spectral_checks::rng;
use crate::{CheckError, Outcome, Params, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use rand::Rng;
use serde_json::{json, Value};

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

/// `x` as an MPFR float of `prec` bits rounded in direction `r`.
fn to_float(x: &BigRational, prec: u32, r: rug::float::Round) -> rug::Float {
    let big = |v: &BigInt| rug::Integer::from_str_radix(&v.to_str_radix(16), 16).expect("hex");
    rug::Float::with_val_round(
        prec,
        rug::Rational::from((big(x.numer()), big(x.denom()))),
        r,
    )
    .0
}

/// `√x` rounded in direction `dir`.
fn sqrt_dir(mut x: rug::Float, dir: rug::float::Round) -> rug::Float {
    x.sqrt_round(dir);
    x
}

/// `[lo, hi] ∋ √((f + √disc)/2)` for exact `f, disc ≥ 0`, in 128-bit MPFR with every
/// operation rounded down (for `lo`) or up (for `hi`); returned as f64 rounded the same way.
fn sqrt_half_root(f: &BigRational, disc: &BigRational) -> (f64, f64) {
    use rug::float::Round::{Down, Up};
    let bound = |dir: rug::float::Round| {
        let root = sqrt_dir(to_float(disc, 128, dir), dir);
        let sum = rug::Float::with_val_round(128, to_float(f, 128, dir) + root, dir).0;
        sqrt_dir(sum / 2u32, dir).to_f64_round(dir)
    };
    (bound(Down), bound(Up))
}

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
                    .then(|| r2_certificate(&a, &s, &v, &rho_diag, t_hi, &margin)),
            ));
        }
    }
    Ok(Outcome {
        certificate: None,
        verdict: Verdict::Inconclusive,
        margin: None,
        detail: "no counterexample in 256 attempts".into(),
    })
}

/// A real 2×2 rational matrix as certificate JSON.
fn q2_matrix(m: &Q2) -> Value {
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
) -> Value {
    let eye: Q2 = [[q(1), q(0)], [q(0), q(1)]];
    let mut claims = vec![
        json!({"kind": "unit_diagonal", "matrix": "ReE"}),
        json!({"kind": "psd", "matrix": "ReE"}),
    ];
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        claims.push(json!({"kind": "entry", "matrix": "SV", "row": i, "col": j, "re": if i == j { "1" } else { "0" }, "im": "0"}));
    }
    let rd = cert::scalar(rho_diag);
    claims.push(json!({"kind": "eigenvalue", "matrix": "JAE", "index": 1, "lo": rd, "hi": rd}));
    claims.push(json!({"kind": "eigenvalue", "matrix": "JT", "index": 1, "lo": "0", "hi": cert::f64_scalar(t_hi)}));
    let doc = cert::document(
        "R2",
        "FALSE reading: multiplicative coupling never increases the spectral radius, rho(A o Re E) <= rho(A), for non-symmetric A (n = 2, theta = pi/2, so Re E = I)",
        "FAILS",
        json!({"A": q2_matrix(a), "ReE": q2_matrix(&eye), "S": q2_matrix(s), "V": q2_matrix(v)}),
        json!([
            {"name": "AE", "op": "hadamard", "args": ["A", "ReE"]},
            {"name": "JAE", "op": "jordan_wielandt", "args": ["AE"]},
            {"name": "SV", "op": "matmul", "args": ["S", "V"]},
            {"name": "SA", "op": "matmul", "args": ["S", "A"]},
            {"name": "T", "op": "matmul", "args": ["SA", "V"]},
            {"name": "JT", "op": "jordan_wielandt", "args": ["T"]}
        ]),
        claims,
        json!({"lhs": {"claim": 6, "end": "lo"}, "rel": "le", "rhs": {"claim": 7, "end": "hi"}, "margin": cert::scalar(margin)}),
    );
    cert::with_notes(doc, "Produced by pespectra-theorems (exact rationals). Re E = I because cos(pi/2) = 0 exactly. Claims 2-5: S = V^-1, so T = S A V is similar to A and rho(A) <= ||T||_2 = sigma_1(T) <= claim 7's upper end. A o Re E is diagonal, so its spectral radius is max |a_ii| = sigma_1(A o Re E), the top eigenvalue of its Jordan-Wielandt matrix (claim 6). Hence rho(A o Re E) - rho(A) >= margin > 0.")
}

/// Exact RoPE logits `L_ij = Σ_f Re(conj(a_i^f) b_j^f z_f^(j−i))` and the content Gram `QKᵀ`
/// for small integer content (interleaved pairs).
struct ExactRope {
    rope: Vec<Vec<BigRational>>,
    content: Vec<Vec<BigRational>>,
    /// The complex content Gram `Σ_f G^f` (its real part is `content`).
    gram_sum: Vec<Vec<QComplex>>,
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
    let zero = QComplex::new(BigRational::zero(), BigRational::zero());
    let mut kernel_sum = vec![vec![zero.clone(); n]; n];
    let mut gram_sum = vec![vec![zero; n]; n];
    for i in 0..n {
        for j in 0..n {
            for fr in 0..nf {
                let a = qc(qv[i][2 * fr], qv[i][2 * fr + 1]);
                let b = qc(kv[j][2 * fr], kv[j][2 * fr + 1]);
                let g = a.conj().mul(&b);
                rope[i][j] += g.mul(&ker(fr, i, j)).re;
                gram_sum[i][j] = gram_sum[i][j].add(&g);
                kernel_sum[i][j] = kernel_sum[i][j].add(&ker(fr, i, j));
            }
            content[i][j] = (0..d).map(|t| q(qv[i][t] * kv[j][t])).sum();
        }
    }
    ExactRope {
        rope,
        content,
        gram_sum,
        kernel_sum,
    }
}

/// Certificate parts that make the checker derive, exactly, the RoPE logits
/// `L = Σ_f Re(G^f∘E^f)` (interleaved pairs, angle `ANGLES[f]`) of integer Q, K (n × d): `G^f = (Q p̄_f)(K p̄_f)ᴴ` with `p̄_f = e_{2f} − i·e_{2f+1}`
/// (so `(Q p̄_f)_i = conj(a_i^f)` and `G^f_ij = conj(a_i^f)·b_j^f`), and `E^f = w_f w_fᴴ` with
/// `w_{f,j} = conj(z_f)^j` (so `E^f_ij = z_f^(j−i)`, rank one, PSD, unit diagonal: claimed).
/// Matrices Q, K, P{f}, W{f}; derived … G{f}, E{f}, L (the RoPE logits).
struct RopeCert {
    matrices: serde_json::Map<String, Value>,
    derived: Vec<Value>,
    claims: Vec<Value>,
}

impl RopeCert {
    /// A FAILS document refuting `statement` through `conclusion`.
    fn failure(self, id: &str, statement: &str, conclusion: Value) -> Value {
        cert::document(
            id,
            statement,
            "FAILS",
            Value::Object(self.matrices),
            Value::Array(self.derived),
            self.claims,
            conclusion,
        )
    }
}

fn rope_cert(n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>]) -> RopeCert {
    let nf = d / 2;
    debug_assert!(nf >= 2, "L is the sum of at least two frequencies");
    let int = |v: i64| QComplex::new(q(v), BigRational::zero());
    let mut matrices = serde_json::Map::new();
    matrices.insert(
        "Q".into(),
        cert::rational_matrix(n, d, |i, j| int(qv[i][j])),
    );
    matrices.insert(
        "K".into(),
        cert::rational_matrix(n, d, |i, j| int(kv[i][j])),
    );
    let (mut derived, mut claims) = (Vec::new(), Vec::new());
    let mut op = |name: String, op: &str, args: [&str; 2]| {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        derived.push(json!({"name": name, "op": op, "args": args}));
    };
    for (fr, angle) in ANGLES.iter().enumerate().take(nf) {
        let pw = angle.powers(n);
        matrices.insert(
            format!("P{fr}"),
            cert::rational_matrix(d, 1, |i, _| {
                if i == 2 * fr {
                    qc(1, 0)
                } else if i == 2 * fr + 1 {
                    qc(0, -1)
                } else {
                    qc(0, 0)
                }
            }),
        );
        matrices.insert(
            format!("W{fr}"),
            cert::rational_matrix(n, 1, |j, _| pw[j].conj()),
        );
        let n_ = |s: &str| format!("{s}{fr}");
        op(n_("QP"), "matmul", ["Q", &n_("P")]);
        op(n_("KP"), "matmul", ["K", &n_("P")]);
        op(n_("KPh"), "adjoint", [&n_("KP"), ""]);
        op(n_("G"), "matmul", [&n_("QP"), &n_("KPh")]);
        op(n_("Wh"), "adjoint", [&n_("W"), ""]);
        op(n_("E"), "matmul", [&n_("W"), &n_("Wh")]);
        op(n_("GE"), "hadamard", [&n_("G"), &n_("E")]);
        op(n_("L"), "real_part", [&n_("GE"), ""]);
        claims.push(json!({"kind": "unit_diagonal", "matrix": n_("E")}));
        claims.push(json!({"kind": "psd", "matrix": n_("E")}));
    }
    sum_chain(&mut derived, "L", nf, "L");
    RopeCert {
        matrices,
        derived,
        claims,
    }
}

/// Derived ops summing `{base}0 + … + {base}(nf−1)` (nf ≥ 2) into the matrix named `total`
/// (partial sums `{total}1, {total}2, …`).
fn sum_chain(derived: &mut Vec<Value>, base: &str, nf: usize, total: &str) {
    let mut acc = format!("{base}0");
    for fr in 1..nf {
        let name = if fr + 1 == nf {
            total.to_string()
        } else {
            format!("{total}{fr}")
        };
        derived.push(json!({"name": name, "op": "add", "args": [acc, format!("{base}{fr}")]}));
        acc = name;
    }
}

/// Entries of `x − y` (row-major) for square matrices of exact rationals.
fn differences(x: &[Vec<BigRational>], y: &[Vec<BigRational>]) -> Vec<BigRational> {
    x.iter()
        .zip(y)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| u - v))
        .collect()
}

fn random_content(r: &mut rand_chacha::ChaCha8Rng, n: usize, d: usize) -> Vec<Vec<i64>> {
    (0..n)
        .map(|_| (0..d).map(|_| r.gen_range(-5..=5)).collect())
        .collect()
}

/// R4: the one-kernel reading Re(G ∘ Σ_f E^f) with the complex content Gram G = Σ_f G^f (or
/// its 1/F normalisation, which is exact when all angles agree) differs from the RoPE logits
/// once two frequencies differ. (The real-Gram reading with QKᵀ fails already for d = 2.)
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
                    let summed = e.gram_sum[i][j].mul(&e.kernel_sum[i][j]).re * &scale;
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
            let out = Outcome::new(Verdict::Fails, f(&worst.0), format!("attempt {attempt}: n = {n}, d = {d}, θ = atan(4/3), atan(5/12): |Re(G∘ΣE^f) − RoPE logits| (G = Σ_f G^f) = {} at {:?} (exact rationals; also with the 1/F normalisation)", worst.0, worst.1));
            return Ok(
                out.with_certificate(p.certificates.then(|| r4_certificate(n, d, &qv, &kv, &e)))
            );
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
            let out = Outcome::new(Verdict::Fails, f(&change), format!("attempt {attempt}: n = {n}, d = {d}: masked RoPE logits differ from masked NoPE logits by up to {change} below the diagonal, yet both are triangular with the same diagonal, hence identical eigenvalues (exact); singular values still obey T4"));
            return Ok(
                out.with_certificate(p.certificates.then(|| r5_certificate(n, d, &qv, &kv, &e)))
            );
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

/// R4 certificate: the checker derives the RoPE logits L and the one-kernel reading
/// `R = Re((Σ_f G^f)∘(Σ_f E^f))` (and `R/F`) itself; `L − R` and `L − R/F` have certified positive top
/// singular values (Jordan–Wielandt eigenvalue claims), so neither reading is an identity.
fn r4_certificate(n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>], e: &ExactRope) -> Value {
    let mut rc = rope_cert(n, d, qv, kv);
    let nf = d / 2;
    sum_chain(&mut rc.derived, "E", nf, "Esum");
    sum_chain(&mut rc.derived, "G", nf, "Gsum");
    let inv_f = BigRational::new(1.into(), BigInt::from(nf));
    rc.derived.extend([
        json!({"name": "CE", "op": "hadamard", "args": ["Gsum", "Esum"]}),
        json!({"name": "R", "op": "real_part", "args": ["CE"]}),
        json!({"name": "D", "op": "sub", "args": ["L", "R"]}),
        json!({"name": "JD", "op": "jordan_wielandt", "args": ["D"]}),
        json!({"name": "Rn", "op": "scale", "args": ["R"], "scalar": cert::scalar(&inv_f)}),
        json!({"name": "Dn", "op": "sub", "args": ["L", "Rn"]}),
        json!({"name": "JDn", "op": "jordan_wielandt", "args": ["Dn"]}),
    ]);
    let reading = |scale: &BigRational| -> Vec<Vec<BigRational>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| e.gram_sum[i][j].mul(&e.kernel_sum[i][j]).re * scale)
                    .collect()
            })
            .collect()
    };
    let (claim, lo) = cert::top_singular_value_claim("JD", &differences(&e.rope, &reading(&q(1))));
    let (claim_n, _) =
        cert::top_singular_value_claim("JDn", &differences(&e.rope, &reading(&inv_f)));
    let k = rc.claims.len();
    rc.claims.extend([claim, claim_n]);
    let doc = rc.failure(
        "R4",
        "FALSE reading: RoPE logits equal Re(G_{q,k} o G_e) with the complex content Gram G_{q,k} = sum_f G^f and one summed Toeplitz kernel G_e = sum_f E^f (or its 1/F normalisation)",
        json!({"lhs": {"claim": k, "end": "lo"}, "rel": "le", "rhs": {"value": "0"}, "margin": cert::scalar(&lo)}),
    );
    cert::with_notes(doc, &format!("Produced by pespectra-theorems (exact rationals). Q, K: integer content (n = {n}, d = {d}, interleaved pairs); P_f selects conj(a^f) = Q p_f; W_f holds conj(z_f)^j for the Pythagorean rotations z_0 = (3+4i)/5, z_1 = (12+5i)/13, so E_f = W_f W_f^H is the exact RoPE kernel z_f^(j-i) (unit diagonal and PSD are claimed). L = sum_f Re(G_f o E_f) is the RoPE logit matrix (D1); R = Re((sum_f G_f) o (sum_f E_f)) is the one-kernel reading (R/F is exact when all angles agree). sigma_1(L - R) >= the conclusion's margin > 0 (claim {k}) and sigma_1(L - R/F) > 0 (claim {}): both readings differ from the RoPE logits.", k + 1))
}

/// R5 certificate: the checker derives the causally masked RoPE and NoPE logits; their
/// difference is non-zero (certified top singular value > 0) while its diagonal is exactly zero
/// (the Jordan–Wielandt matrix of diag(difference) has top eigenvalue exactly 0). Both masked
/// matrices are lower triangular, so their eigenvalues are their (identical) diagonals.
fn r5_certificate(n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>], e: &ExactRope) -> Value {
    let mut rc = rope_cert(n, d, qv, kv);
    rc.matrices.insert(
        "I".into(),
        cert::rational_matrix(n, n, |i, j| qc(i64::from(i == j), 0)),
    );
    rc.derived.extend([
        json!({"name": "Kt", "op": "adjoint", "args": ["K"]}),
        json!({"name": "C", "op": "matmul", "args": ["Q", "Kt"]}),
        json!({"name": "ML", "op": "mask_lower", "args": ["L"]}),
        json!({"name": "MC", "op": "mask_lower", "args": ["C"]}),
        json!({"name": "D", "op": "sub", "args": ["ML", "MC"]}),
        json!({"name": "JD", "op": "jordan_wielandt", "args": ["D"]}),
        json!({"name": "X", "op": "hadamard", "args": ["D", "I"]}),
        json!({"name": "JX", "op": "jordan_wielandt", "args": ["X"]}),
    ]);
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
        cert::top_singular_value_claim("JD", &differences(&masked(&e.rope), &masked(&e.content)));
    let k = rc.claims.len();
    rc.claims.extend([
        claim,
        json!({"kind": "eigenvalue", "matrix": "JX", "index": 1, "lo": "0", "hi": "0"}),
    ]);
    let doc = rc.failure(
        "R5",
        "FALSE reading: under a causal mask RoPE changes (contracts) the eigenvalues of the logit matrix; the masked logits are triangular, so their eigenvalues are their diagonal, which RoPE leaves unchanged",
        json!({"lhs": {"value": "0"}, "rel": "lt", "rhs": {"claim": k + 1, "end": "hi"}, "margin": "0"}),
    );
    cert::with_notes(doc, &format!("Produced by pespectra-theorems (exact rationals). L and C = Q K^T are the RoPE and NoPE logits of integer Q, K (n = {n}, d = {d}; derivation as in the R4 certificate); ML, MC their causal masks (lower triangular), D = ML - MC. Claim {k}: sigma_1(D) > 0, so RoPE does change the masked logits. Claim {}: X = diag(D) has sigma_1(X) = 0 exactly, so diag(ML) = diag(MC); the eigenvalues of a triangular matrix are its diagonal entries, hence max_i |lambda_i(ML) - lambda_i(MC)| <= sigma_1(X) = 0. The reading 'the eigenvalues move' (0 < sigma_1(X)) is false: eigenvalue contraction is vacuous under a causal mask (singular values still obey T4).", k + 1))
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
