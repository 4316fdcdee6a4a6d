//! The checkpoint's tokenizer: `tokenizer.json` when the directory has one, the vocabulary of a
//! GGUF file; without either the model takes token ids only.

use std::path::{Path, PathBuf};

use crate::error::HfError;
use crate::gguf::GgufTokenizer;

enum Kind {
    Json(Box<tokenizers::Tokenizer>),
    Gguf(GgufTokenizer),
    Absent,
}

/// The checkpoint's tokenizer, if any.
pub struct TextTokenizer {
    path: PathBuf,
    kind: Kind,
}

impl TextTokenizer {
    /// Loads `dir/tokenizer.json` when it exists.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let path = dir.join("tokenizer.json");
        let kind = if path.exists() {
            Kind::Json(Box::new(tokenizers::Tokenizer::from_file(&path).map_err(
                |e| HfError::Tokenizer {
                    path: path.clone(),
                    message: e.to_string(),
                },
            )?))
        } else {
            Kind::Absent
        };
        Ok(Self { path, kind })
    }

    /// The tokenizer read from the GGUF file `path`.
    pub fn gguf(path: &Path, tokenizer: GgufTokenizer) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: Kind::Gguf(tokenizer),
        }
    }

    /// Whether there is a tokenizer.
    pub fn present(&self) -> bool {
        !matches!(self.kind, Kind::Absent)
    }

    /// The file's path (whether or not it exists).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Token ids of `text` with the tokenizer's special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, HfError> {
        let t = match &self.kind {
            Kind::Json(t) => t,
            Kind::Gguf(g) => {
                return g.encode(text).map_err(|message| HfError::Tokenizer {
                    path: self.path.clone(),
                    message,
                })
            }
            Kind::Absent => {
                return Err(HfError::Tokenizer {
                    path: self.path.clone(),
                    message: "missing: give token ids instead of text".into(),
                })
            }
        };
        let enc = t.encode(text, true).map_err(|e| HfError::Tokenizer {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(enc.get_ids().to_vec())
    }
}
