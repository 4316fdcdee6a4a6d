//! GGUF files (llama.cpp's format) as checkpoints: the metadata become the `config.json` the
//! family's parser reads ([`config`]), the tensors are renamed to their HF names and brought back
//! to HF conventions ([`GgufSource`]), and the vocabulary becomes a SentencePiece tokenizer
//! ([`spm`]). The forward pass is then the same as for the safetensors checkpoint.
//!
//! Architectures: `gemma3` (the `gemma3-270m` registry model). Others are refused naming
//! `general.architecture`; llama-architecture GGUFs (SmolLM2) run on `pespectra-llama`.

pub mod config;
pub mod spm;

use std::path::{Path, PathBuf};

use pespectra_models::gguf::{dequantize, GgmlType, Gguf, TensorInfo};

use crate::error::HfError;
use crate::source::TensorSource;

/// The architectures [`open`] reads.
pub const ARCHITECTURES: [&str; 1] = ["gemma3"];

/// A GGUF file's tensors under their HF names, in HF conventions.
pub struct GgufSource {
    path: PathBuf,
    gguf: Gguf,
}

/// llama.cpp's name for the gemma3 HF tensor `name`, and whether it is a Gemma norm, which
/// llama.cpp stores as 1 + w (transformers adds the 1 at run time; its GGUF loader subtracts it).
fn gemma3_name(name: &str) -> Option<(String, bool)> {
    const TOP: [(&str, &str, bool); 3] = [
        ("model.embed_tokens.weight", "token_embd.weight", false),
        ("model.norm.weight", "output_norm.weight", true),
        ("lm_head.weight", "output.weight", false),
    ];
    const LAYER: [(&str, &str, bool); 13] = [
        ("input_layernorm.weight", "attn_norm.weight", true),
        ("self_attn.q_proj.weight", "attn_q.weight", false),
        ("self_attn.k_proj.weight", "attn_k.weight", false),
        ("self_attn.v_proj.weight", "attn_v.weight", false),
        ("self_attn.o_proj.weight", "attn_output.weight", false),
        ("self_attn.q_norm.weight", "attn_q_norm.weight", true),
        ("self_attn.k_norm.weight", "attn_k_norm.weight", true),
        (
            "post_attention_layernorm.weight",
            "post_attention_norm.weight",
            true,
        ),
        ("pre_feedforward_layernorm.weight", "ffn_norm.weight", true),
        (
            "post_feedforward_layernorm.weight",
            "post_ffw_norm.weight",
            true,
        ),
        ("mlp.gate_proj.weight", "ffn_gate.weight", false),
        ("mlp.up_proj.weight", "ffn_up.weight", false),
        ("mlp.down_proj.weight", "ffn_down.weight", false),
    ];
    if let Some(&(_, g, shift)) = TOP.iter().find(|t| t.0 == name) {
        return Some((g.to_string(), shift));
    }
    let rest = name.strip_prefix("model.layers.")?;
    let (l, suffix) = rest.split_once('.')?;
    let l: usize = l.parse().ok()?;
    let &(_, g, shift) = LAYER.iter().find(|t| t.0 == suffix)?;
    Some((format!("blk.{l}.{g}"), shift))
}

