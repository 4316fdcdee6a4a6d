//! The tensors of a llama-family checkpoint: names and shapes per layer (attention biases,
//! q/k norms, Gemma's four norms and (1 + w) scaling, Phi-3's fused projections), checked at load,
//! one layer converted to f32, and the final norm.

use super::Decoder;
use crate::config::QkNorm;
use crate::error::HfError;
use pespectra_layers::{rms_norm, Linear};
use std::sync::Arc;

/// RMSNorm, or LayerNorm with a bias (StableLM).
pub(super) struct Norm {
    pub(super) w: Vec<f32>,
    pub(super) b: Option<Vec<f32>>,
}

impl Norm {
    pub(super) fn apply(&self, x: &[f32], eps: f64) -> Vec<f32> {
        match &self.b {
            Some(b) => pespectra_layers::layer_norm(x, &self.w, b, eps),
            None => rms_norm(x, &self.w, eps),
        }
    }
}

pub(super) struct LayerWeights {
    pub(super) in_norm: Norm,
    /// Gemma: the norms after attention and around the MLP.
    pub(super) sandwich: Option<[Vec<f32>; 2]>,
    pub(super) q: Linear,
    pub(super) k: Linear,
    pub(super) v: Linear,
    pub(super) o: Linear,
    /// Per q/k head: the RMSNorm weight (shared: one entry) or LayerNorm weights (per head).
    pub(super) q_norm: Vec<Vec<f32>>,
    pub(super) k_norm: Vec<Vec<f32>>,
    /// After attention (absent with StableLM's parallel residual).
    pub(super) post_norm: Option<Norm>,
    pub(super) gate: Linear,
    pub(super) up: Linear,
    pub(super) down: Linear,
}

impl Decoder {
    pub(super) fn names(&self, l: usize) -> Vec<(String, Vec<usize>)> {
        let c = &self.config;
        let p = format!("model.layers.{l}");
        let (qd, kd) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
        let mut v = vec![
            (format!("{p}.input_layernorm.weight"), vec![c.hidden]),
            (format!("{p}.self_attn.q_proj.weight"), vec![qd, c.hidden]),
            (format!("{p}.self_attn.k_proj.weight"), vec![kd, c.hidden]),
            (format!("{p}.self_attn.v_proj.weight"), vec![kd, c.hidden]),
            (format!("{p}.self_attn.o_proj.weight"), vec![c.hidden, qd]),
            (
                format!("{p}.post_attention_layernorm.weight"),
                vec![c.hidden],
            ),
            (
                format!("{p}.mlp.gate_proj.weight"),
                vec![c.intermediate, c.hidden],
            ),
            (
                format!("{p}.mlp.up_proj.weight"),
                vec![c.intermediate, c.hidden],
            ),
            (
                format!("{p}.mlp.down_proj.weight"),
                vec![c.hidden, c.intermediate],
            ),
        ];
        if c.layer_norm {
            v.push((format!("{p}.input_layernorm.bias"), vec![c.hidden]));
            v.push((format!("{p}.post_attention_layernorm.bias"), vec![c.hidden]));
        }
        if c.parallel_residual {
            v.retain(|(n, _)| !n.contains("post_attention_layernorm"));
        }
        if c.fused_projections {
            // Phi-3: one qkv_proj ([q | k | v] rows) and one gate_up_proj ([gate | up] rows)
            v.retain(|(n, _)| {
                !n.contains("q_proj")
                    && !n.contains("k_proj")
                    && !n.contains("v_proj")
                    && !n.contains("gate_proj")
                    && !n.contains("up_proj")
            });
            v.push((
                format!("{p}.self_attn.qkv_proj.weight"),
                vec![qd + 2 * kd, c.hidden],
            ));
            v.push((
                format!("{p}.mlp.gate_up_proj.weight"),
                vec![2 * c.intermediate, c.hidden],
            ));
        }
        if c.qkv_bias {
            v.push((format!("{p}.self_attn.q_proj.bias"), vec![qd]));
            v.push((format!("{p}.self_attn.k_proj.bias"), vec![kd]));
            v.push((format!("{p}.self_attn.v_proj.bias"), vec![kd]));
        }
        if c.o_bias {
            v.push((format!("{p}.self_attn.o_proj.bias"), vec![c.hidden]));
        }
        if c.mlp_bias {
            for (m, w) in [
                ("gate_proj", c.intermediate),
                ("up_proj", c.intermediate),
                ("down_proj", c.hidden),
            ] {
                v.push((format!("{p}.mlp.{m}.bias"), vec![w]));
            }
        }
        if c.gemma {
            v.push((
                format!("{p}.pre_feedforward_layernorm.weight"),
                vec![c.hidden],
            ));
            v.push((
                format!("{p}.post_feedforward_layernorm.weight"),
                vec![c.hidden],
            ));
        }
        for names in self.qk_norm_names(l) {
            v.extend(names.into_iter().map(|n| (n, vec![c.head_dim])));
        }
        v
    }

    /// The tensor names of layer `l`'s q and k norms: one shared weight or one per head.
    fn qk_norm_names(&self, l: usize) -> [Vec<String>; 2] {
        let c = &self.config;
        let p = format!("model.layers.{l}.self_attn");
        match c.qk_norm {
            QkNorm::None => [vec![], vec![]],
            QkNorm::SharedRms => [
                vec![format!("{p}.q_norm.weight")],
                vec![format!("{p}.k_norm.weight")],
            ],
            QkNorm::PerHeadLayerNorm => [
                (0..c.heads)
                    .map(|h| format!("{p}.q_layernorm.norms.{h}.weight"))
                    .collect(),
                (0..c.kv_heads)
                    .map(|h| format!("{p}.k_layernorm.norms.{h}.weight"))
                    .collect(),
            ],
        }
    }

