//! Exact RoPE logits of small integer content under Pythagorean rotations, and the certificate
//! parts that make the independent checker derive them (shared by R4 and R5).

use crate::ball::{QComplex, ANGLES};
use crate::certificate::{self as cert, Certificate, Claim, Op};
use crate::exact::{q, qc};
use num_rational::BigRational;
use num_traits::Zero;
use rand::Rng;

/// Exact RoPE logits `L_ij = Σ_f Re(conj(a_i^f) b_j^f z_f^(j−i))` and the content Gram `QKᵀ`
/// for small integer content (interleaved pairs).
pub(crate) struct ExactRope {
    pub(crate) rope: Vec<Vec<BigRational>>,
    pub(crate) content: Vec<Vec<BigRational>>,
    /// The complex content Gram `Σ_f G^f` (its real part is `content`).
    pub(crate) gram_sum: Vec<Vec<QComplex>>,
    pub(crate) kernel_sum: Vec<Vec<QComplex>>,
}

pub(crate) fn exact_rope(n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>]) -> ExactRope {
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

/// Adds to `c` what makes the checker derive, exactly, the RoPE logits `L = Σ_f Re(G^f∘E^f)`
/// (interleaved pairs, angle `ANGLES[f]`) of integer Q, K (n × d): `G^f = (Q p̄_f)(K p̄_f)ᴴ`
/// with `p̄_f = e_{2f} − i·e_{2f+1}` (so `(Q p̄_f)_i = conj(a_i^f)` and
/// `G^f_ij = conj(a_i^f)·b_j^f`), and `E^f = w_f w_fᴴ` with `w_{f,j} = conj(z_f)^j` (so
/// `E^f_ij = z_f^(j−i)`, rank one, PSD, unit diagonal: claimed). Matrices Q, K, P{f}, W{f};
/// derived … G{f}, E{f}, L (the RoPE logits).
pub(crate) fn rope_cert(c: &mut Certificate, n: usize, d: usize, qv: &[Vec<i64>], kv: &[Vec<i64>]) {
    let nf = d / 2;
    debug_assert!(nf >= 2, "L is the sum of at least two frequencies");
    let int = |v: i64| QComplex::new(q(v), BigRational::zero());
    c.matrix("Q", cert::rational_matrix(n, d, |i, j| int(qv[i][j])));
    c.matrix("K", cert::rational_matrix(n, d, |i, j| int(kv[i][j])));
    for (fr, angle) in ANGLES.iter().enumerate().take(nf) {
        let pw = angle.powers(n);
        c.matrix(
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
        c.matrix(
            format!("W{fr}"),
            cert::rational_matrix(n, 1, |j, _| pw[j].conj()),
        );
        let n_ = |s: &str| format!("{s}{fr}");
        c.derive(n_("QP"), Op::Matmul, &["Q", &n_("P")]);
        c.derive(n_("KP"), Op::Matmul, &["K", &n_("P")]);
        c.derive(n_("KPh"), Op::Adjoint, &[&n_("KP")]);
        c.derive(n_("G"), Op::Matmul, &[&n_("QP"), &n_("KPh")]);
        c.derive(n_("Wh"), Op::Adjoint, &[&n_("W")]);
        c.derive(n_("E"), Op::Matmul, &[&n_("W"), &n_("Wh")]);
        c.derive(n_("GE"), Op::Hadamard, &[&n_("G"), &n_("E")]);
        c.derive(n_("L"), Op::RealPart, &[&n_("GE")]);
        c.claim(Claim::unit_diagonal(&n_("E")));
        c.claim(Claim::psd(&n_("E")));
    }
    sum_chain(c, "L", nf, "L");
}

/// Derived ops summing `{base}0 + … + {base}(nf−1)` (nf ≥ 2) into the matrix named `total`
/// (partial sums `{total}1, {total}2, …`).
pub(crate) fn sum_chain(c: &mut Certificate, base: &str, nf: usize, total: &str) {
    let mut acc = format!("{base}0");
    for fr in 1..nf {
        let name = if fr + 1 == nf {
            total.to_string()
        } else {
            format!("{total}{fr}")
        };
        c.derive(name.clone(), Op::Add, &[&acc, &format!("{base}{fr}")]);
        acc = name;
    }
}

/// Entries of `x − y` (row-major) for square matrices of exact rationals.
pub(crate) fn differences(x: &[Vec<BigRational>], y: &[Vec<BigRational>]) -> Vec<BigRational> {
    x.iter()
        .zip(y)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| u - v))
        .collect()
}

pub(crate) fn random_content(r: &mut rand_chacha::ChaCha8Rng, n: usize, d: usize) -> Vec<Vec<i64>> {
    (0..n)
        .map(|_| (0..d).map(|_| r.gen_range(-5..=5)).collect())
        .collect()
}
