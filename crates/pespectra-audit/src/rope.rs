//! Per-frequency checks of a RoPE head by exact low-rank reductions.
//!
//! For frequency f let `a_i = q_{i,r} + i·q_{i,m}` and `b_j` likewise from k (the capture's
//! pairing), `u_j = e^{ijθ}`, `α = a∘u`, `β = b∘u`. Then (proof: `proofs/AUDIT_REDUCTION.md`)
//!
//! * `G = conj(a) bᵀ` and `G∘E = conj(α) βᵀ` are rank one: σ = {‖a‖‖b‖, 0, …} for both (T1);
//! * `L = Re(G∘E) = U Vᵀ` with `U = [Re α, Im α]`, `V = [Re β, Im β]` (n × 2): its non-zero
//!   singular values are the square roots of the eigenvalues of `P·Q`, `P = UᵀU`, `Q = VᵀV`, so
//!   `σ₁² + σ₂² = tr(PQ)` and `σ₁σ₂ = √(det P det Q)`;
//! * `A = (G + Gᴴ)/2 = ½(x yᴴ + y xᴴ)` (x = conj a, y = conj b) has the two non-zero eigenvalues
//!   `½(Re c ± √(‖a‖²‖b‖² − (Im c)²))`, `c = Σ a_i conj(b_i)`;
//! * `S = (L + Lᵀ)/2 = Y K Yᵀ`, `Y = [U V]` (n × 4), `K = ½[[0, I], [I, 0]]`: with `Γ = YᵀY = RᵀR`
//!   (Cholesky), the non-zero eigenvalues of S are those of the 4 × 4 `R K Rᵀ`.
//!
//! Every quantity is computed from f64-exact capture values and MPFR-enclosed phases with
//! outward-rounded interval arithmetic, so each is an enclosure of the exact value; the 4 × 4
//! eigenvalues go through the verified engine. When Γ is too close to singular for an interval
//! Cholesky, the check falls back to the verified engine on the dense n × n matrix.

use crate::check::{le, Check, Fold};
use crate::kernel::phases;
use crate::AuditError;
use pespectra_arith::interval::Interval;
use pespectra_capture::Pairing;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::HermitianInput;
use pespectra_spectra::{eigenvalues, EigOptions};

type Gram4 = [[Interval; 4]; 4];

/// `x²`, kept non-negative when the enclosure straddles 0.
pub(crate) fn sqr(x: Interval) -> Interval {
    if x.lo() <= 0.0 && x.hi() >= 0.0 {
        Interval::new(0.0, (x * x).hi()).expect("ordered")
    } else {
        x * x
    }
}

/// The part of an enclosure of a quantity known to be ≥ 0.
pub(crate) fn nonneg(x: Interval) -> Interval {
    Interval::new(x.lo().max(0.0), x.hi().max(0.0)).expect("ordered")
}

fn half(x: Interval) -> Interval {
    x * Interval::point(0.5)
}

fn gram4(y: &[Vec<Interval>; 4]) -> Gram4 {
    let mut g = [[Interval::point(0.0); 4]; 4];
    for k in 0..4 {
        for l in k..4 {
            let mut s = Interval::point(0.0);
            for (x, z) in y[k].iter().zip(&y[l]) {
                s = s + if k == l { sqr(*x) } else { *x * *z };
            }
            g[k][l] = s;
            g[l][k] = s;
        }
    }
    g
}

/// Verified eigenvalue enclosures (decreasing) of a symmetric ball given by interval entries
/// `entry(i, j)` for i ≤ j.
pub(crate) fn sym_ball_eigs(
    n: usize,
    entry: impl Fn(usize, usize) -> Interval,
) -> Result<Vec<Interval>, AuditError> {
    let ball = Ball::symmetric_from_upper(n, entry);
    verified_eigs(&ball.hermitian_input().map_err(AuditError::Spectra)?)
}

/// Verified eigenvalues (decreasing) as f64 intervals.
pub(crate) fn verified_eigs(h: &HermitianInput) -> Result<Vec<Interval>, AuditError> {
    Ok(eigenvalues(h, &EigOptions::default())
        .map_err(AuditError::Spectra)?
        .intervals())
}

