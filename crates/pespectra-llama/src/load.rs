//! Reading a llama-architecture GGUF file: the hyper-parameters from its metadata and the
//! dequantized weights, layer by layer in parallel.

use crate::{Layer, Llama, LlamaError, Tokenizer};
use pespectra_layers::Linear;
use pespectra_models::gguf::Gguf;
use rayon::prelude::*;
use std::path::Path;

/// Architecture hyper-parameters, read from the GGUF metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Transformer blocks.
    pub n_layers: usize,
    /// Residual width.
    pub d_model: usize,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads (GQA).
    pub n_kv_heads: usize,
    /// Per-head width.
    pub head_dim: usize,
    /// MLP hidden width.
    pub ffn: usize,
    /// RoPE base θ.
    pub rope_base: f64,
    /// RMSNorm ε.
    pub rms_eps: f64,
    /// Vocabulary size.
    pub vocab: usize,
    /// Context length (longest accepted input).
    pub context: usize,
}

fn tensor(g: &Gguf, name: &str, dims: &[usize]) -> Result<Vec<f32>, LlamaError> {
    let t = g.tensor(name)?;
    let want: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
    if t.dims != want {
        return Err(LlamaError::Unsupported(format!(
            "tensor {name} has dims {:?}, expected {want:?}",
            t.dims
        )));
    }
    Ok(g.tensor_f32(name)?)
}

/// The `out × inp` projection stored under `name` (GGUF `dims = [in, out]`).
fn linear(g: &Gguf, name: &str, out: usize, inp: usize) -> Result<Linear, LlamaError> {
    Linear::new(tensor(g, name, &[inp, out])?, None, out, inp).ok_or_else(|| {
        LlamaError::Unsupported(format!("tensor {name} does not hold {out} × {inp} values"))
    })
}

fn config_from(g: &Gguf) -> Result<Config, LlamaError> {
    let arch = g.get_str("general.architecture")?;
    if arch != "llama" {
        return Err(LlamaError::Unsupported(format!(
            "architecture '{arch}' (this forward pass is for 'llama')"
        )));
    }
    let u = |k: &str| g.get_u64(&format!("llama.{k}")).map(|v| v as usize);
    let n_heads = u("attention.head_count")?;
    let d_model = u("embedding_length")?;
    let n_kv_heads = u("attention.head_count_kv").unwrap_or(n_heads);
    if n_heads == 0 || n_kv_heads == 0 || d_model % n_heads != 0 || n_heads % n_kv_heads != 0 {
        return Err(LlamaError::Unsupported(format!(
            "{n_heads} heads, {n_kv_heads} kv heads, width {d_model}"
        )));
    }
    let head_dim = d_model / n_heads;
    if u("rope.dimension_count").is_ok_and(|r| r != head_dim) {
        return Err(LlamaError::Unsupported(
            "partial rotary dimensions".to_string(),
        ));
    }
    if let Ok(s) = g.get_str("llama.rope.scaling.type") {
        if s != "none" {
            return Err(LlamaError::Unsupported(format!("RoPE scaling '{s}'")));
        }
    }
    Ok(Config {
        n_layers: u("block_count")?,
        d_model,
        n_heads,
        n_kv_heads,
        head_dim,
        ffn: u("feed_forward_length")?,
        rope_base: g.get_f64("llama.rope.freq_base").unwrap_or(10000.0),
        rms_eps: g.get_f64("llama.attention.layer_norm_rms_epsilon")?,
        vocab: g.get_str_array("tokenizer.ggml.tokens")?.len(),
        context: u("context_length")?,
    })
}

impl Llama {
    /// Reads and dequantizes a llama-architecture GGUF file.
    pub fn load(path: &Path) -> Result<Self, LlamaError> {
        let g = Gguf::open(path)?;
        let config = config_from(&g)?;
        let tokenizer = Tokenizer::from_gguf(&g)?;
        let c = &config;
        let kv = c.n_kv_heads * c.head_dim;
        let layers = (0..c.n_layers)
            .into_par_iter()
            .map(|l| {
                let p = |s: &str| format!("blk.{l}.{s}.weight");
                Ok(Layer {
                    attn_norm: tensor(&g, &p("attn_norm"), &[c.d_model])?,
                    wq: linear(&g, &p("attn_q"), c.d_model, c.d_model)?,
                    wk: linear(&g, &p("attn_k"), kv, c.d_model)?,
                    wv: linear(&g, &p("attn_v"), kv, c.d_model)?,
                    wo: linear(&g, &p("attn_output"), c.d_model, c.d_model)?,
                    ffn_norm: tensor(&g, &p("ffn_norm"), &[c.d_model])?,
                    gate: linear(&g, &p("ffn_gate"), c.ffn, c.d_model)?,
                    up: linear(&g, &p("ffn_up"), c.ffn, c.d_model)?,
                    down: linear(&g, &p("ffn_down"), c.d_model, c.ffn)?,
                })
            })
            .collect::<Result<Vec<_>, LlamaError>>()?;
        let embed = linear(&g, "token_embd.weight", c.vocab, c.d_model)?;
        let lm_head = match g.tensor("output.weight") {
            Ok(_) => Some(linear(&g, "output.weight", c.vocab, c.d_model)?),
            Err(_) => None,
        };
        let out_norm = tensor(&g, "output_norm.weight", &[c.d_model])?;
        Ok(Llama {
            config,
            tokenizer,
            embed,
            lm_head,
            layers,
            out_norm,
        })
    }
}
