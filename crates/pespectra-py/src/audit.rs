//! Audits: one head from its q/k, or a whole registry model (the CLI's own library call).

use numpy::PyReadonlyArray2;
use pespectra_attention::{Rope, RopePairing};
use pespectra_audit::report::AuditReport;
use pespectra_audit::{AuditOptions, AuditRunError, Input};
use pespectra_capture::store::StoreError;
use pespectra_sources::qk::{capture_head, HeadPositions, QkError};
use pespectra_sources::SourceError;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::blocking;

/// f32 rows of a float32 matrix, whatever its strides.
fn rows(a: &PyReadonlyArray2<'_, f32>) -> (Vec<f32>, usize, usize) {
    let v = a.as_array();
    let (n, d) = v.dim();
    (v.iter().copied().collect(), n, d)
}

/// Audits one head given its content q and k (n × head_dim float32, before RoPE and the
/// scale). `positional`: "rope" (with base, pairing "half" | "interleaved", rotary_fraction),
/// "alibi" (with slope) or "bias" (with an n × n float32 bias). Returns the head's
/// `audit.json` record as JSON text.
#[pyfunction]
#[pyo3(signature = (q, k, positional, scale, causal, base, pairing, rotary_fraction, slope, bias))]
#[allow(clippy::too_many_arguments)]
pub fn audit_head<'py>(
    py: Python<'py>,
    q: PyReadonlyArray2<'py, f32>,
    k: PyReadonlyArray2<'py, f32>,
    positional: &str,
    scale: Option<f64>,
    causal: bool,
    base: f64,
    pairing: &str,
    rotary_fraction: f64,
    slope: Option<f64>,
    bias: Option<PyReadonlyArray2<'py, f32>>,
) -> PyResult<String> {
    let (qv, n, d) = rows(&q);
    let (kv, nk, dk) = rows(&k);
    if (n, d) != (nk, dk) {
        return Err(PyValueError::new_err(format!(
            "q is {n}×{d} but k is {nk}×{dk}"
        )));
    }
    let positions = match positional {
        "rope" => {
            let pairing = match pairing {
                "half" => RopePairing::HalfSplit,
                "interleaved" => RopePairing::Interleaved,
                p => {
                    return Err(PyValueError::new_err(format!(
                        "pairing must be 'half' (rotate_half) or 'interleaved', got '{p}'"
                    )))
                }
            };
            if !(base.is_finite() && base > 1.0) {
                return Err(PyValueError::new_err(format!(
                    "the RoPE base must be finite and > 1, got {base}"
                )));
            }
            let mut rope = Rope::new(pairing, base);
            rope.rotary_fraction = rotary_fraction;
            HeadPositions::Rope(rope)
        }
        "alibi" => match slope {
            Some(s) if s.is_finite() => HeadPositions::Alibi { slope: s },
            _ => {
                return Err(PyValueError::new_err(
                    "positional='alibi' needs a finite slope",
                ))
            }
        },
        "bias" => match &bias {
            Some(b) => HeadPositions::Bias(rows(b).0),
            None => return Err(PyValueError::new_err("positional='bias' needs bias")),
        },
        p => {
            return Err(PyValueError::new_err(format!(
                "positional must be 'rope', 'alibi' or 'bias', got '{p}'"
            )))
        }
    };
    let scale = scale.unwrap_or(1.0 / (d.max(1) as f64).sqrt());
    let r = blocking::run(py, None, move |_| {
        let c = capture_head(&qv, &kv, n, d, scale, causal, &positions).map_err(|e| match e {
            QkError::Shape(m) => PyValueError::new_err(m),
            QkError::Attention(e) => crate::errors::attention(e),
        })?;
        pespectra_audit::audit_head(&c)
            .map(|h| h.to_json().to_string())
            .map_err(|e| PyRuntimeError::new_err(format!("audit: {e}")))
    })?;
    r
}

/// A model audit: the report and its `audit.json` document.
#[pyclass(frozen, module = "pespectra._native")]
pub struct AuditRun {
    report: AuditReport,
    document: serde_json::Value,
}

#[pymethods]
impl AuditRun {
    /// `audit.json` as JSON text (provenance included).
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.document).unwrap_or_default()
    }

    /// Writes audit.json, heads.csv and the PNG plots into `out`.
    fn write(&self, out: std::path::PathBuf) -> PyResult<()> {
        pespectra_sources::write_outputs(&self.report, &self.document, &out)
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// heads.csv as text (without the provenance comment line).
    fn to_csv(&self) -> String {
        self.report.to_csv()
    }
}

