//! HuggingFace-format checkpoints as [`CaptureModel`]s.
//!
//! A checkpoint directory holds `config.json`, `model.safetensors` or a sharded
//! `model.safetensors.index.json`, and usually `tokenizer.json`. [`open`] reads the config,
//! maps the weights (f32, f16 or bf16, converted one layer at a time) and returns the model
//! behind the [`CaptureModel`] trait the audit drives. Supported `model_type`s: [`SUPPORTED`].
//!
//! ```no_run
//! use pespectra_capture::CaptureModel;
//! let m = pespectra_hf::open(std::path::Path::new("path/to/checkpoint"))?;
//! let dims = m.dims();
//! let mut heads = 0;
//! m.capture(&[1, 2, 3, 4], &[0], &mut |_| heads += 1)?;
//! assert_eq!(heads, dims.heads);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod decoder;
pub mod error;
pub mod weights;

use std::path::Path;

use pespectra_capture::{
    CaptureModel, HeadAblation, HeadCapture, ModelDims, ModelError, ModelStage,
};

pub use config::{DecoderConfig, SUPPORTED};
pub use decoder::Decoder;
pub use error::HfError;

/// Whether `dir` looks like a checkpoint (it has a `config.json`).
pub fn is_checkpoint(dir: &Path) -> bool {
    dir.join("config.json").is_file()
}

/// Opens the checkpoint in `dir`.
pub fn open(dir: &Path) -> Result<Decoder, HfError> {
    Decoder::load(dir)
}

impl CaptureModel for Decoder {
    fn dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: self.config.max_positions,
        }
    }

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
        self.forward(ids, layers, sink, false)
            .map(|_| ())
            .map_err(|e| ModelError::new(ModelStage::Forward, e))
    }

    fn ablation(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, ModelError> {
        let (clean, losses) = self
            .ablation_losses(ids, heads, progress)
            .map_err(|e| ModelError::new(ModelStage::Ablation, e))?;
        Ok(HeadAblation {
            metric: format!("next-token loss increase (nats; clean loss {clean:.4})"),
            effects: losses.iter().map(|l| l - clean).collect(),
        })
    }
}
