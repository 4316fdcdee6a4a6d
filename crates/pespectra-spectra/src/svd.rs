//! Verified singular values of square matrices through the Hermitian Jordan–Wielandt matrix
//! `[[0, A], [Aᴴ, 0]]`, whose eigenvalues are ±σ. Its f64 residual bounds come from `n × n`
//! products of `A`, `U` and `V` ([`residual_bounds`]); the `2n × 2n` matrices are built only for
//! MPFR refinement.

use crate::eig_f64;
use crate::matrix::{self, CMat, HermitianInput};
use crate::problem::Verifiable;
use crate::weyl::ResidualBounds;
use crate::{diagonal, scale};
use crate::{
    enclose_with_policy, scaled_options, unscale_enclosure, EigOptions, SpectraError,
    SpectrumEnclosure,
};
use faer::{Mat, Par};
use pespectra_arith::gemm::{norm2_upper, par_for};
use pespectra_arith::mp::MpInterval;
use rug::Float;
use std::borrow::Cow;
use std::cell::OnceCell;

/// Verified enclosures of all singular values of a general square matrix, in decreasing order.
///
/// They are the n largest eigenvalues of the Hermitian `H = [[0, A], [Aᴴ, 0]]`, whose spectrum is
/// `{±σ_k}`; the approximate eigenvectors `[[U, U], [V, −V]]/√2` come from faer's SVD, and the
/// lower ends are clipped at 0 (singular values are non-negative).
pub fn singular_values(a: &CMat, opts: &EigOptions) -> Result<SpectrumEnclosure, SpectraError> {
    singular_values_ball(a, None, opts)
}

/// Like [`singular_values`], for every matrix within the entrywise modulus `radius` of `a`.
pub fn singular_values_ball(
    a: &CMat,
    radius: Option<&Mat<f64>>,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    opts.validate()?;
    matrix::check_general(a)?;
    if let Some(values) = diagonal::singular_values(a, radius, opts.precision_bits()) {
        return Ok(SpectrumEnclosure::exact(values, opts));
    }
    match scale::exponent_for(scale::max_abs_cmat(a, radius)) {
        None => singular_values_unscaled(a, radius, opts),
        Some(e) => {
            let (sa, lost) = scale::scale_cmat(a, e);
            let rad = match (radius.map(|r| scale::scale_radius(r, e)), lost) {
                (None, l) => l,
                (Some(r), None) => Some(r),
                (Some(r), Some(l)) => Some(Mat::from_fn(r.nrows(), r.ncols(), |i, j| {
                    pespectra_arith::round::add_up(r[(i, j)], l[(i, j)])
                })),
            };
            let enc = singular_values_unscaled(&sa, rad.as_ref(), &scaled_options(opts, e))?;
            Ok(unscale_enclosure(enc, e, opts))
        }
    }
}

fn singular_values_unscaled(
    a: &CMat,
    radius: Option<&Mat<f64>>,
    opts: &EigOptions,
) -> Result<SpectrumEnclosure, SpectraError> {
    let n = a.nrows();
    let fail = |e: faer::linalg::svd::SvdError| SpectraError::Decomposition(format!("{e:?}"));
    let (u, v, s): (CMat, CMat, Vec<f64>) = if a.is_complex() {
        let svd = a.to_c64().svd().map_err(fail)?;
        let s = (0..n).map(|k| svd.S()[k].re).collect();
        (
            CMat::from_c64(&svd.U().to_owned()),
            CMat::from_c64(&svd.V().to_owned()),
            s,
        )
    } else {
        let svd = a.re.svd().map_err(fail)?;
        let s = (0..n).map(|k| svd.S()[k]).collect();
        (
            CMat::real(svd.U().to_owned()),
            CMat::real(svd.V().to_owned()),
            s,
        )
    };
    let d = s.iter().copied().chain(s.iter().map(|v| -v)).collect();
    let problem = Svd {
        a,
        radius,
        u,
        v,
        s,
        d,
        mp: OnceCell::new(),
    };
    let mut enc = enclose_with_policy(&problem, opts)?;
    enc.values.truncate(n);
    let zero_f = Float::new(enc.precision_bits);
    enc.values = enc
        .values
        .into_iter()
        .map(|v| {
            let lo = if *v.lo() < 0 {
                zero_f.clone()
            } else {
                v.lo().clone()
            };
            MpInterval::from_floats(lo, v.hi().clone()).expect("σ ≥ 0 keeps the interval non-empty")
        })
        .collect();
    Ok(enc)
}

/// `A ≈ UΣVᴴ` as the eigenproblem of `H = [[0, A], [Aᴴ, 0]]` with `X = [[U, U], [V, −V]]/√2`
/// and `D = diag(Σ, −Σ)`.
struct Svd<'a> {
    a: &'a CMat,
    radius: Option<&'a Mat<f64>>,
    u: CMat,
    v: CMat,
    s: Vec<f64>,
    d: Vec<f64>,
    /// `H` and `X` (X with `1/√2` rounded), built only if an MPFR level runs.
    mp: OnceCell<(CMat, CMat)>,
}

