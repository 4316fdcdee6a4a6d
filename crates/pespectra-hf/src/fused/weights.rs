//! The tensors of a fused-QKV checkpoint: each family's names, the stored shapes checked at
//! load, and one layer converted to f32 (kept in the layer cache when the checkpoint is small).

use super::config::{FusedConfig, Residual};
use super::Fused;
use crate::error::HfError;
use pespectra_layers::Linear;

/// Tensor names per family.
pub(super) struct Names<'a>(pub(super) &'a FusedConfig);

impl Names<'_> {
    pub(super) fn body(&self, n: &str) -> String {
        format!("{}{n}", self.0.prefix)
    }
    pub(super) fn embed(&self) -> String {
        self.body(match self.0.model_type.as_str() {
            "bloom" | "falcon" => "word_embeddings.weight",
            "gpt_neox" => "embed_in.weight",
            _ => "wte.weight", // gpt2, mpt
        })
    }
    pub(super) fn final_ln(&self) -> String {
        self.body(match self.0.model_type.as_str() {
            "bloom" => "ln_f",
            "gpt_neox" => "final_layer_norm",
            "mpt" => "norm_f",
            _ => "ln_f",
        })
    }
    pub(super) fn head(&self) -> String {
        if self.0.tied {
            self.embed()
        } else if self.0.model_type == "gpt_neox" {
            "embed_out.weight".into()
        } else {
            "lm_head.weight".into()
        }
    }
    /// (ln1, qkv, dense, ln2, up, down) of layer `l`.
    pub(super) fn layer(&self, l: usize) -> [String; 6] {
        let c = self.0;
        let p = match c.model_type.as_str() {
            "gpt_neox" => self.body(&format!("layers.{l}")),
            "mpt" => self.body(&format!("blocks.{l}")),
            _ => self.body(&format!("h.{l}")),
        };
        // Falcon's parallel blocks: one shared norm, or the new architecture's two
        let (ln1, ln2) = match (c.model_type.as_str(), c.residual, c.shared_norm) {
            ("falcon", _, true) => ("input_layernorm", "input_layernorm"),
            ("falcon", Residual::Parallel, false) => ("ln_attn", "ln_mlp"),
            _ => ("input_layernorm", "post_attention_layernorm"),
        };
        let [a, b, d, e, g, h] = match c.model_type.as_str() {
            "bloom" | "falcon" => [
                ln1,
                "self_attention.query_key_value",
                "self_attention.dense",
                ln2,
                "mlp.dense_h_to_4h",
                "mlp.dense_4h_to_h",
            ],
            "gpt_neox" => [
                "input_layernorm",
                "attention.query_key_value",
                "attention.dense",
                "post_attention_layernorm",
                "mlp.dense_h_to_4h",
                "mlp.dense_4h_to_h",
            ],
            "mpt" => [
                "norm_1",
                "attn.Wqkv",
                "attn.out_proj",
                "norm_2",
                "ffn.up_proj",
                "ffn.down_proj",
            ],
            _ => [
                "ln_1",
                "attn.c_attn",
                "attn.c_proj",
                "ln_2",
                "mlp.c_fc",
                "mlp.c_proj",
            ],
        };
        [a, b, d, e, g, h].map(|s| format!("{p}.{s}"))
    }
}

pub(super) struct Layer {
    pub(super) ln1: (Vec<f32>, Vec<f32>),
    pub(super) qkv: Linear,
    pub(super) dense: Linear,
    pub(super) ln2: (Vec<f32>, Vec<f32>),
    pub(super) up: Linear,
    pub(super) down: Linear,
}

impl Fused {
    /// `[out, in]` shape of a linear layer as stored (GPT-2's Conv1D stores `[in, out]`).
    pub(super) fn stored(&self, out: usize, inp: usize) -> [usize; 2] {
        if self.config.gpt2() {
            [inp, out]
        } else {
            [out, inp]
        }
    }

    pub(super) fn check(&self) -> Result<(), HfError> {
        let c = &self.config;
        let (w, n, h) = (&*self.weights, Names(c), c.hidden);
        w.check(&n.embed(), &[c.vocab, h])?;
        w.check(&format!("{}.weight", n.final_ln()), &[h])?;
        if c.norm_bias {
            w.check(&format!("{}.bias", n.final_ln()), &[h])?;
        }
        if c.model_type == "bloom" {
            w.check(&n.body("word_embeddings_layernorm.weight"), &[h])?;
            w.check(&n.body("word_embeddings_layernorm.bias"), &[h])?;
        }
        if c.gpt2() {
            w.check(&n.body("wpe.weight"), &[c.max_positions, h])?;
        }
        if !c.tied {
            w.check(&n.head(), &[c.vocab, h])?;
        }
        for l in 0..c.layers {
            let [ln1, qkv, dense, ln2, up, down] = n.layer(l);
            for ln in [&ln1, &ln2] {
                w.check(&format!("{ln}.weight"), &[h])?;
                if c.norm_bias {
                    w.check(&format!("{ln}.bias"), &[h])?;
                }
            }
            for (name, out, inp) in [
                (qkv, c.qkv_width(), h),
                (dense, h, h),
                (up, c.inner, h),
                (down, h, c.inner),
            ] {
                w.check(&format!("{name}.weight"), &self.stored(out, inp))?;
                if c.linear_bias {
                    w.check(&format!("{name}.bias"), &[out])?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear, HfError> {
        let w = self
            .weights
            .get(&format!("{name}.weight"), &self.stored(out, inp))?;
        let w = if self.config.gpt2() {
            // Conv1D [in, out] → [out, in]
            let mut t = vec![0f32; w.len()];
            for i in 0..inp {
                for o in 0..out {
                    t[o * inp + i] = w[i * out + o];
                }
            }
            t
        } else {
            w
        };
        let b = if self.config.linear_bias {
            Some(self.weights.get(&format!("{name}.bias"), &[out])?)
        } else {
            None
        };
        Linear::new(w, b, out, inp)
            .ok_or_else(|| HfError::Request(format!("{name}: inconsistent sizes")))
    }

    pub(super) fn norm(&self, name: &str) -> Result<(Vec<f32>, Vec<f32>), HfError> {
        let h = self.config.hidden;
        let b = if self.config.norm_bias {
            self.weights.get(&format!("{name}.bias"), &[h])?
        } else {
            vec![0.0; h]
        };
        Ok((self.weights.get(&format!("{name}.weight"), &[h])?, b))
    }

    pub(super) fn layer(&self, l: usize) -> Result<std::sync::Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    pub(super) fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let [ln1, qkv, dense, ln2, up, down] = Names(c).layer(l);
        Ok(Layer {
            ln1: self.norm(&ln1)?,
            qkv: self.linear(&qkv, c.qkv_width(), c.hidden)?,
            dense: self.linear(&dense, c.hidden, c.hidden)?,
            ln2: self.norm(&ln2)?,
            up: self.linear(&up, c.inner, c.hidden)?,
            down: self.linear(&down, c.hidden, c.inner)?,
        })
    }
}
