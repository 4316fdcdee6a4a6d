//! HuggingFace-format checkpoints as [`CaptureModel`]s.
//!
//! A checkpoint directory holds `config.json`, `model.safetensors` or a sharded
//! `model.safetensors.index.json`, and usually `tokenizer.json`. [`open`] reads the config,
//! maps the weights (f32, f16 or bf16, converted one tensor at a time) and returns the model
//! for its `model_type` behind the [`CaptureModel`] trait the audit drives. Supported
//! `model_type`s: [`SUPPORTED`].
//!
//! ```no_run
//! let ckpt = pespectra_hf::open(std::path::Path::new("path/to/checkpoint"))?;
//! let dims = ckpt.model.dims();
//! let mut heads = 0;
//! ckpt.model.capture(&[1, 2, 3, 4], &[0], &mut |_| heads += 1)?;
//! assert_eq!(heads, dims.heads);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod decoder;
pub mod e4;
pub mod error;
pub mod fused;
pub mod gguf;
pub mod mla;
pub mod source;
mod stack;
pub mod t5;
pub mod tokenizer;
pub mod weights;

use std::path::{Path, PathBuf};

use pespectra_capture::CaptureModel;

pub use config::DecoderConfig;
pub use decoder::Decoder;
pub use e4::E4Model;
pub use error::HfError;
pub use fused::{Fused, QkvLayout};
pub use mla::MlaModel;
pub use t5::T5Encoder;

/// The `model_type`s [`open`] runs.
pub const SUPPORTED: [&str; 17] = [
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma2",
    "gemma3_text",
    "phi3",
    "stablelm",
    "bloom",
    "falcon",
    "gpt_neox",
    "gpt2",
    "mpt",
    "deepseek_v2",
    "deepseek_v3",
    "t5",
    e4::MODEL_TYPE,
];

/// Whether `dir` looks like a checkpoint (it has a `config.json`).
pub fn is_checkpoint(dir: &Path) -> bool {
    dir.join("config.json").is_file()
}

/// An opened checkpoint: its model and the files it was read from.
pub struct Checkpoint {
    /// The forward pass.
    pub model: Box<dyn CaptureModel + Send>,
    /// config.json, the weight files, the index and tokenizer.json when present.
    pub files: Vec<PathBuf>,
}

/// Opens the checkpoint in `dir` with the forward pass of its `model_type`.
pub fn open(dir: &Path) -> Result<Checkpoint, HfError> {
    let (path, _, model_type) = config::read(dir)?;
    let (model, weights, tokenizer): (Box<dyn CaptureModel + Send>, Vec<PathBuf>, bool) =
        match model_type.as_str() {
            t if config::LLAMA_FAMILY.contains(&t) => {
                let d = Decoder::load(dir)?;
                let (w, t) = (d.weight_files(), d.has_tokenizer());
                (Box::new(d), w, t)
            }
            "bloom" | "falcon" | "gpt_neox" | "gpt2" | "mpt" => {
                let b = Fused::load(dir)?;
                let (w, t) = (b.weight_files(), b.has_tokenizer());
                (Box::new(b), w, t)
            }
            "deepseek_v2" | "deepseek_v3" => {
                let m = MlaModel::load(dir)?;
                let (w, t) = (m.weight_files(), m.has_tokenizer());
                (Box::new(m), w, t)
            }
            "t5" => {
                let e = T5Encoder::load(dir)?;
                let (w, t) = (e.weight_files(), e.has_tokenizer());
                (Box::new(e), w, t)
            }
            e4::MODEL_TYPE => {
                let m = E4Model::load(dir)?;
                let (w, t) = (m.weight_files(), m.has_tokenizer());
                (Box::new(m), w, t)
            }
            _ => return Err(HfError::Unsupported { path, model_type }),
        };
    let mut files = vec![path];
    files.extend(weights);
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        files.push(index);
    }
    if tokenizer {
        files.push(dir.join("tokenizer.json"));
    }
    Ok(Checkpoint { model, files })
}

/// Opens the GGUF file `path` ([`gguf::ARCHITECTURES`]) with the forward pass of its
/// architecture.
pub fn open_gguf(path: &Path) -> Result<Checkpoint, HfError> {
    let d = gguf::open(path)?;
    Ok(Checkpoint {
        model: Box::new(d),
        files: vec![path.to_path_buf()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every listed type reaches its loader (which then fails on the empty checkpoint for its
    /// own reason), and an unlisted one is refused by name.
    #[test]
    fn supported_lists_what_open_dispatches() {
        let base =
            std::env::temp_dir().join(format!("pespectra-hf-supported-{}", std::process::id()));
        for t in SUPPORTED.iter().chain(&["no_such_model"]) {
            let dir = base.join(t);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("config.json"),
                format!("{{\"model_type\": \"{t}\"}}"),
            )
            .unwrap();
            let unsupported = matches!(open(&dir), Err(HfError::Unsupported { .. }));
            assert_eq!(unsupported, *t == "no_such_model", "{t}");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
