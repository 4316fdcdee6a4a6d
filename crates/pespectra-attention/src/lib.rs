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
//!
//! ```
//! use pespectra_attention::{
//!     flash_attention, reference_attention, AttentionConfig, AttentionInputs, Mask,
//! };
//! let (b, h, s, d) = (1, 2, 16, 8);
//! let x: Vec<f32> = (0..b * h * s * d).map(|i| ((i * 37) % 19) as f32 / 19.0 - 0.5).collect();
//! let mut cfg = AttentionConfig::new(b, h, s, d);
//! cfg.mask = Mask::causal();
//! let inp = AttentionInputs { q: &x, k: &x, v: &x, rope_key: None };
//! let fast = flash_attention(&cfg, &inp)?; // f32 SIMD path
//! let exact = reference_attention(&cfg, &inp)?; // f64 reference
//! let worst = fast.iter().zip(&exact).map(|(a, e)| (*a as f64 - e).abs()).fold(0.0, f64::max);
//! assert!(worst < 1e-5);
//! # Ok::<(), pespectra_attention::Error>(())
//! ```

#![warn(missing_docs)]
mod bench;
mod bounds;
mod config;
mod error;
mod flash;
mod kernels;
mod logits;
#[cfg(feature = "nalgebra")]
pub mod nalgebra_interop;
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
