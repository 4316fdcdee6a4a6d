//! Verified enclosures against closed forms (independent oracles: trigonometric formulas
//! evaluated in 256-bit MPFR, exact rational arithmetic, classical matrix identities).

use faer::Mat;
use num_bigint::BigInt;
use num_rational::BigRational;
use pespectra_spectra::exact::{determinant, RationalSymmetric};
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{
    eigenvalues, singular_values, EigOptions, Precision, SpectraError, SpectrumEnclosure,
};
use rand::{Rng, SeedableRng};
use rug::float::Constant;
use rug::Float;

const P: u32 = 256;

fn opts(precision: Precision) -> EigOptions {
    EigOptions {
        precision,
        ..EigOptions::default()
    }
}

fn real(m: Mat<f64>) -> HermitianInput {
    HermitianInput::new(CMat::real(m)).expect("valid symmetric input")
}

/// `true` values (256-bit, error far below any enclosure width here) must each lie in the k-th
/// enclosure, with both lists in decreasing order.
fn assert_contains(enc: &SpectrumEnclosure, mut truth: Vec<Float>, slack: f64) {
    truth.sort_by(|a, b| b.partial_cmp(a).unwrap());
    assert_eq!(enc.values.len(), truth.len());
    for (k, (iv, t)) in enc.values.iter().zip(&truth).enumerate() {
        let lo = Float::with_val(P, iv.lo() - slack);
        let hi = Float::with_val(P, iv.hi() + slack);
        assert!(
            lo <= *t && *t <= hi,
            "eigenvalue {k}: {} not in [{}, {}]",
            t.to_f64(),
            iv.lo_f64(),
            iv.hi_f64()
        );
    }
}

fn pi() -> Float {
    Float::with_val(P, Constant::Pi)
}

fn tridiag(n: usize, a: f64, b: f64) -> Mat<f64> {
    Mat::from_fn(n, n, |i, j| {
        if i == j {
            a
        } else if i.abs_diff(j) == 1 {
            b
        } else {
            0.0
        }
    })
}

fn tridiag_truth(n: usize, a: f64, b: f64, scale: f64) -> Vec<Float> {
    (1..=n)
        .map(|j| {
            let c = Float::with_val(P, pi() * j as u32 / (n as u32 + 1)).cos();
            Float::with_val(
                P,
                (Float::with_val(P, a) + Float::with_val(P, 2.0 * b) * c) * scale,
            )
        })
        .collect()
}

#[test]
fn tridiagonal_toeplitz_f64_and_mpfr() {
    let (n, a, b) = (50, 2.0, -0.75);
    let enc = eigenvalues(&real(tridiag(n, a, b)), &opts(Precision::F64)).unwrap();
    assert_contains(&enc, tridiag_truth(n, a, b, 1.0), 0.0);
    // a priori GEMM bounds give width ≈ 2–8·n²u‖A‖ (‖A‖ ≤ 3.5 here)
    assert!(
        enc.max_width < 8.0 * (n * n) as f64 * 1.12e-16 * 3.5,
        "width {}",
        enc.max_width
    );
    let enc = eigenvalues(&real(tridiag(n, a, b)), &opts(Precision::Bits(256))).unwrap();
    assert_contains(&enc, tridiag_truth(n, a, b, 1.0), 0.0);
    assert!(enc.max_width < 1e-60, "width {}", enc.max_width);
}

/// Large enough (n ≥ 192, every Rayon thread) for the verification products to be BLAS-sized;
/// run on faer and on the system BLAS (when one is installed), the enclosures hold the closed
/// form on both and are equally tight (width within 2× of each other).
#[test]
fn tridiagonal_toeplitz_on_both_gemm_backends() {
    use pespectra_arith::gemm::{system_blas_status, with_backend, Backend};
    let (n, a, b) = (300, 1.0, 0.5);
    let input = real(tridiag(n, a, b));
    let faer = with_backend(Backend::Faer, || {
        eigenvalues(&input, &opts(Precision::F64)).unwrap()
    })
    .unwrap();
    assert_contains(&faer, tridiag_truth(n, a, b, 1.0), 0.0);
    if system_blas_status().is_err() && std::env::var_os("PESPECTRA_EXPECT_BLAS").is_none() {
        eprintln!("no system BLAS: only the faer path was checked");
        return;
    }
    // forced: a default-found OpenBLAS with kernels older than the CPU is not chosen by default
    assert!(system_blas_status().is_ok());
    let blas = with_backend(Backend::SystemBlas, || {
        eigenvalues(&input, &opts(Precision::F64)).unwrap()
    })
    .unwrap();
    assert_contains(&blas, tridiag_truth(n, a, b, 1.0), 0.0);
    let ratio = blas.max_width / faer.max_width;
    assert!(
        (0.5..2.0).contains(&ratio),
        "{} vs {}",
        blas.max_width,
        faer.max_width
    );
}

