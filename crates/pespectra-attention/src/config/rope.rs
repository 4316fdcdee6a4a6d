//! Rotary encodings as the attention core applies them: pairing, the scaling schemes of the HF
//! configs (linear, dynamic NTK, YaRN, llama3, longrope), the rotated fraction, and their validation.

use crate::error::Error;

/// Which dimensions RoPE rotates together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopePairing {
    /// Pairs `(2i, 2i+1)`: GPT-J, Meta's original Llama, GGML "normal", DeepSeek checkpoints.
    Interleaved,
    /// Pairs `(i, i + r/2)` (`rotate_half`): HF Llama/Mistral/Qwen/Gemma/NeoX layout.
    HalfSplit,
}

/// RoPE frequency scaling, following transformers' `ROPE_INIT_FUNCTIONS`.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Plain `inv_freq_i = base^(-2i/r)`.
    None,
    /// Position interpolation: every frequency divided by `factor`.
    Linear {
        /// Interpolation factor (> 0).
        factor: f64,
    },
    /// HF "dynamic" NTK: for `seq > original_max_position_embeddings` the base becomes
    /// `base * (factor*seq/orig - (factor-1))^(r/(r-2))`; shorter sequences are unscaled.
    DynamicNtk {
        /// Scaling factor (> 0).
        factor: f64,
        /// Pre-training context length.
        original_max_position_embeddings: usize,
    },
    /// YaRN (`_compute_yarn_parameters`): ramp blend of interpolated/extrapolated
    /// frequencies plus an attention factor multiplied into cos/sin.
    Yarn {
        /// Scaling factor (> 0).
        factor: f64,
        /// Pre-training context length.
        original_max_position_embeddings: usize,
        /// Fast correction boundary in rotations (HF default 32).
        beta_fast: f64,
        /// Slow correction boundary in rotations (HF default 1).
        beta_slow: f64,
        /// Explicit attention factor; `None` uses `0.1 ln(factor) + 1`.
        attention_factor: Option<f64>,
    },
    /// Llama 3 (`_compute_llama3_parameters`): long wavelengths divided by `factor`,
    /// short ones kept, a smooth blend in between.
    Llama3 {
        /// Scaling factor (> 0).
        factor: f64,
        /// Low-frequency factor (Llama 3.1: 1).
        low_freq_factor: f64,
        /// High-frequency factor (Llama 3.1: 4).
        high_freq_factor: f64,
        /// Pre-training context length (Llama 3.1: 8192).
        original_max_position_embeddings: usize,
    },
    /// LongRoPE (Phi-3, `_compute_longrope_parameters`): `inv_freq_i = 1/(ext_i·base^(2i/r))`
    /// with `ext` the short factors for `seq ≤ original_max_position_embeddings` and the long
    /// ones beyond, and an attention factor multiplied into cos/sin.
    LongRope {
        /// One factor per rotary frequency, used up to the pre-training length.
        short_factor: Vec<f64>,
        /// One factor per rotary frequency, used beyond it.
        long_factor: Vec<f64>,
        /// Pre-training context length.
        original_max_position_embeddings: usize,
        /// Multiplier of cos and sin (transformers' default `√(1 + ln s / ln L)` for
        /// `s = max_position_embeddings / L > 1`, else 1, is resolved by the config reader).
        attention_factor: f64,
    },
}

/// Rotary position embedding parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Rope {
    /// Pair layout.
    pub pairing: RopePairing,
    /// Frequency base θ (10000 for Llama-2, 500000 for Llama-3, ...).
    pub base: f64,
    /// Fraction of the head dimension that is rotated (`partial_rotary_factor`); the
    /// rotated width is `floor(head_dim * fraction)` and must be even. The first
    /// dimensions are rotated, the rest pass through unchanged (GPT-NeoX convention).
    pub rotary_fraction: f64,
    /// Frequency scaling.
    pub scaling: RopeScaling,
}

impl Rope {
    /// Full-width RoPE with the given pairing and base, no scaling.
    pub fn new(pairing: RopePairing, base: f64) -> Self {
        Self {
            pairing,
            base,
            rotary_fraction: 1.0,
            scaling: RopeScaling::None,
        }
    }
}

/// Rotated width of `rope` on a `dim`-wide vector.
pub(crate) fn rotary_dim(rope: &Rope, dim: usize) -> usize {
    (dim as f64 * rope.rotary_fraction).floor() as usize
}

pub(super) fn validate_rope(r: &Rope, dim: usize) -> Result<(), Error> {
    let bad = |m: String| Err(Error::InvalidConfig(m));
    if !(r.base.is_finite() && r.base > 1.0) {
        return bad(format!("RoPE base must be finite and > 1, got {}", r.base));
    }
    if !(r.rotary_fraction > 0.0 && r.rotary_fraction <= 1.0) {
        return bad(format!(
            "rotary_fraction must be in (0, 1], got {}",
            r.rotary_fraction
        ));
    }
    let rd = rotary_dim(r, dim);
    if rd < 2 || !rd.is_multiple_of(2) {
        return bad(format!(
            "rotated width floor({dim} * {}) = {rd} must be even and >= 2",
            r.rotary_fraction
        ));
    }
    let pos = |x: f64, n: &str| {
        if x.is_finite() && x > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidConfig(format!(
                "RoPE scaling {n} must be finite and > 0, got {x}"
            )))
        }
    };
    match &r.scaling {
        RopeScaling::None => {}
        RopeScaling::Linear { factor } => pos(*factor, "factor")?,
        RopeScaling::DynamicNtk {
            factor,
            original_max_position_embeddings,
        } => {
            if rd == 2 {
                return bad(
                    "dynamic NTK scaling needs a rotated width > 2 (exponent r/(r-2))".into(),
                );
            }
            pos(*factor, "factor")?;
            pos(
                *original_max_position_embeddings as f64,
                "original_max_position_embeddings",
            )?;
        }
        RopeScaling::Yarn {
            factor,
            original_max_position_embeddings,
            beta_fast,
            beta_slow,
            attention_factor,
        } => {
            pos(*factor, "factor")?;
            pos(
                *original_max_position_embeddings as f64,
                "original_max_position_embeddings",
            )?;
            pos(*beta_fast, "beta_fast")?;
            pos(*beta_slow, "beta_slow")?;
            if let Some(a) = attention_factor {
                pos(*a, "attention_factor")?;
            }
        }
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        } => {
            pos(*factor, "factor")?;
            pos(*low_freq_factor, "low_freq_factor")?;
            pos(*high_freq_factor, "high_freq_factor")?;
            pos(
                *original_max_position_embeddings as f64,
                "original_max_position_embeddings",
            )?;
            if high_freq_factor <= low_freq_factor {
                return bad("Llama3 scaling needs high_freq_factor > low_freq_factor".into());
            }
        }
        RopeScaling::LongRope {
            short_factor,
            long_factor,
            original_max_position_embeddings,
            attention_factor,
        } => {
            for (name, f) in [("short_factor", short_factor), ("long_factor", long_factor)] {
                if f.len() != rd / 2 {
                    return bad(format!(
                        "LongRoPE {name} has {} entries for {} rotary frequencies",
                        f.len(),
                        rd / 2
                    ));
                }
                for &x in f {
                    pos(x, name)?;
                }
            }
            pos(
                *original_max_position_embeddings as f64,
                "original_max_position_embeddings",
            )?;
            pos(*attention_factor, "attention_factor")?;
        }
    }
    Ok(())
}
