//! The tensors of a T5 encoder checkpoint: the shared or encoder embedding, per-layer names
//! and shapes (gated or plain feed-forward, the relative-bias table on layer 0), checked at load,
//! and one layer converted to f32.

use super::T5Encoder;
use crate::error::HfError;
use pespectra_layers::Linear;

pub(super) struct Layer {
    pub(super) ln1: Vec<f32>,
    pub(super) q: Linear,
    pub(super) k: Linear,
    pub(super) v: Linear,
    pub(super) o: Linear,
    pub(super) ln2: Vec<f32>,
    pub(super) wi: Vec<Linear>,
    pub(super) wo: Linear,
}

impl T5Encoder {
    pub(super) fn embed_name(&self) -> &'static str {
        if self.weights.has("shared.weight") {
            "shared.weight"
        } else {
            "encoder.embed_tokens.weight"
        }
    }

    pub(super) fn names(&self, l: usize) -> Vec<(String, Vec<usize>)> {
        let c = &self.config;
        let p = format!("encoder.block.{l}.layer");
        let inner = c.heads * c.head_dim;
        let mut v = vec![
            (format!("{p}.0.layer_norm.weight"), vec![c.hidden]),
            (
                format!("{p}.0.SelfAttention.q.weight"),
                vec![inner, c.hidden],
            ),
            (
                format!("{p}.0.SelfAttention.k.weight"),
                vec![inner, c.hidden],
            ),
            (
                format!("{p}.0.SelfAttention.v.weight"),
                vec![inner, c.hidden],
            ),
            (
                format!("{p}.0.SelfAttention.o.weight"),
                vec![c.hidden, inner],
            ),
            (format!("{p}.1.layer_norm.weight"), vec![c.hidden]),
            (
                format!("{p}.1.DenseReluDense.wo.weight"),
                vec![c.hidden, c.inner],
            ),
        ];
        if c.gated {
            v.push((
                format!("{p}.1.DenseReluDense.wi_0.weight"),
                vec![c.inner, c.hidden],
            ));
            v.push((
                format!("{p}.1.DenseReluDense.wi_1.weight"),
                vec![c.inner, c.hidden],
            ));
        } else {
            v.push((
                format!("{p}.1.DenseReluDense.wi.weight"),
                vec![c.inner, c.hidden],
            ));
        }
        v
    }

    pub(super) fn check(&self) -> Result<(), HfError> {
        let c = &self.config;
        self.weights
            .check(self.embed_name(), &[c.vocab, c.hidden])?;
        self.weights
            .check("encoder.final_layer_norm.weight", &[c.hidden])?;
        for l in 0..c.layers {
            for (n, s) in self.names(l) {
                self.weights.check(&n, &s)?;
            }
        }
        Ok(())
    }

    pub(super) fn layer(&self, l: usize) -> Result<std::sync::Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    pub(super) fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let p = format!("encoder.block.{l}.layer");
        let inner = c.heads * c.head_dim;
        let lin = |n: &str, out: usize, inp: usize| -> Result<Linear, HfError> {
            Linear::new(
                self.weights.get(&format!("{p}.{n}.weight"), &[out, inp])?,
                None,
                out,
                inp,
            )
            .ok_or_else(|| HfError::Request(format!("{p}.{n}: inconsistent sizes")))
        };
        let wi = if c.gated {
            vec![
                lin("1.DenseReluDense.wi_0", c.inner, c.hidden)?,
                lin("1.DenseReluDense.wi_1", c.inner, c.hidden)?,
            ]
        } else {
            vec![lin("1.DenseReluDense.wi", c.inner, c.hidden)?]
        };
        Ok(Layer {
            ln1: self
                .weights
                .get(&format!("{p}.0.layer_norm.weight"), &[c.hidden])?,
            q: lin("0.SelfAttention.q", inner, c.hidden)?,
            k: lin("0.SelfAttention.k", inner, c.hidden)?,
            v: lin("0.SelfAttention.v", inner, c.hidden)?,
            o: lin("0.SelfAttention.o", c.hidden, inner)?,
            ln2: self
                .weights
                .get(&format!("{p}.1.layer_norm.weight"), &[c.hidden])?,
            wi,
            wo: lin("1.DenseReluDense.wo", c.hidden, c.inner)?,
        })
    }
}