impl Verifiable for Svd<'_> {
    fn order(&self) -> usize {
        2 * self.a.nrows()
    }

    fn is_complex(&self) -> bool {
        self.a.is_complex()
    }

    fn values(&self) -> &[f64] {
        &self.d
    }

    fn f64_bounds(&self) -> ResidualBounds {
        residual_bounds(self.a, &self.u, &self.v, &self.s, par_for(self.a.nrows()))
    }

    /// `‖[[0, E], [Eᴴ, 0]]‖₂ = ‖E‖₂ ≤ ‖R‖₂` for every `|E| ≤ R` entrywise.
    fn radius_norm(&self) -> Option<f64> {
        self.radius.map(|r| norm2_upper(r.as_ref()))
    }

    fn hermitian(&self) -> (Cow<'_, CMat>, Cow<'_, CMat>) {
        let (h, x) = self.mp.get_or_init(|| {
            let n = self.a.nrows();
            let r = std::f64::consts::FRAC_1_SQRT_2;
            let block = |m: &Mat<f64>, w: &Mat<f64>| {
                Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
                    (true, true) => r * m[(i, j)],
                    (true, false) => r * m[(i, j - n)],
                    (false, true) => r * w[(i - n, j)],
                    (false, false) => -r * w[(i - n, j - n)],
                })
            };
            let zero = Mat::<f64>::zeros(n, n);
            let (u, v) = (&self.u, &self.v);
            let x = CMat::complex(
                block(&u.re, &v.re),
                block(
                    u.im.as_ref().unwrap_or(&zero),
                    v.im.as_ref().unwrap_or(&zero),
                ),
            );
            (jordan_wielandt(self.a).center, x)
        });
        (Cow::Borrowed(h), Cow::Borrowed(x))
    }
}

/// Rigorous f64 bounds for the approximate eigenvectors `X = [[U, U], [V, −V]]/√2` (the exact
/// real `1/√2`, not its rounding) and values `(Σ, −Σ)` of `H = [[0, A], [Aᴴ, 0]]`, from `n × n`
/// products only:
///
/// - `HX − XD = diag(R₁, R₂)·W` with `R₁ = AV − UΣ`, `R₂ = AᴴU − VΣ` and the orthogonal
///   `W = [[I, −I], [I, I]]/√2`, so `‖HX − XD‖₂ = max(‖R₁‖₂, ‖R₂‖₂)`;
/// - `XᴴX − I = Q·diag(UᴴU − I, VᴴV − I)·Qᴴ` with the unitary `Q = [[I, I], [I, −I]]/√2`, so
///   `‖XᴴX − I‖₂ = max(‖UᴴU − I‖₂, ‖VᴴV − I‖₂)`.
///
/// Each norm is bounded by the verified split products of [`eig_f64::residual_moduli`] (their
/// rounding assumptions) and [`norm2_upper`]; `max` of upper bounds is exact. Against the
/// generic bounds over the `2n × 2n` matrices this is a quarter of the GEMM work for real data
/// (and the products stay real).
fn residual_bounds(a: &CMat, u: &CMat, v: &CMat, s: &[f64], par: Par) -> ResidualBounds {
    let (r1, fv) = eig_f64::residual_moduli(a, v, u, s, par);
    let (r2, fu) = eig_f64::residual_moduli(&a.adjoint(), u, v, s, par);
    let norm = |m: &Mat<f64>| norm2_upper(m.as_ref());
    ResidualBounds {
        r: Float::with_val(53, norm(&r1).max(norm(&r2))),
        a: Float::with_val(53, norm(&fu).max(norm(&fv))),
        delta: Float::new(53),
    }
}

