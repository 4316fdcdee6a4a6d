//! Certified cases per second of T2, T3, T4 at n = 16 and n = 128 on all cores, the way a
//! campaign runs them (one case per rayon task, instances seeded by `mix`). Criterion reports
//! "elem/s" = certified cases per second. Targets (README): ≥ 5,000/s at n = 16 and ≥ 100/s at
//! n = 128 on 2 cores.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pespectra_campaign::mix;
use pespectra_theorems::{run, Params, Verdict};
use rayon::prelude::*;
use std::time::Duration;

/// Runs `batch` cases of `id` at size `n` in parallel and returns how many were certified HOLDS.
fn batch(id: &str, n: usize, batch: u64, offset: u64) -> usize {
    (offset..offset + batch)
        .into_par_iter()
        .filter(|&k| {
            let p = Params::new(mix(7, k), n);
            run(id, &p).is_ok_and(|r| r.verdict == Verdict::Holds)
        })
        .count()
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("certified_cases");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for n in [16usize, 128] {
        let size: u64 = if n <= 16 { 512 } else { 16 };
        for id in ["T2", "T3", "T4"] {
            // every measured case must be a certified HOLDS, or the rate would flatter us
            assert_eq!(batch(id, n, size, 0), size as usize, "{id} n = {n}");
            g.throughput(Throughput::Elements(size));
            let mut offset = 0;
            g.bench_with_input(BenchmarkId::new(id, n), &n, |b, &n| {
                b.iter(|| {
                    offset += size;
                    batch(id, n, size, offset)
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
