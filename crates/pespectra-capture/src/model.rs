//! [`CaptureModel`]: a trained model seen only through what the audit needs from it.
//!
//! Every model source (the GGUF llama, the safetensors encoders, and later HF checkpoints and
//! trained synthetic models) implements this one trait, so the audit orchestration
//! (`pespectra_audit::model`) is written once and never knows which model it drives.

use crate::HeadCapture;

/// Shape of a model as the audit sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelDims {
    /// Transformer layers.
    pub layers: usize,
    /// Query heads per layer.
    pub heads: usize,
    /// Longest token sequence the model accepts (its position limit).
    pub context: usize,
}

/// The effect of zeroing single heads, for E3's ablation concentration.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadAblation {
    /// What an effect measures, in one line with its unit (it goes into the report).
    pub metric: String,
    /// One effect per requested `(layer, head)`, in the request's order.
    pub effects: Vec<f64>,
}

/// Which step of a model failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelStage {
    /// Turning text into token ids.
    Tokenize,
    /// The forward pass with capture.
    Forward,
    /// The head ablations.
    Ablation,
}

impl ModelStage {
    /// Lower-case name, as in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tokenize => "tokenizer",
            Self::Forward => "forward pass",
            Self::Ablation => "ablation",
        }
    }
}

/// A model's own error, tagged with the stage that raised it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", stage.as_str())]
pub struct ModelError {
    /// Where it failed.
    pub stage: ModelStage,
    /// The model crate's typed error.
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ModelError {
    /// Wraps a model crate's error raised at `stage`.
    pub fn new(stage: ModelStage, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            stage,
            source: Box::new(source),
        }
    }
}

/// A trained model whose attention heads can be captured and ablated.
pub trait CaptureModel: Sync {
    /// Layers, heads and position limit.
    fn dims(&self) -> ModelDims;

    /// Token ids of `text` as the model reads it (special tokens included). A model with a
    /// position limit returns the ids of the longest prefix of whole words that fits.
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError>;

    /// The input of `n` tokens taken from `ids` (at least `n` long). By default the first `n`;
    /// encoders keep their closing special token last.
    fn prefix(&self, ids: &[u32], n: usize) -> Vec<u32> {
        ids[..n.min(ids.len())].to_vec()
    }

    /// Runs `ids` and hands every head of every listed layer to `sink`, layer then head order.
    fn capture(
        &self,
        ids: &[u32],
        layers: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), ModelError>;

    /// The effect on the model's output of zeroing each listed `(layer, head)` on `ids`;
    /// `progress(done, total)` after each group of heads.
    fn ablation(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, ModelError>;

    /// Whether the E2 sweep over n = 64…1024 belongs to a default audit (cheap for small
    /// encoders, opt-in for decoders).
    fn growth_by_default(&self) -> bool {
        false
    }
}