#[test]
fn extreme_scales() {
    for scale in [1e-300, 1e-260, 1e-150, 1e300] {
        let m = Mat::from_fn(20, 20, |i, j| tridiag(20, 2.0, 1.0)[(i, j)] * scale);
        let enc = eigenvalues(&real(m), &opts(Precision::F64)).unwrap();
        assert_contains(&enc, tridiag_truth(20, 2.0, 1.0, scale), 0.0);
        assert!(
            enc.max_width < 8.0 * 400.0 * 1.12e-16 * 4.0 * scale,
            "scale {scale}: width {}",
            enc.max_width
        );
    }
}

#[test]
fn symmetric_circulant_is_its_dft() {
    let n = 17;
    let c: Vec<f64> = (0..n)
        .map(|j| [3.0, -1.0, 0.5, 0.25, 0.0, 2.0, -0.125, 1.0, 0.75][j.min(n - j) % 9])
        .collect();
    let m = Mat::from_fn(n, n, |i, j| c[(j + n - i) % n]);
    let truth = (0..n)
        .map(|k| {
            (0..n).fold(Float::new(P), |s, j| {
                let ang = Float::with_val(P, pi() * (2 * j * k) as u32 / n as u32);
                s + Float::with_val(P, c[j]) * ang.cos()
            })
        })
        .collect();
    let enc = eigenvalues(&real(m), &opts(Precision::F64)).unwrap();
    assert_contains(&enc, truth, 0.0);
}

#[test]
fn kms_matrix_inside_poisson_bounds() {
    // ρ = 1/2: eigenvalues strictly inside ((1−ρ)/(1+ρ), (1+ρ)/(1−ρ)) = (1/3, 3).
    let n = 64;
    let m = Mat::from_fn(n, n, |i, j| 0.5f64.powi(i.abs_diff(j) as i32));
    let enc = eigenvalues(&real(m), &opts(Precision::F64)).unwrap();
    assert!(enc
        .values
        .iter()
        .all(|v| v.lo_f64() > 1.0 / 3.0 && v.hi_f64() < 3.0));
    // …and approach both ends (Szegő): the extreme enclosures are within 2% of them.
    assert!(enc.values[0].hi_f64() > 2.9 && enc.values[n - 1].lo_f64() < 0.34);
}

/// One RoPE frequency with θ = π/2: E_ij = i^(j−i) is exact in binary, so G∘E is exactly
/// unitarily similar to G (T1) and every pair of enclosures must intersect; the rank-4 Gram
/// matrix has an exactly 12-fold zero eigenvalue that must be enclosed.
#[test]
fn single_frequency_rope_similarity_and_rank_deficiency() {
    let (n, d) = (16, 4);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let zr = Mat::from_fn(n, d, |_, _| rng.gen_range(-4i32..=4) as f64);
    let zi = Mat::from_fn(n, d, |_, _| rng.gen_range(-4i32..=4) as f64);
    // G = Z Zᴴ in small integers: exact.
    let g = |i: usize, j: usize| -> (f64, f64) {
        (0..d).fold((0.0, 0.0), |(r, im), k| {
            (
                r + zr[(i, k)] * zr[(j, k)] + zi[(i, k)] * zi[(j, k)],
                im + zi[(i, k)] * zr[(j, k)] - zr[(i, k)] * zi[(j, k)],
            )
        })
    };
    let gm = CMat::complex(
        Mat::from_fn(n, n, |i, j| g(i, j).0),
        Mat::from_fn(n, n, |i, j| g(i, j).1),
    );
    let rot = |i: usize, j: usize| -> (f64, f64) {
        match (j + 4 - i % 4) % 4 {
            0 => (1.0, 0.0),
            1 => (0.0, 1.0),
            2 => (-1.0, 0.0),
            _ => (0.0, -1.0),
        }
    };
    let ge = |i: usize, j: usize| {
        let ((a, b), (c, e)) = (g(i, j), rot(i, j));
        (a * c - b * e, a * e + b * c)
    };
    let gem = CMat::complex(
        Mat::from_fn(n, n, |i, j| ge(i, j).0),
        Mat::from_fn(n, n, |i, j| ge(i, j).1),
    );
    let e1 = eigenvalues(
        &HermitianInput::new(gm.clone()).unwrap(),
        &opts(Precision::F64),
    )
    .unwrap();
    let e2 = eigenvalues(&HermitianInput::new(gem).unwrap(), &opts(Precision::F64)).unwrap();
    for (a, b) in e1.values.iter().zip(&e2.values) {
        assert!(a.lo() <= b.hi() && b.lo() <= a.hi());
    }
    for v in &e1.values[d..] {
        assert!(v.lo_f64() <= 0.0 && 0.0 <= v.hi_f64());
    }
    assert!(e1.values[d - 1].lo_f64() > 0.0, "the rank is exactly 4");
    // exact oracle: the same inertia
    let ex = RationalSymmetric::from_input(&HermitianInput::new(gm).unwrap()).unwrap();
    let inertia = ex.inertia_shifted(&BigRational::from_integer(0.into()));
    assert_eq!((inertia.pos, inertia.zero, inertia.neg), (4, 12, 0));
}

