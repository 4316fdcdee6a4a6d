//! One module per catalogue entry: its id, statement, expected verdict, seeded-instance check
//! and, where the statement applies to user matrices, its user-matrix check. Each module's
//! `ENTRY` is registered in `registry::REGISTRY`.

pub(crate) mod d1;
pub(crate) mod d2;
pub(crate) mod r1;
pub(crate) mod r2;
pub(crate) mod r3;
pub(crate) mod r4;
pub(crate) mod r5;
pub(crate) mod r6;
pub(crate) mod t1;
pub(crate) mod t10;
pub(crate) mod t2;
pub(crate) mod t3;
pub(crate) mod t4;
pub(crate) mod t5;
pub(crate) mod t6;
pub(crate) mod t7;
pub(crate) mod t8;
pub(crate) mod t9;

#[cfg(test)]
mod tests {
    use crate::Verdict;
    use faer::Mat;
    use pespectra_spectra::ball::Ball;
    use pespectra_spectra::matrix::CMat;

    fn real_ball(rows: &[&[f64]]) -> Ball {
        let n = rows.len();
        Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| rows[i][j])))
    }

    /// A = 11ᵀ and the unit-diagonal, *not* PSD kernel B = [[1, 1+ε], [1+ε, 1]]: A∘B = B has
    /// λ = σ = (2 + ε, ε), so the T2 bound, the T3 majorization and the T4 weak majorization are
    /// all false by exactly ε. With every speed trick in place (cheap ball kernels, Gram
    /// singular values) no ε down to one ulp may be certified as HOLDS, and moderate ones must
    /// be certified FAILS.
    #[test]
    fn claims_false_by_a_hair_are_refused() {
        let a = real_ball(&[&[1.0, 1.0], &[1.0, 1.0]]);
        for k in 1..=52 {
            let t = 1.0 + 2f64.powi(-k);
            let b = real_ball(&[&[1.0, t], &[t, 1.0]]);
            let outcomes = [
                ("T2", super::t2::instance(&a, &b, None, "hair").unwrap()),
                ("T3", super::t3::instance(&a, &b, "hair").unwrap()),
                ("T4", super::t4::instance(&a, &b, "hair").unwrap()),
            ];
            for (id, o) in outcomes {
                assert_ne!(
                    o.verdict,
                    Verdict::Holds,
                    "{id} certified a claim false by 2^-{k}"
                );
                if k <= 40 {
                    assert_eq!(o.verdict, Verdict::Fails, "{id} at 2^-{k}: {}", o.detail);
                }
            }
        }
    }
}
