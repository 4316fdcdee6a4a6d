//! Exact-convention f64 reference for positional encodings in attention.
//!
//! For one head with query/key content rows q_i, k_j (n × d, positions 0..n) this crate builds
//! the pre-mask logit matrix of every common positional encoding — RoPE (interleaved or
//! half-split pairing, partial rotary, linear/NTK/YaRN/Llama-3 frequencies), ALiBi (BLOOM, MPT,
//! llama.cpp and arbitrary slopes; symmetric, causal, BLOOM and MPT offset forms), T5 buckets,
//! sinusoidal and learned absolute tables, NoPE and DeepSeek MLA — and the decompositions the
//! theorem checks are about:
//!
//! - **D1** ([`rope_decomposition`]): RoPE logits = Σ_f Re(G^f ∘ E^f) with G^f_ij = conj(a_i^f)·b_j^f
//!   and E^f_ij = exp(i(j−i)θ_f), plus a NoPE term for unrotated dims;
//! - **D2** ([`additive_decomposition`]): additive logits = G_{qc,kc} + G_{qc,kp} + G_{qp,kc} + G_{qp,kp} + B.
//!
//! Conventions follow transformers 5.24 (see `tests/golden/make_golden.py` for the cross-check).
//! Every computed logit carries a rigorous floating-point error bound ([`ErrorBounded`]); the
//! rounding model is documented in [`bound`]. f64 throughout: this is the reference, not the
//! fast path.
//!
//! ```
//! use pespectra_pe::*;
//!
//! let (n, d) = (6, 8);
//! let q = RealMatrix::from_fn(n, d, |i, j| ((3 * i + j) as f64).sin());
//! let k = RealMatrix::from_fn(n, d, |i, j| ((5 * i + 2 * j) as f64).cos());
//! let rope = RopeConfig::new(d, 10_000.0, Pairing::HalfSplit);
//!
//! // Direct logits (rotate q and k, then dot) with an error bound ...
//! let direct = logits_with_bound(&q, &k, &PositionalEncoding::Rope(rope.clone()), 1.0)?;
//! // ... and the D1 reconstruction Σ_f Re(G^f ∘ E^f) with its own bound.
//! let d1 = rope_decomposition(&q, &k, &rope, 1.0)?;
//! let check = check_agreement(&direct, &d1.reconstruct_with_bound())?;
//! assert!(check.holds);
//! assert_eq!(d1.num_frequencies(), d / 2);
//! let g0 = d1.content(0).unwrap(); // G^0, n × n complex
//! let e0 = d1.kernel(0).unwrap(); // E^0
//! assert_eq!((g0.rows(), e0.rows()), (n, n));
//! # Ok::<(), PeError>(())
//! ```

#![warn(missing_docs)]

pub mod absolute;
pub mod alibi;
pub mod bound;
pub mod decompose;
pub mod error;
pub mod logits;
pub mod matrix;
pub mod mla;
pub mod rope;
pub mod t5;

pub use absolute::{sinusoidal_table, SinusoidalLayout};
pub use alibi::{
    alibi_slopes_bloom, alibi_slopes_geometric, alibi_slopes_llama_cpp, alibi_slopes_mpt, AlibiForm,
};
pub use bound::{check_agreement, gamma, AgreementCheck, ErrorBounded};
pub use decompose::{
    additive_decomposition, additive_logits_with_bound, check_d1, check_d2, mla_decomposition,
    rope_decomposition, rope_kernel, AdditiveDecomposition, RopeDecomposition,
};
pub use error::PeError;
pub use logits::{bias_matrix, logits, logits_with_bound, PositionalEncoding};
pub use matrix::{ComplexMatrix, RealMatrix};
pub use mla::{mla_logits, mla_softmax_scale};
pub use num_complex::Complex64;
pub use rope::{
    yarn_get_mscale, Frequencies, Pairing, RopeConfig, RopeFrequencies, RopeScaling, YarnParams,
};
pub use t5::T5Buckets;
