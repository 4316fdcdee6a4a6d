//! T10: a unit-diagonal PSD kernel keeps a positive definite A definite, inside A's extreme
//! eigenvalues and with no larger condition number; the additive analogue loses definiteness.

use crate::ball::ANGLES;
use crate::enclose::eig;
use crate::hypotheses::{a_and_psd_b, unit_diagonal_exact};
use crate::instances::{alibi, gram, random_mat, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::{scale_down, UserInput};
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_spectra::ball::Ball;

pub(crate) const ENTRY: Entry = Entry {
    id: "T10",
    statement: "A ≻ 0, B PSD unit-diagonal: A∘B ≻ 0, λmin, λmax inside A's, κ(A∘B) ≤ κ(A)",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::AAndB,
        homogeneity: Homogeneity::Mixed,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n;
    let mut r = rng(p, 10);
    let x = random_mat(&mut r, n, n);
    let a = gram(&x, &x); // A = XXᵀ with X square: positive definite (certified below)
    let b = ANGLES[3].cos_kernel(n);
    let mut o = instance(&a, &b, "A = XXᵀ, B = cos kernel (cos θ = 24/25)", 0)?;
    // the additive analogue fails: A + ALiBi loses definiteness (search slopes 2^-k)
    let mut additive = String::from("no certified loss of definiteness for A + ALiBi found");
    for k in 0..12 {
        let m = 2f64.powi(-k);
        let e = eig(&a.add(&alibi(n, m)).hermitian_input()?)?;
        if e[n - 1].hi() < 0.0 {
            additive = format!(
                "A + ALiBi(m = 2^-{k}) has λmin ≤ {:.4e} < 0 (certified)",
                e[n - 1].hi()
            );
        }
    }
    o.detail = format!("{}; {additive}", o.detail);
    Ok(o)
}

/// T10 on balls A (Hermitian) and B (PSD, guaranteed by the caller): A ≻ 0 is certified from
/// A's enclosures and B's diagonal checked to be exactly 1 (else INCONCLUSIVE with the reason);
/// then A∘B ≻ 0, λmin(A∘B) ≥ λmin(A), λmax(A∘B) ≤ λmax(A) and κ(A∘B) ≤ κ(A) are decided.
///
/// `a` may be `2^e` times the matrix the caller means (`e = unscale`, see `user::run`): the
/// eigenvalue slacks are then scaled back by `2^−e` (rounded down), the condition numbers are
/// scale-free.
pub(crate) fn instance(
    a: &Ball,
    b: &Ball,
    what: &str,
    unscale: i32,
) -> Result<Outcome, CheckError> {
    let n = a.n();
    if !unit_diagonal_exact(b) {
        return Ok(Outcome::inconclusive(
            "hypothesis not verified: B's diagonal is not exactly 1",
        ));
    }
    let ea = eig(&a.hermitian_input()?)?;
    let (amax, amin) = (ea[0], ea[n - 1]);
    if amin.lo() <= 0.0 {
        return Ok(Outcome::inconclusive(if amin.hi() <= 0.0 {
            format!(
                "hypothesis false: A is not positive definite (λmin(A) ≤ {:e}, certified)",
                amin.hi()
            )
        } else {
            format!(
                "hypothesis A ≻ 0 could not be certified (λmin(A) ∈ [{:e}, {:e}])",
                amin.lo(),
                amin.hi()
            )
        }));
    }
    let ec = eig(&a.hadamard(b).hermitian_input()?)?;
    let (cmax, cmin) = (ec[0], ec[n - 1]);
    // κ = λmax/λmin, enclosed when the denominator is certified > 0 (A's is)
    let ka = amax.div_pos(amin).expect("λmin(A) > 0 certified");
    let kc = cmax.div_pos(cmin);
    let back = |x: f64| scale_down(x, -unscale);
    let mut margin = back(cmin.lo())
        .min(back((cmin - amin).lo()))
        .min(back((amax - cmax).lo()));
    let mut viol = back(-cmin.hi())
        .max(back((amin - cmin).lo()))
        .max(back((cmax - amax).lo()));
    match kc {
        Some(kc) => {
            margin = margin.min((ka - kc).lo());
            viol = viol.max((kc - ka).lo());
        }
        None => margin = f64::NEG_INFINITY,
    }
    Ok(Outcome::from_margin(margin, viol, format!("n = {n}, {what}: λ(A) ⊂ [{:.4e}, {:.4e}] (A ≻ 0 certified), λ(A∘B) ⊂ [{:.4e}, {:.4e}]: A∘B ≻ 0, λmin(A∘B) ≥ λmin(A), λmax(A∘B) ≤ λmax(A), κ(A) ≥ {:.4e} ≥ κ(A∘B)", amin.lo(), amax.hi(), cmin.lo(), cmax.hi(), ka.lo())))
}

/// T10 on user matrices: B ⪰ 0 certified, A Hermitian verified (A ≻ 0 and B's unit diagonal
/// are checked by [`instance`]).
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    match a_and_psd_b(u, true)? {
        Ok((a, b, how)) => instance(&a, &b, &UserInput::described(&how), u.unscale),
        Err(unverified) => Ok(unverified),
    }
}
