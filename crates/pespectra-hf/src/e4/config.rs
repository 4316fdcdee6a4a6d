//! `config.json` of a `pespectra_e4` checkpoint: every variant's fields, read and validated.

use std::path::Path;

use serde_json::Value;

use crate::config::{read, Fields};
use crate::error::HfError;

/// The `model_type` of these checkpoints.
pub const MODEL_TYPE: &str = "pespectra_e4";

/// Base of the sinusoidal input PE, `ω_m = 10000^(−2m/d)` (not `rope_theta`).
pub const SINUSOIDAL_BASE: f64 = 10000.0;

/// Where keys and values come from, and the FFN, the final norm and the pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Padded to `max_len`, keys/values from the raw embedded input, ReLU, mean over all
    /// positions, no final norm.
    Paper,
    /// Pre-LN keys/values, exact GELU, final LayerNorm, mean over the non-pad positions.
    Standard,
}

/// What is added to the token embeddings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputPe {
    /// Nothing.
    None,
    /// `p[i, 2m] = sin(iω_m)`, `p[i, 2m+1] = cos(iω_m)`.
    Sinusoidal,
    /// `p[i, m] = sin(iω_m)`, `p[i, d/2 + m] = cos(iω_m)` (the authors' "rope" input PE).
    SinusoidalConcat,
    /// `pos_embed.weight[i]`.
    Learned,
}

/// ALiBi slopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlibiSlopes {
    /// `m_h = exp(−h/H)` (the authors').
    Exp,
    /// `m_h = 2^(−8(h+1)/H)` (Press et al.).
    Pow2,
}

/// How positions enter ordinary (non-MLA) attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttentionPe {
    /// Not at all.
    None,
    /// RoPE (adjacent pairs) on the heads `h < rope_heads`.
    Rope {
        /// Heads that rotate.
        rope_heads: usize,
    },
    /// `attn.rel_bias[(j − i) + L − 1, h]`.
    Relative,
    /// `attn.rel_bias[bucket(j − i), h]`, T5's bidirectional buckets.
    T5 {
        /// `t5_buckets`.
        buckets: usize,
        /// `t5_max_distance`.
        max_distance: usize,
    },
    /// `−m_h |i − j|`.
    Alibi(AlibiSlopes),
}

/// The map `R_i` of MLA's decoupled rotary path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MlaRotation {
    /// `s_f = sin iθ_f`, `c_f = cos iθ_f`: RoPE.
    Rope,
    /// The authors' `mla.py`: `s_f = e[2f]`, `c_f = e[2f+1]` of `e = [sin iθ ; cos iθ]`.
    Paper,
}

/// The `mla` object of the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct E4Mla {
    /// `d_compress`, the latent width `dc`.
    pub d_compress: usize,
    /// `rope_dim`, the decoupled rotary width `dr` (even).
    pub rope_dim: usize,
    /// One `q_r` for all heads instead of one per head.
    pub shared_q_rope: bool,
    /// The map `R_i`.
    pub rotation: MlaRotation,
}

/// `config.json` of an E4 checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct E4Config {
    /// `pe`, the variant name it was trained as (informational).
    pub pe: Option<String>,
    /// `task` (informational).
    pub task: Option<String>,
    /// `arch`.
    pub arch: Arch,
    /// `vocab_size`.
    pub vocab: usize,
    /// `num_classes`.
    pub classes: usize,
    /// `max_len`.
    pub max_len: usize,
    /// `d_model`.
    pub d_model: usize,
    /// `heads`.
    pub heads: usize,
    /// `d_ff`.
    pub d_ff: usize,
    /// `layers`.
    pub layers: usize,
    /// `pad_id`.
    pub pad_id: u32,
    /// `layer_norm_eps`.
    pub eps: f64,
    /// `input_pe`.
    pub input_pe: InputPe,
    /// `attention_pe` (always [`AttentionPe::None`] with MLA, whose positions are its own).
    pub attention_pe: AttentionPe,
    /// `rope_theta` (RoPE heads and MLA).
    pub rope_theta: f64,
    /// `mla`.
    pub mla: Option<E4Mla>,
}