#[test]
fn path_distance_matrix_inertia_and_determinant() {
    for n in [2usize, 3, 6, 10, 40] {
        let m = Mat::from_fn(n, n, |i, j| i.abs_diff(j) as f64);
        let enc = eigenvalues(&real(m.clone()), &opts(Precision::F64)).unwrap();
        assert!(enc.values[0].lo_f64() > 0.0);
        assert!(
            enc.values[1..].iter().all(|v| v.hi_f64() < 0.0),
            "n = {n}: one positive, n−1 negative"
        );
        if n <= 10 {
            let rows: Vec<Vec<BigRational>> = (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| BigRational::from_integer(BigInt::from(i.abs_diff(j))))
                        .collect()
                })
                .collect();
            let expected = BigInt::from(n - 1)
                * BigInt::from(2).pow(n as u32 - 2)
                * if n % 2 == 0 { -1 } else { 1 };
            assert_eq!(
                determinant(rows),
                BigRational::from_integer(expected),
                "Graham–Pollak, n = {n}"
            );
        }
    }
}

#[test]
fn one_by_one_and_complex_two_by_two() {
    let enc = eigenvalues(
        &real(Mat::from_fn(1, 1, |_, _| -0.3)),
        &opts(Precision::F64),
    )
    .unwrap();
    assert!(enc.values[0].lo_f64() <= -0.3 && -0.3 <= enc.values[0].hi_f64());
    // [[2, i], [−i, 2]] has eigenvalues 3 and 1.
    let c = CMat::complex(
        Mat::from_fn(2, 2, |i, j| if i == j { 2.0 } else { 0.0 }),
        Mat::from_fn(2, 2, |i, j| match (i, j) {
            (0, 1) => 1.0,
            (1, 0) => -1.0,
            _ => 0.0,
        }),
    );
    let enc = eigenvalues(
        &HermitianInput::new(c).unwrap(),
        &opts(Precision::Bits(128)),
    )
    .unwrap();
    assert!(enc.values[0].lo_f64() <= 3.0 && 3.0 <= enc.values[0].hi_f64());
    assert!(enc.values[1].lo_f64() <= 1.0 && 1.0 <= enc.values[1].hi_f64());
    assert!(enc.max_width < 1e-30);
}

#[test]
fn singular_values_closed_form() {
    // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] so σ = √45, √5.
    let a = CMat::real(Mat::from_fn(2, 2, |i, j| [[3.0, 0.0], [4.0, 5.0]][i][j]));
    let enc = singular_values(&a, &opts(Precision::F64)).unwrap();
    assert_contains(
        &enc,
        vec![Float::with_val(P, 45).sqrt(), Float::with_val(P, 5).sqrt()],
        0.0,
    );
    let enc = singular_values(&a, &opts(Precision::Bits(200))).unwrap();
    assert_contains(
        &enc,
        vec![Float::with_val(P, 45).sqrt(), Float::with_val(P, 5).sqrt()],
        0.0,
    );
    assert!(enc.max_width < 1e-50);
    // auto: the f64 level (n × n bounds) cannot reach 1e-40, so MPFR levels run on H and X
    let auto = EigOptions {
        precision: Precision::Auto,
        width: Some(1e-40),
        ..EigOptions::default()
    };
    let enc = singular_values(&a, &auto).unwrap();
    assert!(
        enc.met_width && enc.precision_bits >= 128,
        "{}",
        enc.precision_bits
    );
    assert_contains(
        &enc,
        vec![Float::with_val(P, 45).sqrt(), Float::with_val(P, 5).sqrt()],
        0.0,
    );
    // a singular complex matrix: σ_min = 0 must be enclosed with a non-negative lower end
    let z = CMat::complex(
        Mat::from_fn(3, 3, |i, j| (i + j) as f64),
        Mat::from_fn(3, 3, |i, j| (i * j) as f64 * 0.0 + 1.0),
    );
    let enc = singular_values(&z, &opts(Precision::F64)).unwrap();
    assert!(enc.values.iter().all(|v| v.lo_f64() >= 0.0));
}

