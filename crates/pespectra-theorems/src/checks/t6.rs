//! T6: per RoPE frequency, the real part of G^f∘E^f is majorized by G^f (singular values for
//! W_Q ≠ W_K, eigenvalues for W_Q = W_K).

use crate::ball::ANGLES;
use crate::decide::{majorization_margin, majorization_violation};
use crate::enclose::{eig, svals};
use crate::instances::{random_mat, rng};
use crate::registry::Entry;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;

pub(crate) const ENTRY: Entry = Entry {
    id: "T6",
    statement:
        "RoPE per frequency: σ(Re(G^f∘E^f)) ≺_w σ(G^f); λ(Re(G^f∘E^f)) ≺ λ(G^f) for Hermitian G^f",
    expected: Verdict::Holds,
    seeded,
    user: None,
};

/// Content-pair matrix `G_ij = conj(a_i)·b_j` of one frequency (interleaved pairing).
fn content_matrix(q: &Mat<f64>, k: &Mat<f64>, f: usize) -> Ball {
    let n = q.nrows();
    Ball::from_entries(n, n, |i, j| {
        let p = Interval::point;
        let (ar, ai, br, bi) = (
            p(q[(i, 2 * f)]),
            p(q[(i, 2 * f + 1)]),
            p(k[(j, 2 * f)]),
            p(k[(j, 2 * f + 1)]),
        );
        // (ar − i·ai)(br + i·bi)
        (ar * br + ai * bi, ar * bi - ai * br, 0.0)
    })
}

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let (n, d) = (p.n, 8);
    let mut r = rng(p, 7);
    let (q, k) = (random_mat(&mut r, n, d), random_mat(&mut r, n, d));
    let mut margin = f64::INFINITY;
    let mut viol = 0.0f64;
    for (f, angle) in ANGLES.iter().enumerate().take(d / 2) {
        let e = angle.kernel(n);
        // W_Q ≠ W_K: singular values, weak majorization
        // G^f = conj(a)bᵀ has rank 1 and Re(G^f∘E^f) rank ≤ 2 (exactly, by construction), so
        // every partial sum with k ≥ 2 equals the k = 2 one: checking k = 1, 2 is complete.
        let g = content_matrix(&q, &k, f);
        let (sg, sc) = (svals(&g)?, svals(&g.hadamard(&e).real_part())?);
        margin = margin.min(majorization_margin(&sg, &sc, Interval::point(1.0), 2));
        viol = viol.max(majorization_violation(&sg, &sc, Interval::point(1.0), 2));
        // W_Q = W_K: G = conj(a)aᵀ is Hermitian PSD of rank 1 and Re(G∘E) = vvᵀ + wwᵀ is PSD of
        // rank ≤ 2 with the same trace (E_ii = 1): the sums for k ≥ 2 are both exactly tr G, so
        // only k = 1 needs an enclosure.
        let g = content_matrix(&q, &q, f);
        let (eg, ec) = (
            eig(&g.hermitian_input()?)?,
            eig(&g.hadamard(&e).real_part().hermitian_input()?)?,
        );
        margin = margin.min(majorization_margin(&eg, &ec, Interval::point(1.0), 1));
        viol = viol.max(majorization_violation(&eg, &ec, Interval::point(1.0), 1));
    }
    Ok(Outcome::from_margin(margin, viol, format!("n = {n}, d = {d}: 4 frequencies with Pythagorean angles, random content, both σ (q ≠ k) and λ (q = k) forms; k ≥ 2 by the exact rank-≤2 and trace identities")))
}
