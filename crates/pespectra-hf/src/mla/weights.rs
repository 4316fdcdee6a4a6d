//! The tensors of an MLA checkpoint: their names and shapes per layer (low-rank or full q),
//! checked at load, and one layer converted to f32.

use super::moe::{MoeLayer, SwiGlu};
use super::MlaModel;
use crate::error::HfError;
use pespectra_layers::Linear;

/// A layer's MLP: dense SwiGLU before `first_k_dense_replace`, mixture-of-experts after.
pub(super) enum Mlp {
    Dense(SwiGlu),
    Moe(MoeLayer),
}

impl Mlp {
    pub(super) fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        match self {
            Mlp::Dense(m) => m.forward(x, n),
            Mlp::Moe(m) => m.forward(x, n),
        }
    }
}

pub(super) struct Layer {
    pub(super) in_norm: Vec<f32>,
    pub(super) q: Vec<Linear>,
    pub(super) q_norm: Option<Vec<f32>>,
    pub(super) kv_a: Linear,
    pub(super) kv_norm: Vec<f32>,
    pub(super) kv_b: Linear,
    pub(super) o: Linear,
    pub(super) post_norm: Vec<f32>,
    pub(super) mlp: Mlp,
}

impl MlaModel {
    pub(super) fn names(&self, l: usize) -> Vec<(String, Vec<usize>, bool)> {
        let c = &self.config;
        let p = format!("model.layers.{l}");
        let qk = c.nope + c.rope_dim;
        let mut v = vec![
            (format!("{p}.input_layernorm.weight"), vec![c.hidden], false),
            (
                format!("{p}.self_attn.kv_a_proj_with_mqa"),
                vec![c.kv_lora + c.rope_dim, c.hidden],
                c.bias,
            ),
            (
                format!("{p}.self_attn.kv_a_layernorm.weight"),
                vec![c.kv_lora],
                false,
            ),
            (
                format!("{p}.self_attn.kv_b_proj"),
                vec![c.heads * (c.nope + c.v_dim), c.kv_lora],
                false,
            ),
            (
                format!("{p}.self_attn.o_proj"),
                vec![c.hidden, c.heads * c.v_dim],
                c.bias,
            ),
            (
                format!("{p}.post_attention_layernorm.weight"),
                vec![c.hidden],
                false,
            ),
        ];
        match (&c.moe, l >= c.first_moe) {
            (Some(m), true) => v.extend(
                m.names(&format!("{p}.mlp"), c.hidden)
                    .into_iter()
                    .map(|(n, s)| (n, s, false)),
            ),
            _ => {
                v.push((format!("{p}.mlp.gate_proj"), vec![c.inner, c.hidden], false));
                v.push((format!("{p}.mlp.up_proj"), vec![c.inner, c.hidden], false));
                v.push((format!("{p}.mlp.down_proj"), vec![c.hidden, c.inner], false));
            }
        }
        match c.q_lora {
            None => v.push((
                format!("{p}.self_attn.q_proj"),
                vec![c.heads * qk, c.hidden],
                false,
            )),
            Some(r) => {
                v.push((format!("{p}.self_attn.q_a_proj"), vec![r, c.hidden], c.bias));
                v.push((
                    format!("{p}.self_attn.q_a_layernorm.weight"),
                    vec![r],
                    false,
                ));
                v.push((
                    format!("{p}.self_attn.q_b_proj"),
                    vec![c.heads * qk, r],
                    false,
                ));
            }
        }
        v
    }

    pub(super) fn check(&self) -> Result<(), HfError> {
        let c = &self.config;
        self.weights
            .check("model.embed_tokens.weight", &[c.vocab, c.hidden])?;
        self.weights.check("model.norm.weight", &[c.hidden])?;
        if !c.tied {
            self.weights.check("lm_head.weight", &[c.vocab, c.hidden])?;
        }
        for l in 0..c.layers {
            for (n, s, bias) in self.names(l) {
                if n.ends_with(".weight") || n.ends_with("_bias") {
                    self.weights.check(&n, &s)?;
                } else {
                    self.weights.check(&format!("{n}.weight"), &s)?;
                    if bias {
                        self.weights.check(&format!("{n}.bias"), &s[..1])?;
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn layer(&self, l: usize) -> Result<std::sync::Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    pub(super) fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let p = format!("model.layers.{l}");
        let g = |n: &str, s: &[usize]| self.weights.get(&format!("{p}.{n}"), s);
        let lin = |n: &str, out: usize, inp: usize, bias: bool| -> Result<Linear, HfError> {
            let w = g(&format!("{n}.weight"), &[out, inp])?;
            let b = if bias {
                Some(g(&format!("{n}.bias"), &[out])?)
            } else {
                None
            };
            Linear::new(w, b, out, inp)
                .ok_or_else(|| HfError::Request(format!("{p}.{n}: inconsistent sizes")))
        };
        let qk = c.nope + c.rope_dim;
        let (q, q_norm) = match c.q_lora {
            None => (
                vec![lin("self_attn.q_proj", c.heads * qk, c.hidden, false)?],
                None,
            ),
            Some(r) => (
                vec![
                    lin("self_attn.q_a_proj", r, c.hidden, c.bias)?,
                    lin("self_attn.q_b_proj", c.heads * qk, r, false)?,
                ],
                Some(g("self_attn.q_a_layernorm.weight", &[r])?),
            ),
        };
        Ok(Layer {
            in_norm: g("input_layernorm.weight", &[c.hidden])?,
            q,
            q_norm,
            kv_a: lin(
                "self_attn.kv_a_proj_with_mqa",
                c.kv_lora + c.rope_dim,
                c.hidden,
                c.bias,
            )?,
            kv_norm: g("self_attn.kv_a_layernorm.weight", &[c.kv_lora])?,
            kv_b: lin(
                "self_attn.kv_b_proj",
                c.heads * (c.nope + c.v_dim),
                c.kv_lora,
                false,
            )?,
            o: lin("self_attn.o_proj", c.hidden, c.heads * c.v_dim, c.bias)?,
            post_norm: g("post_attention_layernorm.weight", &[c.hidden])?,
            mlp: match (&c.moe, l >= c.first_moe) {
                (Some(m), true) => Mlp::Moe(MoeLayer::load(
                    &*self.weights,
                    m,
                    &format!("{p}.mlp"),
                    c.hidden,
                )?),
                _ => Mlp::Dense(SwiGlu::load(
                    &*self.weights,
                    &format!("{p}.mlp"),
                    c.inner,
                    c.hidden,
                )?),
            },
        })
    }
}
