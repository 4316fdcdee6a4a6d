//! Model sources as [`CaptureModel`]s, and the audit of a model source.
//!
//! A [`Source`] is a registry name (`pespectra models list`: fetched, verified against pinned
//! hashes) or a HuggingFace checkpoint directory (`config.json` + safetensors, hashed for the
//! provenance). [`open`] loads the matching forward pass behind the one [`CaptureModel`] trait;
//! [`audit`] runs `pespectra_audit::audit_model` on it while the files are hashed in the
//! background, and returns the report with its provenance block; [`capture`] writes a capture
//! directory. The CLI and the Python package both call these, so they write the same documents.
//!
//! ```no_run
//! use pespectra_audit::{AuditOptions, Input};
//! use pespectra_sources::Source;
//! let opts = AuditOptions { n: 64, layers: Some(vec![0]), ablation: false, ..Default::default() };
//! let input = Input::Text(pespectra_audit::DEFAULT_TEXT.to_string());
//! let source = Source::parse("minilm-l6")?;
//! let run = pespectra_sources::audit(&source, &input, "built-in", &opts, &["example"],
//!     &mut |line| eprintln!("{line}"), &|_, _, _| {})?;
//! assert_eq!(run.report.n, 64);
//! # Ok::<(), pespectra_sources::SourceError>(())
//! ```

#![warn(missing_docs)]

pub mod qk;

/// The registry's error (lookup, fetch, integrity).
pub use pespectra_models::ModelError as RegistryError;

use std::io::Read;
use std::path::{Path, PathBuf};

use pespectra_audit::report::AuditReport;
use pespectra_audit::{AuditOptions, AuditRunError, Input};
use pespectra_capture::CaptureModel;
use pespectra_models::BackgroundVerification;
use pespectra_provenance::FileDigest;

