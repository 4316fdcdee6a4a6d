//! Criterion benches of the flash path over the grid: B = 8, H ∈ {8, 32},
//! S ∈ {512, 2048}, D ∈ {64, 128}, causal and not, 1 and 2 threads. Throughput is
//! reported by Criterion in "elements" = useful FLOPs (4·B·H·S²·D, half for causal), and a
//! closing Markdown table gives best-time GFLOP/s next to the FMA peak of the same thread
//! count, probed right before and after each case (the larger is kept), with the ratio.
//!
//! `PESPECTRA_BENCH_QUICK=1` restricts the grid to H = 8, D = 128 (8 cases);
//! `PESPECTRA_BENCH_THREADS=2` (comma-separated) chooses the thread counts (default 1,2).
//! Suggested: `cargo bench -p pespectra-attention --bench attention -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pespectra_attention::{
    attention_flops, flash_attention_into, fma_peak_gflops, random_inputs, AttentionConfig,
    AttentionInputs, Isa, Mask,
};
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let quick = std::env::var_os("PESPECTRA_BENCH_QUICK").is_some();
    let heads: &[usize] = if quick { &[8] } else { &[8, 32] };
    let dims: &[usize] = if quick { &[128] } else { &[64, 128] };
    let isa = Isa::detect();
    let mut rows = Vec::new();
    let thread_counts: Vec<usize> = std::env::var("PESPECTRA_BENCH_THREADS")
        .ok()
        .map(|v| v.split(',').filter_map(|t| t.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2]);
    for threads in thread_counts {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let mut group = c.benchmark_group(format!("flash_{threads}t"));
        group.sample_size(10);
        for &h in heads {
            for s in [512usize, 2048] {
                for &d in dims {
                    for causal in [false, true] {
                        let mut cfg = AttentionConfig::new(8, h, s, d);
                        if causal {
                            cfg.mask = Mask::causal();
                        }
                        let q = random_inputs(cfg.q_len(), 1);
                        let k = random_inputs(cfg.k_len(), 2);
                        let v = random_inputs(cfg.v_len(), 3);
                        let inp = AttentionInputs {
                            q: &q,
                            k: &k,
                            v: &v,
                            rope_key: None,
                        };
                        let mut out = vec![0f32; cfg.out_len()];
                        let flops = attention_flops(8, h, s, d, causal);
                        group.throughput(Throughput::Elements(flops as u64));
                        // The machine is shared: bracket every case with FMA probes and keep
                        // the larger, so the ratio compares best time with best peak.
                        let peak_before = fma_peak_gflops(threads, 0.3).expect("fma probe");
                        let mut best = f64::INFINITY;
                        let id = format!("h{h}_s{s}_d{d}{}", if causal { "_causal" } else { "" });
                        group.bench_function(BenchmarkId::from_parameter(&id), |bch| {
                            bch.iter_custom(|iters| {
                                pool.install(|| {
                                    let mut total = Duration::ZERO;
                                    for _ in 0..iters {
                                        let t = Instant::now();
                                        flash_attention_into(isa, &cfg, &inp, &mut out)
                                            .expect("attention");
                                        let e = t.elapsed();
                                        best = best.min(e.as_secs_f64());
                                        total += e;
                                    }
                                    total
                                })
                            })
                        });
                        let peak =
                            peak_before.max(fma_peak_gflops(threads, 0.3).expect("fma probe"));
                        let gf = flops / best / 1e9;
                        rows.push(format!(
                            "| {threads} | {h} | {s} | {d} | {} | {gf:.1} | {peak:.1} | {:.2} |",
                            if causal { "yes" } else { "no" },
                            gf / peak
                        ));
                    }
                }
            }
        }
        group.finish();
    }
    println!(
        "\nFlash attention, B = 8, ISA {} (best time; causal counts useful FLOPs)",
        isa.name()
    );
    println!("| threads | H | S | D | causal | GFLOP/s | FMA peak | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
