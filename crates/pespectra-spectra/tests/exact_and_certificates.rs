//! The exact rational path as an independent oracle of the floating-point paths, and checkers
//! that refuse claims false by a hair.

use faer::Mat;
use num_rational::BigRational;
use num_traits::Signed;
use pespectra_arith::exact::rational_from_mpfr;
use pespectra_spectra::cholesky::{certify_min_eig_above, MinEigVerdict};
use pespectra_spectra::exact::RationalSymmetric;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, EigOptions, Precision};
use rand::{Rng, SeedableRng};

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap()
}

fn random_symmetric(rng: &mut impl Rng, n: usize) -> Mat<f64> {
    let m = Mat::from_fn(n, n, |_, _| rng.gen_range(-1.0..1.0));
    Mat::from_fn(n, n, |i, j| if i <= j { m[(i, j)] } else { m[(j, i)] })
}

fn random_hermitian(rng: &mut impl Rng, n: usize) -> CMat {
    let re = random_symmetric(rng, n);
    let m = Mat::from_fn(n, n, |_, _| rng.gen_range(-1.0..1.0));
    let im = Mat::from_fn(n, n, |i, j| {
        if i < j {
            m[(i, j)]
        } else if i > j {
            -m[(j, i)]
        } else {
            0.0
        }
    });
    CMat::complex(re, im)
}

/// Soundness: every enclosure produced by the f64 and MPFR paths is accepted by the exact
/// rational checker (inertia counts at both ends), on random real and complex inputs.
#[test]
fn float_enclosures_pass_the_exact_checker() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    for trial in 0..6 {
        let n = 3 + trial;
        let input = if trial % 2 == 0 {
            HermitianInput::new(CMat::real(random_symmetric(&mut rng, n)))
        } else {
            HermitianInput::new(random_hermitian(&mut rng, n))
        }
        .unwrap();
        let exact = RationalSymmetric::from_input(&input).unwrap();
        for p in [Precision::F64, Precision::Bits(128)] {
            let enc = eigenvalues(
                &input,
                &EigOptions {
                    precision: p,
                    ..EigOptions::default()
                },
            )
            .unwrap();
            let claims: Vec<_> = enc
                .values
                .iter()
                .map(|v| {
                    (
                        rational_from_mpfr(v.lo()).unwrap(),
                        rational_from_mpfr(v.hi()).unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                exact.first_false_claim(&claims),
                None,
                "trial {trial}, {p:?}"
            );
        }
    }
}

/// Exact bisection agrees with closed forms, finds exact eigenvalues as points, and its
/// enclosures intersect the f64 ones.
#[test]
fn exact_bisection_matches_closed_form() {
    // [[2, 1, 0], [1, 2, 1], [0, 1, 2]]: eigenvalues 2 + √2, 2, 2 − √2.
    let m = Mat::from_fn(3, 3, |i, j| {
        if i == j {
            2.0
        } else if i.abs_diff(j) == 1 {
            1.0
        } else {
            0.0
        }
    });
    let input = HermitianInput::new(CMat::real(m)).unwrap();
    let exact = RationalSymmetric::from_input(&input).unwrap();
    let width = q(1e-20);
    let enc = exact.eigen_enclosures(&width);
    assert_eq!(enc[1], (q(2.0), q(2.0)), "2 is an exact eigenvalue");
    let s2 = 2f64.sqrt();
    for (k, v) in [2.0 + s2, 2.0 - s2].into_iter().enumerate() {
        let (lo, hi) = &enc[2 * k];
        assert!(hi - lo <= width);
        assert!((q(v) - lo).abs() < q(1e-15), "{k}");
        // √2 is irrational: its enclosure never collapses
        assert!(lo < hi);
    }
    let f = eigenvalues(&input, &EigOptions::default()).unwrap();
    for (a, (lo, hi)) in f.values.iter().zip(&enc) {
        assert!(
            rational_from_mpfr(a.lo()).unwrap() <= *hi
                && *lo <= rational_from_mpfr(a.hi()).unwrap()
        );
    }
}

/// A claimed enclosure moved by one ulp past an exactly known eigenvalue is refused, while the
/// correct one is accepted (eigenvalues of diag-congruent integer matrices are exact doubles).
#[test]
fn exact_checker_refuses_shifted_enclosures_by_one_ulp() {
    // [[2, 1], [1, 2]] has eigenvalues exactly 3 and 1.
    let m = Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 1.0 });
    let input = HermitianInput::new(CMat::real(m)).unwrap();
    let exact = RationalSymmetric::from_input(&input).unwrap();
    let good = vec![(q(3.0), q(3.0)), (q(1.0), q(1.0))];
    assert_eq!(exact.first_false_claim(&good), None);
    for (k, bad) in [
        vec![(q(3f64.next_up()), q(3.5)), (q(1.0), q(1.0))],
        vec![(q(2.5), q(3f64.next_down())), (q(1.0), q(1.0))],
        vec![(q(3.0), q(3.0)), (q(1f64.next_up()), q(1.5))],
    ]
    .into_iter()
    .zip([0, 0, 1])
    .map(|(b, k)| (k, b))
    {
        assert_eq!(exact.first_false_claim(&bad), Some(k));
    }
    // …and a tight irrational enclosure from bisection, shrunk by a few ulps, is refused too.
    let t = Mat::from_fn(2, 2, |i, j| if i == j { 0.0 } else { 1.0 });
    let t = Mat::from_fn(2, 2, |i, j| {
        t[(i, j)] + if i == 0 && j == 0 { 1.0 } else { 0.0 }
    });
    let exact =
        RationalSymmetric::from_input(&HermitianInput::new(CMat::real(t)).unwrap()).unwrap();
    // eigenvalues (1 ± √5)/2; bracket the golden ratio by the two adjacent doubles
    let phi = (1.0 + 5f64.sqrt()) / 2.0;
    let (mut lo, mut hi) = (phi.next_down(), phi.next_up());
    let psi = (1.0 - 5f64.sqrt()) / 2.0;
    let tail = (q(psi - 1e-12), q(psi + 1e-12));
    assert_eq!(
        exact.first_false_claim(&[(q(lo), q(hi)), tail.clone()]),
        None
    );
    // the true value lies in exactly one of the two ulp gaps around phi: shrinking to [lo, phi]
    // or [phi, hi] keeps it in only one of them, and moving by 3 ulps up loses it for sure
    let ok_left = exact
        .first_false_claim(&[(q(lo), q(phi)), tail.clone()])
        .is_none();
    let ok_right = exact
        .first_false_claim(&[(q(phi), q(hi)), tail.clone()])
        .is_none();
    assert!(ok_left != ok_right);
    for _ in 0..3 {
        lo = lo.next_up();
        hi = hi.next_up();
    }
    assert_eq!(exact.first_false_claim(&[(q(lo), q(hi)), tail]), Some(0));
}