/// Non-zero eigenvalues of `Y K Yᵀ` from Γ = YᵀY: interval Cholesky Γ = RᵀR, then the verified
/// eigenvalues of `R K Rᵀ` (4 × 4). `None` if a pivot of the Cholesky is not certified > 0.
fn low_rank_sym_eigs(g: &Gram4) -> Result<Option<Vec<Interval>>, AuditError> {
    let zero = Interval::point(0.0);
    let mut r = [[zero; 4]; 4]; // upper triangular, Γ = RᵀR
    for j in 0..4 {
        let mut d = g[j][j];
        for row in r.iter().take(j) {
            d = d - sqr(row[j]);
        }
        if d.lo() <= 0.0 {
            return Ok(None);
        }
        r[j][j] = d.sqrt().expect("positive");
        for i in j + 1..4 {
            let mut v = g[j][i];
            for row in r.iter().take(j) {
                v = v - row[j] * row[i];
            }
            r[j][i] = v.div_pos(r[j][j]).expect("positive pivot");
        }
    }
    // (R K Rᵀ)_ij = ½ (R_i0 R_j2 + R_i2 R_j0 + R_i1 R_j3 + R_i3 R_j1)
    let m = |i: usize, j: usize| {
        half(r[i][0] * r[j][2] + r[i][2] * r[j][0] + r[i][1] * r[j][3] + r[i][3] * r[j][1])
    };
    sym_ball_eigs(4, m).map(Some)
}

/// Eigenvalues of the dense n × n `Y K Yᵀ` (fallback and test oracle).
pub fn dense_sym_eigs(y: &[Vec<Interval>; 4]) -> Result<Vec<Interval>, AuditError> {
    let n = y[0].len();
    sym_ball_eigs(n, |i, j| {
        half(y[0][i] * y[2][j] + y[2][i] * y[0][j] + y[1][i] * y[3][j] + y[3][i] * y[1][j])
    })
}

/// Every certified quantity of one frequency (unscaled: the head's logit scale multiplies all
/// of them alike).
#[derive(Clone, Debug)]
pub struct FreqEnclosure {
    /// θ_f.
    pub theta: f64,
    /// σ₁(G^f) = ‖a‖‖b‖ (the only non-zero singular value).
    pub sigma_g: Interval,
    /// σ₁(G^f∘E^f) = ‖α‖‖β‖ (equal to `sigma_g` by T1).
    pub sigma_ge: Interval,
    /// σ₁ and σ₂ of L^f = Re(G^f∘E^f) (rank ≤ 2).
    pub sigma_l: [Interval; 2],
    /// σ₁ + σ₂ of L^f.
    pub sigma_l_sum: Interval,
    /// λ₊ ≥ 0 ≥ λ₋, the non-zero eigenvalues of A^f = (G^f + G^fᴴ)/2.
    pub lambda_a: [Interval; 2],
    /// Eigenvalues of S^f = (L^f + L^fᵀ)/2 that can be non-zero, decreasing.
    pub eig_s: Vec<Interval>,
    /// The same for the NoPE symmetric logits Re(A^f) (θ = 0).
    pub eig_nope: Vec<Interval>,
    /// Whether the 4 × 4 reductions were used (false: dense fallback for at least one).
    pub reduced: bool,
}

/// The content pairs of frequency f: `(re, im)` of a_i (from q) and b_j (from k).
pub fn pairs(
    x: &[f32],
    head_dim: usize,
    pairing: Pairing,
    num_freq: usize,
    f: usize,
) -> Vec<(f64, f64)> {
    let (r, m) = match pairing {
        Pairing::Interleaved => (2 * f, 2 * f + 1),
        Pairing::HalfSplit => (f, f + num_freq),
    };
    x.chunks_exact(head_dim)
        .map(|row| (row[r] as f64, row[m] as f64))
        .collect()
}

