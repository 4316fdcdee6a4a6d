//! GGUF files (llama.cpp's format) as checkpoints: the metadata become the `config.json` the
//! family's parser reads ([`config`]), the tensors are renamed to their HF names and brought back
//! to HF conventions ([`GgufSource`]), and the vocabulary becomes a tokenizer ([`GgufTokenizer`]:
//! SentencePiece BPE in [`spm`], byte-level BPE in [`bpe`]). The forward pass is then the same as
//! for the safetensors checkpoint.
//!
//! Architectures: `llama` (the `smollm2-135m` registry model, any Llama/SmolLM GGUF) and `gemma3`
//! (the `gemma3-270m` registry model). Others are refused naming `general.architecture`.

pub mod bpe;
pub mod config;
pub mod spm;

use std::path::{Path, PathBuf};

use pespectra_models::gguf::{dequantize, GgmlType, Gguf, TensorInfo};

use crate::error::HfError;
use crate::source::{gather_rows, TensorSource};

/// The architectures [`open`] reads.
pub const ARCHITECTURES: [&str; 2] = ["gemma3", "llama"];

/// How llama.cpp's converter changed a tensor, undone on reading.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fix {
    None,
    /// Gemma norms, stored as 1 + w (transformers adds the 1 at run time; its GGUF loader
    /// subtracts it).
    MinusOne,
    /// Llama q/k projections of this many heads, whose rows llama.cpp permuted so that ggml's
    /// interleaved RoPE equals the checkpoint's rotate-half (`permute` in convert_hf_to_gguf.py).
    Unpermute(usize),
}

/// The GGUF architecture and the head counts its q/k permutation needs.
#[derive(Clone, Copy, Debug)]
enum Arch {
    Llama { heads: usize, kv_heads: usize },
    Gemma3,
}

impl Arch {
    /// llama.cpp's name for the HF tensor `name`, and the fix to apply.
    fn gguf_name(self, name: &str) -> Option<(String, Fix)> {
        let norm = match self {
            Arch::Gemma3 => Fix::MinusOne,
            Arch::Llama { .. } => Fix::None,
        };
        let (q, k) = match self {
            Arch::Llama { heads, kv_heads } => (Fix::Unpermute(heads), Fix::Unpermute(kv_heads)),
            Arch::Gemma3 => (Fix::None, Fix::None),
        };
        let top = [
            ("model.embed_tokens.weight", "token_embd.weight", Fix::None),
            ("model.norm.weight", "output_norm.weight", norm),
            ("lm_head.weight", "output.weight", Fix::None),
        ];
        if let Some(&(_, g, fix)) = top.iter().find(|t| t.0 == name) {
            return Some((g.to_string(), fix));
        }
        let rest = name.strip_prefix("model.layers.")?;
        let (l, suffix) = rest.split_once('.')?;
        let l: usize = l.parse().ok()?;
        let common = [
            ("input_layernorm.weight", "attn_norm.weight", norm),
            ("self_attn.q_proj.weight", "attn_q.weight", q),
            ("self_attn.k_proj.weight", "attn_k.weight", k),
            ("self_attn.v_proj.weight", "attn_v.weight", Fix::None),
            ("self_attn.o_proj.weight", "attn_output.weight", Fix::None),
            ("mlp.gate_proj.weight", "ffn_gate.weight", Fix::None),
            ("mlp.up_proj.weight", "ffn_up.weight", Fix::None),
            ("mlp.down_proj.weight", "ffn_down.weight", Fix::None),
        ];
        // llama's ffn_norm is the pre-MLP norm, which HF calls post_attention_layernorm; Gemma's
        // four norms keep their own names
        let own: &[(&str, &str, Fix)] = match self {
            Arch::Llama { .. } => &[(
                "post_attention_layernorm.weight",
                "ffn_norm.weight",
                Fix::None,
            )],
            Arch::Gemma3 => &[
                (
                    "self_attn.q_norm.weight",
                    "attn_q_norm.weight",
                    Fix::MinusOne,
                ),
                (
                    "self_attn.k_norm.weight",
                    "attn_k_norm.weight",
                    Fix::MinusOne,
                ),
                (
                    "post_attention_layernorm.weight",
                    "post_attention_norm.weight",
                    Fix::MinusOne,
                ),
                (
                    "pre_feedforward_layernorm.weight",
                    "ffn_norm.weight",
                    Fix::MinusOne,
                ),
                (
                    "post_feedforward_layernorm.weight",
                    "post_ffw_norm.weight",
                    Fix::MinusOne,
                ),
            ],
        };
        let &(_, g, fix) = common.iter().chain(own).find(|t| t.0 == suffix)?;
        Some((format!("blk.{l}.{g}"), fix))
    }
}