/// Singular values of a positive definite tridiagonal Toeplitz `T` (its eigenvalues, closed form)
/// survive exact transformations that change the SVD's vectors: reversing the columns (real,
/// not symmetric, so `U ≠ V`), multiplying by `i` (complex data) and by `−1`. At n = 300 the
/// verification products are large enough for the system BLAS when one is installed.
#[test]
fn singular_values_of_transformed_toeplitz() {
    let (n, a, b) = (300, 1.0, 0.45);
    let t = tridiag(n, a, b);
    let truth = tridiag_truth(n, a, b, 1.0);
    let reversed = CMat::real(Mat::from_fn(n, n, |i, j| t[(i, n - 1 - j)]));
    let times_i = CMat::complex(Mat::zeros(n, n), t.clone());
    let negated_reversed_i = CMat::complex(
        Mat::zeros(n, n),
        Mat::from_fn(n, n, |i, j| -t[(n - 1 - i, j)]),
    );
    for (name, m) in [
        ("reversed", reversed),
        ("times i", times_i),
        ("−i, rows reversed", negated_reversed_i),
    ] {
        let enc = singular_values(&m, &opts(Precision::F64)).unwrap();
        assert_contains(&enc, truth.clone(), 0.0);
        // as tight as the symmetric eigenvalue problem: a few n·u·‖A‖ (‖A‖ < 2)
        assert!(enc.max_width < 1e-12, "{name}: width {}", enc.max_width);
    }
}

#[test]
fn auto_mode_escalates_until_width_met() {
    let m = tridiag(12, 1.0, 0.3);
    let o = EigOptions {
        precision: Precision::Auto,
        width: Some(1e-40),
        ..EigOptions::default()
    };
    let enc = eigenvalues(&real(m.clone()), &o).unwrap();
    assert!(enc.met_width && enc.precision_bits > 53 && enc.max_width <= 1e-40);
    assert_contains(&enc, tridiag_truth(12, 1.0, 0.3, 1.0), 0.0);
    // an impossible width with a tiny budget: best effort, flagged as not met
    let o = EigOptions {
        precision: Precision::Auto,
        width: Some(0.0),
        max_bits: 128,
        ..EigOptions::default()
    };
    let enc = eigenvalues(&real(m), &o).unwrap();
    assert!(!enc.met_width);
}

#[test]
fn bad_inputs_are_errors() {
    assert_eq!(
        HermitianInput::new(CMat::real(Mat::zeros(0, 0))).unwrap_err(),
        SpectraError::Empty
    );
    assert!(matches!(
        HermitianInput::new(CMat::real(Mat::zeros(2, 3))),
        Err(SpectraError::NotSquare { .. })
    ));
    let mut m = Mat::<f64>::zeros(3, 3);
    m[(1, 2)] = f64::NAN;
    assert!(matches!(
        HermitianInput::new(CMat::real(m.clone())),
        Err(SpectraError::NonFinite { .. })
    ));
    m[(1, 2)] = 1.0;
    assert!(matches!(
        HermitianInput::new(CMat::real(m.clone())),
        Err(SpectraError::NotHermitian { .. })
    ));
    // the Hermitian part of the same matrix is accepted and enclosed: eigenvalues ±1/2 and 0
    let h = HermitianInput::hermitian_part(CMat::real(m)).unwrap();
    let enc = eigenvalues(&h, &opts(Precision::F64)).unwrap();
    assert_contains(
        &enc,
        vec![
            Float::with_val(P, 0.5),
            Float::new(P),
            Float::with_val(P, -0.5),
        ],
        0.0,
    );
    let bad = EigOptions {
        precision: Precision::Bits(20),
        ..EigOptions::default()
    };
    assert!(matches!(
        eigenvalues(&real(tridiag(3, 1.0, 1.0)), &bad),
        Err(SpectraError::BadParameter(_))
    ));
}