/// Why a model source could not be opened or audited.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Registry lookup, fetch or integrity check failed.
    #[error("{0}")]
    Registry(#[from] pespectra_models::ModelError),
    /// Not installed, and fetching it failed.
    #[error("model {model} is not installed and fetching it failed: {source}")]
    Fetch {
        /// Registry name.
        model: String,
        /// The registry's error.
        source: pespectra_models::ModelError,
    },
    /// The installed files did not load.
    #[error("{model}: {source}")]
    Load {
        /// Registry name.
        model: String,
        /// The model crate's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A HuggingFace checkpoint could not be loaded.
    #[error(transparent)]
    Checkpoint(#[from] pespectra_hf::HfError),
    /// A path that is not a checkpoint directory.
    #[error("{}: not a model checkpoint (no config.json, not a .gguf file), not a capture directory (no manifest.json) and not a registry name", path.display())]
    NotACheckpoint {
        /// The path.
        path: PathBuf,
    },
    /// The audit itself failed.
    #[error(transparent)]
    Run(#[from] AuditRunError),
    /// A capture directory cannot be read or written.
    #[error(transparent)]
    Store(#[from] pespectra_capture::store::StoreError),
    /// A checkpoint file could not be hashed.
    #[error("{}: {source}", path.display())]
    Hash {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

/// Where a model comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A registry name.
    Registry(String),
    /// A HuggingFace checkpoint directory, or a GGUF file.
    Checkpoint(PathBuf),
}

impl Source {
    /// A checkpoint when `arg` is one (a directory with `config.json`, or a `.gguf` file), a
    /// path error when it looks like a path but is not one, else a registry name (checked on
    /// [`open`]).
    pub fn parse(arg: &str) -> Result<Self, SourceError> {
        let p = Path::new(arg);
        if pespectra_hf::is_checkpoint(p) || (p.is_file() && arg.ends_with(".gguf")) {
            Ok(Self::Checkpoint(p.to_path_buf()))
        } else if p.exists() || arg.contains('/') {
            Err(SourceError::NotACheckpoint {
                path: p.to_path_buf(),
            })
        } else {
            Ok(Self::Registry(arg.to_string()))
        }
    }
}

enum Integrity {
    Registry(BackgroundVerification),
    Files(std::thread::JoinHandle<Result<Vec<FileDigest>, SourceError>>),
}

/// A loaded model whose files are being hashed in the background.
pub struct OpenModel {
    /// Registry name, or the checkpoint's directory name.
    pub name: String,
    /// Installation or checkpoint directory.
    pub dir: PathBuf,
    /// The forward pass.
    pub model: Box<dyn CaptureModel + Send>,
    integrity: Integrity,
}

impl OpenModel {
    /// Waits for the hashes of the model's files; for a registry model an error means the
    /// files were corrupted.
    pub fn verified(self) -> Result<Vec<FileDigest>, SourceError> {
        match self.integrity {
            Integrity::Registry(v) => Ok(v.wait()?),
            Integrity::Files(h) => h.join().unwrap_or_else(|_| {
                Err(SourceError::Hash {
                    path: self.dir.clone(),
                    source: std::io::Error::other("the hashing thread panicked"),
                })
            }),
        }
    }
}

/// SHA-256 of `files` (paths shown relative to `dir`), read in 1 MiB chunks.
fn hash_files(dir: &Path, files: &[PathBuf]) -> Result<Vec<FileDigest>, SourceError> {
    use sha2::Digest;
    let mut out = Vec::new();
    for f in files {
        let err = |source| SourceError::Hash {
            path: f.clone(),
            source,
        };
        let mut file = std::fs::File::open(f).map_err(err)?;
        let mut h = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut bytes = 0u64;
        loop {
            let k = file.read(&mut buf).map_err(err)?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            bytes += k as u64;
        }
        out.push(FileDigest {
            path: f.strip_prefix(dir).unwrap_or(f).display().to_string(),
            sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            bytes,
        });
    }
    Ok(out)
}

fn open_checkpoint(dir: &Path) -> Result<OpenModel, SourceError> {
    let ckpt = if dir.is_file() {
        pespectra_hf::open_gguf(dir)?
    } else {
        pespectra_hf::open(dir)?
    };
    let files = ckpt.files;
    // digests name files relative to the checkpoint directory (a GGUF file's own directory)
    let root = if dir.is_file() {
        dir.parent().unwrap_or(Path::new("")).to_path_buf()
    } else {
        dir.to_path_buf()
    };
    let integrity = Integrity::Files(std::thread::spawn(move || hash_files(&root, &files)));
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    Ok(OpenModel {
        name,
        dir: dir.to_path_buf(),
        model: ckpt.model,
        integrity,
    })
}

/// Opens `source`: a checkpoint directory, or a registry model (fetched first when not
/// installed; `log` receives the fetch's progress lines). Hashing starts in the background.
pub fn open(source: &Source, log: &mut dyn FnMut(&str)) -> Result<OpenModel, SourceError> {
    let name = match source {
        Source::Checkpoint(dir) => return open_checkpoint(dir),
        Source::Registry(name) => name,
    };
    let spec = pespectra_models::lookup(name)?;
    let dir = match pespectra_models::installed(spec.name)? {
        Some(d) => d,
        None => {
            log(&format!("{} is not installed: fetching it", spec.name));
            pespectra_models::fetch(spec.name, log).map_err(|source| SourceError::Fetch {
                model: spec.name.to_string(),
                source,
            })?
        }
    };
    let integrity = Integrity::Registry(BackgroundVerification::start(spec.name, &dir)?);
    let load = |source: Box<dyn std::error::Error + Send + Sync>| SourceError::Load {
        model: spec.name.to_string(),
        source,
    };
    let model: Box<dyn CaptureModel + Send> = match spec.architecture {
        "llama" | "gemma3" => {
            pespectra_hf::open_gguf(&spec.weight_path(&dir))
                .map_err(|e| load(e.into()))?
                .model
        }
        // "bert", "mpnet"
        _ => Box::new(pespectra_encoders::Encoder::load(&dir).map_err(|e| load(e.into()))?),
    };
    Ok(OpenModel {
        name: spec.name.to_string(),
        dir,
        model,
        integrity,
    })
}

/// An audited model with its `audit.json` document (provenance included).
pub struct SourceAudit {
    /// The report.
    pub report: AuditReport,
    /// `audit.json`: the report and its provenance block.
    pub document: serde_json::Value,
}

fn record_input(prov: &mut pespectra_provenance::Provenance, input: &Input, label: &str) {
    match input {
        Input::Text(t) => {
            prov.input_text(t);
            prov.setting("text", label.to_string());
        }
        Input::TokenIds(_) => prov.setting("token_ids", label.to_string()),
    }
}

/// Audits `source` on `input` (`label` says where it came from: a path, "built-in", …);
/// `argv` is the command line recorded in the provenance. The files are hashed while the
/// model runs (for registry models against their pinned SHA-256: corrupted files are reported
/// before any failure of the run they explain, and nothing is returned from them).
pub fn audit(
    source: &Source,
    input: &Input,
    label: &str,
    opts: &AuditOptions,
    argv: &[&str],
    log: &mut dyn FnMut(&str),
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<SourceAudit, SourceError> {
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let open = open(source, log)?;
    let run = pespectra_audit::audit_model(&open.name, &*open.model, input, opts, progress);
    let model = open.name.clone();
    let files = open.verified()?;
    let run = run?;
    prov.model(&model, files);
    record_input(&mut prov, input, label);
    prov.token_ids(&run.tokens);
    prov.setting("n", opts.n);
    prov.setting("layers", opts.layers.clone());
    prov.setting("ablation", opts.ablation);
    prov.setting("growth", opts.growth);
    prov.simd(pespectra_attention::Isa::detect().name());
    prov.threads(rayon::current_num_threads());
    let mut document = run.report.to_json();
    document["provenance"] = prov.to_json();
    Ok(SourceAudit {
        report: run.report,
        document,
    })
}

/// The heads of `layers` (None: all) of `source` on the first `n` tokens of `input`, checked
/// against the model's files, written as the new capture directory `out`
/// (`docs/CAPTURE_FORMAT.md`); nothing is written when anything fails.
pub fn capture(
    source: &Source,
    input: &Input,
    n: usize,
    layers: Option<&[usize]>,
    out: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<pespectra_capture::store::CaptureSet, SourceError> {
    let open = open(source, log)?;
    let set = pespectra_audit::capture_model(&open.name, &*open.model, input, n, layers);
    open.verified()?;
    let set = set?;
    pespectra_capture::store::write(out, &set)?;
    Ok(set)
}

/// Audits the capture directory `dir` (`docs/CAPTURE_FORMAT.md`), with the digests of its two
/// files in the provenance; `argv` is the command line recorded there.
pub fn audit_capture_dir(
    dir: &Path,
    argv: &[&str],
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<SourceAudit, SourceError> {
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let set = pespectra_capture::store::read_observed(dir, &mut |name, path, bytes| {
        prov.input_file(name, &path.display().to_string(), bytes)
    })?;
    let report = pespectra_audit::audit_captures(&set, progress)?;
    if let Some(ids) = &set.token_ids {
        prov.token_ids(ids);
    }
    prov.setting("captures", dir.display().to_string());
    prov.setting("n", set.n);
    prov.threads(rayon::current_num_threads());
    let mut document = report.to_json();
    document["provenance"] = prov.to_json();
    Ok(SourceAudit { report, document })
}

/// Writes `audit.json` (`document`), `heads.csv` (its provenance as a leading `#` line, for
/// `pandas.read_csv(…, comment="#")`) and the PNG plots into `out` (created if missing).
pub fn write_outputs(
    report: &AuditReport,
    document: &serde_json::Value,
    out: &std::path::Path,
) -> Result<(), WriteError> {
    let io = |p: &std::path::Path, e: std::io::Error| WriteError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let j = out.join("audit.json");
    let text = serde_json::to_string_pretty(document).unwrap_or_default();
    std::fs::write(&j, text).map_err(|e| io(&j, e))?;
    let c = out.join("heads.csv");
    let csv = format!("# {}\n{}", document["provenance"], report.to_csv());
    std::fs::write(&c, csv).map_err(|e| io(&c, e))?;
    pespectra_audit::plot::write_all(report, out)
        .map(|_| ())
        .map_err(|e| WriteError::Plot(e.to_string()))
}

/// Why the audit's output files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("{0}")]
    Plot(String),
}
