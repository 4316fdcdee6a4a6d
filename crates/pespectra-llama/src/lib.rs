//! Forward pass of llama-architecture GGUF models (SmolLM2-135M-Instruct) in f32, with per-head
//! capture of the attention logits and cheap single-head ablations.
//!
//! Weights are dequantized once at load. Projections and the MLP run on faer's GEMM, attention on
//! the attention core (`pespectra-attention`, fused causal flash path; its logits mode for
//! captures). llama.cpp's converter permutes the rows of `attn_q`/`attn_k` so that GGML's
//! *interleaved* RoPE (pairs `(2i, 2i+1)`) equals the checkpoint's rotate-half, so this crate
//! applies interleaved RoPE to the GGUF weights as they are, and records
//! [`Pairing::Interleaved`](pespectra_capture::Pairing::Interleaved) in every capture.
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
mod error;
mod forward;
mod load;

pub mod tokenizer;

pub use error::LlamaError;
pub use load::Config;
pub use tokenizer::Tokenizer;

use pespectra_attention::{
    rope_frequencies, AttentionConfig, Mask, PositionalEncoding, Rope, RopePairing,
};
use pespectra_capture::HeadCapture;
use pespectra_layers::Linear;

/// One decoder block's weights.
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

impl Llama {
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
        tokens
            .iter()
            .flat_map(|&t| {
                // ids are checked against the vocabulary (`check_tokens`) before embedding
                self.embed.row(t as usize).unwrap_or(&[]).iter().copied()
            })
            .collect()
    }
}
