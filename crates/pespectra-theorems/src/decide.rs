//! Certified margins of the majorization statements (T3–T6): lower bounds of the slack and of
//! the violation of top-k partial-sum inequalities between two enclosed spectra.

use pespectra_arith::interval::Interval;

/// `min_k lo(scale·S_k(big) − S_k(small))` over k = 1..upto, S_k the top-k partial sums: a
/// certified lower bound of the weak-majorization slack.
pub(crate) fn majorization_margin(
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
pub(crate) fn majorization_violation(
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
