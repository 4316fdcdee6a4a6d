//! What every HF forward pass shares: the request checks, the per-layer trace kept for
//! ablations, the ablation loop, the output head, and the [`CaptureModel`] impl (one macro, so
//! every model type gets the same one).
//!
//! [`CaptureModel`]: pespectra_capture::CaptureModel

use pespectra_capture::HeadAblation;
use pespectra_layers::Linear;

use crate::error::HfError;
use crate::weights::Weights;

/// Refuses empty inputs, more than `limit` tokens (`what` names the limit) and ids outside the
/// vocabulary.
pub(crate) fn check_ids(
    ids: &[u32],
    vocab: usize,
    limit: usize,
    what: &str,
) -> Result<(), HfError> {
    if ids.is_empty() || ids.len() > limit {
        return Err(HfError::Request(format!(
            "{} tokens: the model takes 1..={limit} ({what})",
            ids.len()
        )));
    }
    if let Some(&t) = ids.iter().find(|&&t| t as usize >= vocab) {
        return Err(HfError::Request(format!(
            "token id {t} is outside the vocabulary of {vocab} tokens"
        )));
    }
    Ok(())
}

/// Refuses heads outside `layers × n_heads`.
pub(crate) fn check_heads(
    heads: &[(usize, usize)],
    layers: usize,
    n_heads: usize,
) -> Result<(), HfError> {
    match heads.iter().find(|&&(l, h)| l >= layers || h >= n_heads) {
        Some(&(l, h)) => Err(HfError::Request(format!(
            "layer {l} head {h} does not exist"
        ))),
        None => Ok(()),
    }
}

/// Every layer's input residual and attention context (token-major) from a clean pass.
#[derive(Default)]
pub(crate) struct Trace {
    pub(crate) inputs: Vec<Vec<f32>>,
    pub(crate) contexts: Vec<Vec<f32>>,
}

/// For each `(layer, head)`: the layer's clean context with that head's `head_width` columns
/// zeroed (of `width` per token, `n` tokens) handed to `rest(layer, input, context)`, which
/// finishes the layer, runs the later ones and measures; `progress(done, total)` after each.
pub(crate) fn ablate(
    trace: &Trace,
    heads: &[(usize, usize)],
    (n, width, head_width): (usize, usize, usize),
    progress: &mut dyn FnMut(usize, usize),
    mut rest: impl FnMut(usize, &[f32], &[f32]) -> Result<f64, HfError>,
) -> Result<Vec<f64>, HfError> {
    let mut out = Vec::with_capacity(heads.len());
    for (i, &(l, h)) in heads.iter().enumerate() {
        let mut ctx = trace.contexts[l].clone();
        for t in 0..n {
            ctx[t * width + h * head_width..][..head_width].fill(0.0);
        }
        out.push(rest(l, &trace.inputs[l], &ctx)?);
        progress(i + 1, heads.len());
    }
    Ok(out)
}

/// The `vocab × hidden` output projection stored as `name`.
pub(crate) fn output_head(
    weights: &Weights,
    name: &str,
    vocab: usize,
    hidden: usize,
) -> Result<Linear, HfError> {
    Linear::new(weights.get(name, &[vocab, hidden])?, None, vocab, hidden)
        .ok_or_else(|| HfError::Request("inconsistent output head".into()))
}

/// Effects as next-token loss increases over the clean loss.
pub(crate) fn loss_increase(clean: f64, losses: &[f64]) -> HeadAblation {
    HeadAblation {
        metric: format!("next-token loss increase (nats; clean loss {clean:.4})"),
        effects: losses.iter().map(|l| l - clean).collect(),
    }
}

/// Implements `CaptureModel` for a model type with inherent `model_dims`, `encode`,
/// `forward(ids, layers, sink, full)` and `head_effects(ids, heads, progress)`.
macro_rules! capture_model {
    ($t:ty) => {
        impl pespectra_capture::CaptureModel for $t {
            fn dims(&self) -> pespectra_capture::ModelDims {
                self.model_dims()
            }

            fn tokenize(&self, text: &str) -> Result<Vec<u32>, pespectra_capture::ModelError> {
                self.encode(text).map_err(|e| {
                    pespectra_capture::ModelError::new(pespectra_capture::ModelStage::Tokenize, e)
                })
            }

            fn capture(
                &self,
                ids: &[u32],
                layers: &[usize],
                sink: &mut dyn FnMut(pespectra_capture::HeadCapture),
            ) -> Result<(), pespectra_capture::ModelError> {
                self.forward(ids, layers, sink, false)
                    .map(|_| ())
                    .map_err(|e| {
                        pespectra_capture::ModelError::new(
                            pespectra_capture::ModelStage::Forward,
                            e,
                        )
                    })
            }

            fn ablation(
                &self,
                ids: &[u32],
                heads: &[(usize, usize)],
                progress: &mut dyn FnMut(usize, usize),
            ) -> Result<pespectra_capture::HeadAblation, pespectra_capture::ModelError> {
                self.head_effects(ids, heads, progress).map_err(|e| {
                    pespectra_capture::ModelError::new(pespectra_capture::ModelStage::Ablation, e)
                })
            }
        }
    };
}
pub(crate) use capture_model;