/// Rotated vectors `[Re(x∘u), Im(x∘u)]` as enclosures (`u` = phases of θ).
fn rotate(x: &[(f64, f64)], theta: f64) -> [Vec<Interval>; 2] {
    let ph = phases(theta, x.len());
    let p = Interval::point;
    let (re, im) = x
        .iter()
        .zip(ph.iter())
        .map(|(&(xr, xi), &(c, s))| (p(xr) * c - p(xi) * s, p(xr) * s + p(xi) * c))
        .unzip();
    [re, im]
}

/// All enclosures of one frequency.
pub fn freq_enclosure(
    a: &[(f64, f64)],
    b: &[(f64, f64)],
    theta: f64,
) -> Result<FreqEnclosure, AuditError> {
    let p = Interval::point;
    let exact = |x: &[(f64, f64)]| -> [Vec<Interval>; 2] {
        [
            x.iter().map(|v| p(v.0)).collect(),
            x.iter().map(|v| p(v.1)).collect(),
        ]
    };
    let ([ar, ai], [br, bi]) = (exact(a), exact(b));
    let y0 = [ar, ai, br, bi];
    let ([alr, ali], [ber, bei]) = (rotate(a, theta), rotate(b, theta));
    let y = [alr, ali, ber, bei];
    let (g0, g) = (gram4(&y0), gram4(&y));
    let norm_prod = |g: &Gram4| (g[0][0] + g[1][1]) * (g[2][2] + g[3][3]);
    let sigma_g = norm_prod(&g0).sqrt().expect("≥ 0");
    let sigma_ge = norm_prod(&g).sqrt().expect("≥ 0");
    // L = U Vᵀ: σ² are the eigenvalues of PQ (2 × 2)
    let t = g[0][0] * g[2][2] + Interval::point(2.0) * g[0][1] * g[2][3] + g[1][1] * g[3][3];
    let det = |a: Interval, b: Interval, c: Interval| nonneg(a * b - sqr(c));
    let dd = det(g[0][0], g[1][1], g[0][1]) * det(g[2][2], g[3][3], g[2][3]);
    let disc = nonneg(sqr(t) - Interval::point(4.0) * dd)
        .sqrt()
        .expect("≥ 0");
    let s1 = nonneg(half(t + disc)).sqrt().expect("≥ 0");
    let s2 = nonneg(half(t - disc)).sqrt().expect("≥ 0");
    let sigma_l_sum = nonneg(t + Interval::point(2.0) * dd.sqrt().expect("≥ 0"))
        .sqrt()
        .expect("≥ 0");
    // A = ½(x yᴴ + y xᴴ)
    let c_re = g0[0][2] + g0[1][3];
    let c_im = g0[1][2] - g0[0][3];
    let root = nonneg(norm_prod(&g0) - sqr(c_im)).sqrt().expect("≥ 0");
    let lambda_a = [half(c_re + root), half(c_re - root)];
    let mut reduced = true;
    let mut sym = |g: &Gram4, y: &[Vec<Interval>; 4]| -> Result<Vec<Interval>, AuditError> {
        match low_rank_sym_eigs(g)? {
            Some(e) => Ok(e),
            None => {
                reduced = false;
                dense_sym_eigs(y)
            }
        }
    };
    let eig_s = sym(&g, &y)?;
    let eig_nope = sym(&g0, &y0)?;
    Ok(FreqEnclosure {
        theta,
        sigma_g,
        sigma_ge,
        sigma_l: [s1, s2],
        sigma_l_sum,
        lambda_a,
        eig_s,
        eig_nope,
        reduced,
    })
}

/// Sum of the positive (`pos`) or negative parts of eigenvalue enclosures.
fn part_sum(e: &[Interval], pos: bool) -> Interval {
    e.iter().fold(Interval::point(0.0), |s, v| {
        let part = if pos {
            Interval::new(v.lo().max(0.0), v.hi().max(0.0))
        } else {
            Interval::new(v.lo().min(0.0), v.hi().min(0.0))
        };
        s + part.expect("ordered")
    })
}

impl FreqEnclosure {
    /// T1: σ(G∘E) = σ(G), an identity (|u_j| = 1): `(slack 0, violation)`; a certified
    /// violation means the enclosures are disjoint, i.e. a bug.
    pub fn t1(&self) -> (f64, f64) {
        let v = le(self.sigma_ge, self.sigma_g)
            .1
            .max(le(self.sigma_g, self.sigma_ge).1);
        (if v > 0.0 { -v } else { 0.0 }, v)
    }

