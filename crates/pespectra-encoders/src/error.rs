//! One error type for loading, tokenising and running an encoder.

use std::path::PathBuf;

/// Everything that can go wrong; every message is one line naming what and where.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// A model file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A model file is malformed (bad JSON, unknown architecture, bad tokenizer).
    #[error("{0}")]
    Format(String),
    /// The weights file is unreadable, or a tensor is missing, misshapen or not finite.
    #[error(transparent)]
    Weights(#[from] pespectra_hf::HfError),
    /// The text produced no tokens besides the special ones.
    #[error("the text is empty (no tokens besides the special ones)")]
    EmptyText,
    /// The input has more tokens than the model has positions.
    #[error("the input has {tokens} tokens, the model accepts at most {max}")]
    TooLong {
        /// Tokens including the special ones.
        tokens: usize,
        /// The model's maximum.
        max: usize,
    },
    /// Any other invalid argument (bad token id, layer index, empty batch, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The attention core rejected its input (e.g. non-finite activations).
    #[error("attention: {0}")]
    Attention(#[from] pespectra_attention::Error),
}
