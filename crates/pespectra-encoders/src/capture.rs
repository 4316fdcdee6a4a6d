//! Per-head capture: one [`HeadCapture`] per (layer, head), handed to a sink as soon as its
//! layer is computed, so a whole model can be audited without holding every head.
//!
//! What the fields mean here (see `pespectra-capture` for the shared conventions):
//! * `q`, `k`: the head's slices of the query/key projections (bias included) of the real
//!   forward pass, before the 1/√d scale. Both encoders add learned absolute positions at the
//!   input, so these rows already carry position information from layer 0 on.
//! * `logits`: `scale·q kᵀ` (+ the bucket bias for MPNet), no padding mask.
//! * MiniLM (BERT), [`Positional::Absolute`]: `content_logits` come from a second forward pass
//!   run in lockstep on the same tokens with the position table taken as zero at the input
//!   (the position-free counterfactual: token-type row, LayerNorms and all weights unchanged).
//!   `logits − content_logits` is therefore everything positions changed in this head,
//!   including what earlier layers propagated.
//! * MPNet, [`Positional::AdditiveBias`]: `bias` is the n×n matrix the model adds,
//!   `table[bucket(j − i)][head]`, and `content_logits = scale·q kᵀ`, so
//!   `logits = content_logits + bias` (up to f32 rounding). Note that q and k still carry
//!   MPNet's absolute positions; only the relative part is separated.

use pespectra_attention::{attention_logits, AttentionInputs, LogitsRequest, PositionalEncoding};
use pespectra_capture::{HeadCapture, Positional};

use crate::config::{Architecture, MPNET_MAX_DISTANCE};
use crate::error::EncoderError;
use crate::model::{Batch, Encoder};
use crate::ops;

impl Encoder {
    /// Runs `ids` (one sequence, specials included) through the layers up to the largest of
    /// `layers` and calls `sink` with every head of every listed layer, in layer then head
    /// order. Layers not listed are computed but not captured.
    pub fn capture(
        &self,
        ids: &[u32],
        layers: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), EncoderError> {
        if let Some(&l) = layers.iter().find(|&&l| l >= self.cfg.layers) {
            return Err(EncoderError::InvalidInput(format!(
                "layer {l} does not exist (the model has {} layers)",
                self.cfg.layers
            )));
        }
        let Some(&last) = layers.iter().max() else {
            return Ok(());
        };
        let seqs = [ids.to_vec()];
        let batch = self.check_ids(&seqs)?;
        let bert = self.cfg.arch == Architecture::Bert;
        let mut x = self.embed_input(&seqs, &batch, true);
        // BERT's position-free counterfactual, advanced alongside the real pass.
        let mut x0 = bert.then(|| self.embed_input(&seqs, &batch, false));
        for l in 0..=last {
            let qkv = self.qkv(l, &x, &batch);
            let qkv0 = x0.as_ref().map(|x0| self.qkv(l, x0, &batch));
            if layers.contains(&l) {
                self.emit(l, &qkv, qkv0.as_deref(), &batch, sink)?;
            }
            if l < last {
                let ctx = self.attend_qkv(&qkv, &batch)?;
                let next = self.finish(l, &x, &ctx, &batch);
                if let (Some(x0), Some(qkv0)) = (x0.as_mut(), qkv0) {
                    let ctx0 = self.attend_qkv(&qkv0, &batch)?;
                    *x0 = self.finish(l, x0, &ctx0, &batch);
                }
                x = next;
            }
        }
        Ok(())
    }

    /// Builds and hands out the captures of layer `l` from its q|k|v projections.
    fn emit(
        &self,
        l: usize,
        qkv: &[f32],
        qkv0: Option<&[f32]>,
        batch: &Batch,
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), EncoderError> {
        let (heads, hd, n) = (self.cfg.heads, self.cfg.head_dim(), batch.seq);
        let cfg = self.attention_config(batch);
        let [q, k, v] = ops::split_qkv(qkv, 1, n, heads, hd);
        let bias_pe = matches!(cfg.pe, PositionalEncoding::T5(_));
        let logits = attention_logits(
            &cfg,
            &AttentionInputs {
                q: &q,
                k: &k,
                v: &v,
                rope_key: None,
            },
            LogitsRequest {
                pre_mask: true,
                content: bias_pe,
                per_frequency: false,
            },
        )?;
        let pre = logits.pre_mask.unwrap_or_default();
        let content = match qkv0 {
            // BERT: the counterfactual pass's logits (NoPE, so pre-mask = scale·q₀k₀ᵀ).
            Some(qkv0) => {
                let [q0, k0, v0] = ops::split_qkv(qkv0, 1, n, heads, hd);
                attention_logits(
                    &cfg,
                    &AttentionInputs {
                        q: &q0,
                        k: &k0,
                        v: &v0,
                        rope_key: None,
                    },
                    LogitsRequest {
                        pre_mask: true,
                        content: false,
                        per_frequency: false,
                    },
                )?
                .pre_mask
                .unwrap_or_default()
            }
            None => logits.content.unwrap_or_default(),
        };
        let buckets: Vec<usize> = (0..2 * n - 1)
            .map(|r| {
                pespectra_attention::t5_bucket(
                    r as i64 - (n as i64 - 1),
                    true,
                    self.cfg.relative_buckets,
                    MPNET_MAX_DISTANCE,
                )
            })
            .collect();
        for h in 0..heads {
            let positional = if bias_pe {
                let mut bias = vec![0f32; n * n];
                for i in 0..n {
                    for j in 0..n {
                        bias[i * n + j] = self.rel_table[buckets[j + n - 1 - i] * heads + h];
                    }
                }
                Positional::AdditiveBias { bias }
            } else {
                Positional::Absolute
            };
            sink(HeadCapture {
                layer: l,
                head: h,
                kv_head: h,
                n,
                head_dim: hd,
                scale: cfg.scale,
                causal: false,
                window: None,
                softcap: None,
                q: q[h * n * hd..][..n * hd].to_vec(),
                k: k[h * n * hd..][..n * hd].to_vec(),
                logits: pre[h * n * n..][..n * n].to_vec(),
                content_logits: content[h * n * n..][..n * n].to_vec(),
                positional,
            });
        }
        Ok(())
    }
}