    pub(super) fn check_tensors(&self) -> Result<(), HfError> {
        let c = &self.config;
        self.weights
            .check("model.embed_tokens.weight", &[c.vocab, c.hidden])?;
        self.weights.check("model.norm.weight", &[c.hidden])?;
        if c.layer_norm {
            self.weights.check("model.norm.bias", &[c.hidden])?;
        }
        if !c.tied_embeddings {
            self.weights.check("lm_head.weight", &[c.vocab, c.hidden])?;
        }
        for l in 0..c.layers {
            for (name, shape) in self.names(l) {
                self.weights.check(&name, &shape)?;
            }
        }
        Ok(())
    }

    pub(super) fn layer(&self, l: usize) -> Result<Arc<LayerWeights>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    pub(super) fn load_layer(&self, l: usize) -> Result<LayerWeights, HfError> {
        let c = &self.config;
        let p = format!("model.layers.{l}");
        let g = |n: &str, s: &[usize]| self.weights.get(&format!("{p}.{n}"), s);
        let (qd, kd) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
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
        // Phi-3 stores [q | k | v] and [gate | up] as one matrix each: split the rows
        let rows = |w: &[f32], from: usize, to: usize| w[from * c.hidden..to * c.hidden].to_vec();
        let plain = |w: Vec<f32>, out: usize| {
            Linear::new(w, None, out, c.hidden)
                .ok_or_else(|| HfError::Request(format!("{p}: inconsistent sizes")))
        };
        let (q_lin, k_lin, v_lin, gate_lin, up_lin) = if c.fused_projections {
            let qkv = g("self_attn.qkv_proj.weight", &[qd + 2 * kd, c.hidden])?;
            let gu = g("mlp.gate_up_proj.weight", &[2 * c.intermediate, c.hidden])?;
            let i = c.intermediate;
            (
                plain(rows(&qkv, 0, qd), qd)?,
                plain(rows(&qkv, qd, qd + kd), kd)?,
                plain(rows(&qkv, qd + kd, qd + 2 * kd), kd)?,
                plain(rows(&gu, 0, i), i)?,
                plain(rows(&gu, i, 2 * i), i)?,
            )
        } else {
            (
                lin("self_attn.q_proj", qd, c.hidden, c.qkv_bias)?,
                lin("self_attn.k_proj", kd, c.hidden, c.qkv_bias)?,
                lin("self_attn.v_proj", kd, c.hidden, c.qkv_bias)?,
                lin("mlp.gate_proj", c.intermediate, c.hidden, c.mlp_bias)?,
                lin("mlp.up_proj", c.intermediate, c.hidden, c.mlp_bias)?,
            )
        };
        // Gemma stores norm weights as w and multiplies by 1 + w
        let norm = |n: &str, d: usize| -> Result<Vec<f32>, HfError> {
            let w = g(n, &[d])?;
            Ok(if c.gemma {
                w.iter().map(|x| 1.0 + x).collect()
            } else {
                w
            })
        };
        let mut qk_norms = [Vec::new(), Vec::new()];
        for (slot, names) in qk_norms.iter_mut().zip(self.qk_norm_names(l)) {
            for n in names {
                let w = self.weights.get(&n, &[c.head_dim])?;
                // Gemma stores q/k norm weights as w too
                slot.push(if c.gemma {
                    w.iter().map(|x| 1.0 + x).collect()
                } else {
                    w
                });
            }
        }
        Ok(LayerWeights {
            in_norm: Norm {
                w: norm("input_layernorm.weight", c.hidden)?,
                b: c.layer_norm
                    .then(|| g("input_layernorm.bias", &[c.hidden]))
                    .transpose()?,
            },
            sandwich: if c.gemma {
                Some([
                    norm("pre_feedforward_layernorm.weight", c.hidden)?,
                    norm("post_feedforward_layernorm.weight", c.hidden)?,
                ])
            } else {
                None
            },
            q: q_lin,
            k: k_lin,
            v: v_lin,
            o: lin("self_attn.o_proj", c.hidden, qd, c.o_bias)?,
            q_norm: std::mem::take(&mut qk_norms[0]),
            k_norm: std::mem::take(&mut qk_norms[1]),
            post_norm: if c.parallel_residual {
                None
            } else {
                Some(Norm {
                    w: norm("post_attention_layernorm.weight", c.hidden)?,
                    b: c.layer_norm
                        .then(|| g("post_attention_layernorm.bias", &[c.hidden]))
                        .transpose()?,
                })
            },
            gate: gate_lin,
            up: up_lin,
            down: lin("mlp.down_proj", c.hidden, c.intermediate, c.mlp_bias)?,
        })
    }

    /// The final norm (Gemma: weight 1 + w; StableLM: a LayerNorm with its bias).
    pub(super) fn final_norm(&self) -> Result<Norm, HfError> {
        let c = &self.config;
        let w = self.weights.get("model.norm.weight", &[c.hidden])?;
        Ok(Norm {
            w: if c.gemma {
                w.iter().map(|x| 1.0 + x).collect()
            } else {
                w
            },
            b: c.layer_norm
                .then(|| self.weights.get("model.norm.bias", &[c.hidden]))
                .transpose()?,
        })
    }
}
