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
    /// A model file is malformed (bad JSON, bad safetensors header, unknown architecture).
    #[error("{0}")]
    Format(String),
    /// The weights lack a tensor the architecture needs.
    #[error("weights have no tensor `{0}`")]
    MissingTensor(String),
    /// A tensor has another shape than the config implies.
    #[error("tensor `{name}` has shape {actual:?}, the config implies {expected:?}")]
    TensorShape {
        /// Tensor name.
        name: String,
        /// Shape implied by config.json.
        expected: Vec<usize>,
        /// Shape in the file.
        actual: Vec<usize>,
    },
    /// A tensor is not stored as F32.
    #[error("tensor `{name}` is {dtype}, only F32 is supported")]
    TensorDtype {
        /// Tensor name.
        name: String,
        /// Its dtype in the file.
        dtype: String,
    },
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
