//! Throughput measurement for `pespectra bench-attention`: times the flash path on random
//! inputs and measures the machine's FMA peak in the same run, so the reported ratio is
//! robust to the shared machine's load and clock.

use std::time::Instant;

use crate::config::{AttentionConfig, AttentionInputs, Mask};
use crate::error::Error;
use crate::flash::flash_attention_into;
use crate::kernels::Isa;

/// Result of [`bench_attention`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    /// Useful GFLOP/s: `4·B·H·S²·D` (half of it when causal) over the best time.
    pub gflops: f64,
    /// FMA peak of the requested threads measured in the same run, GFLOP/s.
    pub peak_gflops: f64,
    /// `gflops / peak_gflops`.
    pub ratio: f64,
    /// Best wall-clock time of one attention call, seconds.
    pub seconds: f64,
}

impl BenchReport {
    /// `{"gflops": x, "peak_gflops": y, "ratio": r, "seconds": t}` (the CLI's `--json`).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"gflops\": {:.3}, \"peak_gflops\": {:.3}, \"ratio\": {:.4}, \"seconds\": {:.6}}}",
            self.gflops, self.peak_gflops, self.ratio, self.seconds
        )
    }
}

/// Useful floating-point operations of one forward pass: `4·B·H·S²·D`, halved for causal
/// (the masked half is not work, whether or not a kernel skips it).
pub fn attention_flops(b: usize, h: usize, s: usize, d: usize, causal: bool) -> f64 {
    let f = 4.0 * b as f64 * h as f64 * (s as f64).powi(2) * d as f64;
    if causal {
        f / 2.0
    } else {
        f
    }
}

/// Most worker threads a benchmark may start: far beyond any core count this tool targets, and
/// small enough that starting them takes milliseconds, not the tens of seconds a user-typed
/// `u64::MAX` would.
pub const MAX_BENCH_THREADS: usize = 1024;

/// Most bytes the benchmark's q, k, v and output buffers may take together (16 GiB). Checked
/// before anything is allocated; the buffers are then allocated fallibly, so a request below the
/// limit that the machine still cannot hold is an error too, never an abort.
pub const MAX_BENCH_BYTES: u64 = 16 << 30;

fn pool(threads: usize) -> Result<rayon::ThreadPool, Error> {
    if threads == 0 || threads > MAX_BENCH_THREADS {
        return Err(Error::InvalidConfig(format!(
            "threads must be between 1 and {MAX_BENCH_THREADS}, got {threads}"
        )));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::ThreadPool(e.to_string()))
}

/// FMA peak of `threads` threads running the probe simultaneously, GFLOP/s, on the
/// fastest available path (AVX2: 12 independent ymm FMA chains per thread).
pub fn fma_peak_gflops(threads: usize, seconds: f64) -> Result<f64, Error> {
    let isa = Isa::detect();
    let per_thread = pool(threads)?.broadcast(|_| isa.fma_probe(seconds));
    Ok(per_thread.iter().sum::<f64>() / 1e9)
}

/// Deterministic inputs in [-1, 1) (a 64-bit LCG; no RNG dependency in the library).
pub fn random_inputs(len: usize, seed: u64) -> Vec<f32> {
    let mut v = Vec::with_capacity(len);
    fill_random(&mut v, len, seed);
    v
}

fn fill_random(v: &mut Vec<f32>, len: usize, seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    v.extend((0..len).map(|_| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((x >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }));
}

/// A zeroed buffer of `len` floats, or [`Error::TooLarge`] when it cannot be allocated.
fn try_buffer(len: usize) -> Result<Vec<f32>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::TooLarge {
        what: "benchmark buffers",
        bytes: (len as u64).saturating_mul(4),
        limit: MAX_BENCH_BYTES,
    })?;
    Ok(v)
}

fn try_random(len: usize, seed: u64) -> Result<Vec<f32>, Error> {
    let mut v = try_buffer(len)?;
    fill_random(&mut v, len, seed);
    Ok(v)
}

/// Times `B×H×S×D` NoPE flash attention (MHA, `scale = D^-0.5`, optional causal mask) on
/// `threads` threads: one warm-up call, then the best of up to 5 calls (stopping after ~4 s
/// once 2 have run), with the FMA peak probed before and after (the larger is reported).
pub fn bench_attention(
    b: usize,
    h: usize,
    s: usize,
    d: usize,
    causal: bool,
    threads: usize,
) -> Result<BenchReport, Error> {
    let mut cfg = AttentionConfig::new(b, h, s, d);
    if causal {
        cfg.mask = Mask::causal();
    }
    cfg.validate()?;
    let pool = pool(threads)?;
    let elems = [cfg.q_len(), cfg.k_len(), cfg.v_len(), cfg.out_len()]
        .iter()
        .fold(0u64, |acc, &l| acc.saturating_add(l as u64));
    let bytes = elems.saturating_mul(4);
    if bytes > MAX_BENCH_BYTES {
        return Err(Error::TooLarge {
            what: "benchmark buffers (q, k, v and output)",
            bytes,
            limit: MAX_BENCH_BYTES,
        });
    }
    let q = try_random(cfg.q_len(), 1)?;
    let k = try_random(cfg.k_len(), 2)?;
    let v = try_random(cfg.v_len(), 3)?;
    let inp = AttentionInputs {
        q: &q,
        k: &k,
        v: &v,
        rope_key: None,
    };
    let mut out = try_buffer(cfg.out_len())?;
    out.resize(cfg.out_len(), 0.0);
    let isa = Isa::detect();
    let probe = |p: &rayon::ThreadPool| p.broadcast(|_| isa.fma_probe(0.25)).iter().sum::<f64>();
    let peak_before = probe(&pool);
    let mut best = f64::INFINITY;
    pool.install(|| -> Result<(), Error> {
        flash_attention_into(isa, &cfg, &inp, &mut out)?;
        let start = Instant::now();
        for rep in 0..5 {
            let t = Instant::now();
            flash_attention_into(isa, &cfg, &inp, &mut out)?;
            best = best.min(t.elapsed().as_secs_f64());
            if rep >= 1 && start.elapsed().as_secs_f64() > 4.0 {
                break;
            }
        }
        Ok(())
    })?;
    let peak = peak_before.max(probe(&pool)) / 1e9;
    let gflops = attention_flops(b, h, s, d, causal) / best / 1e9;
    Ok(BenchReport {
        gflops,
        peak_gflops: peak,
        ratio: gflops / peak,
        seconds: best,
    })
}
