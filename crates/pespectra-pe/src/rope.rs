//! RoPE configuration: pairing conventions, partial rotary, and the frequency vectors of every
//! scaling variant in transformers' `modeling_rope_utils.py` (v5.24), recomputed in f64.

use crate::bound::Approx;
use crate::error::{check_finite, check_param, PeError};

/// Which coordinates form the complex pair rotated by frequency f (F = rotary_dim / 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// (2f, 2f+1): GPT-J, Meta's original Llama, GGML "normal", DeepSeek checkpoints.
    Interleaved,
    /// (f, f+F): GPT-NeoX / HF Llama `rotate_half`.
    HalfSplit,
}

/// YaRN parameters, named as in transformers' `rope_parameters`.
#[derive(Debug, Clone, PartialEq)]
pub struct YarnParams {
    /// Interpolation factor s.
    pub factor: f64,
    /// Pre-training context length (`original_max_position_embeddings`).
    pub original_max_position_embeddings: usize,
    /// Extrapolation boundary in rotations (default 32).
    pub beta_fast: f64,
    /// Interpolation boundary in rotations (default 1).
    pub beta_slow: f64,
    /// DeepSeek's numerator mscale (used only together with `mscale_all_dim`).
    pub mscale: Option<f64>,
    /// DeepSeek's denominator mscale.
    pub mscale_all_dim: Option<f64>,
    /// Explicit cos/sin factor; inferred from `factor` (and the mscales) when `None`.
    pub attention_factor: Option<f64>,
    /// Round the correction range outward to integers (default true).
    pub truncate: bool,
}

impl YarnParams {
    /// transformers' defaults: beta_fast 32, beta_slow 1, inferred attention factor, truncate.
    pub fn new(factor: f64, original_max_position_embeddings: usize) -> Self {
        Self {
            factor,
            original_max_position_embeddings,
            beta_fast: 32.0,
            beta_slow: 1.0,
            mscale: None,
            mscale_all_dim: None,
            attention_factor: None,
            truncate: true,
        }
    }
}

/// Frequency scaling variant (`rope_type`).
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// `default`: θ_f = base^(-2f/dim).
    None,
    /// `linear` (position interpolation): θ_f / factor.
    Linear {
        /// Interpolation factor.
        factor: f64,
    },
    /// `dynamic` NTK: the base grows once `seq_len` exceeds `max_position_embeddings`.
    Dynamic {
        /// Scaling factor.
        factor: f64,
        /// Trained context length.
        max_position_embeddings: usize,
        /// Current sequence length (values below the trained length change nothing).
        seq_len: usize,
    },
    /// `yarn`: ramp between interpolated and extrapolated frequencies, plus a cos/sin factor.
    Yarn(YarnParams),
    /// `llama3`: long wavelengths divided by `factor`, short kept, smooth band between.
    Llama3 {
        /// Scaling factor for long wavelengths (8 for Llama 3.1).
        factor: f64,
        /// 1 for Llama 3.1.
        low_freq_factor: f64,
        /// 4 for Llama 3.1.
        high_freq_factor: f64,
        /// 8192 for Llama 3.1.
        original_max_position_embeddings: usize,
    },
}

/// Where the frequencies come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Frequencies {
    /// Computed from a base and a scaling rule.
    Standard {
        /// `rope_theta` (10000 for Llama 2, 500000 for Llama 3, ...).
        base: f64,
        /// Scaling variant.
        scaling: RopeScaling,
    },
    /// Given directly, e.g. captured `inv_freq` buffers or GGUF `rope_freqs`.
    Explicit {
        /// θ_f for f = 0..rotary_dim/2.
        theta: Vec<f64>,
        /// Factor multiplied into cos and sin (so logits get its square).
        attention_factor: f64,
    },
}

/// A RoPE head: dimension, rotated fraction, pairing and frequencies.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeConfig {
    /// Head dimension d (rows of q and k have this length).
    pub head_dim: usize,
    /// Rotated fraction: the first `int(head_dim · factor)` dims rotate, the rest pass through.
    pub partial_rotary_factor: f64,
    /// Pairing convention inside the rotated block.
    pub pairing: Pairing,
    /// Frequency source.
    pub frequencies: Frequencies,
}

/// θ vector and cos/sin factor of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeFrequencies {
    /// θ_f, f = 0..F.
    pub theta: Vec<f64>,
    /// transformers' `attention_scaling`, multiplied into cos and sin (1 except YaRN).
    pub attention_factor: f64,
}

impl RopeConfig {
    /// Full rotary, no scaling.
    pub fn new(head_dim: usize, base: f64, pairing: Pairing) -> Self {
        Self {
            head_dim,
            partial_rotary_factor: 1.0,
            pairing,
            frequencies: Frequencies::Standard {
                base,
                scaling: RopeScaling::None,
            },
        }
    }