/// A GGUF file's tensors under their HF names, in HF conventions.
pub struct GgufSource {
    path: PathBuf,
    gguf: Gguf,
    arch: Arch,
}

impl GgufSource {
    /// Maps and parses `path`, refusing architectures other than [`ARCHITECTURES`].
    pub fn open(path: &Path) -> Result<Self, HfError> {
        let gguf = Gguf::open(path).map_err(|e| HfError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let bad = |field: &str, message: String| HfError::Config {
            path: path.to_path_buf(),
            field: field.into(),
            message,
        };
        let arch = match gguf.get_str("general.architecture").unwrap_or("(missing)") {
            "gemma3" => Arch::Gemma3,
            "llama" => {
                // per-layer head counts (arrays) are refused, not read as the default
                let count = |k: &str| {
                    gguf.get_u64(k)
                        .map(|v| v as usize)
                        .map_err(|e| bad(k, e.to_string()))
                };
                let heads = count("llama.attention.head_count")?;
                let kv_heads = match gguf.get("llama.attention.head_count_kv") {
                    Some(_) => count("llama.attention.head_count_kv")?,
                    None => heads,
                };
                Arch::Llama { heads, kv_heads }
            }
            other => {
                return Err(bad(
                    "general.architecture",
                    format!(
                        "'{other}' is not supported in GGUF files (supported: {})",
                        ARCHITECTURES.join(", ")
                    ),
                ))
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            gguf,
            arch,
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

    /// The table entry, element type and fix of HF tensor `name`, checked to have `shape` (GGUF
    /// lists dimensions fastest first, so a `[rows, cols]` matrix is `[cols, rows]`).
    fn locate(&self, name: &str, shape: &[usize]) -> Result<(&TensorInfo, GgmlType, Fix), HfError> {
        let (g, fix) = self
            .arch
            .gguf_name(name)
            .ok_or_else(|| self.err(name, "missing"))?;
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
        if let Fix::Unpermute(heads) = fix {
            if heads == 0 || !shape[0].is_multiple_of(2 * heads) {
                return Err(self.err(
                    name,
                    format!(
                        "{} rows do not split into {heads} heads of rotary pairs",
                        shape[0]
                    ),
                ));
            }
        }
        Ok((t, ty, fix))
    }

    /// Undoes `fix` on the row-major `v` (`cols` values per row) and refuses non-finite values.
    fn finish(
        &self,
        name: &str,
        mut v: Vec<f32>,
        fix: Fix,
        cols: usize,
    ) -> Result<Vec<f32>, HfError> {
        match fix {
            Fix::None => {}
            // exact: 1 + w was rounded to f32 from a bf16 w, so subtracting 1 recovers w
            Fix::MinusOne => v.iter_mut().for_each(|x| *x -= 1.0),
            Fix::Unpermute(heads) => {
                // GGUF row h·hd + 2i + j holds HF row h·hd + j·hd/2 + i
                let hd = v.len() / cols / heads;
                let half = hd / 2;
                let mut out = vec![0f32; v.len()];
                for h in 0..heads {
                    for i in 0..half {
                        for j in 0..2 {
                            let from = (h * hd + 2 * i + j) * cols;
                            let to = (h * hd + j * half + i) * cols;
                            out[to..to + cols].copy_from_slice(&v[from..from + cols]);
                        }
                    }
                }
                v = out;
            }
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
        self.arch
            .gguf_name(name)
            .is_some_and(|(g, _)| self.gguf.tensor(&g).is_ok())
    }

    fn check(&self, name: &str, shape: &[usize]) -> Result<(), HfError> {
        self.locate(name, shape).map(|_| ())
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, HfError> {
        let (t, _, fix) = self.locate(name, shape)?;
        let v = self
            .gguf
            .tensor_f32(&t.name)
            .map_err(|e| self.err(name, e.to_string()))?;
        let cols = if shape.len() == 2 { shape[1] } else { 1 };
        self.finish(name, v, fix, cols)
    }

    fn rows(&self, name: &str, shape: [usize; 2], rows: &[usize]) -> Result<Vec<f32>, HfError> {
        let (t, ty, fix) = self.locate(name, &shape)?;
        if let Fix::Unpermute(_) = fix {
            return Err(self.err(
                name,
                "row lookups of permuted q/k projections are not supported",
            ));
        }
        let bytes = self
            .gguf
            .tensor_bytes(&t.name)
            .map_err(|e| self.err(name, e.to_string()))?;
        // rows are whole blocks: the reader checked that a row's length is a block multiple
        let (per_block, block_bytes) = ty.block();
        let width = shape[1] / per_block * block_bytes;
        let out = gather_rows(bytes, shape, width, rows, |b| self.dequant(name, ty, b))?;
        self.finish(name, out, fix, shape[1])
    }
}

/// The tokenizer of a GGUF file's vocabulary, by `tokenizer.ggml.model`.
pub enum GgufTokenizer {
    /// `llama`: SentencePiece BPE (Gemma, Llama 2).
    SentencePiece(Box<spm::SpmTokenizer>),
    /// `gpt2`: byte-level BPE (SmolLM2, Llama 3).
    ByteLevel(Box<bpe::BpeTokenizer>),
}

impl GgufTokenizer {
    /// The tokenizer of `g`'s `tokenizer.ggml.*` metadata; the error says which key is missing
    /// or unsupported.
    pub fn from_gguf(g: &Gguf) -> Result<Self, String> {
        match g.get_str("tokenizer.ggml.model").map_err(|e| e.to_string())? {
            "llama" => spm::SpmTokenizer::from_gguf(g).map(|t| Self::SentencePiece(Box::new(t))),
            "gpt2" => bpe::BpeTokenizer::from_gguf(g).map(|t| Self::ByteLevel(Box::new(t))),
            other => Err(format!(
                "tokenizer.ggml.model '{other}' is not supported (llama: SentencePiece BPE, gpt2: byte-level BPE)"
            )),
        }
    }

    /// Token ids of `text`, with BOS/EOS as the file asks.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        match self {
            Self::SentencePiece(t) => Ok(t.encode(text)),
            Self::ByteLevel(t) => t.encode(text),
        }
    }
}

/// Opens a GGUF file as a llama-family [`crate::Decoder`]: config from its metadata, tensors
/// through [`GgufSource`], the tokenizer of its vocabulary.
pub fn open(path: &Path) -> Result<crate::Decoder, HfError> {
    let source = GgufSource::open(path)?;
    let (model_type, json) = config::config_json(&source)?;
    let config = crate::DecoderConfig::from_json(path, &json, model_type)?;
    let tokenizer = crate::tokenizer::TextTokenizer::gguf(
        path,
        GgufTokenizer::from_gguf(source.gguf()).map_err(|message| HfError::Tokenizer {
            path: path.to_path_buf(),
            message,
        })?,
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::Decoder::from_parts(dir, config, Box::new(source), tokenizer)
}
