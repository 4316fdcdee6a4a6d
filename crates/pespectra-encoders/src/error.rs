//! One error type for loading, tokenising and running an encoder.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong; every message is one line naming what and where.
#[derive(Debug)]
pub enum EncoderError {
    /// A model file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A model file is malformed (bad JSON, bad safetensors header, unknown architecture).
    Format(String),
    /// The weights lack a tensor the architecture needs.
    MissingTensor(String),
    /// A tensor has another shape than the config implies.
    TensorShape {
        /// Tensor name.
        name: String,
        /// Shape implied by config.json.
        expected: Vec<usize>,
        /// Shape in the file.
        actual: Vec<usize>,
    },
    /// A tensor is not stored as F32.
    TensorDtype {
        /// Tensor name.
        name: String,
        /// Its dtype in the file.
        dtype: String,
    },
    /// The text produced no tokens besides the special ones.
    EmptyText,
    /// The input has more tokens than the model has positions.
    TooLong {
        /// Tokens including the special ones.
        tokens: usize,
        /// The model's maximum.
        max: usize,
    },
    /// Any other invalid argument (bad token id, layer index, empty batch, ...).
    InvalidInput(String),
    /// The attention core rejected its input (e.g. non-finite activations).
    Attention(pespectra_attention::Error),
}

impl fmt::Display for EncoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::Format(m) => write!(f, "{m}"),
            Self::MissingTensor(n) => write!(f, "weights have no tensor `{n}`"),
            Self::TensorShape {
                name,
                expected,
                actual,
            } => write!(
                f,
                "tensor `{name}` has shape {actual:?}, the config implies {expected:?}"
            ),
            Self::TensorDtype { name, dtype } => {
                write!(f, "tensor `{name}` is {dtype}, only F32 is supported")
            }
            Self::EmptyText => write!(f, "the text is empty (no tokens besides the special ones)"),
            Self::TooLong { tokens, max } => write!(
                f,
                "the input has {tokens} tokens, the model accepts at most {max}"
            ),
            Self::InvalidInput(m) => write!(f, "{m}"),
            Self::Attention(e) => write!(f, "attention: {e}"),
        }
    }
}

impl std::error::Error for EncoderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Attention(e) => Some(e),
            _ => None,
        }
    }
}

impl From<pespectra_attention::Error> for EncoderError {
    fn from(e: pespectra_attention::Error) -> Self {
        Self::Attention(e)
    }
}
