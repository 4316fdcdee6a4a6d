//! R4, refuted in exact rationals: the RoPE logits are not Re(G∘G_e) for one summed Toeplitz
//! kernel.

use crate::certificate::{self as cert, Bound, Certificate, CertificateError, Claim, End, Op, Rel};
use crate::exact::{f, q};
use crate::exact_rope::{differences, exact_rope, random_content, rope_cert, sum_chain, ExactRope};
use crate::instances::rng;
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;

pub(crate) const ENTRY: Entry = Entry {
    id: "R4",
    statement: "false: RoPE logits = Re(G_qk ∘ G_e) for one summed Toeplitz kernel G_e",
    expected: Verdict::Fails,
    seeded,
    user: None,
};

/// R4: the one-kernel reading Re(G ∘ Σ_f E^f) with the complex content Gram G = Σ_f G^f (or
/// its 1/F normalisation, which is exact when all angles agree) differs from the RoPE logits
/// once two frequencies differ. (The real-Gram reading with QKᵀ fails already for d = 2.)
fn seeded(p: &Params) -> Result<Outcome, CheckError> {
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
            return Ok(out.with_certificate(
                p.certificates
                    .then(|| r4_certificate(n, d, &qv, &kv, &e))
                    .transpose()?,
            ));
        }
    }
    Ok(Outcome::inconclusive("no counterexample found"))
}

/// R4 certificate: the checker derives the RoPE logits L and the one-kernel reading
/// `R = Re((Σ_f G^f)∘(Σ_f E^f))` (and `R/F`) itself; `L − R` and `L − R/F` have certified positive top
/// singular values (Jordan–Wielandt eigenvalue claims), so neither reading is an identity.
fn r4_certificate(
    n: usize,
    d: usize,
    qv: &[Vec<i64>],
    kv: &[Vec<i64>],
    e: &ExactRope,
) -> Result<Value, CertificateError> {
    let mut c = Certificate::new(
        "R4",
        "FALSE reading: RoPE logits equal Re(G_{q,k} o G_e) with the complex content Gram G_{q,k} = sum_f G^f and one summed Toeplitz kernel G_e = sum_f E^f (or its 1/F normalisation)",
        Verdict::Fails,
    );
    rope_cert(&mut c, n, d, qv, kv);
    let nf = d / 2;
    sum_chain(&mut c, "E", nf, "Esum");
    sum_chain(&mut c, "G", nf, "Gsum");
    let inv_f = BigRational::new(1.into(), BigInt::from(nf));
    c.derive("CE", Op::Hadamard, &["Gsum", "Esum"]);
    c.derive("R", Op::RealPart, &["CE"]);
    c.derive("D", Op::Sub, &["L", "R"]);
    c.derive("JD", Op::JordanWielandt, &["D"]);
    c.derive("Rn", Op::Scale(cert::scalar(&inv_f)), &["R"]);
    c.derive("Dn", Op::Sub, &["L", "Rn"]);
    c.derive("JDn", Op::JordanWielandt, &["Dn"]);
    let reading = |scale: &BigRational| -> Vec<Vec<BigRational>> {
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| e.gram_sum[i][j].mul(&e.kernel_sum[i][j]).re * scale)
                    .collect()
            })
            .collect()
    };
    let (claim, lo) = Claim::top_singular_value("JD", &differences(&e.rope, &reading(&q(1))));
    let (claim_n, _) = Claim::top_singular_value("JDn", &differences(&e.rope, &reading(&inv_f)));
    let (k, k_n) = (c.claim(claim), c.claim(claim_n));
    c.notes(format!("Produced by pespectra-theorems (exact rationals). Q, K: integer content (n = {n}, d = {d}, interleaved pairs); P_f selects conj(a^f) = Q p_f; W_f holds conj(z_f)^j for the Pythagorean rotations z_0 = (3+4i)/5, z_1 = (12+5i)/13, so E_f = W_f W_f^H is the exact RoPE kernel z_f^(j-i) (unit diagonal and PSD are claimed). L = sum_f Re(G_f o E_f) is the RoPE logit matrix (D1); R = Re((sum_f G_f) o (sum_f E_f)) is the one-kernel reading (R/F is exact when all angles agree). sigma_1(L - R) >= the conclusion's margin > 0 (claim {}) and sigma_1(L - R/F) > 0 (claim {}): both readings differ from the RoPE logits.", k.index(), k_n.index()));
    c.finish(
        Bound::Claim(k, End::Lo),
        Rel::Le,
        Bound::Value("0".into()),
        cert::scalar(&lo),
    )
}
