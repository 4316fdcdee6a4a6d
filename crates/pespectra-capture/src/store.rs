//! The on-disk capture format (`docs/CAPTURE_FORMAT.md`): `DIR/manifest.json` describes every
//! head (shape, scale, mask, how positions enter with every parameter) and
//! `DIR/captures.safetensors` holds its f32 tensors `layer.{l}.head.{h}.{q,k,logits,
//! content_logits,bias}`. Anything can write it (PyTorch hooks, TransformerLens, JAX, NumPy);
//! [`read()`] validates everything against the manifest before a consumer sees a capture, and
//! [`write()`] publishes a directory only once it is complete (a temporary sibling renamed into
//! place), so a crash never leaves a directory that looks finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

use crate::{HeadCapture, Pairing, Positional};

/// The `format` string of a manifest.
pub const FORMAT: &str = "pespectra-captures/1";
/// Largest token count a capture may declare (n × n logits per head).
pub const MAX_TOKENS: usize = 16384;

/// A capture directory's content.
#[derive(Clone, Debug)]
pub struct CaptureSet {
    /// Model name or description, as the writer gave it.
    pub model: String,
    /// Tokens.
    pub n: usize,
    /// Token ids, when the writer recorded them.
    pub token_ids: Option<Vec<u32>>,
    /// Every head, in the manifest's order.
    pub captures: Vec<HeadCapture>,
}

/// Why a capture directory cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON or misses / mistypes a field.
    #[error("{}: {field}: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The field, e.g. `heads[3].scale`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The tensor file is not a readable safetensors file.
    #[error("{}: not a readable safetensors file: {message}", path.display())]
    Tensors {
        /// The tensor file.
        path: PathBuf,
        /// The parser's error.
        message: String,
    },
    /// A tensor is missing, or has the wrong dtype or shape.
    #[error("{}: tensor '{name}': {message}", path.display())]
    Tensor {
        /// The tensor file.
        path: PathBuf,
        /// Tensor name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The output directory exists already.
    #[error("{} exists already (choose a new directory)", path.display())]
    Exists {
        /// The directory.
        path: PathBuf,
    },
}

fn manifest_err(path: &Path, field: impl Into<String>, message: impl Into<String>) -> StoreError {
    StoreError::Manifest {
        path: path.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

/// How positions enter a head, as the manifest writes it.
#[derive(serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum PositionalJson<'a> {
    Rope {
        pairing: &'static str,
        inv_freq: &'a [f64],
    },
    Additive,
    Absolute,
}

impl<'a> PositionalJson<'a> {
    fn new(p: &'a Positional) -> Self {
        match p {
            Positional::Rope { pairing, inv_freq } => Self::Rope {
                pairing: match pairing {
                    Pairing::HalfSplit => "half",
                    Pairing::Interleaved => "interleaved",
                },
                inv_freq,
            },
            Positional::AdditiveBias { .. } => Self::Additive,
            Positional::Absolute => Self::Absolute,
        }
    }
}

/// One head of the manifest (its tensors are in `captures.safetensors`).
#[derive(serde::Serialize)]
struct HeadJson<'a> {
    layer: usize,
    head: usize,
    kv_head: usize,
    head_dim: usize,
    scale: f64,
    causal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    softcap: Option<f64>,
    positional: PositionalJson<'a>,
}

/// `manifest.json` (docs/CAPTURE_FORMAT.md).
#[derive(serde::Serialize)]
struct ManifestJson<'a> {
    format: &'static str,
    model: &'a str,
    n: usize,
    token_ids: Option<&'a [u32]>,
    heads: Vec<HeadJson<'a>>,
}

