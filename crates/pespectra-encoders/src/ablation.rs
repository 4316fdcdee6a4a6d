//! Head ablation for the audit's E3: how much the sentence embeddings move when one head's
//! attention output is zeroed.
//!
//! The clean run caches, per layer, the layer input and the attention context (the input of
//! the output projection). Ablating head `h` of layer `ℓ` then costs one output projection and
//! feed-forward at `ℓ` plus the full layers `ℓ+1..L`: layers before `ℓ` are never recomputed,
//! and neither are layer `ℓ`'s q/k/v projections and attention.

use crate::error::EncoderError;
use crate::model::{Batch, Encoder};
use crate::ops;

/// A clean forward pass on a batch, kept for ablating heads against it.
pub struct Ablation<'a> {
    enc: &'a Encoder,
    ids: Vec<Vec<u32>>,
    batch: Batch,
    /// Input of each layer.
    inputs: Vec<Vec<f32>>,
    /// Attention context of each layer (clean).
    contexts: Vec<Vec<f32>>,
    clean: Vec<Vec<f32>>,
}

impl Encoder {
    /// Runs the clean forward pass on `ids` (one or more sequences, specials included) and
    /// keeps what [`Ablation::effect`] needs.
    pub fn ablation(&self, ids: &[Vec<u32>]) -> Result<Ablation<'_>, EncoderError> {
        let batch = self.check_ids(ids)?;
        let mut x = self.embed_input(ids, &batch, true);
        let (mut inputs, mut contexts) = (Vec::new(), Vec::new());
        for l in 0..self.cfg.layers {
            let ctx = self.attend(l, &x, &batch)?;
            let next = self.finish(l, &x, &ctx, &batch, None);
            inputs.push(x);
            contexts.push(ctx);
            x = next;
        }
        let clean = ops::mean_pool_normalize(&x, batch.seq, &batch.lens, self.cfg.hidden);
        Ok(Ablation {
            enc: self,
            ids: ids.to_vec(),
            batch,
            inputs,
            contexts,
            clean,
        })
    }
}

impl Ablation<'_> {
    /// The clean sentence embeddings.
    pub fn clean(&self) -> &[Vec<f32>] {
        &self.clean
    }

    /// The sequences this ablation runs on.
    pub fn ids(&self) -> &[Vec<u32>] {
        &self.ids
    }

    /// Sentence embeddings with head `head` of layer `layer` zeroed.
    pub fn ablated(&self, layer: usize, head: usize) -> Result<Vec<Vec<f32>>, EncoderError> {
        let cfg = &self.enc.cfg;
        if layer >= cfg.layers || head >= cfg.heads {
            return Err(EncoderError::InvalidInput(format!(
                "no head {head} in layer {layer} (the model has {} layers × {} heads)",
                cfg.layers, cfg.heads
            )));
        }
        let b = &self.batch;
        let mut x = self.enc.finish(
            layer,
            &self.inputs[layer],
            &self.contexts[layer],
            b,
            Some(head),
        );
        for l in layer + 1..cfg.layers {
            let ctx = self.enc.attend(l, &x, b)?;
            x = self.enc.finish(l, &x, &ctx, b, None);
        }
        Ok(ops::mean_pool_normalize(&x, b.seq, &b.lens, cfg.hidden))
    }

    /// `1 − cos(ablated, clean)` averaged over the sequences (both are unit vectors).
    pub fn effect(&self, layer: usize, head: usize) -> Result<f64, EncoderError> {
        let abl = self.ablated(layer, head)?;
        let total: f64 = abl
            .iter()
            .zip(&self.clean)
            .map(|(a, c)| {
                1.0 - a
                    .iter()
                    .zip(c)
                    .map(|(x, y)| *x as f64 * *y as f64)
                    .sum::<f64>()
            })
            .sum();
        Ok(total / abl.len() as f64)
    }

    /// [`Ablation::effect`] of every head, `[layer][head]`; `progress(done, total)` is called
    /// after each head.
    pub fn all_effects(
        &self,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f64>>, EncoderError> {
        let (layers, heads) = (self.enc.cfg.layers, self.enc.cfg.heads);
        let mut out = vec![vec![0.0; heads]; layers];
        for (l, row) in out.iter_mut().enumerate() {
            for (h, e) in row.iter_mut().enumerate() {
                *e = self.effect(l, h)?;
                progress(l * heads + h + 1, layers * heads);
            }
        }
        Ok(out)
    }
}
