//! `tokenizer.json` when the checkpoint has one; without it the model takes token ids only.

use std::path::{Path, PathBuf};

use crate::error::HfError;

/// The checkpoint's tokenizer, if any.
pub struct TextTokenizer {
    path: PathBuf,
    tok: Option<tokenizers::Tokenizer>,
}

impl TextTokenizer {
    /// Loads `dir/tokenizer.json` when it exists.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let path = dir.join("tokenizer.json");
        let tok = if path.exists() {
            Some(
                tokenizers::Tokenizer::from_file(&path).map_err(|e| HfError::Tokenizer {
                    path: path.clone(),
                    message: e.to_string(),
                })?,
            )
        } else {
            None
        };
        Ok(Self { path, tok })
    }

    /// Whether the file was there.
    pub fn present(&self) -> bool {
        self.tok.is_some()
    }

    /// The file's path (whether or not it exists).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Token ids of `text` with the tokenizer's special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, HfError> {
        let t = self.tok.as_ref().ok_or_else(|| HfError::Tokenizer {
            path: self.path.clone(),
            message: "missing: give token ids instead of text".into(),
        })?;
        let enc = t.encode(text, true).map_err(|e| HfError::Tokenizer {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(enc.get_ids().to_vec())
    }
}
