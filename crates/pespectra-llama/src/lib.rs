//! Forward pass of llama-architecture GGUF models (SmolLM2-135M-Instruct) in f32, with per-head
//! capture of the attention logits and cheap single-head ablations.
//!
//! Weights are dequantized once at load. Projections and the MLP run on faer's GEMM, attention on
//! the attention core (`pespectra-attention`, fused causal flash path; its logits mode for
//! captures). llama.cpp's converter permutes the rows of `attn_q`/`attn_k` so that GGML's
//! *interleaved* RoPE (pairs `(2i, 2i+1)`) equals the checkpoint's rotate-half, so this crate
//! applies interleaved RoPE to the GGUF weights as they are, and records
//! [`Pairing::Interleaved`] in every capture.
//!
//! ```no_run
//! // needs the 98 MB SmolLM2 GGUF: `pespectra models fetch smollm2-135m` (not run by doctests)
//! let dir = pespectra_models::installed("smollm2-135m")?.expect("fetched");
//! let gguf = std::fs::read_dir(&dir)?.flatten().map(|e| e.path())
//!     .find(|p| p.extension().is_some_and(|x| x == "gguf")).expect("a .gguf file");
//! let model = pespectra_llama::Llama::load(&gguf)?;
//! let ids = model.encode("The capital of France is")?;
//! let next = model.generate_greedy(&ids, 3)?;
//! println!("{}", model.tokenizer.decode(&next)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
mod capture_model;
pub mod tokenizer;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use pespectra_attention::{
    attention_logits, flash_attention, rope_frequencies, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, PositionalEncoding, Rope, RopePairing,
};
use pespectra_capture::{HeadCapture, Pairing, Positional};
use pespectra_models::gguf::{Gguf, GgufError};
use rayon::prelude::*;
use std::fmt;
use std::path::Path;
pub use tokenizer::Tokenizer;

/// Why loading or running the model failed. `Display` is one line.
#[derive(Debug)]
pub enum LlamaError {
    /// The GGUF file cannot be read.
    Gguf(GgufError),
    /// The file describes something this forward pass does not implement.
    Unsupported(String),
    /// Building or running the tokenizer failed.
    Tokenizer(String),
    /// No tokens (empty text).
    EmptyInput,
    /// More tokens than the model's context.
    TooLong {
        /// Tokens given.
        n: usize,
        /// Context length.
        max: usize,
    },
    /// A token id outside the vocabulary.
    BadToken {
        /// The id.
        id: u32,
        /// Vocabulary size.
        vocab: usize,
    },
    /// A layer or head index out of range, or an inconsistent request.
    BadRequest(String),
    /// The attention core refused its inputs (non-finite activations, …).
    Attention(String),
}

impl fmt::Display for LlamaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LlamaError::Gguf(e) => write!(f, "{e}"),
            LlamaError::Unsupported(m) => write!(f, "unsupported model: {m}"),
            LlamaError::Tokenizer(m) => write!(f, "tokenizer: {m}"),
            LlamaError::EmptyInput => write!(f, "empty input: the text has no tokens"),
            LlamaError::TooLong { n, max } => write!(
                f,
                "input too long: {n} tokens, the model's context is {max}"
            ),
            LlamaError::BadToken { id, vocab } => {
                write!(f, "token id {id} is outside the vocabulary of {vocab}")
            }
            LlamaError::BadRequest(m) => write!(f, "{m}"),
            LlamaError::Attention(m) => write!(f, "attention core: {m}"),
        }
    }
}

impl std::error::Error for LlamaError {}

impl From<GgufError> for LlamaError {
    fn from(e: GgufError) -> Self {
        LlamaError::Gguf(e)
    }
}

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

/// `y = x Wᵀ` with `W` stored `[out, in]` row-major (GGUF `dims = [in, out]`).
struct Linear {
    w: Vec<f32>,
    out: usize,
    inp: usize,
}