    /// Full rotary with caller-supplied θ.
    pub fn explicit(
        head_dim: usize,
        theta: Vec<f64>,
        attention_factor: f64,
        pairing: Pairing,
    ) -> Self {
        Self {
            head_dim,
            partial_rotary_factor: 1.0,
            pairing,
            frequencies: Frequencies::Explicit {
                theta,
                attention_factor,
            },
        }
    }

    /// Same configuration with a different rotated fraction.
    pub fn with_partial_rotary_factor(mut self, factor: f64) -> Self {
        self.partial_rotary_factor = factor;
        self
    }

    /// Same configuration with a scaling rule (keeps the base; no effect on explicit θ).
    pub fn with_scaling(mut self, new: RopeScaling) -> Self {
        if let Frequencies::Standard { scaling, .. } = &mut self.frequencies {
            *scaling = new;
        }
        self
    }

    /// Number of rotated dims, `int(head_dim · partial_rotary_factor)` as in transformers.
    pub fn rotary_dim(&self) -> Result<usize, PeError> {
        if self.head_dim == 0 {
            return Err(PeError::Empty("RoPE head_dim is 0".into()));
        }
        let p = self.partial_rotary_factor;
        check_param("partial_rotary_factor", p, p > 0.0 && p <= 1.0)?;
        let dim = (self.head_dim as f64 * p) as usize;
        if dim == 0 {
            return Err(PeError::InvalidParameter(format!(
                "partial_rotary_factor {p} rotates no dimension of a {}-dim head",
                self.head_dim
            )));
        }
        if dim & 1 == 1 {
            return Err(PeError::OddRotaryDim(dim));
        }
        Ok(dim)
    }

    /// θ and the attention factor, following `ROPE_INIT_FUNCTIONS` formula by formula (in f64,
    /// where transformers uses f32 tensors; expect agreement to f32 accuracy, not bitwise).
    pub fn frequencies(&self) -> Result<RopeFrequencies, PeError> {
        let dim = self.rotary_dim()?;
        let half = dim / 2;
        let (base, scaling) = match &self.frequencies {
            Frequencies::Explicit {
                theta,
                attention_factor,
            } => {
                if theta.len() != half {
                    return Err(PeError::Shape(format!(
                        "{} explicit frequencies for {dim} rotated dims",
                        theta.len()
                    )));
                }
                check_finite("explicit theta", theta)?;
                check_param("attention_factor", *attention_factor, true)?;
                return Ok(RopeFrequencies {
                    theta: theta.clone(),
                    attention_factor: *attention_factor,
                });
            }
            Frequencies::Standard { base, scaling } => (*base, scaling),
        };
        check_param("rope base", base, base > 1.0)?;
        let exponent = |f: usize| (2 * f) as f64 / dim as f64;
        let default: Vec<f64> = (0..half).map(|f| 1.0 / base.powf(exponent(f))).collect();
        let (theta, attention_factor) = match scaling {
            RopeScaling::None => (default, 1.0),
            RopeScaling::Linear { factor } => {
                check_param("linear factor", *factor, *factor > 0.0)?;
                (default.iter().map(|t| t / factor).collect(), 1.0)
            }
            RopeScaling::Dynamic {
                factor,
                max_position_embeddings,
                seq_len,
            } => {
                check_param("dynamic factor", *factor, *factor > 0.0)?;
                if *max_position_embeddings == 0 || dim == 2 {
                    return Err(PeError::InvalidParameter(
                        "dynamic NTK needs max_position_embeddings > 0 and rotary dim > 2".into(),
                    ));
                }
                let max = *max_position_embeddings as f64;
                let seq = (*seq_len as f64).max(max);
                let new_base = base
                    * ((factor * seq / max) - (factor - 1.0)).powf(dim as f64 / (dim as f64 - 2.0));
                check_param("dynamic NTK base", new_base, new_base > 0.0)?;
                (
                    (0..half)
                        .map(|f| 1.0 / new_base.powf(exponent(f)))
                        .collect(),
                    1.0,
                )
            }
            RopeScaling::Yarn(y) => yarn(base, dim, y)?,
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                check_param("llama3 factor", *factor, *factor > 0.0)?;
                check_param(
                    "llama3 high_freq_factor",
                    *high_freq_factor,
                    high_freq_factor > low_freq_factor && *low_freq_factor > 0.0,
                )?;
                let old = *original_max_position_embeddings as f64;
                let low_wavelen = old / low_freq_factor;
                let high_wavelen = old / high_freq_factor;
                let theta = default
                    .iter()
                    .map(|&t| {
                        let wavelen = 2.0 * std::f64::consts::PI / t;
                        let t_llama = if wavelen > low_wavelen { t / factor } else { t };
                        // transformers: ~(wavelen < high) * ~(wavelen > low); θ is finite here.
                        if wavelen >= high_wavelen && wavelen <= low_wavelen {
                            let smooth = (old / wavelen - low_freq_factor)
                                / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * t_llama / factor + smooth * t_llama
                        } else {
                            t_llama
                        }
                    })
                    .collect();
                (theta, 1.0)
            }
        };
        Ok(RopeFrequencies {
            theta,
            attention_factor,
        })
    }
}

