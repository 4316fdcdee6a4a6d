//! # pespectra-attention
//!
//! Batched multi-head attention over `(batch, heads, seq, head_dim)` for every positional
//! encoding pespectra studies (NoPE, RoPE with both pairings / partial rotary / scaled
//! frequencies, ALiBi, T5 bias, additive absolute, MLA), with causal, padding and
//! sliding-window masks and GQA/MQA head sharing.
//!
//! Three entry points:
//! - [`flash_attention`]: fused f32 flash path (SIMD micro-kernels chosen at run time,
//!   Rayon over batch × head × query tile) — for throughput;
//! - [`attention_logits`]: logits mode — pre-mask logits, content-only logits and the
//!   per-frequency complex matrices `G^f` — for spectral analysis;
//! - [`reference_attention`] / [`reference_logits`]: the f64 definitions both are tested
//!   against with stated error bounds.
//!
//! All functions validate their input (shapes, configuration, finiteness) and return
//! [`Error`] instead of panicking. Parallelism uses the current Rayon pool; install a pool
//! to choose the thread count.

mod bench;
mod bounds;
mod config;
mod error;
mod flash;
mod kernels;
mod logits;
mod pe;
mod reference;

pub use bench::{
    attention_flops, bench_attention, fma_peak_gflops, random_inputs, BenchReport, MAX_BENCH_BYTES,
    MAX_BENCH_THREADS,
};
pub use bounds::{error_bounds, ErrorBounds, F32_UNIT_ROUNDOFF};
pub use config::{
    alibi_slopes, validate, AttentionConfig, AttentionInputs, Mask, Mla, PositionalEncoding, Rope,
    RopePairing, RopeScaling, T5Bias,
};
pub use error::Error;
pub use flash::{flash_attention, flash_attention_into, flash_attention_with, release_workspace};
pub use kernels::{Isa, EXP2_REL_ERROR};
pub use logits::{attention_logits, attention_logits_with, Logits, LogitsRequest, PerFrequency};
pub use pe::{rope_frequencies, t5_bucket};
pub use reference::{reference_attention, reference_logits};
