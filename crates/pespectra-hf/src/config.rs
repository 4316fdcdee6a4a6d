//! `config.json` of the llama family (llama, mistral, qwen2, qwen3), both generations: the
//! transformers ≤ 4 fields (`rope_theta`, `rope_scaling` with `type` or `rope_type`) and
//! transformers 5's `rope_parameters`.

use std::path::{Path, PathBuf};

use pespectra_attention::{Rope, RopePairing, RopeScaling};
use serde_json::Value;

use crate::error::HfError;

/// What attention in one layer sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    /// Every earlier key.
    Full,
    /// The last `window` keys, the query's own included.
    Sliding(usize),
}

/// The hyper-parameters of a llama-family decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderConfig {
    /// `model_type`.
    pub model_type: String,
    /// Residual width.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (GQA).
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// MLP width.
    pub intermediate: usize,
    /// RMSNorm ε.
    pub rms_eps: f64,
    /// Vocabulary.
    pub vocab: usize,
    /// Position limit: `max_position_embeddings` (× the factor for dynamic NTK scaling).
    pub max_positions: usize,
    /// Output projection shares the embedding matrix.
    pub tied_embeddings: bool,
    /// Biases on the q/k/v projections.
    pub qkv_bias: bool,
    /// Bias on the output projection.
    pub o_bias: bool,
    /// Biases in the MLP.
    pub mlp_bias: bool,
    /// Normalisation of each head's q and k before RoPE.
    pub qk_norm: QkNorm,
    /// StableLM's `use_parallel_residual`: `x + attn(LN(x)) + mlp(LN(x))`, one LayerNorm.
    pub parallel_residual: bool,
    /// RoPE as transformers applies it (`rotate_half` pairs).
    pub rope: Rope,
    /// Per layer: full or sliding attention.
    pub layer_kinds: Vec<LayerKind>,
    /// RoPE of the sliding layers when it differs (Gemma 3's `rope_local_base_freq`).
    pub rope_local: Option<Rope>,
    /// Multiplier of q·kᵀ (`head_dim^-1/2`; Gemma: `query_pre_attn_scalar^-1/2`).
    pub scale: f64,
    /// Gemma's conventions: norms multiply by `1 + w`, embeddings by `√hidden`, a norm after
    /// attention and around the MLP, and a tanh-GELU gated MLP.
    pub gemma: bool,
    /// `final_logit_softcapping`: the output logits become `cap·tanh(x/cap)`.
    pub final_softcap: Option<f64>,
    /// `attn_logit_softcapping` (Gemma 2, optional in Gemma 3): every attention score becomes
    /// `cap·tanh(x/cap)` before the mask.
    pub attn_softcap: Option<f64>,
    /// Phi-3: one `qkv_proj` and one `gate_up_proj` instead of separate projections.
    pub fused_projections: bool,
    /// StableLM: LayerNorm with a bias instead of RMSNorm (ε from `layer_norm_eps`).
    pub layer_norm: bool,
}

/// How a decoder normalises each head's q and k before RoPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QkNorm {
    /// Not at all.
    None,
    /// RMSNorm with one `head_dim` weight shared by all heads (Qwen3, Gemma 3).
    SharedRms,
    /// LayerNorm without bias, one weight per head (StableLM's `qk_layernorm`).
    PerHeadLayerNorm,
}

/// The model types [`DecoderConfig`] describes.
pub const LLAMA_FAMILY: [&str; 8] = [
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma2",
    "gemma3_text",
    "phi3",
    "stablelm",
];

/// `dir/config.json` as JSON with its `model_type`.
pub fn read(dir: &Path) -> Result<(PathBuf, Value, String), HfError> {
    let path: PathBuf = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|source| HfError::Io {
        path: path.clone(),
        source,
    })?;
    let v: Value = serde_json::from_str(&text).map_err(|e| HfError::Config {
        path: path.clone(),
        field: "(document)".into(),
        message: format!("not JSON: {e}"),
    })?;
    let model_type = v["model_type"]
        .as_str()
        .ok_or_else(|| HfError::Config {
            path: path.clone(),
            field: "model_type".into(),
            message: "missing or not a string".into(),
        })?
        .to_string();
    Ok((path, v, model_type))
}

/// Field access with errors that name the file and the field.
pub(crate) struct Fields<'a> {
    pub(crate) v: &'a Value,
    pub(crate) path: &'a Path,
}