/// The exactly Hermitian `[[0, A], [Aᴴ, 0]]` (every entry is an entry of A or its conjugate).
pub fn jordan_wielandt(a: &CMat) -> HermitianInput {
    let n = a.nrows();
    let part = |re: bool| {
        Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
            (true, false) => {
                if re {
                    a.re[(i, j - n)]
                } else {
                    a.im_at(i, j - n)
                }
            }
            (false, true) => {
                if re {
                    a.re[(j, i - n)]
                } else {
                    -a.im_at(j, i - n)
                }
            }
            _ => 0.0,
        })
    };
    HermitianInput {
        center: CMat::complex(part(true), part(false)),
        radius: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::Zero;
    use rand::{Rng, SeedableRng};

    fn q(x: f64) -> BigRational {
        BigRational::from_float(x).unwrap()
    }

    /// `max_j ‖(P·Q − R·diag(s))_{:,j}‖²` in exact rationals: a lower bound of `‖PQ − RΣ‖₂²`.
    fn max_col_norm_sq(p: &Mat<f64>, qm: &Mat<f64>, r: &Mat<f64>, s: &[f64]) -> BigRational {
        let n = p.nrows();
        (0..qm.ncols())
            .map(|j| {
                (0..n).fold(BigRational::zero(), |acc, i| {
                    let mut e = -q(r[(i, j)]) * q(s[j]);
                    for k in 0..p.ncols() {
                        e += q(p[(i, k)]) * q(qm[(k, j)]);
                    }
                    acc + &e * &e
                })
            })
            .max()
            .unwrap()
    }

    /// The n × n bounds dominate exact lower bounds of the four norms they bound (column norms
    /// of `AV − UΣ`, `AᵀU − VΣ`, `UᵀU − I`, `VᵀV − I` in rationals), for a random badly scaled
    /// matrix whose SVD is perturbed so the residuals are far from rounding level.
    #[test]
    fn bounds_dominate_exact_residuals() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 9;
        let a = Mat::from_fn(n, n, |_, _| {
            rng.gen_range(-1.0..1.0) * 2f64.powi(rng.gen_range(-8..8))
        });
        let svd = a.svd().unwrap();
        let jitter = |m: Mat<f64>, rng: &mut rand_chacha::ChaCha8Rng| {
            Mat::from_fn(n, n, |i, j| {
                m[(i, j)] * (1.0 + 1e-9 * rng.gen_range(-1.0..1.0))
            })
        };
        let u = jitter(svd.U().to_owned(), &mut rng);
        let v = jitter(svd.V().to_owned(), &mut rng);
        let s: Vec<f64> = (0..n).map(|k| svd.S()[k]).collect();
        let b = residual_bounds(
            &CMat::real(a.clone()),
            &CMat::real(u.clone()),
            &CMat::real(v.clone()),
            &s,
            Par::Seq,
        );
        let (r, alpha) = (q(b.r.to_f64()), q(b.a.to_f64()));
        let at = a.transpose().to_owned();
        let ones = vec![1.0; n];
        let eye = Mat::<f64>::identity(n, n);
        let r1 = max_col_norm_sq(&a, &v, &u, &s);
        let r2 = max_col_norm_sq(&at, &u, &v, &s);
        let fu = max_col_norm_sq(&u.transpose().to_owned(), &u, &eye, &ones);
        let fv = max_col_norm_sq(&v.transpose().to_owned(), &v, &eye, &ones);
        assert!(r1 > BigRational::zero() && fu > BigRational::zero());
        let (rmax, fmax) = (r1.max(r2), fu.max(fv));
        assert!(&r * &r >= rmax, "‖HX − XD‖ bound too small");
        assert!(&alpha * &alpha >= fmax, "‖XᴴX − I‖ bound too small");
        // and not loose: ‖·‖₂ ≤ ‖·‖_F ≤ 3·(largest column norm) for n = 9, so within 10×
        let hundred = BigRational::from_integer(100.into());
        assert!(&r * &r <= rmax * &hundred && &alpha * &alpha <= fmax * &hundred);
    }

    /// A residual of rank one has spectral norm `‖x‖·‖y‖` exactly: with `A = Σ + x·yᵀ` (exact
    /// small integers) and `U = V = I`, both `AV − UΣ` and `AᵀU − VΣ` are rank one, and the bound
    /// must lie in `[‖x‖‖y‖, ‖x‖‖y‖·(1 + 1e−12)]`; a bound short of the truth by a hair fails.
    #[test]
    fn rank_one_residual_is_bounded_tightly() {
        let n = 6;
        let x: Vec<f64> = (0..n).map(|i| (i as f64) - 2.0).collect();
        let y: Vec<f64> = (0..n).map(|j| 3.0 - 2.0 * j as f64).collect();
        let s: Vec<f64> = (0..n).map(|k| 40.0 - 4.0 * k as f64).collect();
        let a = Mat::from_fn(n, n, |i, j| if i == j { s[i] } else { 0.0 } + x[i] * y[j]);
        let eye = CMat::real(Mat::identity(n, n));
        let b = residual_bounds(&CMat::real(a), &eye, &eye, &s, Par::Seq);
        let sq = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>();
        let truth_sq = q(sq(&x)) * q(sq(&y)); // exact: integers
        let r = q(b.r.to_f64());
        assert!(&r * &r >= truth_sq, "short of ‖x‖‖y‖");
        let slack = q(1.0 + 1e-12);
        assert!(&r * &r <= &truth_sq * &slack * &slack, "{}", b.r);
        assert!(b.a.to_f64() < 1e-14, "UᵀU − I = 0 exactly, got {}", b.a);
        // the same bound shrunk by a hair no longer covers the truth
        let short = q(b.r.to_f64() * (1.0 - 1e-12));
        assert!(&short * &short < truth_sq);
    }
}