impl Linear {
    /// `y (rows × out) ← x Wᵀ` (`Accum::Replace`) or `y += x Wᵀ` (`Accum::Add`).
    fn apply(&self, x: &[f32], rows: usize, y: &mut [f32], accum: Accum) {
        let a = MatRef::from_row_major_slice(x, rows, self.inp);
        let wt = MatRef::from_row_major_slice(&self.w, self.out, self.inp).transpose();
        let c = MatMut::from_row_major_slice_mut(y, rows, self.out);
        matmul(c, accum, a, wt, 1.0f32, Par::rayon(0));
    }

    fn new_out(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut y = vec![0f32; rows * self.out];
        self.apply(x, rows, &mut y, Accum::Replace);
        y
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    wo: Linear,
    ffn_norm: Vec<f32>,
    gate: Linear,
    up: Linear,
    down: Linear,
}

/// A loaded model.
pub struct Llama {
    /// Hyper-parameters.
    pub config: Config,
    /// The tokenizer from the same file.
    pub tokenizer: Tokenizer,
    embed: Linear,
    /// `None` when the output projection is tied to the embeddings (SmolLM2).
    lm_head: Option<Linear>,
    layers: Vec<Layer>,
    out_norm: Vec<f32>,
}

/// What [`Llama::forward`] should record besides the next-token logits.
#[derive(Default)]
pub struct ForwardOptions<'a> {
    /// Layers whose heads are captured (every head of each).
    pub capture_layers: Vec<usize>,
    /// Receives each captured head, in layer then head order; the caller decides what to keep.
    pub sink: Option<&'a mut dyn FnMut(HeadCapture)>,
    /// Also compute the mean next-token cross-entropy over the input.
    pub loss: bool,
}

/// Result of [`Llama::forward`].
#[derive(Clone, Debug)]
pub struct ForwardOutput {
    /// Logits of the token after the last input position (`vocab` values).
    pub last_logits: Vec<f32>,
    /// Mean cross-entropy (nats) of predicting tokens `1..n` from their prefixes, if requested
    /// and `n ≥ 2`.
    pub loss: Option<f64>,
}

