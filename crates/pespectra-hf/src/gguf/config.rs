//! The `config.json` equivalent of a GGUF file's metadata, so one parser
//! ([`crate::DecoderConfig::from_json`]) serves both formats.
//!
//! For `llama` the metadata hold everything (head_dim is `attention.key_length` when given,
//! else hidden / heads; RoPE over the whole head). For `gemma3` the GGUF does not store everything transformers' `Gemma3TextConfig` holds; the
//! missing facts are filled in as llama.cpp (`llama-model.cpp`, LLM_ARCH_GEMMA3) and transformers'
//! GGUF loader both assume: local (sliding) layers use RoPE base 10000, every 6th layer is full,
//! the MLP is tanh-GELU, and the query scale is head_dim^-½, except for the 62-layer 27B model,
//! which scales by (hidden / heads)^-½.

use serde_json::{json, Value};

use super::GgufSource;
use crate::error::HfError;

/// `(model_type, config document)` of `source`'s metadata; a missing key is reported by its GGUF
/// name.
pub fn config_json(source: &GgufSource) -> Result<(String, Value), HfError> {
    let g = source.gguf();
    let err = |key: &str, message: String| HfError::Config {
        path: source.path().to_path_buf(),
        field: key.to_string(),
        message,
    };
    let arch = g
        .get_str("general.architecture")
        .map_err(|e| err("general.architecture", e.to_string()))?;
    let uint = |k: &str| -> Result<u64, HfError> {
        let key = format!("{arch}.{k}");
        match g.get_u64(&key) {
            Ok(0) => Err(err(&key, "is 0, not a positive integer".into())),
            r => r.map_err(|e| err(&key, e.to_string())),
        }
    };
    let float = |k: &str| -> Result<f64, HfError> {
        let key = format!("{arch}.{k}");
        g.get_f64(&key).map_err(|e| err(&key, e.to_string()))
    };
    let hidden = uint("embedding_length")?;
    let heads = uint("attention.head_count")?;
    let vocab = g
        .tensor("token_embd.weight")
        .map_err(|e| err("token_embd.weight", e.to_string()))?
        .dims
        .get(1)
        .copied()
        .ok_or_else(|| err("token_embd.weight", "is not a matrix".into()))?;
    let scaling = match g.get(&format!("{arch}.rope.scaling.type")) {
        None => Value::Null,
        Some(t) => match t.as_str() {
            Some("none") => Value::Null,
            Some("linear") => {
                json!({"rope_type": "linear", "factor": float("rope.scaling.factor")?})
            }
            other => {
                return Err(err(
                    &format!("{arch}.rope.scaling.type"),
                    format!("{other:?} is not supported (none, linear)"),
                ))
            }
        },
    };
    let tied = g.tensor("output.weight").is_err();
    if arch == "llama" {
        let head_dim = match g.get(&format!("{arch}.attention.key_length")) {
            Some(_) => uint("attention.key_length")?,
            None => hidden / heads.max(1),
        };
        if let Some(r) = g.get(&format!("{arch}.rope.dimension_count")) {
            if r.as_u64() != Some(head_dim) {
                return Err(err(
                    &format!("{arch}.rope.dimension_count"),
                    format!("{r:?} differs from the head width {head_dim}: partial rotary is not supported for llama"),
                ));
            }
        }
        let kv_heads = match g.get(&format!("{arch}.attention.head_count_kv")) {
            Some(_) => uint("attention.head_count_kv")?,
            None => heads,
        };
        let theta = match g.get(&format!("{arch}.rope.freq_base")) {
            Some(_) => float("rope.freq_base")?,
            None => 10000.0,
        };
        let doc = json!({
            "model_type": "llama",
            "hidden_size": hidden,
            "num_hidden_layers": uint("block_count")?,
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "head_dim": head_dim,
            "intermediate_size": uint("feed_forward_length")?,
            "rms_norm_eps": float("attention.layer_norm_rms_epsilon")?,
            "vocab_size": vocab,
            "max_position_embeddings": uint("context_length")?,
            "rope_theta": theta,
            "rope_scaling": scaling,
            "hidden_act": "silu",
            "tie_word_embeddings": tied,
        });
        return Ok(("llama".to_string(), doc));
    }
    let layers = uint("block_count")?;
    let head_dim = uint("attention.key_length")?;
    if uint("attention.value_length")? != head_dim {
        return Err(err(
            &format!("{arch}.attention.value_length"),
            "differs from attention.key_length; not supported".into(),
        ));
    }
    const PATTERN: u64 = 6;
    let layer_types: Vec<&str> = (0..layers)
        .map(|l| {
            if (l + 1) % PATTERN == 0 {
                "full_attention"
            } else {
                "sliding_attention"
            }
        })
        .collect();
    let query_scalar = if layers == 62 {
        hidden / heads
    } else {
        head_dim
    };
    let doc = json!({
        "model_type": "gemma3_text",
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": uint("attention.head_count_kv")?,
        "head_dim": head_dim,
        "intermediate_size": uint("feed_forward_length")?,
        "rms_norm_eps": float("attention.layer_norm_rms_epsilon")?,
        "vocab_size": vocab,
        "max_position_embeddings": uint("context_length")?,
        "rope_theta": float("rope.freq_base")?,
        "rope_scaling": scaling,
        "rope_local_base_freq": 10000.0,
        "sliding_window": uint("attention.sliding_window")?,
        "layer_types": layer_types,
        "query_pre_attn_scalar": query_scalar,
        "hidden_activation": "gelu_pytorch_tanh",
        "tie_word_embeddings": tied,
    });
    Ok(("gemma3_text".to_string(), doc))
}
