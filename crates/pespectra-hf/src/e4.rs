//! The synthetic-task encoders of experiment E4 (`model_type: "pespectra_e4"`), written by
//! `pespectra train`: the forward pass of docs/E4_MODEL_FORMAT.md in f32, with per-head capture
//! and head ablation.
//!
//! Two architectures: **paper** (ids padded with `pad_id` to `max_len`, every layer's keys and
//! values read the raw embedded input `x0`, ReLU FFN, mean over all positions) and
//! **standard** (pre-LN keys and values, exact GELU, a final LayerNorm, mean over the non-pad
//! positions). Positions enter through an input PE (sinusoidal, sinusoidal-concat, learned)
//! and/or the attention (RoPE on the first `rope_heads` heads, an unbucketed relative table, T5
//! buckets, ALiBi), or through MLA's decoupled rotary path (a rotation, or the authors' `mla.py`
//! map, which is not one).
//!
//! What a [`HeadCapture`] holds (`causal = false`; `n = max_len` for the paper arch, the number
//! of ids for the standard one):
//! * RoPE heads: [`Positional::Rope`] with interleaved pairs, q/k before the rotation (after the
//!   projection and its bias), `content_logits = scale · q kᵀ`;
//! * relative, T5, ALiBi heads: [`Positional::AdditiveBias`] with the head's n × n bias,
//!   `content_logits = scale · q kᵀ` and `logits = content_logits + bias`;
//! * every other head (NoPE, input PE, the heads partial RoPE leaves unrotated):
//!   [`Positional::Absolute`], `content_logits` from the same forward pass with the input PE
//!   removed (equal to `logits` without an input PE);
//! * MLA with `rotation = "rope"`: [`Positional::Rope`] on `head_dim = dr + dh` with the rotary
//!   slice first, `q = [q_r ; q_c,h]`, `k = [k_r ; k_c,h]` (before the rotation; the format's
//!   half-layout output of `R_i` is one permutation of both sides, so the logits are those of
//!   interleaved RoPE on `q_r`, `k_r`), scale `1/√(dh + dr)`;
//! * MLA with `rotation = "paper"`: [`Positional::Absolute`], q/k as above (before the map),
//!   `content_logits` from the pass with the input PE removed and `R_i` replaced by the identity
//!   in every layer.
//!
//! An ablation zeroes the head's output `O_h` before `attn.o` (MLA: its content and rotary paths
//! together); its effect is `KL(clean ‖ ablated)` of the softmax class distribution, in nats.
//!
//! Standard arch: tokens equal to `pad_id` in the input are padding, as in training: masked as
//! keys and left out of the pooling, so a row padded at the end gives the logits of the unpadded
//! one. These checkpoints have no tokenizer: [`CaptureModel::tokenize`] asks for token ids.
//!
//! [`CaptureModel::tokenize`]: pespectra_capture::CaptureModel::tokenize

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pespectra_attention::t5_bucket;
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{gelu_erf, layer_norm, Linear};
use serde_json::Value;

