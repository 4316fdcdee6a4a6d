//! T3: a unit-diagonal PSD kernel contracts the spectrum of a Hermitian A in the sense of
//! majorization.

use crate::ball::ANGLES;
use crate::decide::{majorization_margin, majorization_violation};
use crate::enclose::eig;
use crate::hypotheses::{a_and_psd_b, unit_diagonal_exact};
use crate::instances::{random_symmetric, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;

pub(crate) const ENTRY: Entry = Entry {
    id: "T3",
    statement: "A Hermitian, B PSD unit-diagonal: λ(A∘B) ≺ λ(A)",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::AAndB,
        homogeneity: Homogeneity::InA,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n;
    let a = random_symmetric(&mut rng(p, 4), n);
    let b = ANGLES[1].cos_kernel(n);
    instance(&a, &b, "A random symmetric, B = cos((j−i)θ), cos θ = 12/13")
}

pub(crate) fn instance(a: &Ball, b: &Ball, what: &str) -> Result<Outcome, CheckError> {
    let n = a.n();
    if !unit_diagonal_exact(b) {
        return Ok(Outcome::inconclusive(
            "hypothesis not verified: B's diagonal is not exactly 1",
        ));
    }
    let ea = eig(&a.hermitian_input()?)?;
    let ec = eig(&a.hadamard(b).hermitian_input()?)?;
    let one = Interval::point(1.0);
    // k = n is the trace equality tr(A∘B) = Σ a_ii b_ii = tr A, exact for unit-diagonal B.
    let m = majorization_margin(&ea, &ec, one, n - 1);
    let v = majorization_violation(&ea, &ec, one, n - 1);
    // n = 1: only the trace equality is left, slack exactly 0
    let m = if n == 1 { 0.0 } else { m };
    Ok(Outcome::from_margin(m, v, format!("n = {n}, {what}: every top-k partial sum of λ(A∘B) ≤ that of λ(A) (k < n), traces equal exactly (unit diagonal)")))
}

/// T3 on user matrices: B ⪰ 0 certified, A Hermitian verified, B's unit diagonal checked.
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    match a_and_psd_b(u, true)? {
        Ok((a, b, how)) => instance(&a, &b, &UserInput::described(&how)),
        Err(unverified) => Ok(unverified),
    }
}
