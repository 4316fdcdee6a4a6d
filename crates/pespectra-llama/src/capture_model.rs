//! The GGUF llama as a [`CaptureModel`], the one interface the audit drives models through.

use pespectra_capture::{
    CaptureModel, HeadAblation, HeadCapture, ModelDims, ModelError, ModelStage,
};

use crate::{ForwardOptions, Llama};

impl CaptureModel for Llama {
    fn dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.n_layers,
            heads: self.config.n_heads,
            context: self.config.context,
        }
    }

    /// Every id of `text` (a causal model's prefix is an input of its own, so nothing is cut).
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.encode(text)
            .map_err(|e| ModelError::new(ModelStage::Tokenize, e))
    }

    fn capture(
        &self,
        ids: &[u32],
        layers: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), ModelError> {
        let mut opts = ForwardOptions {
            capture_layers: layers.to_vec(),
            sink: Some(sink),
            loss: false,
        };
        self.forward(ids, &mut opts)
            .map(|_| ())
            .map_err(|e| ModelError::new(ModelStage::Forward, e))
    }

    /// Increase of the mean next-token loss (nats) with the head zeroed.
    fn ablation(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, ModelError> {
        let abl = self
            .ablation_losses(ids, heads, progress)
            .map_err(|e| ModelError::new(ModelStage::Ablation, e))?;
        Ok(HeadAblation {
            metric: format!(
                "next-token loss increase (nats; clean loss {:.4})",
                abl.clean_loss
            ),
            effects: abl.losses.iter().map(|l| l - abl.clean_loss).collect(),
        })
    }
}
