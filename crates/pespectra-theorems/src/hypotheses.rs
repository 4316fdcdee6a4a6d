//! Hypotheses of the user-matrix checks, verified rigorously (never assumed): Hermitian,
//! positive semidefinite (Cholesky certificate or exact rational inertia), exact unit diagonal.

use crate::enclose::eig;
use crate::user::UserInput;
use crate::{CheckError, Outcome};
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::{CMat, HermitianInput};

/// Whether B's diagonal is exactly 1 (centers 1, radii 0).
pub(crate) fn unit_diagonal_exact(b: &Ball) -> bool {
    (0..b.n()).all(|i| {
        b.center.re[(i, i)] == 1.0 && b.center.im_at(i, i) == 0.0 && b.radius[(i, i)] == 0.0
    })
}

/// `m` as a Hermitian input, or the reason (naming the matrix) why it is not one.
pub(crate) fn hermitian(m: &CMat, name: &str) -> Result<HermitianInput, String> {
    HermitianInput::new(m.clone())
        .map_err(|e| format!("hypothesis false: {name} is not Hermitian ({e})"))
}

/// The user's A (Hermitian when `a_hermitian`) and B (certified PSD) as exact balls, with how
/// B ⪰ 0 was proved; `Err` holds the INCONCLUSIVE outcome naming the failed hypothesis.
pub(crate) fn a_and_psd_b(
    u: &UserInput,
    a_hermitian: bool,
) -> Result<Result<(Ball, Ball, String), Outcome>, CheckError> {
    let b = u.b()?;
    let how = match hermitian(b, "B") {
        Ok(h) => certify_psd(&h)?,
        Err(e) => Err(e),
    };
    let how = match how {
        Ok(how) => how,
        Err(why) => return Ok(Err(Outcome::inconclusive(why))),
    };
    if a_hermitian {
        if let Err(why) = hermitian(u.a, "A") {
            return Ok(Err(Outcome::inconclusive(why)));
        }
    }
    Ok(Ok((Ball::exact(u.a.clone()), Ball::exact(b.clone()), how)))
}

/// Whether B is certified PSD: `Ok(Ok(how))` if proved, `Ok(Err(why))` if not (with a certified
/// negative eigenvalue when the hypothesis is actually false).
pub(crate) fn certify_psd(b: &HermitianInput) -> Result<Result<String, String>, CheckError> {
    use pespectra_spectra::cholesky::{certify_min_eig_above, MinEigVerdict};
    if let MinEigVerdict::Proved { lower_bound, .. } = certify_min_eig_above(b, 0.0)? {
        return Ok(Ok(format!(
            "B ≻ 0 by a Cholesky certificate (λmin > {lower_bound:e})"
        )));
    }
    if b.n() <= 40 {
        if let Some(ex) = pespectra_spectra::exact::RationalSymmetric::from_input(b) {
            let neg = ex
                .inertia_shifted(&num_rational::BigRational::from_integer(0.into()))
                .neg;
            return Ok(if neg == 0 {
                Ok("B ⪰ 0 by exact rational inertia".into())
            } else {
                Err(format!(
                    "hypothesis false: B has {neg} negative eigenvalues (exact inertia)"
                ))
            });
        }
    }
    let e = eig(b)?;
    let last = e[e.len() - 1];
    Ok(Err(if last.hi() < 0.0 {
        format!(
            "hypothesis false: λmin(B) ≤ {:e} < 0 (certified)",
            last.hi()
        )
    } else {
        "hypothesis B ⪰ 0 could not be certified (λmin(B) is too close to 0 for f64 and n > 40 for the exact path)".into()
    }))
}