/// Result of [`Llama::ablation_losses`].
#[derive(Clone, Debug)]
pub struct Ablation {
    /// Mean next-token cross-entropy of the unmodified model.
    pub clean_loss: f64,
    /// The same with one head's attention output zeroed, per requested `(layer, head)`.
    pub losses: Vec<f64>,
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

fn linear(g: &Gguf, name: &str, out: usize, inp: usize) -> Result<Linear, LlamaError> {
    Ok(Linear {
        w: tensor(g, name, &[inp, out])?,
        out,
        inp,
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

/// `w ⊙ x / rms(x)` per row (HF `LlamaRMSNorm`; the mean square is accumulated in f64).
fn rms_norm(x: &[f32], w: &[f32], eps: f64) -> Vec<f32> {
    let d = w.len();
    let mut y = vec![0f32; x.len()];
    y.chunks_mut(d).zip(x.chunks(d)).for_each(|(yr, xr)| {
        let ms = xr.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / d as f64;
        let inv = (1.0 / (ms + eps).sqrt()) as f32;
        for ((o, &v), &g) in yr.iter_mut().zip(xr).zip(w) {
            *o = g * (v * inv);
        }
    });
    y
}

/// Token-major `[batch, n, heads·hd]` to head-major `[batch, heads, n, hd]` (the core's layout).
fn to_heads(x: &[f32], n: usize, heads: usize, hd: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    for (ys, xs) in y.chunks_mut(n * heads * hd).zip(x.chunks(n * heads * hd)) {
        for h in 0..heads {
            for i in 0..n {
                ys[(h * n + i) * hd..(h * n + i + 1) * hd]
                    .copy_from_slice(&xs[i * heads * hd + h * hd..i * heads * hd + (h + 1) * hd]);
            }
        }
    }
    y
}

/// Head-major `[batch, heads, n, hd]` to token-major `[batch, n, heads·hd]`.
fn from_heads(x: &[f32], n: usize, heads: usize, hd: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    for (ys, xs) in y.chunks_mut(n * heads * hd).zip(x.chunks(n * heads * hd)) {
        for h in 0..heads {
            for i in 0..n {
                ys[i * heads * hd + h * hd..i * heads * hd + (h + 1) * hd]
                    .copy_from_slice(&xs[(h * n + i) * hd..(h * n + i + 1) * hd]);
            }
        }
    }
    y
}

/// `e^x` for `x ∈ [−87, 88]` (clamped outside), relative error ≤ 2e−7 (tested against f64).
/// Branch-free (Cody–Waite reduction, Cephes' `expf` polynomial, `2^n` built from the rounding
/// constant's bits) so loops over slices vectorise; libm's scalar `expf`/`exp` calls were half
/// of a forward pass (SiLU and the loss's log-sum-exp).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // t's low mantissa bits hold n; (n + 127) << 23 is 2^n (n ∈ [−126, 127] here).
    let two_n = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    e * two_n
}

/// `x·σ(x)·u` in place over `g` (SwiGLU's gate times up).
fn swiglu(g: &mut [f32], u: &[f32]) {
    for (a, &b) in g.iter_mut().zip(u) {
        *a = *a / (1.0 + exp_f32(-*a)) * b;
    }
}

/// Sum of `logsumexp(row) − row[target]` over the rows (exponentials in f32, sums in f64).
/// Element-wise work like this stays sequential: it is small next to the GEMMs.
fn cross_entropy_sum(logits: &[f32], vocab: usize, targets: &[u32]) -> f64 {
    let mut e = vec![0f32; vocab];
    logits
        .chunks(vocab)
        .zip(targets)
        .map(|(row, &t)| {
            let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            for (o, &v) in e.iter_mut().zip(row) {
                *o = exp_f32(v - m);
            }
            let mut acc = [0f64; 8];
            let chunks = e.chunks_exact(8);
            let tail: f64 = chunks.remainder().iter().map(|&v| v as f64).sum();
            for c in chunks {
                for (a, &v) in acc.iter_mut().zip(c) {
                    *a += v as f64;
                }
            }
            m as f64 + (acc.iter().sum::<f64>() + tail).ln() - row[t as usize] as f64
        })
        .sum()
}

/// Rows of the output projection computed at once when forming the loss (bounds memory).
const LOSS_CHUNK: usize = 128;

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

    /// Token ids of `text`; an empty result is [`LlamaError::EmptyInput`].
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LlamaError> {
        let ids = self.tokenizer.encode(text)?;
        if ids.is_empty() {
            return Err(LlamaError::EmptyInput);
        }
        Ok(ids)
    }

    /// RoPE frequencies θ_f as the attention core applies them (f64, `base^(−2f/hd)`).
    pub fn inv_freq(&self) -> Vec<f64> {
        rope_frequencies(&self.rope(), self.config.head_dim, 1).0
    }

    fn rope(&self) -> Rope {
        Rope::new(RopePairing::Interleaved, self.config.rope_base)
    }

    fn attention_config(&self, batch: usize, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(batch, c.n_heads, n, c.head_dim);
        cfg.kv_heads = c.n_kv_heads;
        cfg.mask = Mask::causal();
        cfg.pe = PositionalEncoding::Rope(self.rope());
        cfg
    }

    fn check_tokens(&self, tokens: &[u32]) -> Result<(), LlamaError> {
        if tokens.is_empty() {
            return Err(LlamaError::EmptyInput);
        }
        if tokens.len() > self.config.context {
            return Err(LlamaError::TooLong {
                n: tokens.len(),
                max: self.config.context,
            });
        }
        if let Some(&id) = tokens.iter().find(|&&t| t as usize >= self.config.vocab) {
            return Err(LlamaError::BadToken {
                id,
                vocab: self.config.vocab,
            });
        }
        Ok(())
    }

    fn embed(&self, tokens: &[u32]) -> Vec<f32> {
        let d = self.config.d_model;
        tokens
            .iter()
            .flat_map(|&t| &self.embed.w[t as usize * d..(t as usize + 1) * d])
            .copied()
            .collect()
    }

    /// The attention half of layer `l` on the residuals `x` of `batch` sequences of `n` tokens:
    /// the per-head outputs, token-major `[batch, n, heads·hd]` (before the output projection).
    /// Sends captures to `sink` if given (only used with `batch = 1`).
    fn attention<'s>(
        &self,
        l: usize,
        x: &[f32],
        (batch, n): (usize, usize),
        sink: Option<&mut (dyn FnMut(HeadCapture) + 's)>,
    ) -> Result<Vec<f32>, LlamaError> {
        let (c, layer) = (&self.config, &self.layers[l]);
        let h = rms_norm(x, &layer.attn_norm, c.rms_eps);
        let (hd, rows) = (c.head_dim, batch * n);
        let q = to_heads(&layer.wq.new_out(&h, rows), n, c.n_heads, hd);
        let k = to_heads(&layer.wk.new_out(&h, rows), n, c.n_kv_heads, hd);
        let v = to_heads(&layer.wv.new_out(&h, rows), n, c.n_kv_heads, hd);
        let cfg = self.attention_config(batch, n);
        let inp = AttentionInputs {
            q: &q,
            k: &k,
            v: &v,
            rope_key: None,
        };
        let att = |e: pespectra_attention::Error| LlamaError::Attention(e.to_string());
        if let Some(sink) = sink.filter(|_| batch == 1) {
            let req = LogitsRequest {
                pre_mask: true,
                content: true,
                per_frequency: false,
            };
            let lg = attention_logits(&cfg, &inp, req).map_err(att)?;
            let (pre, content) = (
                lg.pre_mask.unwrap_or_default(),
                lg.content.unwrap_or_default(),
            );
            let inv_freq = self.inv_freq();
            let group = c.n_heads / c.n_kv_heads;
            for head in 0..c.n_heads {
                let kvh = head / group;
                sink(HeadCapture {
                    layer: l,
                    head,
                    kv_head: kvh,
                    n,
                    head_dim: hd,
                    scale: cfg.scale,
                    causal: true,
                    q: q[head * n * hd..(head + 1) * n * hd].to_vec(),
                    k: k[kvh * n * hd..(kvh + 1) * n * hd].to_vec(),
                    logits: pre[head * n * n..(head + 1) * n * n].to_vec(),
                    content_logits: content[head * n * n..(head + 1) * n * n].to_vec(),
                    positional: Positional::Rope {
                        pairing: Pairing::Interleaved,
                        inv_freq: inv_freq.clone(),
                    },
                });
            }
        }
        let o = flash_attention(&cfg, &inp).map_err(att)?;
        Ok(from_heads(&o, n, c.n_heads, hd))
    }

    /// The rest of layer `l` on `rows` token rows: output projection of `attn` into `x`, then
    /// the SwiGLU MLP.
    fn finish_layer(&self, l: usize, x: &mut [f32], attn: &[f32], rows: usize) {
        let (c, layer) = (&self.config, &self.layers[l]);
        layer.wo.apply(attn, rows, x, Accum::Add);
        let h = rms_norm(x, &layer.ffn_norm, c.rms_eps);
        let mut g = layer.gate.new_out(&h, rows);
        let u = layer.up.new_out(&h, rows);
        swiglu(&mut g, &u);
        layer.down.apply(&g, rows, x, Accum::Add);
    }

    fn output(&self) -> &Linear {
        self.lm_head.as_ref().unwrap_or(&self.embed)
    }

    /// Next-token logits of the rows of the final residual `x` (`rows × vocab`).
    fn logits(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let h = rms_norm(x, &self.out_norm, self.config.rms_eps);
        self.output().new_out(&h, rows)
    }

    /// Last-position logits and (optionally) the mean next-token loss of the final residual.
    fn head_outputs(&self, x: &[f32], tokens: &[u32], loss: bool) -> ForwardOutput {
        let (d, n) = (self.config.d_model, tokens.len());
        let last_logits = self.logits(&x[(n - 1) * d..], 1);
        let loss = (loss && n >= 2).then(|| {
            let mut total = 0.0;
            for start in (0..n - 1).step_by(LOSS_CHUNK) {
                let end = (start + LOSS_CHUNK).min(n - 1);
                let lg = self.logits(&x[start * d..end * d], end - start);
                total += cross_entropy_sum(&lg, self.config.vocab, &tokens[start + 1..end + 1]);
            }
            total / (n - 1) as f64
        });
        ForwardOutput { last_logits, loss }
    }

    /// Runs the model on `tokens`. Heads of `options.capture_layers` go to `options.sink` one
    /// at a time (so a caller can stream all of them without holding them).
    pub fn forward(
        &self,
        tokens: &[u32],
        options: &mut ForwardOptions<'_>,
    ) -> Result<ForwardOutput, LlamaError> {
        self.check_tokens(tokens)?;
        let nl = self.config.n_layers;
        if let Some(&l) = options.capture_layers.iter().find(|&&l| l >= nl) {
            return Err(LlamaError::BadRequest(format!(
                "layer {l} does not exist (the model has {nl} layers)"
            )));
        }
        if !options.capture_layers.is_empty() && options.sink.is_none() {
            return Err(LlamaError::BadRequest(
                "capture_layers given without a sink".into(),
            ));
        }
        let n = tokens.len();
        let mut x = self.embed(tokens);
        for l in 0..nl {
            let sink = match options.sink.as_mut() {
                Some(s) if options.capture_layers.contains(&l) => Some(&mut **s),
                _ => None,
            };
            let attn = self.attention(l, &x, (1, n), sink)?;
            self.finish_layer(l, &mut x, &attn, n);
        }
        Ok(self.head_outputs(&x, tokens, options.loss))
    }

    /// Mean next-token loss of the clean model and of the model with one head's attention
    /// output zeroed (before the output projection), for each `(layer, head)` in `heads`.
    ///
    /// The clean run keeps every layer's input residual and attention output, so ablating a
    /// head of layer ℓ recomputes only its output projection and the layers after ℓ.
    /// Ablations of the same layer run together as one batch; `progress(done, total)` is
    /// called after each batch.
    pub fn ablation_losses(
        &self,
        tokens: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Ablation, LlamaError> {
        self.check_tokens(tokens)?;
        let c = &self.config;
        if tokens.len() < 2 {
            return Err(LlamaError::BadRequest(
                "a next-token loss needs at least 2 tokens".into(),
            ));
        }
        if let Some(&(l, h)) = heads
            .iter()
            .find(|&&(l, h)| l >= c.n_layers || h >= c.n_heads)
        {
            return Err(LlamaError::BadRequest(format!(
                "head ({l}, {h}) does not exist (the model has {} layers × {} heads)",
                c.n_layers, c.n_heads
            )));
        }
        let (n, d, hd) = (tokens.len(), c.d_model, c.head_dim);
        let mut x = self.embed(tokens);
        let mut inputs = Vec::with_capacity(c.n_layers);
        let mut attns = Vec::with_capacity(c.n_layers);
        for l in 0..c.n_layers {
            let attn = self.attention(l, &x, (1, n), None)?;
            inputs.push(x.clone());
            self.finish_layer(l, &mut x, &attn, n);
            attns.push(attn);
        }
        let clean_loss = self.head_outputs(&x, tokens, true).loss.unwrap_or(f64::NAN);
        // Ablations of one layer run as one batch (one sequence per ablated head): larger GEMMs
        // amortise the weight packing and split well over the cores.
        let mut order: Vec<usize> = (0..heads.len()).collect();
        order.sort_by_key(|&i| heads[i]);
        let mut losses = vec![f64::NAN; heads.len()];
        let mut done = 0;
        for group in order.chunk_by(|&a, &b| heads[a].0 == heads[b].0) {
            for chunk in group.chunks(c.n_heads) {
                let (l, batch) = (heads[chunk[0]].0, chunk.len());
                let mut x = inputs[l].repeat(batch);
                let mut attn = attns[l].repeat(batch);
                for (b, &i) in chunk.iter().enumerate() {
                    let h = heads[i].1;
                    for row in attn[b * n * d..(b + 1) * n * d].chunks_exact_mut(d) {
                        row[h * hd..(h + 1) * hd].fill(0.0);
                    }
                }
                self.finish_layer(l, &mut x, &attn, batch * n);
                for later in l + 1..c.n_layers {
                    let attn = self.attention(later, &x, (batch, n), None)?;
                    self.finish_layer(later, &mut x, &attn, batch * n);
                }
                for (b, &i) in chunk.iter().enumerate() {
                    let xb = &x[b * n * d..(b + 1) * n * d];
                    losses[i] = self.head_outputs(xb, tokens, true).loss.unwrap_or(f64::NAN);
                }
                done += batch;
                progress(done, heads.len());
            }
        }
        Ok(Ablation { clean_loss, losses })
    }

    /// Greedy continuation of `prompt` by up to `max_new` tokens, stopping after EOS.
    pub fn generate_greedy(&self, prompt: &[u32], max_new: usize) -> Result<Vec<u32>, LlamaError> {
        let mut seq = prompt.to_vec();
        for _ in 0..max_new {
            let out = self.forward(&seq, &mut ForwardOptions::default())?;
            let next = out
                .last_logits
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 {
                        (i, v)
                    } else {
                        best
                    }
                })
                .0 as u32;
            seq.push(next);
            if next == self.tokenizer.eos {
                break;
            }
        }
        Ok(seq[prompt.len()..].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_accurate_over_its_range() {
        let mut worst = 0f64;
        let steps = 2_000_000;
        for k in 0..=steps {
            let x = -87.0 + 175.0 * k as f64 / steps as f64;
            let x32 = x as f32;
            let want = (x32 as f64).exp();
            let got = exp_f32(x32) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        eprintln!("exp_f32 max relative error {worst:e}");
        assert!(worst <= 2e-7, "max relative error {worst:e}");
        assert_eq!(exp_f32(0.0), 1.0);
        // Clamped, finite, never NaN outside the range.
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(-1000.0) < 1e-37);
        assert!(exp_f32(1000.0).is_finite() && exp_f32(1000.0) > 1e38);
    }

    #[test]
    fn swiglu_and_cross_entropy_against_f64() {
        let g0: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.05).collect();
        let u: Vec<f32> = (0..1000).map(|i| 1.0 + (i % 7) as f32).collect();
        let mut g = g0.clone();
        swiglu(&mut g, &u);
        for ((&x, &b), &y) in g0.iter().zip(&u).zip(&g) {
            let want = x as f64 / (1.0 + (-(x as f64)).exp()) * b as f64;
            assert!(
                (y as f64 - want).abs() <= 1e-6 * want.abs().max(1e-3),
                "{x}: {y} vs {want}"
            );
        }
        let vocab = 1003;
        let logits: Vec<f32> = (0..2 * vocab)
            .map(|i| ((i * 37) % 101) as f32 * 0.3 - 12.0)
            .collect();
        let targets = [5u32, 900];
        let got = cross_entropy_sum(&logits, vocab, &targets);
        let want: f64 = logits
            .chunks(vocab)
            .zip(targets)
            .map(|(r, t)| {
                let s: f64 = r.iter().map(|&v| (v as f64).exp()).sum();
                s.ln() - r[t as usize] as f64
            })
            .sum();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}
