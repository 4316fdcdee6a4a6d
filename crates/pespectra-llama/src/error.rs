//! Why loading or running the model failed.

use pespectra_models::gguf::GgufError;

/// Why loading or running the model failed. `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum LlamaError {
    /// The GGUF file cannot be read.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The file describes something this forward pass does not implement.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// Building or running the tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// No tokens (empty text).
    #[error("empty input: the text has no tokens")]
    EmptyInput,
    /// More tokens than the model's context.
    #[error("input too long: {n} tokens, the model's context is {max}")]
    TooLong {
        /// Tokens given.
        n: usize,
        /// Context length.
        max: usize,
    },
    /// A token id outside the vocabulary.
    #[error("token id {id} is outside the vocabulary of {vocab}")]
    BadToken {
        /// The id.
        id: u32,
        /// Vocabulary size.
        vocab: usize,
    },
    /// A layer or head index out of range, or an inconsistent request.
    #[error("{0}")]
    BadRequest(String),
    /// The attention core refused its inputs (non-finite activations, …).
    #[error("attention core: {0}")]
    Attention(#[from] pespectra_attention::Error),
}