impl GgufSource {
    /// Maps and parses `path`, refusing architectures other than [`ARCHITECTURES`].
    pub fn open(path: &Path) -> Result<Self, HfError> {
        let gguf = Gguf::open(path).map_err(|e| HfError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let arch = gguf.get_str("general.architecture").unwrap_or("(missing)");
        if !ARCHITECTURES.contains(&arch) {
            return Err(HfError::Config {
                path: path.to_path_buf(),
                field: "general.architecture".into(),
                message: format!(
                    "'{arch}' is not supported in GGUF files (supported: {})",
                    ARCHITECTURES.join(", ")
                ),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            gguf,
        })
    }

    /// The parsed file (metadata for the config and the tokenizer).
    pub fn gguf(&self) -> &Gguf {
        &self.gguf
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, name: &str, message: impl Into<String>) -> HfError {
        HfError::Tensor {
            path: self.path.clone(),
            name: name.to_string(),
            message: message.into(),
        }
    }

    /// The table entry, element type and (1 + w) flag of HF tensor `name`, checked to have
    /// `shape` (GGUF lists dimensions fastest first, so a `[rows, cols]` matrix is `[cols, rows]`).
    fn locate(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<(&TensorInfo, GgmlType, bool), HfError> {
        let (g, shifted) = gemma3_name(name).ok_or_else(|| self.err(name, "missing"))?;
        let t = self
            .gguf
            .tensor(&g)
            .map_err(|_| self.err(name, format!("missing (GGUF tensor {g})")))?;
        let dims: Vec<usize> = t.dims.iter().rev().map(|&d| d as usize).collect();
        if dims != shape {
            return Err(self.err(
                name,
                format!("GGUF tensor {g} has shape {dims:?}, expected {shape:?}"),
            ));
        }
        let ty = GgmlType::from_id(t.type_id).ok_or_else(|| {
            self.err(
                name,
                format!(
                    "GGUF tensor {g}: element type id {} is not supported",
                    t.type_id
                ),
            )
        })?;
        Ok((t, ty, shifted))
    }

    fn finish(&self, name: &str, mut v: Vec<f32>, shifted: bool) -> Result<Vec<f32>, HfError> {
        if shifted {
            // exact: 1 + w was rounded to f32 from a bf16 w, so subtracting 1 recovers w
            v.iter_mut().for_each(|x| *x -= 1.0);
        }
        match v.iter().position(|x| !x.is_finite()) {
            Some(i) => Err(self.err(name, format!("not finite at flat index {i}"))),
            None => Ok(v),
        }
    }

    fn dequant(&self, name: &str, ty: GgmlType, bytes: &[u8]) -> Result<Vec<f32>, HfError> {
        dequantize(ty, bytes).map_err(|e| self.err(name, e.to_string()))
    }
}

impl TensorSource for GgufSource {
    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    fn f32_bytes(&self) -> u64 {
        self.gguf
            .tensors
            .iter()
            .map(|t| t.n_elements() as u64 * 4)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        gemma3_name(name).is_some_and(|(g, _)| self.gguf.tensor(&g).is_ok())
    }

    fn check(&self, name: &str, shape: &[usize]) -> Result<(), HfError> {
        self.locate(name, shape).map(|_| ())
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, HfError> {
        let (t, ty, shifted) = self.locate(name, shape)?;
        let bytes = self
            .gguf
            .tensor_bytes(&t.name)
            .map_err(|e| self.err(name, e.to_string()))?;
        let v = self.dequant(name, ty, bytes)?;
        self.finish(name, v, shifted)
    }

    fn rows(&self, name: &str, shape: [usize; 2], rows: &[usize]) -> Result<Vec<f32>, HfError> {
        let (t, ty, shifted) = self.locate(name, &shape)?;
        let bytes = self
            .gguf
            .tensor_bytes(&t.name)
            .map_err(|e| self.err(name, e.to_string()))?;
        // rows are whole blocks: the reader checked that a row's length is a block multiple
        let (per_block, block_bytes) = ty.block();
        let width = shape[1] / per_block * block_bytes;
        let mut out = Vec::with_capacity(rows.len() * shape[1]);
        for &r in rows {
            if r >= shape[0] {
                return Err(HfError::Request(format!(
                    "token id {r} is outside the vocabulary of {} tokens",
                    shape[0]
                )));
            }
            out.extend(self.dequant(name, ty, &bytes[r * width..(r + 1) * width])?);
        }
        self.finish(name, out, shifted)
    }
}

/// Opens a GGUF file as a llama-family [`crate::Decoder`]: config from its metadata, tensors
/// through [`GgufSource`], the SentencePiece tokenizer of its vocabulary.
pub fn open(path: &Path) -> Result<crate::Decoder, HfError> {
    let source = GgufSource::open(path)?;
    let (model_type, json) = config::config_json(&source)?;
    let config = crate::DecoderConfig::from_json(path, &json, model_type)?;
    let tokenizer = crate::tokenizer::TextTokenizer::sentencepiece(
        path,
        spm::SpmTokenizer::from_gguf(source.gguf()).map_err(|message| HfError::Tokenizer {
            path: path.to_path_buf(),
            message,
        })?,
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::Decoder::from_parts(dir, config, Box::new(source), tokenizer)
}
