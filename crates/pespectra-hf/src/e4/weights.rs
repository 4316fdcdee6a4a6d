//! The tensors of an E4 checkpoint (docs/E4_MODEL_FORMAT.md): every name and shape the config
//! calls for, and one layer converted to f32 (plain or MLA attention, relative or T5 bias tables).

use super::config::{Arch, AttentionPe, E4Config, E4Mla, InputPe};
use super::E4Model;
use crate::error::HfError;
use crate::source::TensorSource;
use pespectra_layers::Linear;
use std::sync::Arc;

pub(super) struct Plain {
    pub(super) q: Linear,
    pub(super) k: Linear,
    pub(super) v: Linear,
}

pub(super) struct MlaWeights {
    pub(super) spec: E4Mla,
    pub(super) dq: Linear,
    pub(super) uq: Linear,
    pub(super) qr: Linear,
    pub(super) dkv: Linear,
    pub(super) uk: Linear,
    pub(super) uv: Linear,
    pub(super) kr: Linear,
}

pub(super) enum Attn {
    Plain(Plain),
    Mla(Box<MlaWeights>),
}

pub(super) struct Layer {
    pub(super) norm1: (Vec<f32>, Vec<f32>),
    pub(super) attn: Attn,
    pub(super) o: Linear,
    pub(super) rel_bias: Option<Vec<f32>>,
    pub(super) norm2: (Vec<f32>, Vec<f32>),
    pub(super) up: Linear,
    pub(super) down: Linear,
}

impl E4Model {
    /// Every tensor name and shape the config calls for.
    pub(super) fn tensors(c: &E4Config) -> Vec<(String, Vec<usize>)> {
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

    pub(super) fn layer(&self, l: usize) -> Result<Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    pub(super) fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let (d, dh, hh) = (c.d_model, c.head_dim(), c.heads);
        let p = format!("layers.{l}");
        let w = &*self.weights;
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
}

/// The linear layer `name` (`name.weight [out, inp]`, `name.bias [out]` when `bias`).
pub(super) fn linear(
    w: &dyn TensorSource,
    name: &str,
    out: usize,
    inp: usize,
    bias: bool,
) -> Result<Linear, HfError> {
    let b = if bias {
        Some(w.get(&format!("{name}.bias"), &[out])?)
    } else {
        None
    };
    Linear::new(w.get(&format!("{name}.weight"), &[out, inp])?, b, out, inp)
        .ok_or_else(|| HfError::Request(format!("{name}: inconsistent sizes")))
}
