//! The shipped `tokenizer.json` (BERT normaliser + WordPiece; `[CLS]…[SEP]` for MiniLM,
//! `<s>…</s>` for MPNet) through the `tokenizers` crate, with the file's own truncation and
//! padding switched off: both files truncate to 128 tokens, which would hide an over-long
//! input instead of reporting it.

use std::path::Path;

use tokenizers::Tokenizer;

use crate::error::EncoderError;

/// Tokenizer plus the model's length limit.
pub(crate) struct TextTokenizer {
    inner: Tokenizer,
    max_tokens: usize,
}

impl TextTokenizer {
    pub(crate) fn load(path: &Path, max_tokens: usize) -> Result<Self, EncoderError> {
        let bad =
            |e: &dyn std::fmt::Display| EncoderError::Format(format!("{}: {e}", path.display()));
        if !path.is_file() {
            return Err(EncoderError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| bad(&e))?;
        inner.with_truncation(None).map_err(|e| bad(&e))?;
        inner.with_padding(None);
        Ok(Self { inner, max_tokens })
    }

    /// Ids with the special tokens, as transformers' `tokenizer(text)["input_ids"]`.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>, EncoderError> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| EncoderError::InvalidInput(format!("tokenizer: {e}")))?;
        if enc.get_special_tokens_mask().iter().all(|&s| s == 1) {
            return Err(EncoderError::EmptyText);
        }
        let ids = enc.get_ids().to_vec();
        if ids.len() > self.max_tokens {
            return Err(EncoderError::TooLong {
                tokens: ids.len(),
                max: self.max_tokens,
            });
        }
        Ok(ids)
    }

    /// Token strings of `ids` (for labelling plots).
    pub(crate) fn tokens(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&i| {
                self.inner
                    .id_to_token(i)
                    .unwrap_or_else(|| format!("<{i}>"))
            })
            .collect()
    }
}