impl Fields<'_> {
    pub(crate) fn err(&self, field: &str, message: impl Into<String>) -> HfError {
        HfError::Config {
            path: self.path.to_path_buf(),
            field: field.into(),
            message: message.into(),
        }
    }
    pub(crate) fn uint(&self, field: &str) -> Result<usize, HfError> {
        self.v[field]
            .as_u64()
            .and_then(|x| usize::try_from(x).ok())
            .filter(|&x| x > 0)
            .ok_or_else(|| self.err(field, "missing or not a positive integer"))
    }
    pub(crate) fn uint_or(&self, field: &str, default: usize) -> Result<usize, HfError> {
        if self.v[field].is_null() {
            Ok(default)
        } else {
            self.uint(field)
        }
    }
    pub(crate) fn float_or(&self, field: &str, default: f64) -> Result<f64, HfError> {
        match &self.v[field] {
            Value::Null => Ok(default),
            x => x
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.err(field, "not a finite number")),
        }
    }
    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool, HfError> {
        match &self.v[field] {
            Value::Null => Ok(default),
            Value::Bool(b) => Ok(*b),
            _ => Err(self.err(field, "not true/false")),
        }
    }
}

/// The scaling dict's number `key`, or an error naming `section.key`.
fn num(d: &Value, section: &str, key: &str, f: &Fields<'_>) -> Result<Option<f64>, HfError> {
    match &d[key] {
        Value::Null => Ok(None),
        x => x
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| f.err(&format!("{section}.{key}"), "not a finite number")),
    }
}

/// RoPE from the config's `rope_parameters` or `rope_theta` + `rope_scaling` (GPT-NeoX's older
/// `rotary_emb_base` and `rotary_pct` too).
pub(crate) fn rope_of(f: &Fields<'_>) -> Result<Rope, HfError> {
    rope_for(f, None)
}

/// RoPE of the layers of `layer_type` when transformers 5 nests `rope_parameters` per layer
/// type (Gemma 3), else the one RoPE of the config.
fn rope_for(f: &Fields<'_>, layer_type: Option<&str>) -> Result<Rope, HfError> {
    // transformers 5 keeps everything in rope_parameters; older configs use rope_theta +
    // rope_scaling (with "rope_type" or the older "type")
    let nested = layer_type
        .map(|t| &f.v["rope_parameters"][t])
        .filter(|v| v.is_object());
    let (params, section) = if let (Some(p), Some(t)) = (nested, layer_type) {
        (p, format!("rope_parameters.{t}"))
    } else if f.v["rope_parameters"].is_object()
        && f.v["rope_parameters"]["full_attention"].is_null()
    {
        (&f.v["rope_parameters"], "rope_parameters".to_string())
    } else {
        (&f.v["rope_scaling"], "rope_scaling".to_string())
    };
    let section = section.as_str();
    let base = match num(params, section, "rope_theta", f)? {
        Some(b) => b,
        None if f.v["rope_theta"].is_null() => f.float_or("rotary_emb_base", 10000.0)?,
        None => f.float_or("rope_theta", 10000.0)?,
    };
    if base <= 1.0 {
        return Err(f.err("rope_theta", format!("must be > 1, got {base}")));
    }
    let fraction = match num(params, section, "partial_rotary_factor", f)? {
        Some(x) => x,
        None if f.v["partial_rotary_factor"].is_null() => f.float_or("rotary_pct", 1.0)?,
        None => f.float_or("partial_rotary_factor", 1.0)?,
    };
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(f.err(
            "partial_rotary_factor",
            format!("must be in (0, 1], got {fraction}"),
        ));
    }
    let orig = || -> Result<usize, HfError> {
        match num(params, section, "original_max_position_embeddings", f)? {
            Some(x) if x >= 1.0 => Ok(x as usize),
            Some(_) => Err(f.err(
                &format!("{section}.original_max_position_embeddings"),
                "must be ≥ 1",
            )),
            None => f.uint("max_position_embeddings"),
        }
    };
    let factor = || -> Result<f64, HfError> {
        num(params, section, "factor", f)?
            .filter(|x| *x > 0.0)
            .ok_or_else(|| f.err(&format!("{section}.factor"), "missing or not positive"))
    };
    let kind = params["rope_type"]
        .as_str()
        .or_else(|| params["type"].as_str())
        .unwrap_or("default");
    let scaling = match (params.is_null(), kind) {
        (true, _) | (false, "default") => RopeScaling::None,
        (false, "linear") => RopeScaling::Linear { factor: factor()? },
        (false, "dynamic") => RopeScaling::DynamicNtk {
            factor: factor()?,
            original_max_position_embeddings: orig()?,
        },
        (false, "yarn") => RopeScaling::Yarn {
            factor: factor()?,
            original_max_position_embeddings: orig()?,
            beta_fast: num(params, section, "beta_fast", f)?.unwrap_or(32.0),
            beta_slow: num(params, section, "beta_slow", f)?.unwrap_or(1.0),
            attention_factor: num(params, section, "attention_factor", f)?,
        },
        (false, "llama3") => RopeScaling::Llama3 {
            factor: factor()?,
            low_freq_factor: num(params, section, "low_freq_factor", f)?.unwrap_or(1.0),
            high_freq_factor: num(params, section, "high_freq_factor", f)?.unwrap_or(4.0),
            original_max_position_embeddings: orig()?,
        },
        (false, "longrope") => {
            // Phi-3 keeps the pre-training length at the top level, which transformers prefers
            let orig = if f.v["original_max_position_embeddings"].is_null() {
                orig()?
            } else {
                f.uint("original_max_position_embeddings")?
            };
            let list = |k: &str| -> Result<Vec<f64>, HfError> {
                params[k]
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                    .filter(|v| v.iter().all(|x| x.is_finite() && *x > 0.0))
                    .ok_or_else(|| {
                        f.err(&format!("{section}.{k}"), "missing or not a list of positive numbers")
                    })
            };
            // the default attention factor uses max_position_embeddings / orig unless factor is set
            let s = match num(params, section, "factor", f)? {
                Some(x) => x,
                None => f.uint("max_position_embeddings")? as f64 / orig as f64,
            };
            let attention_factor = match num(params, section, "attention_factor", f)? {
                Some(a) => a,
                None if s <= 1.0 => 1.0,
                None => (1.0 + s.ln() / (orig as f64).ln()).sqrt(),
            };
            RopeScaling::LongRope {
                short_factor: list("short_factor")?,
                long_factor: list("long_factor")?,
                original_max_position_embeddings: orig,
                attention_factor,
            }
        }
        (false, other) => {
            return Err(f.err(
                &format!("{section}.rope_type"),
                format!(
                "'{other}' is not supported (supported: default, linear, dynamic, yarn, llama3, longrope)"
            ),
            ))
        }
    };
    Ok(Rope {
        pairing: RopePairing::HalfSplit,
        base,
        rotary_fraction: fraction,
        scaling,
    })
}

