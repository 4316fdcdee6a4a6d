//! What every HF forward pass shares: the request checks, the per-layer trace kept for
//! ablations, the ablation loop, the output head, and the [`CaptureModel`] impl (one macro, so
//! every model type gets the same one).
//!
//! [`CaptureModel`]: pespectra_capture::CaptureModel

use std::sync::{Arc, Mutex};

use pespectra_capture::HeadAblation;
use pespectra_layers::Linear;

use crate::error::HfError;
use crate::source::TensorSource;

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

/// Converted layers are kept when the whole checkpoint is at most this large in f32.
pub(crate) const CACHE_LIMIT_BYTES: u64 = 2 << 30;

/// Each layer's weights converted to f32 once, when the whole checkpoint fits in
/// [`CACHE_LIMIT_BYTES`] (ablations rerun the later layers once per head); otherwise every use
/// converts again from the mapped file, so memory stays at one layer.
pub(crate) struct LayerCache<T>(Option<Mutex<Vec<Option<Arc<T>>>>>);

impl<T> LayerCache<T> {
    pub(crate) fn new(layers: usize, weights: &dyn TensorSource) -> Self {
        Self(
            (weights.f32_bytes() <= CACHE_LIMIT_BYTES)
                .then(|| Mutex::new((0..layers).map(|_| None).collect())),
        )
    }

    /// Layer `l`, converted by `load` unless kept from an earlier call.
    pub(crate) fn get(
        &self,
        l: usize,
        load: impl FnOnce() -> Result<T, HfError>,
    ) -> Result<Arc<T>, HfError> {
        if let Some(Some(w)) = self
            .0
            .as_ref()
            .and_then(|c| c.lock().ok().map(|c| c.get(l).cloned().flatten()))
        {
            return Ok(w);
        }
        let w = Arc::new(load()?);
        if let Some(Ok(mut c)) = self.0.as_ref().map(|c| c.lock()) {
            if let Some(slot) = c.get_mut(l) {
                *slot = Some(Arc::clone(&w));
            }
        }
        Ok(w)
    }
}

/// How many layers a forward pass runs: all (`full`) or up to the last captured one, after
/// checking that every captured layer exists.
pub(crate) fn layers_to_run(
    capture: &[usize],
    layers: usize,
    full: bool,
) -> Result<usize, HfError> {
    if let Some(&l) = capture.iter().find(|&&l| l >= layers) {
        return Err(HfError::Request(format!(
            "layer {l} does not exist (the model has {layers} layers)"
        )));
    }
    Ok(if full {
        layers
    } else {
        capture.iter().max().map_or(0, |m| m + 1)
    })
}

/// A next-token loss needs a next token.
pub(crate) fn check_loss_input(n: usize) -> Result<(), HfError> {
    if n < 2 {
        return Err(HfError::Request(
            "a next-token loss needs at least 2 tokens".into(),
        ));
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
    weights: &dyn TensorSource,
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
