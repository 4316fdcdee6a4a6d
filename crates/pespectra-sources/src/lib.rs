//! Model sources as [`CaptureModel`]s, and the audit of a named model.
//!
//! [`open`] resolves a registry name (`pespectra models list`) to its installed files (fetching
//! and verifying them if needed) and loads the matching forward pass behind the one
//! [`CaptureModel`] trait; [`audit`] runs `pespectra_audit::audit_model` on it while the weights
//! are re-hashed in the background, and returns the report with its provenance block. The CLI
//! and the Python package both call [`audit`], so they write the same document.
//!
//! ```no_run
//! use pespectra_audit::AuditOptions;
//! let opts = AuditOptions { n: 64, layers: Some(vec![0]), ablation: false, ..Default::default() };
//! let text = pespectra_audit::DEFAULT_TEXT;
//! let run = pespectra_sources::audit("minilm-l6", text, "built-in", &opts, &["example"],
//!     &mut |line| eprintln!("{line}"), &|_, _, _| {})?;
//! assert_eq!(run.report.n, 64);
//! # Ok::<(), pespectra_sources::SourceError>(())
//! ```

#![warn(missing_docs)]

pub mod qk;

/// The registry's error (lookup, fetch, integrity).
pub use pespectra_models::ModelError as RegistryError;

use std::path::PathBuf;

use pespectra_audit::report::AuditReport;
use pespectra_audit::{AuditOptions, AuditRunError};
use pespectra_capture::CaptureModel;
use pespectra_models::BackgroundVerification;

/// Why a model source could not be opened or audited.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Registry lookup, fetch or integrity check failed.
    #[error("{0}")]
    Registry(#[from] pespectra_models::ModelError),
    /// Registered, but pespectra has no forward pass for its architecture.
    #[error("model {model} is not yet supported by the audit (no forward pass for architecture '{architecture}')")]
    Unsupported {
        /// Registry name.
        model: String,
        /// Its architecture.
        architecture: String,
    },
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
    /// The audit itself failed.
    #[error(transparent)]
    Run(#[from] AuditRunError),
    /// A capture directory cannot be read or written.
    #[error(transparent)]
    Store(#[from] pespectra_capture::store::StoreError),
}

/// A loaded registry model whose weights are being re-hashed in the background.
pub struct OpenModel {
    /// Registry name.
    pub name: &'static str,
    /// Installation directory.
    pub dir: PathBuf,
    /// The forward pass.
    pub model: Box<dyn CaptureModel + Send>,
    integrity: BackgroundVerification,
}

impl OpenModel {
    /// Waits for the re-hash of the weights; an error means the files were corrupted.
    pub fn verified(self) -> Result<Vec<pespectra_provenance::FileDigest>, SourceError> {
        Ok(self.integrity.wait()?)
    }
}

/// Opens registry model `name`, fetching it first when it is not installed (`log` receives the
/// fetch's progress lines). The re-hash of its weights starts in the background.
pub fn open(name: &str, log: &mut dyn FnMut(&str)) -> Result<OpenModel, SourceError> {
    let spec = pespectra_models::lookup(name)?;
    if !matches!(spec.architecture, "bert" | "mpnet" | "llama") {
        return Err(SourceError::Unsupported {
            model: spec.name.to_string(),
            architecture: spec.architecture.to_string(),
        });
    }
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
    let integrity = BackgroundVerification::start(spec.name, &dir)?;
    let load = |source: Box<dyn std::error::Error + Send + Sync>| SourceError::Load {
        model: spec.name.to_string(),
        source,
    };
    let model: Box<dyn CaptureModel + Send> = if spec.architecture == "llama" {
        Box::new(pespectra_llama::Llama::load(&spec.weight_path(&dir)).map_err(|e| load(e.into()))?)
    } else {
        Box::new(pespectra_encoders::Encoder::load(&dir).map_err(|e| load(e.into()))?)
    };
    Ok(OpenModel {
        name: spec.name,
        dir,
        model,
        integrity,
    })
}

/// An audited registry model with its `audit.json` document (provenance included).
pub struct SourceAudit {
    /// The report.
    pub report: AuditReport,
    /// `audit.json`: the report and its provenance block.
    pub document: serde_json::Value,
}

/// Audits registry model `name` on `text` (`text_label` says where it came from: a path or
/// "built-in"); `argv` is the command line recorded in the provenance. The weights are
/// re-hashed against their pinned SHA-256 while the model runs: corrupted files are reported
/// before any failure of the run they explain, and nothing is returned from them.
pub fn audit(
    name: &str,
    text: &str,
    text_label: &str,
    opts: &AuditOptions,
    argv: &[&str],
    log: &mut dyn FnMut(&str),
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<SourceAudit, SourceError> {
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let open = open(name, log)?;
    let run = pespectra_audit::audit_model(open.name, &*open.model, text, opts, progress);
    let model = open.name;
    let files = open.verified()?;
    let run = run?;
    prov.model(model, files);
    prov.input_text(text);
    prov.token_ids(&run.tokens);
    prov.setting("n", opts.n);
    prov.setting("layers", opts.layers.clone());
    prov.setting("ablation", opts.ablation);
    prov.setting("growth", opts.growth);
    prov.setting("text", text_label.to_string());
    prov.simd(pespectra_attention::Isa::detect().name());
    prov.threads(rayon::current_num_threads());
    let mut document = run.report.to_json();
    document["provenance"] = prov.to_json();
    Ok(SourceAudit {
        report: run.report,
        document,
    })
}

/// The heads of `layers` (None: all) of registry model `name` on the first `n` tokens of
/// `text`, verified against the pinned weights, written as a capture directory `out`
/// (`docs/CAPTURE_FORMAT.md`).
pub fn capture(
    name: &str,
    text: &str,
    n: usize,
    layers: Option<&[usize]>,
    out: &std::path::Path,
    log: &mut dyn FnMut(&str),
) -> Result<pespectra_capture::store::CaptureSet, SourceError> {
    let open = open(name, log)?;
    let set = pespectra_audit::capture_model(open.name, &*open.model, text, n, layers);
    open.verified()?;
    let set = set?;
    pespectra_capture::store::write(out, &set)?;
    Ok(set)
}

/// Audits the capture directory `dir` (`docs/CAPTURE_FORMAT.md`), with the digests of its two
/// files in the provenance; `argv` is the command line recorded there.
pub fn audit_capture_dir(
    dir: &std::path::Path,
    argv: &[&str],
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<SourceAudit, SourceError> {
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let set = pespectra_capture::store::read(dir)?;
    for f in ["manifest.json", "captures.safetensors"] {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).unwrap_or_default();
        prov.input_file(f, &p.display().to_string(), &bytes);
    }
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
