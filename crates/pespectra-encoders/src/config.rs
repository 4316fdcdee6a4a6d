//! The few `config.json` fields the forward pass needs, read strictly: a missing or
//! unexpected value is an error naming the field, because a silently defaulted width or
//! epsilon would give plausible but wrong embeddings.

use serde_json::Value;

use crate::error::EncoderError;

/// Which forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// BERT (all-MiniLM-L6-v2): learned absolute positions `0..n`, token-type row 0.
    Bert,
    /// MPNet (all-mpnet-base-v2): learned absolute positions from `padding_idx + 1 = 2`, plus
    /// one T5-style bucketed relative bias table shared by all layers.
    MpNet,
}

/// Shape and constants of an encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderConfig {
    /// Forward pass family.
    pub arch: Architecture,
    /// Model width `d`.
    pub hidden: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Transformer layers.
    pub layers: usize,
    /// Feed-forward width.
    pub intermediate: usize,
    /// LayerNorm epsilon (1e-12 for MiniLM, 1e-5 for MPNet).
    pub layer_norm_eps: f64,
    /// Rows of the position table.
    pub max_position_embeddings: usize,
    /// Rows of the word table.
    pub vocab_size: usize,
    /// Id used for padded positions.
    pub pad_token_id: u32,
    /// Rows of the token-type table (BERT only; 0 for MPNet).
    pub type_vocab_size: usize,
    /// Relative-bias buckets (MPNet only; 0 for BERT).
    pub relative_buckets: usize,
}

/// MPNet's `relative_position_bucket` default, not stored in config.json.
pub const MPNET_MAX_DISTANCE: usize = 128;
/// RoBERTa/MPNet `padding_idx`: real tokens take positions `padding_idx + 1 ..`.
pub const MPNET_PADDING_IDX: usize = 1;

impl EncoderConfig {
    /// Parses `config.json` text.
    pub fn from_json(text: &str) -> Result<Self, EncoderError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| EncoderError::Format(format!("config.json is not valid JSON: {e}")))?;
        let int = |k: &str| -> Result<usize, EncoderError> {
            v.get(k)
                .and_then(Value::as_u64)
                .map(|x| x as usize)
                .filter(|&x| x > 0)
                .ok_or_else(|| {
                    EncoderError::Format(format!(
                        "config.json: `{k}` missing or not a positive integer"
                    ))
                })
        };
        let arch = match v.get("model_type").and_then(Value::as_str) {
            Some("bert") => Architecture::Bert,
            Some("mpnet") => Architecture::MpNet,
            other => {
                return Err(EncoderError::Format(format!(
                    "config.json: model_type {other:?} is not supported (bert, mpnet)"
                )))
            }
        };
        match v.get("hidden_act").and_then(Value::as_str) {
            Some("gelu") => {}
            other => {
                return Err(EncoderError::Format(format!(
                    "config.json: hidden_act {other:?} is not supported (exact gelu only)"
                )))
            }
        }
        if arch == Architecture::Bert {
            let pe = v.get("position_embedding_type").and_then(Value::as_str);
            if pe.is_some_and(|p| p != "absolute") {
                return Err(EncoderError::Format(format!(
                    "config.json: position_embedding_type {pe:?} is not supported (absolute)"
                )));
            }
        }
        let eps = v
            .get("layer_norm_eps")
            .and_then(Value::as_f64)
            .filter(|e| *e > 0.0 && e.is_finite())
            .ok_or_else(|| {
                EncoderError::Format("config.json: `layer_norm_eps` missing or not positive".into())
            })?;
        let pad = v
            .get("pad_token_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| EncoderError::Format("config.json: `pad_token_id` missing".into()))?;
        let cfg = Self {
            arch,
            hidden: int("hidden_size")?,
            heads: int("num_attention_heads")?,
            layers: int("num_hidden_layers")?,
            intermediate: int("intermediate_size")?,
            layer_norm_eps: eps,
            max_position_embeddings: int("max_position_embeddings")?,
            vocab_size: int("vocab_size")?,
            pad_token_id: pad as u32,
            type_vocab_size: match arch {
                Architecture::Bert => int("type_vocab_size")?,
                Architecture::MpNet => 0,
            },
            relative_buckets: match arch {
                Architecture::Bert => 0,
                Architecture::MpNet => int("relative_attention_num_buckets")?,
            },
        };
        if !cfg.hidden.is_multiple_of(cfg.heads) {
            return Err(EncoderError::Format(format!(
                "config.json: hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden, cfg.heads
            )));
        }
        if cfg.max_tokens() == 0 || cfg.pad_token_id as usize >= cfg.vocab_size {
            return Err(EncoderError::Format(
                "config.json: no usable positions or pad_token_id outside the vocabulary".into(),
            ));
        }
        Ok(cfg)
    }

    /// Width of one head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    /// Most tokens (specials included) one input may have: every position needs a row of the
    /// position table, and MPNet's first two rows are reserved (`padding_idx` offset).
    pub fn max_tokens(&self) -> usize {
        match self.arch {
            Architecture::Bert => self.max_position_embeddings,
            Architecture::MpNet => self
                .max_position_embeddings
                .saturating_sub(MPNET_PADDING_IDX + 1),
        }
    }

    /// Row of the position table used by token `t` of a sequence.
    pub(crate) fn position_row(&self, t: usize) -> usize {
        match self.arch {
            Architecture::Bert => t,
            Architecture::MpNet => t + MPNET_PADDING_IDX + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"model_type":"bert","hidden_act":"gelu","hidden_size":384,
        "num_attention_heads":12,"num_hidden_layers":6,"intermediate_size":1536,
        "layer_norm_eps":1e-12,"max_position_embeddings":512,"vocab_size":30522,
        "pad_token_id":0,"type_vocab_size":2,"position_embedding_type":"absolute"}"#;

    #[test]
    fn parses_minilm_and_mpnet_limits() {
        let c = EncoderConfig::from_json(MINILM).unwrap();
        assert_eq!(
            (c.arch, c.head_dim(), c.max_tokens()),
            (Architecture::Bert, 32, 512)
        );
        let mp = MINILM
            .replace("\"bert\"", "\"mpnet\"")
            .replace("512", "514")
            .replace(
                "\"type_vocab_size\":2",
                "\"relative_attention_num_buckets\":32",
            );
        let c = EncoderConfig::from_json(&mp).unwrap();
        assert_eq!(
            (c.arch, c.max_tokens(), c.position_row(0)),
            (Architecture::MpNet, 512, 2)
        );
    }

    #[test]
    fn rejects_what_the_forward_pass_cannot_run() {
        let cases = [
            (MINILM.replace("\"bert\"", "\"gpt2\""), "model_type"),
            (MINILM.replace("\"gelu\"", "\"relu\""), "hidden_act"),
            (
                MINILM.replace("\"absolute\"", "\"relative_key\""),
                "position_embedding_type",
            ),
            (MINILM.replace("384", "383"), "multiple"),
            (
                MINILM.replace("\"num_hidden_layers\":6,", ""),
                "num_hidden_layers",
            ),
            ("{".to_string(), "JSON"),
        ];
        for (text, want) in cases {
            let e = EncoderConfig::from_json(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
