//! How certified enclosures become verdicts: the decision rule every check uses (the theorem
//! checks and the model audit alike), and the certified slack/violation pairs of the catalogue's
//! inequalities between enclosed spectra (majorization for T3–T6, Weyl for T7).
//!
//! Each pair `(margin, violation)` holds a lower bound of the slack of the claim and a lower
//! bound of its violation, both computed with outward-rounded interval arithmetic
//! ([`pespectra_arith::interval`]); at most one of them is > 0, and both ≤ 0 means the
//! enclosures cannot tell.

use crate::Verdict;
use pespectra_arith::interval::Interval;

/// HOLDS with the margin when the certified slack is ≥ 0, FAILS with the violation when one is
/// certified (> 0), otherwise INCONCLUSIVE with no margin: never HOLDS from a float comparison.
pub fn verdict(margin: f64, violation: f64) -> (Verdict, Option<f64>) {
    if margin >= 0.0 {
        (Verdict::Holds, Some(margin))
    } else if violation > 0.0 {
        (Verdict::Fails, Some(violation))
    } else {
        (Verdict::Inconclusive, None)
    }
}

/// Certified slack and violation of `lhs ≤ rhs` for enclosures: `(lo(rhs − lhs), lo(lhs − rhs))`.
pub fn le(lhs: Interval, rhs: Interval) -> (f64, f64) {
    ((rhs - lhs).lo(), (lhs - rhs).lo())
}

/// Weyl's inequalities `λ_k(G) + λmin(B) ≤ λ_k(G + B) ≤ λ_k(G) + λmax(B)` for every k, from
/// decreasing enclosures of the spectra of Hermitian G, B and G + B (all of length n ≥ 1).
pub fn weyl(g: &[Interval], b: &[Interval], gb: &[Interval]) -> (f64, f64) {
    let n = g.len();
    let (bmax, bmin) = (b[0], b[n - 1]);
    let (mut margin, mut violation) = (f64::INFINITY, 0.0f64);
    for k in 0..n {
        let (m1, v1) = le(g[k] + bmin, gb[k]);
        let (m2, v2) = le(gb[k], g[k] + bmax);
        margin = margin.min(m1).min(m2);
        violation = violation.max(v1).max(v2);
    }
    (margin, violation)
}

/// The spread consequence of Weyl, `spread(G + B) ≥ spread(B) − spread(G)` (spread = λmax −
/// λmin): an additive bias adds its whole spectral range, up to the content's own.
pub fn spread_added(g: &[Interval], b: &[Interval], gb: &[Interval]) -> (f64, f64) {
    let spread = |e: &[Interval]| e[0] - e[e.len() - 1];
    le(spread(b) - spread(g), spread(gb))
}

/// `min_k lo(scale·S_k(big) − S_k(small))` over k = 1..upto, S_k the top-k partial sums: a
/// certified lower bound of the weak-majorization slack.
pub fn majorization_margin(
    big: &[Interval],
    small: &[Interval],
    scale: Interval,
    upto: usize,
) -> f64 {
    let (mut sb, mut ss) = (Interval::point(0.0), Interval::point(0.0));
    let mut m = f64::INFINITY;
    for k in 0..upto {
        sb = sb + big[k];
        ss = ss + small[k];
        m = m.min((scale * sb - ss).lo());
    }
    m
}

/// The certified violation if some partial sum of `small` provably exceeds `big`'s.
pub fn majorization_violation(
    big: &[Interval],
    small: &[Interval],
    scale: Interval,
    upto: usize,
) -> f64 {
    let (mut sb, mut ss) = (Interval::point(0.0), Interval::point(0.0));
    let mut v = 0.0f64;
    for k in 0..upto {
        sb = sb + big[k];
        ss = ss + small[k];
        v = v.max((ss - scale * sb).lo());
    }
    v
}
