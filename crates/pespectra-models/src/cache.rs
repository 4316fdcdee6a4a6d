//! The verified cache: where models live, the marker that says a directory was checked, and the SHA-256 checks.

use crate::error::io_err;
use crate::install::FETCH_LOCK;
use crate::{lookup, FileDigest, ModelError, ModelSpec};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Cache root: `$PESPECTRA_CACHE`, else `$XDG_CACHE_HOME/pespectra`, else `~/.cache/pespectra`.
pub fn cache_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = nonempty("PESPECTRA_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("pespectra");
    }
    let home = nonempty("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("pespectra")
}

/// Name of the marker written into a model directory once its weights are verified.
pub(crate) const MARKER: &str = ".pespectra-verified";

pub(crate) fn marker_text(spec: &ModelSpec) -> String {
    spec.weights
        .iter()
        .map(|w| format!("{}  {}\n", w.sha256, w.path))
        .collect()
}

/// The model's directory if it is installed and was verified: the marker written after the hash
/// check is present and names the pinned hashes, and every weight file has its pinned size (a
/// cheap guard against later truncation; [`verify`] re-hashes).
pub fn installed(name: &str) -> Result<Option<PathBuf>, ModelError> {
    let spec = lookup(name)?;
    Ok(installed_in(spec, &cache_dir()))
}

pub(crate) fn installed_in(spec: &ModelSpec, cache: &Path) -> Option<PathBuf> {
    let dir = cache.join(spec.name);
    let marker = fs::read_to_string(dir.join(MARKER)).ok()?;
    if marker != marker_text(spec) {
        return None;
    }
    let sizes_ok = spec.weights.iter().all(|w| {
        fs::metadata(dir.join(w.path))
            .map(|m| m.len() == w.bytes)
            .unwrap_or(false)
    });
    sizes_ok.then_some(dir)
}

/// Re-hashes the weight files of an installed model (a full read of each) against the pinned
/// SHA-256s; a mismatch is [`ModelError::Corrupted`]. Returns the digests, for provenance.
pub fn verify(name: &str) -> Result<Vec<FileDigest>, ModelError> {
    let spec = lookup(name)?;
    verify_dir(spec, &cache_dir().join(spec.name))
}

fn verify_dir(spec: &ModelSpec, dir: &Path) -> Result<Vec<FileDigest>, ModelError> {
    spec.weights
        .iter()
        .map(|w| {
            let path = dir.join(w.path);
            let (sha, len) = sha256_file(&path)?;
            if sha != w.sha256 || len != w.bytes {
                let found = if len != w.bytes {
                    format!("{sha} ({len} bytes, pinned {})", w.bytes)
                } else {
                    sha
                };
                return Err(ModelError::Corrupted {
                    model: spec.name.into(),
                    path,
                    expected: w.sha256.into(),
                    found,
                });
            }
            Ok(FileDigest {
                path: w.path.into(),
                sha256: sha,
                bytes: len,
            })
        })
        .collect()
}

/// A re-verification of an installed model's weights running on its own thread while the
/// model is loaded and used: integrity at every load costs one sequential read of the files
/// (≈ 0.1–0.4 s for the registry's models), overlapped with the forward pass. [`Self::wait`]
/// must succeed before any result computed from the weights is reported.
pub struct BackgroundVerification(std::thread::JoinHandle<Result<Vec<FileDigest>, ModelError>>);

impl BackgroundVerification {
    /// Starts re-hashing the installed weights of `name` in `dir`.
    pub fn start(name: &str, dir: &Path) -> Result<Self, ModelError> {
        let spec = lookup(name)?;
        let dir = dir.to_path_buf();
        Ok(Self(std::thread::spawn(move || verify_dir(spec, &dir))))
    }

    /// The digests, or the mismatch.
    pub fn wait(self) -> Result<Vec<FileDigest>, ModelError> {
        self.0
            .join()
            .unwrap_or_else(|_| Err(ModelError::Io("the verification thread panicked".into())))
    }
}

/// Removes the installed copy of `name` (a corrupted one, before fetching it again). Nothing to
/// remove is not an error.
pub fn remove_installed(name: &str) -> Result<(), ModelError> {
    let spec = lookup(name)?;
    let _one_at_a_time = FETCH_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir().join(spec.name);
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&dir, e)),
        _ => Ok(()),
    }
}

/// SHA-256 and length of a file, streamed.
fn sha256_file(path: &Path) -> Result<(String, u64), ModelError> {
    let mut f = fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        len += k as u64;
    }
    Ok((hex(&h.finalize()), len))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn check_file(
    path: &Path,
    label: &str,
    sha256: &str,
    bytes: u64,
) -> Result<(), ModelError> {
    let (got, len) = sha256_file(path)?;
    if len != bytes || got != sha256 {
        let got = if len != bytes {
            format!("{got} ({len} bytes, expected {bytes})")
        } else {
            got
        };
        return Err(ModelError::HashMismatch {
            file: label.to_string(),
            expected: sha256.to_string(),
            got,
        });
    }
    Ok(())
}

pub(crate) fn check_weights(spec: &ModelSpec, dir: &Path) -> Result<(), ModelError> {
    for w in spec.weights {
        let path = dir.join(w.path);
        if !path.exists() {
            return Err(ModelError::Archive(format!(
                "{} is missing {}",
                spec.name, w.path
            )));
        }
        check_file(&path, w.path, w.sha256, w.bytes)?;
    }
    Ok(())
}
