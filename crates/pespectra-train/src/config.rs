//! What a trained model is: the positional-encoding variant, the architecture, and the
//! `config.json` of the `pespectra_e4` format (docs/E4_MODEL_FORMAT.md).

use serde::{Deserialize, Serialize};

use crate::data::{Task, PAD, VOCAB_SIZE};
use crate::TrainError;

/// The two encoders of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// The authors' `trans.py`: K/V from the layer-0 embeddings in every layer, pre-LN on the
    /// query path, no masks, mean-pool over all positions, ReLU FFN, no final norm.
    Paper,
    /// A pre-LN encoder: K/V from the normalised residual stream, padding mask, GELU FFN, final
    /// LayerNorm, mean-pool over the words (the shape of the authors' `mla.py`).
    Standard,
}

impl std::str::FromStr for Arch {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s {
            "paper" => Ok(Self::Paper),
            "standard" => Ok(Self::Standard),
            _ => Err(TrainError::Config(format!(
                "unknown architecture {s:?} (paper or standard)"
            ))),
        }
    }
}

/// Positions added to the token embeddings before layer 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputPe {
    /// None.
    None,
    /// sin at even, cos at odd dimensions, ω_m = 10000^(−2m/d).
    Sinusoidal,
    /// [sin(d/2 dims) | cos(d/2 dims)], the input PE of the authors' hybrid `rope` model.
    SinusoidalConcat,
    /// A learned table `pos_embed.weight [max_len, d]`.
    Learned,
}

/// Positions inside attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionPe {
    /// None.
    None,
    /// Rotary, on heads `h < rope_heads`.
    Rope,
    /// A learned per-head scalar per offset j − i, unbucketed (the authors' "relative").
    Relative,
    /// T5's bidirectional log buckets.
    T5,
    /// −m_h |i − j|.
    Alibi,
}

/// ALiBi slope conventions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlibiSlopes {
    /// The authors' m_h = exp(−h/H), h = 0..H−1 (m ∈ (0.37, 1]).
    Exp,
    /// Press et al.'s m_h = 2^(−8(h+1)/H).
    Pow2,
}

/// How MLA's decoupled rotary path rotates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rotation {
    /// A true rotation (DeepSeek-V2/V3).
    Rope,
    /// The authors' `mla.py` map: sines and cosines of different frequencies paired, not a
    /// rotation (paper-notes §4.3); kept only to show its effect.
    Paper,
}

/// MLA's sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlaConfig {
    /// Latent width of c_q and c_kv.
    pub d_compress: usize,
    /// Width of the decoupled rotary path (= head_dim, as the authors).
    pub rope_dim: usize,
    /// One rotary query shared by all heads (the authors) instead of one per head (DeepSeek).
    pub shared_q_rope: bool,
    /// The rotary map.
    pub rotation: Rotation,
}

/// `config.json` of a `pespectra_e4` model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Always `"pespectra_e4"`.
    pub model_type: String,
    /// The variant name it was built from.
    pub pe: String,
    /// The encoder shape.
    pub arch: Arch,
    /// The task it was trained on.
    pub task: Task,
    /// Embedding rows.
    pub vocab_size: usize,
    /// Output classes (labels are class indices).
    pub num_classes: usize,
    /// Sequence length (inputs are padded to it).
    pub max_len: usize,
    /// Model width.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// FFN width.
    pub d_ff: usize,
    /// Layers.
    pub layers: usize,
    /// Padding id.
    pub pad_id: u32,
    /// LayerNorm ε.
    pub layer_norm_eps: f64,
    /// Input positions.
    pub input_pe: InputPe,
    /// Positions in attention.
    pub attention_pe: AttentionPe,
    /// RoPE base.
    pub rope_theta: f64,
    /// Heads h < rope_heads rotate.
    pub rope_heads: usize,
    /// ALiBi slopes.
    pub alibi_slopes: AlibiSlopes,
    /// T5 buckets.
    pub t5_buckets: usize,
    /// T5 maximum distance.
    pub t5_max_distance: usize,
    /// MLA attention instead of per-head q/k/v projections.
    pub mla: Option<MlaConfig>,
}

/// Model sizes, from a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Layers.
    pub layers: usize,
    /// Width.
    pub d_model: usize,
    /// Heads.
    pub heads: usize,
    /// FFN width.
    pub d_ff: usize,
}

/// Every variant name `ModelConfig::new` accepts (`partial-rope:K` with K a head count).
pub const VARIANTS: [&str; 12] = [
    "nope",
    "sinusoidal",
    "learned",
    "relative",
    "t5",
    "alibi",
    "alibi-standard",
    "rope",
    "rope-hybrid",
    "partial-rope:K",
    "mla",
    "mla-paper",
];

/// Classes of the output layer: labels up to 100 (Task 2) plus room, like the authors' use of
/// the vocabulary size as class count but without 470 classes that never occur.
pub const NUM_CLASSES: usize = 128;

/// The architecture a variant trains with when none is asked for: the MLA variants follow the
/// authors' `mla.py` (a standard pre-LN encoder), everything else `trans.py`.
pub fn default_arch(pe: &str) -> Arch {
    if pe.starts_with("mla") {
        Arch::Standard
    } else {
        Arch::Paper
    }
}

