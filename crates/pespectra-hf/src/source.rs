//! Where a checkpoint's tensors come from. Every forward pass reads HF-named, HF-shaped f32
//! tensors through [`TensorSource`]; safetensors files ([`crate::weights::Weights`]) and GGUF
//! files ([`crate::gguf::GgufSource`], which renames llama.cpp's tensors and undoes its
//! conventions) are its two implementations, so a family's forward pass never knows the format.

use std::path::PathBuf;

use crate::error::HfError;

/// Tensors by HF name, converted to row-major f32 on request (one tensor at a time, so a model
/// larger than its f32 size still runs).
pub trait TensorSource: Send + Sync {
    /// The files read (for provenance digests).
    fn files(&self) -> Vec<PathBuf>;
    /// Bytes of every tensor once converted to f32 (decides whether converted layers are kept).
    fn f32_bytes(&self) -> u64;
    /// Whether tensor `name` exists.
    fn has(&self, name: &str) -> bool;
    /// Checks that `name` exists with `shape` and a readable type, converting nothing.
    fn check(&self, name: &str, shape: &[usize]) -> Result<(), HfError>;
    /// Tensor `name` as row-major f32, checked to have `shape` and finite values.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, HfError>;
    /// Rows `rows` of the matrix `name` (`shape = [r, c]`), converting only those rows (an
    /// embedding lookup touches n rows of a vocabulary-sized table).
    fn rows(&self, name: &str, shape: [usize; 2], rows: &[usize]) -> Result<Vec<f32>, HfError>;
}

/// Rows `rows` of a `[r, c]` matrix stored row after row in `bytes`, `width` bytes a row, each
/// converted by `convert`; an index ≥ r is a request error (a token outside the vocabulary).
pub(crate) fn gather_rows(
    bytes: &[u8],
    shape: [usize; 2],
    width: usize,
    rows: &[usize],
    mut convert: impl FnMut(&[u8]) -> Result<Vec<f32>, HfError>,
) -> Result<Vec<f32>, HfError> {
    let mut out = Vec::with_capacity(rows.len() * shape[1]);
    for &r in rows {
        if r >= shape[0] {
            return Err(HfError::Request(format!(
                "token id {r} is outside the vocabulary of {} tokens",
                shape[0]
            )));
        }
        out.extend(convert(&bytes[r * width..(r + 1) * width])?);
    }
    Ok(out)
}
