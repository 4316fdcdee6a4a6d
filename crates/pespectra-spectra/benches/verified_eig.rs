//! Verified enclosure vs faer's unverified decomposition, measured in the same run.
//!
//! The ratio verified/unverified is what the README reports (the shared machine is noisy, so
//! absolute times are only indicative). `PESPECTRA_BENCH_MAX_N` limits the sizes for a quick run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use faer::{Mat, Side};
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, EigOptions, Precision};
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

fn random_symmetric(n: usize, seed: u64) -> Mat<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let m = Mat::from_fn(n, n, |_, _| rng.gen_range(-1.0..1.0));
    Mat::from_fn(n, n, |i, j| if i <= j { m[(i, j)] } else { m[(j, i)] })
}

fn bench(c: &mut Criterion) {
    let max_n: usize = std::env::var("PESPECTRA_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let mut g = c.benchmark_group("hermitian_eig");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in [64usize, 128, 256, 512, 1024]
        .into_iter()
        .filter(|&n| n <= max_n)
    {
        let a = random_symmetric(n, n as u64);
        let input = HermitianInput::new(CMat::real(a.clone())).unwrap();
        g.bench_with_input(BenchmarkId::new("faer_unverified", n), &a, |b, a| {
            b.iter(|| a.self_adjoint_eigen(Side::Lower).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("verified_f64", n), &input, |b, input| {
            b.iter(|| eigenvalues(input, &EigOptions::default()).unwrap())
        });
        let enc = eigenvalues(&input, &EigOptions::default()).unwrap();
        let norm = enc.values[0]
            .hi_f64()
            .abs()
            .max(enc.values[n - 1].lo_f64().abs());
        eprintln!(
            "n = {n}: max width {:.3e} = {:.3e}·‖A‖₂",
            enc.max_width,
            enc.max_width / norm
        );
        paired_ratio(&a, &input);
    }
    let input = HermitianInput::new(CMat::real(random_symmetric(64, 64))).unwrap();
    g.bench_function("verified_mpfr256/64", |b| {
        b.iter(|| {
            eigenvalues(
                &input,
                &EigOptions {
                    precision: Precision::Bits(256),
                    ..EigOptions::default()
                },
            )
            .unwrap()
        })
    });
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
    eprintln!(
        "n = 64, 256 bits: max width {:.3e}·‖A‖₂",
        enc.max_width / norm
    );
    g.finish();
}

/// The same ratio, robust to a shared machine's load swings: faer and the verified enclosure run
/// alternately on the same matrix and the minimum of each over the rounds is compared (a load
/// spike then hits both sides, and the minima are the least disturbed runs).
fn paired_ratio(a: &Mat<f64>, input: &HermitianInput) {
    let n = a.nrows();
    let rounds = if n <= 256 { 30 } else { 15 };
    let (mut faer_min, mut verified_min) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(a.self_adjoint_eigen(Side::Lower).unwrap());
        faer_min = faer_min.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(eigenvalues(input, &EigOptions::default()).unwrap());
        verified_min = verified_min.min(t.elapsed().as_secs_f64());
    }
    eprintln!(
        "n = {n}: paired minima over {rounds} alternating rounds: faer {:.3} ms, verified {:.3} ms, ratio {:.2}",
        faer_min * 1e3,
        verified_min * 1e3,
        verified_min / faer_min
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
