//! Head ablation for the audit's E3: how much the sentence embeddings move when one head's
//! attention output is zeroed.
//!
//! Ablating head `h` of layer `ℓ` zeroes `h`'s slice of the attention context (softmax·V,
//! the input of the output projection), so the head contributes nothing to the residual
//! stream while the projection's bias stays (the same as a forward pre-hook on the projection
//! in transformers, which is how the reference value was made).
//!
//! The clean run caches, per layer, the layer input and the attention context. Ablating a
//! head of layer `ℓ` then costs one output projection and feed-forward at `ℓ` plus the full
//! layers `ℓ+1..L`: layers before `ℓ` are never recomputed, and neither are layer `ℓ`'s q/k/v
//! projections and attention. [`Ablation::all_effects`] runs the heads of one layer as one
//! batch (the inputs repeated once per head), so the GEMMs are taller and the threads
//! synchronise once per layer instead of once per head.

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
            let next = self.finish(l, &x, &ctx, &batch);
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
        self.check(layer, head)?;
        self.run_heads(layer, &[head])
    }

    /// `1 − cos(ablated, clean)` averaged over the sequences (both are unit vectors).
    pub fn effect(&self, layer: usize, head: usize) -> Result<f64, EncoderError> {
        self.check(layer, head)?;
        Ok(self.effects(layer, &[head])?[0])
    }

    /// [`Ablation::effect`] of every head, `[layer][head]`; `progress(done, total)` is called
    /// with the number of heads done after each group.
    pub fn all_effects(
        &self,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<f64>>, EncoderError> {
        let (layers, heads) = (self.enc.cfg.layers, self.enc.cfg.heads);
        let mut out = Vec::with_capacity(layers);
        for l in 0..layers {
            out.push(
                self.layer_effects_with(l, &mut |done| progress(l * heads + done, layers * heads))?,
            );
        }
        Ok(out)
    }

    /// [`Ablation::effect`] of every head of `layer`, computed in batches of heads (much
    /// cheaper than one call per head).
    pub fn layer_effects(&self, layer: usize) -> Result<Vec<f64>, EncoderError> {
        self.check(layer, 0)?;
        self.layer_effects_with(layer, &mut |_| {})
    }

    fn layer_effects_with(
        &self,
        layer: usize,
        done: &mut dyn FnMut(usize),
    ) -> Result<Vec<f64>, EncoderError> {
        let heads = self.enc.cfg.heads;
        // Heads per batched run: at most ~8192 rows, so memory stays near 100 MB for MPNet.
        let group = (8192 / self.batch.rows()).clamp(1, heads);
        let all: Vec<usize> = (0..heads).collect();
        let mut row = Vec::with_capacity(heads);
        for hs in all.chunks(group) {
            row.extend(self.effects(layer, hs)?);
            done(row.len());
        }
        Ok(row)
    }

    fn check(&self, layer: usize, head: usize) -> Result<(), EncoderError> {
        let cfg = &self.enc.cfg;
        if layer >= cfg.layers || head >= cfg.heads {
            return Err(EncoderError::InvalidInput(format!(
                "no head {head} in layer {layer} (the model has {} layers × {} heads)",
                cfg.layers, cfg.heads
            )));
        }
        Ok(())
    }

    /// Mean `1 − cos` per head of `heads` (all in `layer`).
    fn effects(&self, layer: usize, heads: &[usize]) -> Result<Vec<f64>, EncoderError> {
        let emb = self.run_heads(layer, heads)?;
        let nb = self.clean.len();
        Ok(emb
            .chunks(nb)
            .map(|abl| {
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
                total / nb as f64
            })
            .collect())
    }

    /// Embeddings of the batch once per ablated head (head-major: all sequences of `heads[0]`
    /// first), computed as one batch of `heads.len()` copies from layer `layer` on.
    fn run_heads(&self, layer: usize, heads: &[usize]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let cfg = &self.enc.cfg;
        let (d, hd) = (cfg.hidden, cfg.head_dim());
        let rows = self.batch.rows();
        let big = Batch {
            seq: self.batch.seq,
            lens: heads
                .iter()
                .flat_map(|_| self.batch.lens.iter().copied())
                .collect(),
        };
        let mut x = Vec::with_capacity(heads.len() * rows * d);
        let mut ctx = Vec::with_capacity(heads.len() * rows * d);
        for &h in heads {
            x.extend_from_slice(&self.inputs[layer]);
            let start = ctx.len();
            ctx.extend_from_slice(&self.contexts[layer]);
            for r in 0..rows {
                ctx[start + r * d + h * hd..][..hd].fill(0.0);
            }
        }
        let mut x = self.enc.finish(layer, &x, &ctx, &big);
        for l in layer + 1..cfg.layers {
            let ctx = self.enc.attend(l, &x, &big)?;
            x = self.enc.finish(l, &x, &ctx, &big);
        }
        Ok(ops::mean_pool_normalize(&x, big.seq, &big.lens, d))
    }
}