/// Audits registry model `model` (fetched and verified when needed) on `text` (None: the
/// built-in text); `progress(stage, done, total)` receives the stages' progress.
#[pyfunction]
#[pyo3(signature = (model, text, token_ids, n, layers, ablation, growth, shard, progress))]
#[allow(clippy::too_many_arguments)]
pub fn audit(
    py: Python<'_>,
    model: String,
    text: Option<String>,
    token_ids: Option<Vec<u32>>,
    n: usize,
    layers: Option<Vec<usize>>,
    ablation: bool,
    growth: bool,
    shard: Option<(usize, usize)>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<AuditRun> {
    let opts = AuditOptions {
        n,
        layers,
        ablation,
        growth,
        shard,
    };
    let source = pespectra_sources::Source::parse(&model).map_err(|e| match e {
        SourceError::NotACheckpoint { .. } => PyFileNotFoundError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    })?;
    let r = blocking::run(py, progress.as_ref(), move |p| {
        let (input, label) = match (text, token_ids) {
            (_, Some(ids)) => (Input::TokenIds(ids), "python".to_string()),
            (Some(t), None) => (Input::Text(t), "python".to_string()),
            (None, None) => (
                Input::Text(pespectra_audit::DEFAULT_TEXT.to_string()),
                "built-in".to_string(),
            ),
        };
        let argv = ["python", "pespectra.audit", model.as_str()];
        pespectra_sources::audit(
            &source,
            &input,
            &label,
            &opts,
            &argv,
            &mut |line| p.set(line, 0, 0),
            &|stage, d, t| p.set(stage, d as u64, t as u64),
        )
    })?;
    match r {
        Ok(run) => Ok(AuditRun {
            report: run.report,
            document: run.document,
        }),
        Err(e) => Err(match &e {
            SourceError::Run(AuditRunError::Model(m)) => model_error(m, e.to_string()),
            SourceError::Run(AuditRunError::Audit(_)) => PyRuntimeError::new_err(e.to_string()),
            SourceError::Run(_) => PyValueError::new_err(e.to_string()),
            SourceError::Registry(pespectra_models_error) => {
                registry_error(pespectra_models_error, e.to_string())
            }
            SourceError::Fetch { .. } | SourceError::Load { .. } => {
                PyOSError::new_err(e.to_string())
            }
            SourceError::Store(_) | SourceError::Hash { .. } => PyOSError::new_err(e.to_string()),
            SourceError::Checkpoint(h) => checkpoint_error(h, e.to_string()),
            SourceError::NotACheckpoint { .. } => PyFileNotFoundError::new_err(e.to_string()),
        }),
    }
}

/// Audits the capture directory `dir` (the CLI's `audit --captures DIR`).
#[pyfunction]
#[pyo3(signature = (dir, progress))]
pub fn audit_captures(
    py: Python<'_>,
    dir: std::path::PathBuf,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<AuditRun> {
    let r = blocking::run(py, progress.as_ref(), move |p| {
        let argv = ["python", "pespectra.audit"];
        pespectra_sources::audit_capture_dir(&dir, &argv, &|stage, d, t| {
            p.set(stage, d as u64, t as u64)
        })
    })?;
    match r {
        Ok(run) => Ok(AuditRun {
            report: run.report,
            document: run.document,
        }),
        Err(SourceError::Store(e @ StoreError::Io { .. })) => Err(
            pyo3::exceptions::PyFileNotFoundError::new_err(e.to_string()),
        ),
        Err(e @ SourceError::Store(_)) => Err(PyValueError::new_err(e.to_string())),
        Err(e) => Err(PyRuntimeError::new_err(e.to_string())),
    }
}

/// Bad input (a missing tokenizer, ids outside the vocabulary, too many tokens) is a
/// ValueError; anything else the model raises is a RuntimeError.
fn model_error(m: &pespectra_capture::ModelError, msg: String) -> PyErr {
    let request = matches!(
        m.source.downcast_ref::<pespectra_hf::HfError>(),
        Some(pespectra_hf::HfError::Request(_) | pespectra_hf::HfError::Tokenizer { .. })
    );
    if request || m.stage == pespectra_capture::ModelStage::Tokenize {
        PyValueError::new_err(msg)
    } else {
        PyRuntimeError::new_err(msg)
    }
}

fn checkpoint_error(e: &pespectra_hf::HfError, msg: String) -> PyErr {
    use pespectra_hf::HfError as H;
    match e {
        H::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        H::Io { .. } => PyOSError::new_err(msg),
        H::Attention(_) => PyRuntimeError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

fn registry_error(e: &pespectra_sources::RegistryError, msg: String) -> PyErr {
    use pespectra_sources::RegistryError as R;
    match e {
        R::Unknown(_) => PyValueError::new_err(msg),
        _ => PyOSError::new_err(msg),
    }
}