impl ModelConfig {
    /// The model of variant `pe` (one of [`VARIANTS`]) with `sizes`, for `task`.
    pub fn new(pe: &str, arch: Arch, task: Task, sizes: Sizes) -> Result<Self, TrainError> {
        let Sizes {
            layers,
            d_model,
            heads,
            d_ff,
        } = sizes;
        if heads == 0 || d_model % heads != 0 || (d_model / heads) % 2 != 0 {
            return Err(TrainError::Config(format!(
                "{heads} heads must divide d_model {d_model} into an even head dimension"
            )));
        }
        if layers == 0 || d_ff == 0 || d_model % 2 != 0 {
            return Err(TrainError::Config(
                "layers, d_ff and an even d_model must be positive".into(),
            ));
        }
        let dh = d_model / heads;
        let mut c = Self {
            model_type: "pespectra_e4".into(),
            pe: pe.into(),
            arch,
            task,
            vocab_size: VOCAB_SIZE,
            num_classes: NUM_CLASSES,
            max_len: 128,
            d_model,
            heads,
            d_ff,
            layers,
            pad_id: PAD,
            layer_norm_eps: 1e-5,
            input_pe: InputPe::None,
            attention_pe: AttentionPe::None,
            rope_theta: 10000.0,
            rope_heads: 0,
            alibi_slopes: AlibiSlopes::Exp,
            t5_buckets: 32,
            t5_max_distance: 128,
            mla: None,
        };
        let mla = |shared_q_rope, rotation| MlaConfig {
            d_compress: d_model / 2,
            rope_dim: dh,
            shared_q_rope,
            rotation,
        };
        match pe {
            "nope" => {}
            "sinusoidal" => c.input_pe = InputPe::Sinusoidal,
            "learned" => c.input_pe = InputPe::Learned,
            "relative" => c.attention_pe = AttentionPe::Relative,
            "t5" => c.attention_pe = AttentionPe::T5,
            "alibi" => c.attention_pe = AttentionPe::Alibi,
            "alibi-standard" => {
                c.attention_pe = AttentionPe::Alibi;
                c.alibi_slopes = AlibiSlopes::Pow2;
            }
            "rope" => {
                c.attention_pe = AttentionPe::Rope;
                c.rope_heads = heads;
            }
            "rope-hybrid" => {
                c.input_pe = InputPe::SinusoidalConcat;
                c.attention_pe = AttentionPe::Rope;
                c.rope_heads = heads;
            }
            "mla" => c.mla = Some(mla(false, Rotation::Rope)),
            "mla-paper" => {
                // the authors' mla.py: one shared rotary query, the non-rotation, and a learned
                // absolute table initialised at zero
                c.mla = Some(mla(true, Rotation::Paper));
                c.input_pe = InputPe::Learned;
            }
            _ => match pe.strip_prefix("partial-rope:").map(str::parse::<usize>) {
                Some(Ok(k)) if k <= heads => {
                    c.attention_pe = AttentionPe::Rope;
                    c.rope_heads = k;
                }
                Some(_) => {
                    return Err(TrainError::Config(format!(
                        "{pe:?}: K must be a head count 0..={heads}"
                    )))
                }
                None => {
                    return Err(TrainError::Config(format!(
                        "unknown positional encoding {pe:?} (one of {})",
                        VARIANTS.join(", ")
                    )))
                }
            },
        }
        Ok(c)
    }

    /// Head dimension.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }

    /// ALiBi slope of head `h`.
    pub fn alibi_slope(&self, h: usize) -> f64 {
        let hh = self.heads as f64;
        match self.alibi_slopes {
            AlibiSlopes::Exp => (-(h as f64) / hh).exp(),
            AlibiSlopes::Pow2 => 2f64.powf(-8.0 * (h as f64 + 1.0) / hh),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Sizes = Sizes {
        layers: 2,
        d_model: 64,
        heads: 4,
        d_ff: 128,
    };

    #[test]
    fn every_listed_variant_builds_and_unknown_ones_are_refused() {
        for v in VARIANTS {
            let v = v.replace(":K", ":2");
            let c = ModelConfig::new(&v, default_arch(&v), Task::Distance, S).unwrap();
            assert_eq!(c.pe, v);
        }
        assert!(ModelConfig::new("rope2", Arch::Paper, Task::Count, S).is_err());
        assert!(ModelConfig::new("partial-rope:5", Arch::Paper, Task::Count, S).is_err());
        let odd = Sizes { heads: 3, ..S };
        assert!(ModelConfig::new("rope", Arch::Paper, Task::Count, odd).is_err());
    }

    #[test]
    fn slopes_are_the_two_published_conventions() {
        let mut c = ModelConfig::new("alibi", Arch::Paper, Task::Distance, S).unwrap();
        // exp(−h/4): 1, e^−¼, e^−½, e^−¾
        assert_eq!(c.alibi_slope(0), 1.0);
        assert!((c.alibi_slope(3) - 0.472_366_552_741_014_7).abs() < 1e-15);
        c.alibi_slopes = AlibiSlopes::Pow2;
        // 2^(−8(h+1)/4): 1/4, 1/16, 1/64, 1/256
        assert_eq!(c.alibi_slope(0), 0.25);
        assert_eq!(c.alibi_slope(3), 1.0 / 256.0);
    }
}
