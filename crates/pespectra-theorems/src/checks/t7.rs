//! T7: Weyl's inequalities for an additive positional bias, for eigenvalues (Hermitian) and
//! singular values (any square matrices).

use crate::decide::{spread_added, weyl};
use crate::enclose::{eig, svals};
use crate::hypotheses::hermitian;
use crate::instances::{alibi, gram, random_mat, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;

pub(crate) const ENTRY: Entry = Entry {
    id: "T7",
    statement: "Weyl: λ_k(G)+λmin(B) ≤ λ_k(G+B) ≤ λ_k(G)+λmax(B); σ_k(A+B) ≤ σ_k(A)+σ_1(B)",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::AAndB,
        homogeneity: Homogeneity::Jointly,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let (n, d) = (p.n, 16.min(p.n));
    let mut r = rng(p, 8);
    let x = random_mat(&mut r, n, d);
    let g = gram(&x, &x);
    let b = alibi(n, 0.125);
    let (eg, eb, egb) = spectra(&g, &b)?;
    let (m_weyl, v_weyl) = weyl(&eg, &eb, &egb);
    let (m_spread, v_spread) = spread_added(&eg, &eb, &egb);
    let (margin, viol) = (m_weyl.min(m_spread), v_weyl.max(v_spread));
    let spread = |e: &[Interval]| e[0] - e[n - 1];
    // non-Hermitian: σ_k(A + B) ≤ σ_k(A) + σ_1(B) with A = QKᵀ
    let y = random_mat(&mut r, n, d);
    let (m_sv, v_sv) = weyl_sv(&gram(&x, &y), &b)?;
    Ok(Outcome::from_margin(margin.min(m_sv), viol.max(v_sv), format!("n = {n}, G = XXᵀ (rank {d}), B = ALiBi −|i−j|/8: spread(G) ≤ {:.4}, spread(G+B) ≥ {:.4}: the whole positional spectrum is added", spread(&eg).hi(), spread(&egb).lo())))
}

/// Decreasing eigenvalue enclosures of G, B and G + B.
type Spectra = (Vec<Interval>, Vec<Interval>, Vec<Interval>);

/// The [`Spectra`] of Hermitian G and B.
fn spectra(g: &Ball, b: &Ball) -> Result<Spectra, CheckError> {
    Ok((
        eig(&g.hermitian_input()?)?,
        eig(&b.hermitian_input()?)?,
        eig(&g.add(b).hermitian_input()?)?,
    ))
}

/// Weyl for singular values of any A and bias B: `σ_k(A + B) ≤ σ_k(A) + σ_1(B)`; returns
/// (margin, violation).
fn weyl_sv(a: &Ball, b: &Ball) -> Result<(f64, f64), CheckError> {
    let (sa, sb, sab) = (svals(a)?, svals(b)?, svals(&a.add(b))?);
    let mut margin = f64::INFINITY;
    let mut viol = 0.0f64;
    for k in 0..a.n() {
        margin = margin.min((sa[k] + Interval::point(sb[0].hi()) - sab[k]).lo());
        viol = viol.max((sab[k] - (sa[k] + Interval::point(sb[0].lo()))).lo());
    }
    Ok((margin, viol))
}

/// `Some(c)` when `m = c·I` exactly (real c).
fn scalar_matrix(m: &CMat) -> Option<f64> {
    let n = m.nrows();
    let c = m.re[(0, 0)];
    let ok = !m.is_complex()
        && (0..n).all(|i| (0..n).all(|j| m.re[(i, j)] == if i == j { c } else { 0.0 }));
    ok.then_some(c)
}

/// T7 on user matrices: the eigenvalue form when A and B are both Hermitian, else the
/// singular-value form; a scalar B = c·I attains both bounds (margin 0).
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    let a = u.a;
    let (ga, gb) = (Ball::exact(a.clone()), Ball::exact(u.b()?.clone()));
    let n = a.nrows();
    let user = UserInput::described("verified");
    let both_hermitian = hermitian(a, "A").is_ok() && hermitian(&gb.center, "B").is_ok();
    if let Some(c) = scalar_matrix(&gb.center).filter(|_| both_hermitian) {
        return Ok(Outcome::new(Verdict::Holds, 0.0, format!("n = {n}, {user}: B = {c}·I exactly, so λ_k(A + B) = λ_k(A) + {c} = λ_k(A) + λmin(B) = λ_k(A) + λmax(B) for every k (both bounds attained, margin 0)")));
    }
    let (m, v, how) = if both_hermitian {
        let (eg, eb, egb) = spectra(&ga, &gb)?;
        let (m, v) = weyl(&eg, &eb, &egb);
        (
            m,
            v,
            "A, B Hermitian: λ_k(A) + λmin(B) ≤ λ_k(A + B) ≤ λ_k(A) + λmax(B)",
        )
    } else {
        let (m, v) = weyl_sv(&ga, &gb)?;
        (m, v, "A or B not Hermitian: σ_k(A + B) ≤ σ_k(A) + σ_1(B)")
    };
    Ok(Outcome::from_margin(
        m,
        v,
        format!("n = {n}, {user}: {how}, k = 1..n"),
    ))
}
