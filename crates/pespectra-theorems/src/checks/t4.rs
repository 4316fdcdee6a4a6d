//! T4: weak majorization of singular values by a PSD kernel's largest diagonal entry, for
//! any square A.

use crate::ball::ANGLES;
use crate::decide::{majorization_margin, majorization_violation};
use crate::enclose::{svals, svals_gram};
use crate::hypotheses::a_and_psd_b;
use crate::instances::{gram, random_mat, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;

pub(crate) const ENTRY: Entry = Entry {
    id: "T4",
    statement: "any A, B PSD: σ(A∘B) ≺_w (max b_ii)·σ(A)",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::AAndB,
        homogeneity: Homogeneity::InEach,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let (n, d) = (p.n, 16.min(p.n));
    let mut r = rng(p, 5);
    let (q, k) = (random_mat(&mut r, n, d), random_mat(&mut r, n, d));
    let a = gram(&q, &k);
    let b = ANGLES[2].cos_kernel(n);
    instance(
        &a,
        &b,
        &format!("A = QKᵀ (W_Q ≠ W_K, rank {d}), B = cos kernel (cos θ = 5/13)"),
    )
}

/// T4 on a ball A (any square) and a ball B (PSD, guaranteed by the caller). Real instances
/// first try the cheaper Gram-matrix singular values ([`svals_gram`]); when they cannot certify
/// the margin, the Jordan–Wielandt enclosures (tighter near σ = 0) decide.
pub(crate) fn instance(a: &Ball, b: &Ball, what: &str) -> Result<Outcome, CheckError> {
    let n = a.n();
    let c = a.hadamard(b);
    // max_i b_ii, enclosed
    let beta = (0..n)
        .map(|i| Interval::ball(b.center.re[(i, i)], b.radius[(i, i)]))
        .fold(Interval::point(f64::NEG_INFINITY), |m, d| {
            Interval::new(m.lo().max(d.lo()), m.hi().max(d.hi())).expect("ordered")
        });
    let decide = |sa: &[Interval], sc: &[Interval]| {
        let m = majorization_margin(
            sa,
            sc,
            Interval::new(beta.lo(), beta.lo()).expect("finite"),
            n,
        );
        let v = majorization_violation(
            sa,
            sc,
            Interval::new(beta.hi(), beta.hi()).expect("finite"),
            n,
        );
        (m, v)
    };
    let fast = match (svals_gram(a)?, svals_gram(&c)?) {
        (Some(sa), Some(sc)) => Some(decide(&sa, &sc)),
        _ => None,
    };
    let (m, v, how) = match fast {
        Some((m, v)) if m >= 0.0 => (m, v, "Gram"),
        _ => {
            let (m, v) = decide(&svals(a)?, &svals(&c)?);
            (m, v, "Jordan–Wielandt")
        }
    };
    Ok(Outcome::from_margin(m, v, format!("n = {n}, {what}, max b_ii ∈ [{}, {}]: top-k sums of σ(A∘B) ≤ max b_ii · those of σ(A), k = 1..n ({how} enclosures)", beta.lo(), beta.hi())))
}

/// T4 on user matrices: B ⪰ 0 certified (A may be any square matrix).
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    match a_and_psd_b(u, false)? {
        Ok((a, b, how)) => instance(&a, &b, &UserInput::described(&how)),
        Err(unverified) => Ok(unverified),
    }
}