/// `get_mscale` of transformers' YaRN code: 0.1·m·ln(s) + 1 for s > 1, else 1.
pub fn yarn_get_mscale(scale: f64, mscale: f64) -> f64 {
    if scale <= 1.0 {
        1.0
    } else {
        0.1 * mscale * scale.ln() + 1.0
    }
}

fn yarn(base: f64, dim: usize, y: &YarnParams) -> Result<(Vec<f64>, f64), PeError> {
    check_param("yarn factor", y.factor, y.factor > 0.0)?;
    check_param("yarn beta_fast", y.beta_fast, y.beta_fast > 0.0)?;
    check_param("yarn beta_slow", y.beta_slow, y.beta_slow > 0.0)?;
    if y.original_max_position_embeddings == 0 {
        return Err(PeError::InvalidParameter(
            "yarn original_max_position_embeddings is 0".into(),
        ));
    }
    // Python truthiness: `if mscale and mscale_all_dim` skips None and 0.0.
    let attention_factor = match (y.attention_factor, y.mscale, y.mscale_all_dim) {
        (Some(a), _, _) => a,
        (None, Some(m), Some(m_all)) if m != 0.0 && m_all != 0.0 => {
            yarn_get_mscale(y.factor, m) / yarn_get_mscale(y.factor, m_all)
        }
        _ => yarn_get_mscale(y.factor, 1.0),
    };
    check_param("yarn attention_factor", attention_factor, true)?;
    let d = dim as f64;
    let orig = y.original_max_position_embeddings as f64;
    let correction_dim =
        |rot: f64| (d * (orig / (rot * 2.0 * std::f64::consts::PI)).ln()) / (2.0 * base.ln());
    let (mut low, mut high) = (correction_dim(y.beta_fast), correction_dim(y.beta_slow));
    if y.truncate {
        low = low.floor();
        high = high.ceil();
    }
    let low = low.max(0.0);
    let mut high = high.min(d - 1.0);
    if low == high {
        high += 0.001;
    }
    let theta = (0..dim / 2)
        .map(|f| {
            let pos_freq = base.powf((2 * f) as f64 / d);
            let extrapolation = 1.0 / pos_freq;
            let interpolation = 1.0 / (y.factor * pos_freq);
            let ramp = ((f as f64 - low) / (high - low)).clamp(0.0, 1.0);
            let extrapolation_factor = 1.0 - ramp;
            interpolation * (1.0 - extrapolation_factor) + extrapolation * extrapolation_factor
        })
        .collect();
    Ok((theta, attention_factor))
}

/// Coordinates of the rotated block inside a row: `offset..offset + dim`, paired by `pairing`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RotaryLayout {
    pub offset: usize,
    pub dim: usize,
    pub pairing: Pairing,
}

impl RotaryLayout {
    /// Row indices (real, imaginary) of frequency f.
    pub fn pair(&self, f: usize) -> (usize, usize) {
        match self.pairing {
            Pairing::Interleaved => (self.offset + 2 * f, self.offset + 2 * f + 1),
            Pairing::HalfSplit => (self.offset + f, self.offset + f + self.dim / 2),
        }
    }

    pub fn contains(&self, k: usize) -> bool {
        k >= self.offset && k < self.offset + self.dim
    }

    /// Rotates row `x` (at position `pos`) by pos·θ_f in each pair, scaling rotated entries by
    /// `gain` (the cos/sin attention factor); pass-through entries are copied exactly.
    pub fn rotate(&self, x: &[f64], pos: usize, theta: &[f64], gain: f64) -> Vec<Approx> {
        let mut out: Vec<Approx> = x.iter().map(|&v| Approx::exact(v)).collect();
        for (f, &t) in theta.iter().enumerate() {
            let angle = Approx::exact(pos as f64).mul(Approx::exact(t));
            let (c, s) = Approx::cos_sin(angle);
            let (r, i) = self.pair(f);
            let (x0, x1) = (Approx::exact(x[r]), Approx::exact(x[i]));
            out[r] = x0.mul(c).sub(x1.mul(s)).scale(gain);
            out[i] = x0.mul(s).add(x1.mul(c)).scale(gain);
        }
        out
    }
}
