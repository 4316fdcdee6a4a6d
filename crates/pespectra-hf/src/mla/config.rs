//! What a DeepSeek V2/V3 config.json says about multi-head latent attention: ranks, head
//! splits, RoPE layout and YaRN's softmax scale, validated.

use super::moe::MoeConfig;
use crate::config::{read, rope_of, Fields};
use crate::error::HfError;
use pespectra_attention::{Rope, RopePairing, RopeScaling};
use serde_json::Value;
use std::path::Path;

/// The MLA hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct MlaConfig {
    /// `model_type`.
    pub model_type: String,
    /// Residual width.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// `q_lora_rank` (None: a full `q_proj`).
    pub q_lora: Option<usize>,
    /// `kv_lora_rank`.
    pub kv_lora: usize,
    /// `qk_nope_head_dim`.
    pub nope: usize,
    /// `qk_rope_head_dim`.
    pub rope_dim: usize,
    /// `v_head_dim`.
    pub v_dim: usize,
    /// Dense MLP width.
    pub inner: usize,
    /// Layers before this index are dense; the rest are mixture-of-experts.
    pub first_moe: usize,
    /// The mixture-of-experts MLP of the layers from `first_moe` on.
    pub moe: Option<MoeConfig>,
    /// RMS norm ε.
    pub eps: f64,
    /// Vocabulary.
    pub vocab: usize,
    /// Position limit.
    pub max_positions: usize,
    /// Output head tied to the embeddings.
    pub tied: bool,
    /// Biases on the attention projections.
    pub bias: bool,
    /// RoPE of the decoupled dimensions.
    pub rope: Rope,
    /// Softmax scale: `(nope + rope)^-1/2`, times `mscale²` under YaRN with `mscale_all_dim`.
    pub scale: f64,
}

pub(super) fn get_mscale(scale: f64, mscale: f64) -> f64 {
    if scale <= 1.0 {
        1.0
    } else {
        0.1 * mscale * scale.ln() + 1.0
    }
}

impl MlaConfig {
    pub(super) fn load(dir: &Path) -> Result<Self, HfError> {
        let (path, v, model_type) = read(dir)?;
        let f = Fields { v: &v, path: &path };
        let hidden = f.uint("hidden_size")?;
        let heads = f.uint("num_attention_heads")?;
        if f.uint_or("num_key_value_heads", heads)? != heads {
            return Err(f.err(
                "num_key_value_heads",
                "MLA expands the latent per query head; must equal num_attention_heads",
            ));
        }
        let layers = f.uint("num_hidden_layers")?;
        let (nope, rope_dim) = (f.uint("qk_nope_head_dim")?, f.uint("qk_rope_head_dim")?);
        if !rope_dim.is_multiple_of(2) {
            return Err(f.err("qk_rope_head_dim", "must be even"));
        }
        let interleave = model_type == "deepseek_v2" || f.bool_or("rope_interleave", true)?;
        let mut rope = rope_of(&f)?;
        rope.pairing = if interleave {
            RopePairing::Interleaved
        } else {
            RopePairing::HalfSplit
        };
        let params = if v["rope_parameters"].is_object() {
            &v["rope_parameters"]
        } else {
            &v["rope_scaling"]
        };
        let mut scale = ((nope + rope_dim) as f64).powf(-0.5);
        if let RopeScaling::Yarn {
            factor,
            attention_factor,
            ..
        } = &mut rope.scaling
        {
            let m = |k: &str| params[k].as_f64().filter(|x| x.is_finite());
            // DeepSeek's YaRN: the rotary attention factor is mscale/mscale_all_dim, and the
            // softmax scale carries mscale_all_dim² (transformers' yarn_apply_mscale)
            if let (Some(ms), Some(all)) = (m("mscale"), m("mscale_all_dim")) {
                if attention_factor.is_none() && ms > 0.0 && all > 0.0 {
                    *attention_factor = Some(get_mscale(*factor, ms) / get_mscale(*factor, all));
                }
            }
            if let Some(all) = m("mscale_all_dim").filter(|x| *x > 0.0) {
                let s = get_mscale(*factor, all);
                scale *= s * s;
            }
        }
        let q_lora = match &v["q_lora_rank"] {
            Value::Null => None,
            _ => Some(f.uint("q_lora_rank")?),
        };
        Ok(Self {
            hidden,
            layers,
            heads,
            q_lora,
            kv_lora: f.uint("kv_lora_rank")?,
            nope,
            rope_dim,
            v_dim: f.uint("v_head_dim")?,
            inner: f.uint("intermediate_size")?,
            moe: MoeConfig::load(&f, &model_type)?,
            first_moe: if v["n_routed_experts"].is_null() && v["num_local_experts"].is_null() {
                layers
            } else {
                match &v["first_k_dense_replace"] {
                    Value::Null => 0,
                    x => x
                        .as_u64()
                        .and_then(|k| usize::try_from(k).ok())
                        .ok_or_else(|| {
                            f.err("first_k_dense_replace", "not a non-negative integer")
                        })?,
                }
            },
            eps: f.float_or("rms_norm_eps", 1e-6)?,
            vocab: f.uint("vocab_size")?,
            max_positions: f.uint("max_position_embeddings")?,
            tied: f.bool_or("tie_word_embeddings", false)?,
            bias: f.bool_or("attention_bias", false)?,
            rope,
            scale,
            model_type,
        })
    }
}