/// A soft-cap field: `null`/absent for none, else a positive finite number.
fn softcap(f: &Fields<'_>, field: &str) -> Result<Option<f64>, HfError> {
    match &f.v[field] {
        Value::Null => Ok(None),
        c => c
            .as_f64()
            .filter(|x| x.is_finite() && *x > 0.0)
            .map(Some)
            .ok_or_else(|| f.err(field, "not a positive number or null")),
    }
}

impl DecoderConfig {
    /// Parses `dir/config.json`.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let (path, v, model_type) = read(dir)?;
        Self::from_json(&path, &v, model_type)
    }

    /// Parses the config document `v` of `model_type` (errors name `path` and the field).
    pub fn from_json(path: &Path, v: &Value, model_type: String) -> Result<Self, HfError> {
        let f = Fields { v, path };
        if !LLAMA_FAMILY.contains(&model_type.as_str()) {
            return Err(HfError::Unsupported {
                path: path.to_path_buf(),
                model_type,
            });
        }
        let gemma3 = model_type == "gemma3_text";
        let gemma = gemma3 || model_type == "gemma2";
        let (act_field, want) = if gemma {
            ("hidden_activation", "gelu_pytorch_tanh")
        } else {
            ("hidden_act", "silu")
        };
        let act = v[act_field].as_str().unwrap_or(want);
        if act != want {
            return Err(f.err(act_field, format!("'{act}' is not supported ({want})")));
        }
        let hidden = f.uint("hidden_size")?;
        let layers = f.uint("num_hidden_layers")?;
        let heads = f.uint("num_attention_heads")?;
        let kv_heads = f.uint_or("num_key_value_heads", heads)?;
        if heads % kv_heads != 0 {
            return Err(f.err(
                "num_key_value_heads",
                format!("{kv_heads} does not divide num_attention_heads {heads}"),
            ));
        }
        if hidden % heads != 0 && v["head_dim"].is_null() {
            return Err(f.err(
                "head_dim",
                "missing, and hidden_size is not a multiple of num_attention_heads",
            ));
        }
        let head_dim = f.uint_or("head_dim", hidden / heads)?;
        let qwen = model_type.starts_with("qwen");
        let max_positions = f.uint("max_position_embeddings")?;
        let nested = v["rope_parameters"]["full_attention"].is_object();
        let rope = rope_for(&f, nested.then_some("full_attention"))?;
        let rope_local = if !gemma3 {
            None
        } else if nested {
            Some(rope_for(&f, Some("sliding_attention"))?)
        } else {
            // transformers 4: rope_local_base_freq, unscaled
            Some(Rope {
                base: f.float_or("rope_local_base_freq", 10000.0)?,
                scaling: RopeScaling::None,
                ..rope.clone()
            })
        };
        if gemma && f.bool_or("use_bidirectional_attention", false)? {
            return Err(f.err(
                "use_bidirectional_attention",
                "only causal attention is supported",
            ));
        }
        let rot = (head_dim as f64 * rope.rotary_fraction).floor() as usize;
        if rot == 0 || !rot.is_multiple_of(2) {
            return Err(f.err(
                "partial_rotary_factor",
                format!("rotates {rot} of {head_dim} dimensions; must be a positive even number"),
            ));
        }
        let window = match &v["sliding_window"] {
            Value::Null => None,
            w => Some(
                w.as_u64()
                    .and_then(|x| usize::try_from(x).ok())
                    .filter(|&x| x > 0)
                    .ok_or_else(|| f.err("sliding_window", "not a positive integer or null"))?,
            ),
        };
        let layer_kinds = match &v["layer_types"] {
            Value::Array(a) => {
                if a.len() != layers {
                    return Err(f.err(
                        "layer_types",
                        format!("has {} entries for {layers} layers", a.len()),
                    ));
                }
                a.iter()
                    .map(|t| match (t.as_str(), window) {
                        (Some("full_attention"), _) => Ok(LayerKind::Full),
                        (Some("sliding_attention"), Some(w)) => Ok(LayerKind::Sliding(w)),
                        (Some("sliding_attention"), None) => {
                            Err(f.err("sliding_window", "missing for sliding_attention layers"))
                        }
                        _ => Err(f.err(
                            "layer_types",
                            "entries must be full_attention or sliding_attention",
                        )),
                    })
                    .collect::<Result<_, _>>()?
            }
            _ if model_type == "gemma2" => {
                // transformers' Gemma 2 default: even layers (0, 2, …) slide, odd ones are full
                (0..layers)
                    .map(|l| match window {
                        Some(w) if l % 2 == 0 => LayerKind::Sliding(w),
                        _ => LayerKind::Full,
                    })
                    .collect()
            }
            _ if gemma3 => {
                // transformers 4 Gemma 3: every sliding_window_pattern-th layer is full
                let pattern = f.uint_or("sliding_window_pattern", 6)?;
                (0..layers)
                    .map(|l| match window {
                        Some(w) if (l + 1) % pattern != 0 => LayerKind::Sliding(w),
                        _ => LayerKind::Full,
                    })
                    .collect()
            }
            _ => {
                // Qwen2/3: sliding only with use_sliding_window, on layers ≥ max_window_layers;
                // Mistral: every layer when sliding_window is set
                let sliding = if qwen {
                    f.bool_or("use_sliding_window", false)?
                } else {
                    true
                };
                let from = if qwen {
                    f.uint_or("max_window_layers", layers)?
                } else {
                    0
                };
                (0..layers)
                    .map(|l| match window {
                        Some(w) if sliding && l >= from => LayerKind::Sliding(w),
                        _ => LayerKind::Full,
                    })
                    .collect()
            }
        };
        let stablelm = model_type == "stablelm";
        let attention_bias = if stablelm {
            f.bool_or("use_qkv_bias", false)?
        } else {
            f.bool_or("attention_bias", false)?
        };
        // dynamic NTK exists to run past the trained length: allow up to factor × that
        let max_positions = match &rope.scaling {
            RopeScaling::DynamicNtk { factor, .. } => {
                (max_positions as f64 * factor.max(1.0)).ceil() as usize
            }
            _ => max_positions,
        };
        Ok(Self {
            hidden,
            layers,
            heads,
            kv_heads,
            head_dim,
            intermediate: f.uint("intermediate_size")?,
            rms_eps: if stablelm {
                f.float_or("layer_norm_eps", 1e-5)?
            } else {
                f.float_or("rms_norm_eps", 1e-6)?
            },
            vocab: f.uint("vocab_size")?,
            max_positions,
            tied_embeddings: f.bool_or("tie_word_embeddings", gemma)?,
            // Qwen2 always has q/k/v biases and no o bias; Llama/Mistral follow attention_bias
            qkv_bias: model_type == "qwen2" || attention_bias,
            o_bias: model_type != "qwen2" && !stablelm && attention_bias,
            mlp_bias: f.bool_or("mlp_bias", false)?,
            qk_norm: if model_type == "qwen3" || gemma3 {
                QkNorm::SharedRms
            } else if stablelm && f.bool_or("qk_layernorm", false)? {
                QkNorm::PerHeadLayerNorm
            } else {
                QkNorm::None
            },
            parallel_residual: stablelm && f.bool_or("use_parallel_residual", false)?,
            rope,
            layer_kinds,
            rope_local,
            scale: if gemma {
                f.float_or("query_pre_attn_scalar", head_dim as f64)?
                    .powf(-0.5)
            } else {
                (head_dim as f64).powf(-0.5)
            },
            gemma,
            fused_projections: model_type == "phi3",
            layer_norm: stablelm,
            final_softcap: softcap(&f, "final_logit_softcapping")?,
            attn_softcap: softcap(&f, "attn_logit_softcapping")?,
            model_type,
        })
    }
}