/// `field` of `f` as one of `options`.
pub(super) fn choice<T: Copy>(
    f: &Fields<'_>,
    field: &str,
    options: &[(&str, T)],
) -> Result<T, HfError> {
    let names = || {
        options
            .iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match f.v[field].as_str() {
        Some(s) => options
            .iter()
            .find(|(n, _)| *n == s)
            .map(|&(_, t)| t)
            .ok_or_else(|| f.err(field, format!("'{s}' is not one of {}", names()))),
        None => Err(f.err(
            field,
            format!("missing or not a string (one of {})", names()),
        )),
    }
}

/// An informational string field, absent or a string.
pub(super) fn optional_string(f: &Fields<'_>, field: &str) -> Result<Option<String>, HfError> {
    match &f.v[field] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(f.err(field, "not a string")),
    }
}

impl E4Config {
    /// Parses `dir/config.json`.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let (path, v, model_type) = read(dir)?;
        if model_type != MODEL_TYPE {
            return Err(HfError::Unsupported { path, model_type });
        }
        let f = Fields { v: &v, path: &path };
        let arch = choice(
            &f,
            "arch",
            &[("paper", Arch::Paper), ("standard", Arch::Standard)],
        )?;
        let (vocab, classes, max_len) = (
            f.uint("vocab_size")?,
            f.uint("num_classes")?,
            f.uint("max_len")?,
        );
        let (d_model, heads, d_ff, layers) = (
            f.uint("d_model")?,
            f.uint("heads")?,
            f.uint("d_ff")?,
            f.uint("layers")?,
        );
        if !d_model.is_multiple_of(heads) {
            return Err(f.err(
                "heads",
                format!("{heads} does not divide d_model {d_model}"),
            ));
        }
        let dh = d_model / heads;
        let pad_id = match v["pad_id"].as_u64() {
            Some(p) if p < vocab as u64 => p as u32,
            Some(p) => return Err(f.err("pad_id", format!("{p} is outside vocab_size {vocab}"))),
            None => return Err(f.err("pad_id", "missing or not a non-negative integer")),
        };
        let eps = f.float_or("layer_norm_eps", 1e-5)?;
        if eps < 0.0 {
            return Err(f.err("layer_norm_eps", "must be ≥ 0"));
        }
        let input_pe = choice(
            &f,
            "input_pe",
            &[
                ("none", InputPe::None),
                ("sinusoidal", InputPe::Sinusoidal),
                ("sinusoidal_concat", InputPe::SinusoidalConcat),
                ("learned", InputPe::Learned),
            ],
        )?;
        if matches!(input_pe, InputPe::Sinusoidal | InputPe::SinusoidalConcat)
            && !d_model.is_multiple_of(2)
        {
            return Err(f.err(
                "input_pe",
                format!("a sinusoidal input PE needs an even d_model, got {d_model}"),
            ));
        }
        let rope_theta = f.float_or("rope_theta", 10000.0)?;
        if rope_theta <= 0.0 {
            return Err(f.err("rope_theta", format!("must be > 0, got {rope_theta}")));
        }
        let kind = choice(
            &f,
            "attention_pe",
            &[
                ("none", "none"),
                ("rope", "rope"),
                ("relative", "relative"),
                ("t5", "t5"),
                ("alibi", "alibi"),
            ],
        )?;
        let mla = match &v["mla"] {
            Value::Null => None,
            m @ Value::Object(_) => Some(Self::mla(m, &path)?),
            _ => return Err(f.err("mla", "neither null nor an object")),
        };
        let attention_pe = match (kind, mla.is_some()) {
            // MLA carries its own rotary path; "rope" names the same thing
            ("none" | "rope", true) | ("none", false) => AttentionPe::None,
            (other, true) => {
                return Err(f.err(
                    "attention_pe",
                    format!("'{other}' cannot be combined with mla (none or rope)"),
                ))
            }
            ("rope", false) => {
                if !dh.is_multiple_of(2) {
                    return Err(f.err(
                        "attention_pe",
                        format!("RoPE needs an even head width, got {dh}"),
                    ));
                }
                let rope_heads = f.uint_or("rope_heads", heads)?;
                if rope_heads > heads {
                    return Err(f.err(
                        "rope_heads",
                        format!("{rope_heads} is more than the {heads} heads"),
                    ));
                }
                AttentionPe::Rope { rope_heads }
            }
            ("relative", false) => AttentionPe::Relative,
            ("t5", false) => {
                let buckets = f.uint_or("t5_buckets", 32)?;
                let max_distance = f.uint_or("t5_max_distance", 128)?;
                if buckets < 4 {
                    return Err(f.err("t5_buckets", format!("must be ≥ 4, got {buckets}")));
                }
                if max_distance <= buckets / 4 {
                    return Err(f.err(
                        "t5_max_distance",
                        format!(
                            "must exceed the {} exact buckets, got {max_distance}",
                            buckets / 4
                        ),
                    ));
                }
                AttentionPe::T5 {
                    buckets,
                    max_distance,
                }
            }
            _ => AttentionPe::Alibi(choice(
                &f,
                "alibi_slopes",
                &[("exp", AlibiSlopes::Exp), ("pow2", AlibiSlopes::Pow2)],
            )?),
        };
        Ok(Self {
            pe: optional_string(&f, "pe")?,
            task: optional_string(&f, "task")?,
            arch,
            vocab,
            classes,
            max_len,
            d_model,
            heads,
            d_ff,
            layers,
            pad_id,
            eps,
            input_pe,
            attention_pe,
            rope_theta,
            mla,
        })
    }

    fn mla(m: &Value, path: &Path) -> Result<E4Mla, HfError> {
        let f = Fields { v: m, path };
        // errors name the field as mla.<key>
        let nested = |e: HfError| match e {
            HfError::Config {
                path,
                field,
                message,
            } => HfError::Config {
                path,
                field: format!("mla.{field}"),
                message,
            },
            e => e,
        };
        let rope_dim = f.uint("rope_dim").map_err(nested)?;
        if !rope_dim.is_multiple_of(2) {
            return Err(nested(
                f.err("rope_dim", format!("must be even, got {rope_dim}")),
            ));
        }
        let shared_q_rope = match &m["shared_q_rope"] {
            Value::Bool(b) => *b,
            _ => return Err(nested(f.err("shared_q_rope", "missing or not true/false"))),
        };
        Ok(E4Mla {
            d_compress: f.uint("d_compress").map_err(nested)?,
            rope_dim,
            shared_q_rope,
            rotation: choice(
                &f,
                "rotation",
                &[("rope", MlaRotation::Rope), ("paper", MlaRotation::Paper)],
            )
            .map_err(nested)?,
        })
    }

    /// `dh = d_model / heads`.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }

    /// The logit scale: `1/√dh`, MLA `1/√(dh + dr)`.
    pub fn scale(&self) -> f64 {
        let w = self.head_dim() + self.mla.map_or(0, |m| m.rope_dim);
        1.0 / (w as f64).sqrt()
    }

    /// `θ_f = rope_theta^(−2f/dim)` for `f < dim/2`.
    pub fn inv_freq(&self, dim: usize) -> Vec<f64> {
        (0..dim / 2)
            .map(|f| self.rope_theta.powf(-2.0 * f as f64 / dim as f64))
            .collect()
    }

    /// The ALiBi slope of head `h`.
    pub fn alibi_slope(&self, slopes: AlibiSlopes, h: usize) -> f64 {
        let hh = self.heads as f64;
        match slopes {
            AlibiSlopes::Exp => (-(h as f64) / hh).exp(),
            AlibiSlopes::Pow2 => 2f64.powf(-8.0 * (h as f64 + 1.0) / hh),
        }
    }

    /// The input PE `p` of positions `0..max_len` (`[max_len, d]`), except a learned table.
    pub(super) fn sinusoids(&self) -> Vec<f32> {
        let (l, d) = (self.max_len, self.d_model);
        let mut p = vec![0f32; l * d];
        for i in 0..l {
            for m in 0..d / 2 {
                let w = SINUSOIDAL_BASE.powf(-2.0 * m as f64 / d as f64);
                let (s, c) = (i as f64 * w).sin_cos();
                let (a, b) = match self.input_pe {
                    InputPe::Sinusoidal => (2 * m, 2 * m + 1),
                    _ => (m, d / 2 + m),
                };
                p[i * d + a] = s as f32;
                p[i * d + b] = c as f32;
            }
        }
        p
    }
}
