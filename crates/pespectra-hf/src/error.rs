//! Typed errors of checkpoint loading and running; every message names the file and field.

use std::path::PathBuf;

/// Why a checkpoint cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum HfError {
    /// A file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `config.json` misses a field, or a field has the wrong type or an impossible value.
    #[error("{}: {field}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The `model_type` has no forward pass here.
    #[error("{}: model_type '{model_type}' is not supported (supported: {})", path.display(), crate::SUPPORTED.join(", "))]
    Unsupported {
        /// The config file.
        path: PathBuf,
        /// Its model type.
        model_type: String,
    },
    /// A weights file is not a readable safetensors file, or the index is malformed.
    #[error("{}: {message}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A tensor is missing or has the wrong shape or dtype.
    #[error("{}: tensor '{name}': {message}", path.display())]
    Tensor {
        /// The file that should hold it (the index, or the single weights file).
        path: PathBuf,
        /// Tensor name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The tokenizer cannot be loaded or fails on the text.
    #[error("{}: {message}", path.display())]
    Tokenizer {
        /// `tokenizer.json`.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A request the model cannot serve (too many tokens, an id outside the vocabulary, …).
    #[error("{0}")]
    Request(String),
    /// The attention core refused its inputs.
    #[error(transparent)]
    Attention(#[from] pespectra_attention::Error),
}
