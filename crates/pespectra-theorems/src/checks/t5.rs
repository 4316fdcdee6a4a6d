//! T5: taking the real part of a Hermitian matrix contracts its spectrum (majorization).

use crate::decide::{majorization_margin, majorization_violation};
use crate::enclose::eig;
use crate::hypotheses::hermitian;
use crate::instances::{random_mat, rng};
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::matrix::{CMat, HermitianInput};

pub(crate) const ENTRY: Entry = Entry {
    id: "T5",
    statement: "H Hermitian: λ(Re H) ≺ λ(H)",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::A,
        homogeneity: Homogeneity::InA,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    let n = p.n;
    let mut r = rng(p, 6);
    let re = random_mat(&mut r, n, n);
    let im = random_mat(&mut r, n, n);
    let h = CMat::complex(
        Mat::from_fn(n, n, |i, j| re[(i.min(j), i.max(j))]),
        Mat::from_fn(n, n, |i, j| {
            if i < j {
                im[(i, j)]
            } else if i > j {
                -im[(j, i)]
            } else {
                0.0
            }
        }),
    );
    let eh = eig(&HermitianInput::new(h.clone())?)?;
    let er = eig(&HermitianInput::new(CMat::real(h.re.clone()))?)?;
    let one = Interval::point(1.0);
    let m = majorization_margin(&eh, &er, one, n - 1);
    let v = majorization_violation(&eh, &er, one, n - 1);
    Ok(Outcome::from_margin(m, v, format!("n = {n}, H random complex Hermitian: partial sums of λ(Re H) ≤ those of λ(H), traces equal exactly")))
}

/// T5 on a user H: verified Hermitian; a real H has Re H = H exactly (margin 0).
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    let a = u.a;
    match hermitian(a, "A") {
        Err(why) => Ok(Outcome::inconclusive(why)),
        Ok(h) if !h.center.is_complex() => Ok(Outcome::new(Verdict::Holds, 0.0, format!("n = {}, user H is real: Re H = H exactly, so λ(Re H) = λ(H) (majorization with equality, margin 0)", h.n()))),
        Ok(h) => {
            let n = h.n();
            let eh = eig(&h)?;
            let er = eig(&HermitianInput::new(CMat::real(a.re.clone()))?)?;
            let one = Interval::point(1.0);
            let m = majorization_margin(&eh, &er, one, n.saturating_sub(1));
            let v = majorization_violation(&eh, &er, one, n.saturating_sub(1));
            Ok(Outcome::from_margin(if n == 1 { 0.0 } else { m }, v, format!("n = {n}, user H: partial sums of λ(Re H) ≤ those of λ(H), traces equal exactly")))
        }
    }
}