#[test]
fn cholesky_certificate_and_hair_refusal() {
    let d = Mat::from_fn(4, 4, |i, j| if i == j { 1.0 + i as f64 } else { 0.0 });
    let input = HermitianInput::new(CMat::real(d)).unwrap();
    // λ_min = 1 exactly: the claim λ_min > 1 is false and must be refused, as must λ_min > 1 + ulp
    for c in [1.0, 1f64.next_up()] {
        assert!(
            matches!(
                certify_min_eig_above(&input, c).unwrap(),
                MinEigVerdict::Refused(_)
            ),
            "{c}"
        );
    }
    match certify_min_eig_above(&input, 1.0 - 1e-12).unwrap() {
        MinEigVerdict::Proved { lower_bound, .. } => {
            assert!((1.0 - 1e-12..=1.0).contains(&lower_bound))
        }
        r => panic!("{r:?}"),
    }
    // KMS(1/2), n = 200: λ_min > 1/3 is true (Poisson kernel) and is proved
    let n = 200;
    let k = Mat::from_fn(n, n, |i, j| 0.5f64.powi(i.abs_diff(j) as i32));
    let kin = HermitianInput::new(CMat::real(k)).unwrap();
    assert!(matches!(
        certify_min_eig_above(&kin, 1.0 / 3.0).unwrap(),
        MinEigVerdict::Proved { .. }
    ));
    // complex: [[2, i], [−i, 2]] has λ_min = 1
    let c = CMat::complex(
        Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 0.0 }),
        Mat::from_fn(2, 2, |i, j| match (i, j) {
            (0, 1) => 1.0,
            (1, 0) => -1.0,
            _ => 0.0,
        }),
    );
    let cin = HermitianInput::new(c).unwrap();
    assert!(matches!(
        certify_min_eig_above(&cin, 0.999).unwrap(),
        MinEigVerdict::Proved { .. }
    ));
    assert!(matches!(
        certify_min_eig_above(&cin, 1.0).unwrap(),
        MinEigVerdict::Refused(_)
    ));
    // the certified bound is consistent with the exact inertia count
    let exact = RationalSymmetric::from_input(&cin).unwrap();
    assert_eq!(exact.inertia_shifted(&q(0.999)).neg, 0);
}

#[test]
fn mpfr_256_bits_at_n64_meets_width_target() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let input = HermitianInput::new(CMat::real(random_symmetric(&mut rng, 64))).unwrap();
    let enc = eigenvalues(
        &input,
        &EigOptions {
            precision: Precision::Bits(256),
            ..EigOptions::default()
        },
    )
    .unwrap();
    let norm = enc.values[0]
        .hi_f64()
        .abs()
        .max(enc.values[63].lo_f64().abs());
    assert!(
        enc.max_width <= 1e-60 * norm,
        "width {} vs ‖A‖ {}",
        enc.max_width,
        norm
    );
    // and agrees with the f64 path
    let f = eigenvalues(&input, &EigOptions::default()).unwrap();
    for (a, b) in f.values.iter().zip(&enc.values) {
        assert!(a.lo() <= b.hi() && b.lo() <= a.hi());
    }
}
