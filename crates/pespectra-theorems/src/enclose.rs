//! Verified spectra of ball matrices as f64 intervals: the enclosures every spectral check
//! compares (eigenvalues, singular values by Jordan–Wielandt or by the Gram matrix).

use crate::CheckError;
use faer::Mat;
use pespectra_arith::gemm::{matmul_ball, par_for};
use pespectra_arith::interval::Interval;
use pespectra_arith::round::add_up;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, singular_values_ball, EigOptions};

/// Verified eigenvalue enclosures, decreasing.
pub(crate) fn eig(h: &HermitianInput) -> Result<Vec<Interval>, CheckError> {
    Ok(eigenvalues(h, &EigOptions::default())?.intervals())
}

/// Verified singular-value enclosures, decreasing.
pub(crate) fn svals(b: &Ball) -> Result<Vec<Interval>, CheckError> {
    Ok(singular_values_ball(&b.center, Some(&b.radius), &EigOptions::default())?.intervals())
}

/// Verified singular-value enclosures of a *real* ball, decreasing, as square roots of the
/// eigenvalues of the Gram matrix `MᵀM` (`n×n` instead of the `2n×2n` Jordan–Wielandt matrix:
/// about 8× less work). For every `M = A + Δ`, `|Δ| ≤ R`:
/// `MᵀM − fl(AᵀA) = (AᵀA − fl(AᵀA)) + AᵀΔ + ΔᵀA + ΔᵀΔ`, bounded entrywise by the GEMM radius
/// plus `X_ij + X_ji` with `X ≥ (|A| + R)ᵀR` (since `|A|ᵀR ≤ X` and `RᵀR ≤ X` termwise). The
/// Gram ball is symmetrised from its upper triangle (each entry's ball holds the exact,
/// symmetric value). Absolute widths of σ near 0 are about `√(n·u)·‖A‖`, so callers keep
/// [`svals`] as the fallback. `None` for complex balls.
pub(crate) fn svals_gram(b: &Ball) -> Result<Option<Vec<Interval>>, CheckError> {
    use pespectra_arith::gemm::matmul_nonneg_upper;
    if b.center.is_complex() {
        return Ok(None);
    }
    let (a, r, n) = (&b.center.re, &b.radius, b.n());
    let g = matmul_ball(a.transpose(), a.as_ref(), par_for(n));
    let mut rad = g.rad;
    if (0..n).any(|j| (0..n).any(|i| r[(i, j)] != 0.0)) {
        let w = Mat::from_fn(n, n, |i, j| add_up(a[(i, j)].abs(), r[(i, j)]));
        let x = matmul_nonneg_upper(w.transpose(), r.as_ref(), par_for(n));
        rad = Mat::from_fn(n, n, |i, j| {
            add_up(rad[(i, j)], add_up(x[(i, j)], x[(j, i)]))
        });
    }
    let gram = Ball {
        center: CMat::real(g.mid),
        radius: rad,
    };
    let e = eig(&gram.hermitian_input()?)?;
    e.iter()
        .map(|l| {
            l.sqrt()
                .ok_or(CheckError::Internal("Gram eigenvalue enclosure below 0"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instances::{random_mat, rng};
    use crate::Params;
    use num_rational::BigRational;
    use pespectra_spectra::exact::RationalSymmetric;
    use rand::Rng;

    /// Gram singular values contain the exact ones of every matrix in the ball (checked by exact
    /// rational inertia of MᵀM at the squared endpoints, for the corners M = A ± R).
    #[test]
    fn gram_singular_values_enclose_every_matrix_of_the_ball() {
        let mut r = rng(&Params::new(3, 6), 0);
        for trial in 0..12 {
            let n = 2 + trial % 5;
            let a = random_mat(&mut r, n, n);
            let rad = Mat::from_fn(n, n, |_, _| {
                if trial % 2 == 0 {
                    0.0
                } else {
                    r.gen_range(0.0..1e-3)
                }
            });
            let ball = Ball {
                center: CMat::real(a.clone()),
                radius: rad.clone(),
            };
            let s = svals_gram(&ball).unwrap().unwrap();
            for corner in 0..3 {
                let m = Mat::from_fn(n, n, |i, j| {
                    let sign = [(i + j) % 2, (i * 3 + j) % 2, 1][corner] as f64 * 2.0 - 1.0;
                    a[(i, j)] + sign * rad[(i, j)]
                });
                let q = |x: f64| BigRational::from_float(x).unwrap();
                let rows: Vec<Vec<BigRational>> = (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| (0..n).map(|k| q(m[(k, i)]) * q(m[(k, j)])).sum())
                            .collect()
                    })
                    .collect();
                let claims: Vec<(BigRational, BigRational)> = s
                    .iter()
                    .map(|v| (q(v.lo()) * q(v.lo()), q(v.hi()) * q(v.hi())))
                    .collect();
                let exact = RationalSymmetric::from_rows(rows).unwrap();
                assert_eq!(
                    exact.first_false_claim(&claims),
                    None,
                    "n = {n}, trial {trial}, corner {corner}"
                );
            }
        }
    }
}
