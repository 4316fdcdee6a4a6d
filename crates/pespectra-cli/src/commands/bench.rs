//! `pespectra bench-attention`: the attention core timed against its FMA peak.

use super::*;

#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    #[arg(long, default_value_t = 8)]
    pub(crate) b: usize,
    #[arg(long, default_value_t = 8)]
    pub(crate) h: usize,
    #[arg(long, default_value_t = 2048)]
    pub(crate) s: usize,
    #[arg(long, default_value_t = 128)]
    pub(crate) d: usize,
    /// Causal mask (FLOPs counted on the unmasked half).
    #[arg(long)]
    pub(crate) causal: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run_bench(a: &BenchArgs) -> Result<(), Failure> {
    let max = pespectra_attention::MAX_BENCH_THREADS;
    if a.threads.is_some_and(|t| t == 0 || t > max) {
        return Err(bad(format!(
            "--threads must be between 1 and {max}, got {}",
            a.threads.unwrap_or_default()
        )));
    }
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut prov = provenance();
    let r = pespectra_attention::bench_attention(a.b, a.h, a.s, a.d, a.causal, threads)
        .map_err(|e| bad(e.to_string()))?;
    if a.json {
        for (k, v) in [("b", a.b), ("h", a.h), ("s", a.s), ("d", a.d)] {
            prov.setting(k, v);
        }
        prov.setting("causal", a.causal);
        prov.simd(pespectra_attention::Isa::detect().name());
        prov.threads(threads);
        /// The `pespectra bench-attention --json` document.
        #[derive(serde::Serialize)]
        struct BenchJson {
            gflops: f64,
            peak_gflops: f64,
            ratio: f64,
            seconds: f64,
            provenance: serde_json::Value,
        }
        print_json(&BenchJson {
            gflops: r.gflops,
            peak_gflops: r.peak_gflops,
            ratio: r.ratio,
            seconds: r.seconds,
            provenance: prov.to_json(),
        });
    } else {
        println!(
            "{:.1} GFLOP/s of a measured {:.1} GFLOP/s FMA peak ({:.0}%), {:.4} s per call",
            r.gflops,
            r.peak_gflops,
            100.0 * r.ratio,
            r.seconds
        );
    }
    Ok(())
}