use crate::config::{read, Fields};
use crate::error::HfError;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, layers_to_run, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

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
fn choice<T: Copy>(f: &Fields<'_>, field: &str, options: &[(&str, T)]) -> Result<T, HfError> {
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
fn optional_string(f: &Fields<'_>, field: &str) -> Result<Option<String>, HfError> {
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
    fn sinusoids(&self) -> Vec<f32> {
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

struct Plain {
    q: Linear,
    k: Linear,
    v: Linear,
}

struct MlaWeights {
    spec: E4Mla,
    dq: Linear,
    uq: Linear,
    qr: Linear,
    dkv: Linear,
    uk: Linear,
    uv: Linear,
    kr: Linear,
}

enum Attn {
    Plain(Plain),
    Mla(Box<MlaWeights>),
}

struct Layer {
    norm1: (Vec<f32>, Vec<f32>),
    attn: Attn,
    o: Linear,
    rel_bias: Option<Vec<f32>>,
    norm2: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
}

/// One head of one layer: q and k in the capture layout (before any rotation), `scale · q'k'ᵀ`
/// of the vectors the model dots (after it), and the additive bias.
struct HeadScores {
    q: Vec<f32>,
    k: Vec<f32>,
    dim: usize,
    dot: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl HeadScores {
    /// The scores `S` the softmax sees (before any padding mask).
    fn scores(&self) -> Vec<f32> {
        match &self.bias {
            Some(b) => self.dot.iter().zip(b).map(|(a, b)| a + b).collect(),
            None => self.dot.clone(),
        }
    }
}

/// How positions enter a head, for the capture.
enum Kind {
    Rope(Vec<f64>),
    Bias,
    Absolute,
}

/// A request's tokens as the model runs them.
struct Input {
    ids: Vec<u32>,
    /// Which positions are keys and are pooled (standard arch: the non-pad ones).
    keys: Vec<bool>,
}

impl Input {
    fn n(&self) -> usize {
        self.ids.len()
    }
}

/// Columns `[from, from + width)` of the row-major `n × stride` matrix `x`.
fn cols(x: &[f32], n: usize, stride: usize, from: usize, width: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|t| x[t * stride + from..][..width].iter().copied())
        .collect()
}

/// Rows `[a_t ; b_t]` of two `n`-row matrices.
fn concat_rows(a: &[f32], wa: usize, b: &[f32], wb: usize, n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|t| a[t * wa..][..wa].iter().chain(&b[t * wb..][..wb]).copied())
        .collect()
}

/// RoPE on the rows of `x` (`n × dim`): pairs `(2f, 2f+1)` rotated by `i·θ_f`.
fn rope(x: &[f32], n: usize, dim: usize, inv_freq: &[f64]) -> Vec<f32> {
    let mut y = x.to_vec();
    for i in 0..n {
        for (f, &th) in inv_freq.iter().enumerate() {
            let (s, c) = (i as f64 * th).sin_cos();
            let (a, b) = (
                f64::from(x[i * dim + 2 * f]),
                f64::from(x[i * dim + 2 * f + 1]),
            );
            y[i * dim + 2 * f] = (a * c - b * s) as f32;
            y[i * dim + 2 * f + 1] = (a * s + b * c) as f32;
        }
    }
    y
}

/// MLA's `R_i` on the rows of `x` (`n × dr`), `None` for the identity (`s = 0`, `c = 1`):
/// `[x_2f c_f − x_2f+1 s_f]_f ++ [x_2f s_f + x_2f+1 c_f]_f`.
fn mla_map(
    x: &[f32],
    n: usize,
    dr: usize,
    inv_freq: &[f64],
    rotation: Option<MlaRotation>,
) -> Vec<f32> {
    let half = dr / 2;
    let mut y = vec![0f32; x.len()];
    for i in 0..n {
        let angle = |f: usize| i as f64 * inv_freq[f];
        // e = [sin iθ_0 … sin iθ_{half−1}, cos iθ_0 … cos iθ_{half−1}]
        let e = |k: usize| {
            if k < half {
                angle(k).sin()
            } else {
                angle(k - half).cos()
            }
        };
        for f in 0..half {
            let (s, c) = match rotation {
                None => (0.0, 1.0),
                Some(MlaRotation::Rope) => angle(f).sin_cos(),
                Some(MlaRotation::Paper) => (e(2 * f), e(2 * f + 1)),
            };
            let (a, b) = (
                f64::from(x[i * dr + 2 * f]),
                f64::from(x[i * dr + 2 * f + 1]),
            );
            y[i * dr + f] = (a * c - b * s) as f32;
            y[i * dr + half + f] = (a * s + b * c) as f32;
        }
    }
    y
}

/// `scale · a bᵀ` of two `n × dim` matrices, sums in f64.
fn dots(a: &[f32], b: &[f32], n: usize, dim: usize, scale: f64) -> Vec<f32> {
    let mut s = vec![0f32; n * n];
    for i in 0..n {
        let qi = &a[i * dim..][..dim];
        for j in 0..n {
            let kj = &b[j * dim..][..dim];
            let d: f64 = qi
                .iter()
                .zip(kj)
                .map(|(&x, &y)| f64::from(x) * f64::from(y))
                .sum();
            s[i * n + j] = (d * scale) as f32;
        }
    }
    s
}

/// `softmax_j(S) V` for one head (`S` n × n, `V` n × dh), keys where `keys` is false left out,
/// written to columns `[from, from + dh)` of the `n × stride` context.
fn attend(
    s: &[f32],
    v: &[f32],
    keys: &[bool],
    dh: usize,
    ctx: &mut [f32],
    stride: usize,
    from: usize,
) {
    let n = keys.len();
    let mut p = vec![0f64; n];
    for i in 0..n {
        let row = &s[i * n..][..n];
        let m = row
            .iter()
            .zip(keys)
            .filter(|(_, &k)| k)
            .fold(f64::NEG_INFINITY, |m, (&x, _)| m.max(f64::from(x)));
        let mut z = 0.0;
        for j in 0..n {
            p[j] = if keys[j] {
                (f64::from(row[j]) - m).exp()
            } else {
                0.0
            };
            z += p[j];
        }
        for c in 0..dh {
            let o: f64 = (0..n).map(|j| p[j] * f64::from(v[j * dh + c])).sum();
            ctx[i * stride + from + c] = (o / z) as f32;
        }
    }
}

/// `log softmax` of class logits, in f64.
fn log_softmax(z: &[f32]) -> Vec<f64> {
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
    let lse = m + z
        .iter()
        .map(|&x| (f64::from(x) - m).exp())
        .sum::<f64>()
        .ln();
    z.iter().map(|&x| f64::from(x) - lse).collect()
}

/// `KL(p ‖ q)` from log-probabilities, nats.
fn kl(lp: &[f64], lq: &[f64]) -> f64 {
    lp.iter().zip(lq).map(|(a, b)| a.exp() * (a - b)).sum()
}

/// A loaded E4 checkpoint.
pub struct E4Model {
    /// Its configuration.
    pub config: E4Config,
    weights: Weights,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
    /// `[max_len, d]`, the input PE (empty without one).
    positions: Vec<f32>,
    final_norm: Option<(Vec<f32>, Vec<f32>)>,
    head: Linear,
}

impl E4Model {
    /// Loads `dir`; every tensor the config calls for is checked for presence, shape and dtype
    /// first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let config = E4Config::load(dir)?;
        let weights = Weights::open(dir)?;
        let c = &config;
        for (name, shape) in Self::tensors(c) {
            weights.check(&name, &shape)?;
        }
        let positions = match c.input_pe {
            InputPe::None => Vec::new(),
            InputPe::Learned => weights.get("pos_embed.weight", &[c.max_len, c.d_model])?,
            _ => c.sinusoids(),
        };
        let norm = |n: &str| -> Result<(Vec<f32>, Vec<f32>), HfError> {
            Ok((
                weights.get(&format!("{n}.weight"), &[c.d_model])?,
                weights.get(&format!("{n}.bias"), &[c.d_model])?,
            ))
        };
        let final_norm = match c.arch {
            Arch::Standard => Some(norm("final_norm")?),
            Arch::Paper => None,
        };
        let head = linear(&weights, "head", c.classes, c.d_model, true)?;
        Ok(Self {
            cache: LayerCache::new(c.layers, &weights),
            tokenizer: TextTokenizer::load(dir)?,
            positions,
            final_norm,
            head,
            weights,
            config,
        })
    }

    /// Weight files, for provenance.
    pub fn weight_files(&self) -> Vec<PathBuf> {
        self.weights.files()
    }

    /// Whether `tokenizer.json` was found (the trainer writes none).
    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.present()
    }

    /// Every tensor name and shape the config calls for.
    fn tensors(c: &E4Config) -> Vec<(String, Vec<usize>)> {
        let (d, dh, hh) = (c.d_model, c.head_dim(), c.heads);
        let mut t = vec![
            ("embed.weight".to_string(), vec![c.vocab, d]),
            ("head.weight".into(), vec![c.classes, d]),
            ("head.bias".into(), vec![c.classes]),
        ];
        if c.input_pe == InputPe::Learned {
            t.push(("pos_embed.weight".into(), vec![c.max_len, d]));
        }
        if c.arch == Arch::Standard {
            t.push(("final_norm.weight".into(), vec![d]));
            t.push(("final_norm.bias".into(), vec![d]));
        }
        for l in 0..c.layers {
            let p = format!("layers.{l}");
            for n in ["norm1", "norm2"] {
                t.push((format!("{p}.{n}.weight"), vec![d]));
                t.push((format!("{p}.{n}.bias"), vec![d]));
            }
            match &c.mla {
                None => {
                    for n in ["q", "k", "v", "o"] {
                        t.push((format!("{p}.attn.{n}.weight"), vec![d, d]));
                        t.push((format!("{p}.attn.{n}.bias"), vec![d]));
                    }
                }
                Some(m) => {
                    let (dc, dr) = (m.d_compress, m.rope_dim);
                    let hq = if m.shared_q_rope { 1 } else { hh };
                    for (n, shape) in [
                        ("dq", [dc, d]),
                        ("uq", [hh * dh, dc]),
                        ("qr", [hq * dr, dc]),
                        ("dkv", [dc, d]),
                        ("uk", [hh * dh, dc]),
                        ("uv", [hh * dh, dc]),
                        ("kr", [dr, d]),
                        ("o", [d, hh * dh]),
                    ] {
                        t.push((format!("{p}.attn.{n}.weight"), shape.to_vec()));
                    }
                }
            }
            match c.attention_pe {
                AttentionPe::Relative => {
                    t.push((format!("{p}.attn.rel_bias"), vec![2 * c.max_len - 1, hh]))
                }
                AttentionPe::T5 { buckets, .. } => {
                    t.push((format!("{p}.attn.rel_bias"), vec![buckets, hh]))
                }
                _ => {}
            }
            t.push((format!("{p}.ffn.up.weight"), vec![c.d_ff, d]));
            t.push((format!("{p}.ffn.up.bias"), vec![c.d_ff]));
            t.push((format!("{p}.ffn.down.weight"), vec![d, c.d_ff]));
            t.push((format!("{p}.ffn.down.bias"), vec![d]));
        }
        t
    }

    fn layer(&self, l: usize) -> Result<Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let (d, dh, hh) = (c.d_model, c.head_dim(), c.heads);
        let p = format!("layers.{l}");
        let w = &self.weights;
        let lin = |n: &str, out: usize, inp: usize, bias: bool| {
            linear(w, &format!("{p}.{n}"), out, inp, bias)
        };
        let norm = |n: &str| -> Result<(Vec<f32>, Vec<f32>), HfError> {
            Ok((
                w.get(&format!("{p}.{n}.weight"), &[d])?,
                w.get(&format!("{p}.{n}.bias"), &[d])?,
            ))
        };
        let (attn, o) = match &c.mla {
            None => (
                Attn::Plain(Plain {
                    q: lin("attn.q", d, d, true)?,
                    k: lin("attn.k", d, d, true)?,
                    v: lin("attn.v", d, d, true)?,
                }),
                lin("attn.o", d, d, true)?,
            ),
            Some(m) => {
                let (dc, dr) = (m.d_compress, m.rope_dim);
                let hq = if m.shared_q_rope { 1 } else { hh };
                (
                    Attn::Mla(Box::new(MlaWeights {
                        spec: *m,
                        dq: lin("attn.dq", dc, d, false)?,
                        uq: lin("attn.uq", hh * dh, dc, false)?,
                        qr: lin("attn.qr", hq * dr, dc, false)?,
                        dkv: lin("attn.dkv", dc, d, false)?,
                        uk: lin("attn.uk", hh * dh, dc, false)?,
                        uv: lin("attn.uv", hh * dh, dc, false)?,
                        kr: lin("attn.kr", dr, d, false)?,
                    })),
                    lin("attn.o", d, hh * dh, false)?,
                )
            }
        };
        let rel_bias = match c.attention_pe {
            AttentionPe::Relative => {
                Some(w.get(&format!("{p}.attn.rel_bias"), &[2 * c.max_len - 1, hh])?)
            }
            AttentionPe::T5 { buckets, .. } => {
                Some(w.get(&format!("{p}.attn.rel_bias"), &[buckets, hh])?)
            }
            _ => None,
        };
        Ok(Layer {
            norm1: norm("norm1")?,
            attn,
            o,
            rel_bias,
            norm2: norm("norm2")?,
            up: lin("ffn.up", c.d_ff, d, true)?,
            down: lin("ffn.down", d, c.d_ff, true)?,
        })
    }

    /// The ids as the model runs them: checked, and padded to `max_len` for the paper arch.
    fn input(&self, ids: &[u32]) -> Result<Input, HfError> {
        let c = &self.config;
        check_ids(ids, c.vocab, c.max_len, "max_len")?;
        Ok(match c.arch {
            Arch::Paper => {
                let mut ids = ids.to_vec();
                ids.resize(c.max_len, c.pad_id);
                Input {
                    keys: vec![true; ids.len()],
                    ids,
                }
            }
            Arch::Standard => {
                let keys: Vec<bool> = ids.iter().map(|&t| t != c.pad_id).collect();
                if !keys.contains(&true) {
                    return Err(HfError::Request(format!(
                        "every token is pad_id {}: the standard arch pools over the non-pad tokens",
                        c.pad_id
                    )));
                }
                Input {
                    ids: ids.to_vec(),
                    keys,
                }
            }
        })
    }

    /// `x0 = embed[t] + p` (`with_pe = false`: the position-free counterfactual, `p = 0`).
    fn embed(&self, inp: &Input, with_pe: bool) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let rows: Vec<usize> = inp.ids.iter().map(|&t| t as usize).collect();
        let mut x = self
            .weights
            .rows("embed.weight", [c.vocab, c.d_model], &rows)?;
        if with_pe && !self.positions.is_empty() {
            for (a, b) in x.iter_mut().zip(&self.positions) {
                *a += b;
            }
        }
        Ok(x)
    }

    /// The n × n additive bias of head `h`, if its attention has one.
    fn bias(&self, w: &Layer, h: usize, n: usize) -> Option<Vec<f32>> {
        let c = &self.config;
        let (hh, l) = (c.heads, c.max_len);
        let at = |f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
            (0..n * n).map(|x| f(x / n, x % n)).collect()
        };
        match (c.attention_pe, &w.rel_bias) {
            (AttentionPe::Relative, Some(t)) => Some(at(&|i, j| t[(j + l - 1 - i) * hh + h])),
            (
                AttentionPe::T5 {
                    buckets,
                    max_distance,
                },
                Some(t),
            ) => Some(at(&|i, j| {
                t[t5_bucket(j as i64 - i as i64, true, buckets, max_distance) * hh + h]
            })),
            (AttentionPe::Alibi(s), _) => {
                let m = c.alibi_slope(s, h);
                Some(at(&|i, j| (-m * i.abs_diff(j) as f64) as f32))
            }
            _ => None,
        }
    }

    /// How positions enter head `h`.
    fn kind(&self, h: usize) -> Kind {
        let c = &self.config;
        match (&c.mla, c.attention_pe) {
            (Some(m), _) => match m.rotation {
                MlaRotation::Rope => Kind::Rope(c.inv_freq(m.rope_dim)),
                MlaRotation::Paper => Kind::Absolute,
            },
            (None, AttentionPe::Rope { rope_heads }) if h < rope_heads => {
                Kind::Rope(c.inv_freq(c.head_dim()))
            }
            (None, AttentionPe::Relative | AttentionPe::T5 { .. } | AttentionPe::Alibi(_)) => {
                Kind::Bias
            }
            _ => Kind::Absolute,
        }
    }

    /// One layer's attention context (`[n, H·dh]`, token-major) and its heads' scores;
    /// `identity`: MLA's `R_i` replaced by the identity.
    fn attention(
        &self,
        w: &Layer,
        x: &[f32],
        x0: &[f32],
        inp: &Input,
        identity: bool,
    ) -> (Vec<f32>, Vec<HeadScores>) {
        let c = &self.config;
        let (n, d, dh, hh) = (inp.n(), c.d_model, c.head_dim(), c.heads);
        let sq = layer_norm(x, &w.norm1.0, &w.norm1.1, c.eps);
        let skv: &[f32] = match c.arch {
            Arch::Paper => x0,
            Arch::Standard => &sq,
        };
        let scale = c.scale();
        let mut heads = Vec::with_capacity(hh);
        let mut values = Vec::with_capacity(hh);
        match &w.attn {
            Attn::Plain(a) => {
                let (q, k, v) = (
                    a.q.forward(&sq, n),
                    a.k.forward(skv, n),
                    a.v.forward(skv, n),
                );
                for h in 0..hh {
                    let (qh, kh) = (cols(&q, n, d, h * dh, dh), cols(&k, n, d, h * dh, dh));
                    let dot = match c.attention_pe {
                        AttentionPe::Rope { rope_heads } if h < rope_heads => {
                            let f = c.inv_freq(dh);
                            dots(&rope(&qh, n, dh, &f), &rope(&kh, n, dh, &f), n, dh, scale)
                        }
                        _ => dots(&qh, &kh, n, dh, scale),
                    };
                    heads.push(HeadScores {
                        q: qh,
                        k: kh,
                        dim: dh,
                        dot,
                        bias: self.bias(w, h, n),
                    });
                    values.push(cols(&v, n, d, h * dh, dh));
                }
            }
            Attn::Mla(a) => {
                let m = &a.spec;
                let dr = m.rope_dim;
                let rotation = (!identity).then_some(m.rotation);
                let f = c.inv_freq(dr);
                let cq = a.dq.forward(&sq, n);
                let (qc, qr) = (a.uq.forward(&cq, n), a.qr.forward(&cq, n));
                let ckv = a.dkv.forward(skv, n);
                let (kc, v) = (a.uk.forward(&ckv, n), a.uv.forward(&ckv, n));
                let kr = a.kr.forward(skv, n);
                let rk = mla_map(&kr, n, dr, &f, rotation);
                let hq = if m.shared_q_rope { 1 } else { hh };
                for h in 0..hh {
                    let qrh = cols(
                        &qr,
                        n,
                        hq * dr,
                        if m.shared_q_rope { 0 } else { h * dr },
                        dr,
                    );
                    let (qch, kch) = (cols(&qc, n, d, h * dh, dh), cols(&kc, n, d, h * dh, dh));
                    // the order of the two parts inside the dot product does not matter
                    let qd = concat_rows(&mla_map(&qrh, n, dr, &f, rotation), dr, &qch, dh, n);
                    let kd = concat_rows(&rk, dr, &kch, dh, n);
                    heads.push(HeadScores {
                        dot: dots(&qd, &kd, n, dr + dh, scale),
                        q: concat_rows(&qrh, dr, &qch, dh, n),
                        k: concat_rows(&kr, dr, &kch, dh, n),
                        dim: dr + dh,
                        bias: None,
                    });
                    values.push(cols(&v, n, d, h * dh, dh));
                }
            }
        }
        let mut ctx = vec![0f32; n * hh * dh];
        for (h, (s, v)) in heads.iter().zip(&values).enumerate() {
            attend(&s.scores(), v, &inp.keys, dh, &mut ctx, hh * dh, h * dh);
        }
        (ctx, heads)
    }

    /// The rest of a layer from its input `x` and attention context: the output projection,
    /// the residual and the FFN.
    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let o = w.o.forward(ctx, n);
        let mut x: Vec<f32> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
        let h =
            w.up.forward(&layer_norm(&x, &w.norm2.0, &w.norm2.1, c.eps), n);
        let act = match c.arch {
            Arch::Paper => h.iter().map(|v| v.max(0.0)).collect(),
            Arch::Standard => gelu_erf(&h),
        };
        for (a, b) in x.iter_mut().zip(&w.down.forward(&act, n)) {
            *a += b;
        }
        x
    }

    /// Runs `layers` from the residual `x` (`x0` the embedded input the paper arch's keys
    /// read), handing each layer's head scores to `heads_of` and recording the trace.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn run(
        &self,
        x0: &[f32],
        mut x: Vec<f32>,
        inp: &Input,
        layers: Range<usize>,
        identity: bool,
        mut heads_of: Option<&mut dyn FnMut(usize, Vec<HeadScores>)>,
        mut trace: Option<&mut Trace>,
    ) -> Result<Vec<f32>, HfError> {
        for l in layers {
            let w = self.layer(l)?;
            let (ctx, heads) = self.attention(&w, &x, x0, inp, identity);
            if let Some(f) = heads_of.as_deref_mut() {
                f(l, heads);
            }
            let next = self.finish(&w, &x, &ctx, inp.n());
            if let Some(t) = trace.as_deref_mut() {
                t.inputs.push(std::mem::take(&mut x));
                t.contexts.push(ctx);
            }
            x = next;
        }
        Ok(x)
    }

    /// Class logits from the last residual stream: the mean over the positions (standard
    /// arch: after the final norm, over the non-pad ones) through `head`.
    fn classify(&self, x: &[f32], inp: &Input) -> Vec<f32> {
        let c = &self.config;
        let d = c.d_model;
        let x = match &self.final_norm {
            Some((w, b)) => layer_norm(x, w, b, c.eps),
            None => x.to_vec(),
        };
        let mut pooled = vec![0f64; d];
        let mut count = 0usize;
        for (row, &k) in x.chunks(d).zip(&inp.keys) {
            if k {
                count += 1;
                for (a, &b) in pooled.iter_mut().zip(row) {
                    *a += f64::from(b);
                }
            }
        }
        let pooled: Vec<f32> = pooled.iter().map(|v| (v / count as f64) as f32).collect();
        self.head.forward(&pooled, 1)
    }

    /// Class logits (`num_classes` values) of `ids` (at most `max_len`; the paper arch pads).
    pub fn logits(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        let inp = self.input(ids)?;
        let x0 = self.embed(&inp, true)?;
        let x = self.run(
            &x0,
            x0.clone(),
            &inp,
            0..self.config.layers,
            false,
            None,
            None,
        )?;
        Ok(self.classify(&x, &inp))
    }

    /// The residual stream (`n × d_model`, before any final norm) after the last layer run,
    /// every head of the `capture` layers handed to `sink`; `full` runs every layer, else up
    /// to the last captured one.
    pub fn forward(
        &self,
        ids: &[u32],
        capture: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
        full: bool,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let inp = self.input(ids)?;
        let n = inp.n();
        let until = layers_to_run(capture, c.layers, full)?;
        let kinds: Vec<Kind> = (0..c.heads).map(|h| self.kind(h)).collect();
        let mla_paper = c.mla.is_some_and(|m| m.rotation == MlaRotation::Paper);
        // the counterfactual (no input PE; MLA paper: no R_i either) for the absolute heads
        let mut counterfactual: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
        if !capture.is_empty()
            && kinds.iter().any(|k| matches!(k, Kind::Absolute))
            && (c.input_pe != InputPe::None || mla_paper)
        {
            let x0 = self.embed(&inp, false)?;
            let mut keep = |l: usize, heads: Vec<HeadScores>| {
                if capture.contains(&l) {
                    counterfactual.push((l, heads.iter().map(HeadScores::scores).collect()));
                }
            };
            let last = layers_to_run(capture, c.layers, false)?;
            self.run(
                &x0,
                x0.clone(),
                &inp,
                0..last,
                mla_paper,
                Some(&mut keep),
                None,
            )?;
        }
        let scale = c.scale();
        let mut emit = |l: usize, heads: Vec<HeadScores>| {
            if !capture.contains(&l) {
                return;
            }
            let cf = counterfactual.iter().find(|(cl, _)| *cl == l);
            for (h, (s, kind)) in heads.into_iter().zip(&kinds).enumerate() {
                let logits = s.scores();
                let (content_logits, positional) = match kind {
                    Kind::Rope(f) => (
                        dots(&s.q, &s.k, n, s.dim, scale),
                        Positional::Rope {
                            pairing: Pairing::Interleaved,
                            inv_freq: f.clone(),
                        },
                    ),
                    Kind::Bias => (
                        s.dot,
                        Positional::AdditiveBias {
                            bias: s.bias.unwrap_or_else(|| vec![0.0; n * n]),
                        },
                    ),
                    Kind::Absolute => (
                        cf.map_or_else(|| logits.clone(), |(_, m)| m[h].clone()),
                        Positional::Absolute,
                    ),
                };
                sink(HeadCapture {
                    layer: l,
                    head: h,
                    kv_head: h,
                    n,
                    head_dim: s.dim,
                    scale,
                    causal: false,
                    q: s.q,
                    k: s.k,
                    logits,
                    content_logits,
                    positional,
                });
            }
        };
        let x0 = self.embed(&inp, true)?;
        self.run(
            &x0,
            x0.clone(),
            &inp,
            0..until,
            false,
            Some(&mut emit),
            None,
        )
    }

    /// `KL(clean ‖ ablated)` of the class distribution (nats) with each `(layer, head)`'s
    /// output `O_h` zeroed before `attn.o`.
    pub fn ablation_effects(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<f64>, HfError> {
        let c = &self.config;
        let inp = self.input(ids)?;
        check_heads(heads, c.layers, c.heads)?;
        let n = inp.n();
        let x0 = self.embed(&inp, true)?;
        let mut trace = Trace::default();
        let x = self.run(
            &x0,
            x0.clone(),
            &inp,
            0..c.layers,
            false,
            None,
            Some(&mut trace),
        )?;
        let clean = log_softmax(&self.classify(&x, &inp));
        let dh = c.head_dim();
        ablate(
            &trace,
            heads,
            (n, c.heads * dh, dh),
            progress,
            |l, input, ctx| {
                let x = self.finish(&*self.layer(l)?, input, ctx, n);
                let x = self.run(&x0, x, &inp, l + 1..c.layers, false, None, None)?;
                Ok(kl(&clean, &log_softmax(&self.classify(&x, &inp))))
            },
        )
    }

    fn model_dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: self.config.max_len,
        }
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, HfError> {
        self.tokenizer.encode(text)
    }

    fn head_effects(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, HfError> {
        Ok(HeadAblation {
            metric: "KL(clean ‖ ablated) of the softmax class distribution when the head's output is zeroed (nats)".into(),
            effects: self.ablation_effects(ids, heads, progress)?,
        })
    }
}

/// The linear layer `name` (`name.weight [out, inp]`, `name.bias [out]` when `bias`).
fn linear(w: &Weights, name: &str, out: usize, inp: usize, bias: bool) -> Result<Linear, HfError> {
    let b = if bias {
        Some(w.get(&format!("{name}.bias"), &[out])?)
    } else {
        None
    };
    Linear::new(w.get(&format!("{name}.weight"), &[out, inp])?, b, out, inp)
        .ok_or_else(|| HfError::Request(format!("{name}: inconsistent sizes")))
}

capture_model!(E4Model);