    /// T4 (+T5) on the non-symmetric logits: σ(L) ≺_w σ(G); with rank(G) = 1 and rank(L) ≤ 2
    /// this is exactly σ₁(L) + σ₂(L) ≤ ‖a‖‖b‖ (k = 1 follows, k ≥ 3 adds zeros).
    pub fn t4(&self) -> (f64, f64) {
        le(self.sigma_l_sum, self.sigma_g)
    }

    /// T2 on the symmetrised logits: spec(S) ⊂ [λ₋(A), λ₊(A)].
    pub fn t2(&self) -> (f64, f64) {
        let (top, bot) = (self.eig_s[0], self.eig_s[self.eig_s.len() - 1]);
        let (m1, v1) = le(top, self.lambda_a[0]);
        let (m2, v2) = le(self.lambda_a[1], bot);
        (m1.min(m2), v1.max(v2))
    }

    /// T3 on the symmetrised logits: λ(S) ≺ λ(A). tr S = tr A exactly (E_ii = 1) and A has one
    /// positive and one negative eigenvalue, so this is exactly "sum of positive eigenvalues of
    /// S ≤ λ₊(A)" and "sum of negative ones ≥ λ₋(A)" (both are checked).
    pub fn t3(&self) -> (f64, f64) {
        let (m1, v1) = le(part_sum(&self.eig_s, true), self.lambda_a[0]);
        let (m2, v2) = le(self.lambda_a[1], part_sum(&self.eig_s, false));
        (m1.min(m2), v1.max(v2))
    }

    /// R1 on this frequency: certified `λmax(S) − λmax(Re A)` as `(lowered by, raised by)`.
    pub fn r1(&self) -> (f64, f64) {
        le(self.eig_s[0], self.eig_nope[0])
    }
}

/// Per-frequency verdicts of one RoPE head, folded into one check per claim, plus the
/// per-frequency R1 count.
pub fn rope_checks(
    q: &[f32],
    k: &[f32],
    head_dim: usize,
    pairing: Pairing,
    inv_freq: &[f64],
) -> Result<(Vec<Check>, usize, usize), AuditError> {
    let nf = inv_freq.len();
    let (mut t1, mut t2, mut t3, mut t4) = (
        Fold::default(),
        Fold::default(),
        Fold::default(),
        Fold::default(),
    );
    let (mut raised, mut dense) = (0, 0);
    for (f, &theta) in inv_freq.iter().enumerate() {
        let a = pairs(q, head_dim, pairing, nf, f);
        let b = pairs(k, head_dim, pairing, nf, f);
        let e = freq_enclosure(&a, &b, theta)?;
        let push = |fold: &mut Fold, (m, v): (f64, f64)| fold.push(f, m, v);
        push(&mut t1, e.t1());
        push(&mut t2, e.t2());
        push(&mut t3, e.t3());
        push(&mut t4, e.t4());
        raised += usize::from(e.r1().1 > 0.0);
        dense += usize::from(!e.reduced);
    }
    let worst = |f: &Fold| {
        f.worst_part()
            .map_or(String::new(), |p| format!(", tightest at f = {p}"))
    };
    let checks = vec![
        t1.finish("T1", format!("{nf} frequencies: σ(G^f∘E^f) = σ(G^f) = {{‖a‖‖b‖, 0, …}} (identity; enclosures consistent)")),
        t2.finish("T2", format!("{nf} frequencies: spec(S^f) ⊂ [λmin(A^f), λmax(A^f)], S^f = sym Re(G^f∘E^f), A^f = Herm(G^f){}", worst(&t2))),
        t3.finish("T3", format!("{nf} frequencies: λ(S^f) ≺ λ(A^f){}", worst(&t3))),
        t4.finish("T4", format!("{nf} frequencies: σ(Re(G^f∘E^f)) ≺_w σ(G^f){}", worst(&t4))),
    ];
    Ok((checks, raised, dense))
}