fn f32_bytes(x: &[f32]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Writes `set` into the new directory `dir` (refused if it exists): the files go into a
/// temporary sibling first, which is renamed to `dir` once both are complete.
pub fn write(dir: &Path, set: &CaptureSet) -> Result<(), StoreError> {
    let io = |path: &Path, source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    if dir.exists() {
        return Err(StoreError::Exists {
            path: dir.to_path_buf(),
        });
    }
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "captures".into());
    let tmp = dir.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let mut heads = Vec::new();
    let mut tensors: BTreeMap<String, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
    for c in &set.captures {
        let (n, d) = (c.n, c.head_dim);
        heads.push(HeadJson {
            layer: c.layer,
            head: c.head,
            kv_head: c.kv_head,
            head_dim: d,
            scale: c.scale,
            causal: c.causal,
            window: c.window,
            softcap: c.softcap,
            positional: PositionalJson::new(&c.positional),
        });
        let key = |t: &str| format!("layer.{}.head.{}.{t}", c.layer, c.head);
        tensors.insert(key("q"), (vec![n, d], f32_bytes(&c.q)));
        tensors.insert(key("k"), (vec![n, d], f32_bytes(&c.k)));
        tensors.insert(key("logits"), (vec![n, n], f32_bytes(&c.logits)));
        tensors.insert(
            key("content_logits"),
            (vec![n, n], f32_bytes(&c.content_logits)),
        );
        if let Positional::AdditiveBias { bias } = &c.positional {
            tensors.insert(key("bias"), (vec![n, n], f32_bytes(bias)));
        }
    }
    // through a Value: sorted keys, as the manifest has always been written
    let manifest = serde_json::to_value(ManifestJson {
        format: FORMAT,
        model: &set.model,
        n: set.n,
        token_ids: set.token_ids.as_deref(),
        heads,
    })
    .unwrap_or_default();
    let m = tmp.join("manifest.json");
    std::fs::write(
        &m,
        serde_json::to_string_pretty(&manifest).unwrap_or_default(),
    )
    .map_err(|e| io(&m, e))?;
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(k, (shape, bytes))| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (k.clone(), v))
                .map_err(|e| StoreError::Tensor {
                    path: tmp.join("captures.safetensors"),
                    name: k.clone(),
                    message: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let t = tmp.join("captures.safetensors");
    safetensors::serialize_to_file(views, None, &t).map_err(|e| StoreError::Tensors {
        path: t.clone(),
        message: e.to_string(),
    })?;
    std::fs::rename(&tmp, dir).map_err(|e| io(dir, e))
}

/// Reads and validates the capture directory `dir`.
pub fn read(dir: &Path) -> Result<CaptureSet, StoreError> {
    read_observed(dir, &mut |_, _, _| {})
}

/// [`read()`], handing each file's bytes to `observe(name, path, bytes)` as they are read (for
/// digests in a provenance block), so a caller never reads the files a second time.
pub fn read_observed(
    dir: &Path,
    observe: &mut dyn FnMut(&str, &Path, &[u8]),
) -> Result<CaptureSet, StoreError> {
    let mpath = dir.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).map_err(|source| StoreError::Io {
        path: mpath.clone(),
        source,
    })?;
    observe("manifest.json", &mpath, text.as_bytes());
    let m: Value = serde_json::from_str(&text)
        .map_err(|e| manifest_err(&mpath, "(document)", format!("not JSON: {e}")))?;
    let field = |f: &str, msg: &str| manifest_err(&mpath, f, msg);
    if m["format"] != FORMAT {
        return Err(field("format", &format!("must be \"{FORMAT}\"")));
    }
    let model = m["model"]
        .as_str()
        .ok_or_else(|| field("model", "missing or not a string"))?
        .to_string();
    let n = m["n"]
        .as_u64()
        .filter(|&n| (2..=MAX_TOKENS as u64).contains(&n))
        .ok_or_else(|| field("n", &format!("must be an integer in 2..={MAX_TOKENS}")))?
        as usize;
    let token_ids = match &m["token_ids"] {
        Value::Null => None,
        Value::Array(a) => Some(
            a.iter()
                .map(|v| v.as_u64().and_then(|x| u32::try_from(x).ok()))
                .collect::<Option<Vec<u32>>>()
                .filter(|v| v.len() == n)
                .ok_or_else(|| field("token_ids", "must be n integers in 0..2^32"))?,
        ),
        _ => return Err(field("token_ids", "must be a list or null")),
    };
    let heads = m["heads"]
        .as_array()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| field("heads", "missing or empty"))?;
    let tpath = dir.join("captures.safetensors");
    let bytes = std::fs::read(&tpath).map_err(|source| StoreError::Io {
        path: tpath.clone(),
        source,
    })?;
    observe("captures.safetensors", &tpath, &bytes);
    let st = SafeTensors::deserialize(&bytes).map_err(|e| StoreError::Tensors {
        path: tpath.clone(),
        message: e.to_string(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    let mut captures = Vec::with_capacity(heads.len());
    for (i, h) in heads.iter().enumerate() {
        let f = |name: &str| format!("heads[{i}].{name}");
        let uint = |name: &str| {
            h[name]
                .as_u64()
                .and_then(|x| usize::try_from(x).ok())
                .ok_or_else(|| {
                    manifest_err(&mpath, f(name), "missing or not a non-negative integer")
                })
        };
        let (layer, head) = (uint("layer")?, uint("head")?);
        let kv_head = if h["kv_head"].is_null() {
            head
        } else {
            uint("kv_head")?
        };
        let head_dim = uint("head_dim")?;
        if head_dim == 0 || head_dim > 4096 {
            return Err(manifest_err(&mpath, f("head_dim"), "must be in 1..=4096"));
        }
        if !seen.insert((layer, head)) {
            return Err(manifest_err(
                &mpath,
                f("head"),
                format!("layer {layer} head {head} appears twice"),
            ));
        }
        let scale = h["scale"]
            .as_f64()
            .filter(|s| s.is_finite() && *s > 0.0)
            .ok_or_else(|| manifest_err(&mpath, f("scale"), "missing or not a positive number"))?;
        let causal = h["causal"]
            .as_bool()
            .ok_or_else(|| manifest_err(&mpath, f("causal"), "missing or not true/false"))?;
        let window = match &h["window"] {
            Value::Null => None,
            w => Some(
                w.as_u64()
                    .and_then(|x| usize::try_from(x).ok())
                    .filter(|&x| x > 0)
                    .ok_or_else(|| {
                        manifest_err(&mpath, f("window"), "not a positive integer or null")
                    })?,
            ),
        };
        let softcap = match &h["softcap"] {
            Value::Null => None,
            c => Some(
                c.as_f64()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| {
                        manifest_err(&mpath, f("softcap"), "not a positive number or null")
                    })?,
            ),
        };
        let p = &h["positional"];
        let tensor = |t: &str, rows: usize, cols: usize| -> Result<Vec<f32>, StoreError> {
            let name = format!("layer.{layer}.head.{head}.{t}");
            let bad = |message: String| StoreError::Tensor {
                path: tpath.clone(),
                name: name.clone(),
                message,
            };
            let v = st.tensor(&name).map_err(|_| bad("missing".into()))?;
            if v.dtype() != Dtype::F32 {
                return Err(bad(format!("dtype {:?}, expected F32", v.dtype())));
            }
            if v.shape() != [rows, cols] {
                return Err(bad(format!(
                    "shape {:?}, expected [{rows}, {cols}]",
                    v.shape()
                )));
            }
            let x: Vec<f32> = v
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(k) = x.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!("not finite at ({}, {})", k / cols, k % cols)));
            }
            Ok(x)
        };
        let positional = match p["kind"].as_str() {
            Some("rope") => {
                let pairing = match p["pairing"].as_str() {
                    Some("half") => Pairing::HalfSplit,
                    Some("interleaved") => Pairing::Interleaved,
                    _ => {
                        return Err(manifest_err(
                            &mpath,
                            f("positional.pairing"),
                            "must be \"half\" or \"interleaved\"",
                        ))
                    }
                };
                let inv_freq = p["inv_freq"]
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                    .filter(|v| {
                        !v.is_empty()
                            && 2 * v.len() <= head_dim
                            && v.iter().all(|x| x.is_finite() && *x >= 0.0)
                    })
                    .ok_or_else(|| {
                        manifest_err(
                            &mpath,
                            f("positional.inv_freq"),
                            "must be 1..=head_dim/2 finite non-negative numbers",
                        )
                    })?;
                Positional::Rope { pairing, inv_freq }
            }
            Some("additive") => Positional::AdditiveBias {
                bias: tensor("bias", n, n)?,
            },
            Some("absolute") => Positional::Absolute,
            _ => {
                return Err(manifest_err(
                    &mpath,
                    f("positional.kind"),
                    "must be \"rope\", \"additive\" or \"absolute\"",
                ))
            }
        };
        let c = HeadCapture {
            layer,
            head,
            kv_head,
            n,
            head_dim,
            scale,
            causal,
            window,
            softcap,
            q: tensor("q", n, head_dim)?,
            k: tensor("k", n, head_dim)?,
            logits: tensor("logits", n, n)?,
            content_logits: tensor("content_logits", n, n)?,
            positional,
        };
        c.validate()
            .map_err(|message| manifest_err(&mpath, format!("heads[{i}]"), message))?;
        captures.push(c);
    }
    Ok(CaptureSet {
        model,
        n,
        token_ids,
        captures,
    })
}
