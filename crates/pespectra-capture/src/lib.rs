//! What a forward pass of a trained model records for one attention head, and nothing else.
//!
//! The model crates (`pespectra-hf`, `pespectra-encoders`) produce [`HeadCapture`]s; the
//! audit (`pespectra-audit`) consumes them. Keeping the type in its own crate lets the two sides
//! be built and tested independently, and keeps data flowing one way.
//!
//! Conventions (all matrices row-major, `n` tokens, `head_dim` columns):
//! * `q`, `k` are the query/key rows of this head *as they enter the positional step*: after the
//!   projection, its bias, and any per-head norm, before RoPE and before the logit scale.
//!   For GQA/MQA, `k` is the shared kv head `kv_head`. A RoPE attention factor `a` that
//!   multiplies cos and sin (YaRN, LongRoPE) is folded into the rotated dimensions of `q` and
//!   `k` (times `a`), so `logits = scale·⟨RoPE(q), RoPE(k)⟩` holds exactly, partial rotary
//!   included.
//! * `logits` are the pre-mask, pre-softmax scores exactly as the model forms them:
//!   `scale · ⟨PE(q_i), PE(k_j)⟩ + bias_ij` (no causal or padding mask applied, masking is the
//!   reader's choice).
//! * `content_logits` are the same scores with the positional step removed, see
//!   [`Positional`] for what that means for each family.
//! * A soft-capped model (`softcap`) forms `cap·tanh(x/cap)` from these scores; `logits` and
//!   `content_logits` are recorded before the cap, where the positional structure is linear.
//!
//! ```
//! use pespectra_capture::{HeadCapture, Positional};
//! // a 3-token head with an ALiBi-like bias −|i − j|/2: logits = content + bias
//! let (n, d) = (3, 2);
//! let q = vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
//! let content: Vec<f32> = (0..n * n)
//!     .map(|x| (0..d).map(|t| q[(x / n) * d + t] * q[(x % n) * d + t]).sum())
//!     .collect();
//! let bias: Vec<f32> = (0..n * n).map(|x| -((x / n).abs_diff(x % n) as f32) / 2.0).collect();
//! let logits = content.iter().zip(&bias).map(|(c, b)| c + b).collect();
//! let c = HeadCapture {
//!     layer: 0, head: 0, kv_head: 0, n, head_dim: d, scale: 1.0, causal: false,
//!     window: None, softcap: None,
//!     q: q.clone(), k: q, logits, content_logits: content,
//!     positional: Positional::AdditiveBias { bias },
//! };
//! assert_eq!(c.logits[1], -0.5); // q_0·k_1 = 0, bias −1/2
//! ```

#![warn(missing_docs)]
pub mod model;
pub mod store;

pub use model::{CaptureModel, HeadAblation, ModelDims, ModelError, ModelStage};
pub use pespectra_pe::rope::Pairing;

/// How positions enter this head's logits.
#[derive(Clone, Debug, PartialEq)]
pub enum Positional {
    /// RoPE applied to `q` and `k` inside attention. `inv_freq[f]` is θ_f as the model uses it
    /// (after any scaling), for the first `2·inv_freq.len()` dimensions of the head; the rest pass
    /// through. `content_logits = scale · q kᵀ` (NoPE on the same content).
    Rope {
        /// Pair layout of the rotated dimensions.
        pairing: Pairing,
        /// θ_f per rotary frequency.
        inv_freq: Vec<f64>,
    },
    /// An additive bias on the scaled scores (T5/MPNet buckets, ALiBi): `logits = content_logits
    /// + bias`, with `bias` the n×n matrix actually added (row-major).
    AdditiveBias {
        /// The n×n bias.
        bias: Vec<f32>,
    },
    /// Absolute positions added to the embeddings before layer 0 (learned or sinusoidal).
    /// `content_logits` come from the same forward pass with the position embeddings removed at
    /// the input (the position-free counterfactual), so `logits − content_logits` is everything
    /// positions changed in this head.
    Absolute,
}

/// One head of one layer on one input.
#[derive(Clone, Debug)]
pub struct HeadCapture {
    /// Layer index, 0-based.
    pub layer: usize,
    /// Query head index, 0-based.
    pub head: usize,
    /// Key/value head this query head reads (equal to `head` without GQA/MQA).
    pub kv_head: usize,
    /// Tokens.
    pub n: usize,
    /// Head dimension.
    pub head_dim: usize,
    /// Logit scale (usually `head_dim^-1/2`).
    pub scale: f64,
    /// Whether the model applies a causal mask to these logits.
    pub causal: bool,
    /// Sliding window of this head's layer: query `i` sees keys `i − w < j ≤ i` only (the
    /// HF/llama.cpp convention, with `causal`). `None`: every key the causal flag allows.
    pub window: Option<usize>,
    /// Logit soft-capping (Gemma 2): the model replaces each score `x` by `cap·tanh(x/cap)`
    /// before the mask. `logits` and `content_logits` are the scores *before* the cap, the
    /// bilinear form the theorems are about; a reader wanting the capped scores applies it.
    pub softcap: Option<f64>,
    /// n × head_dim, see the crate docs.
    pub q: Vec<f32>,
    /// n × head_dim, see the crate docs.
    pub k: Vec<f32>,
    /// n × n pre-mask logits.
    pub logits: Vec<f32>,
    /// n × n logits without the positional step.
    pub content_logits: Vec<f32>,
    /// How positions enter.
    pub positional: Positional,
}

impl HeadCapture {
    /// Checks that every buffer has the size its shape fields promise, so a consumer can index
    /// without bounds surprises. Returns a one-line description of the first mismatch.
    pub fn validate(&self) -> Result<(), String> {
        let (n, d) = (self.n, self.head_dim);
        if self.window == Some(0) {
            return Err(format!(
                "layer {} head {}: a sliding window of 0 keys",
                self.layer, self.head
            ));
        }
        if let Some(cap) = self.softcap.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(format!(
                "layer {} head {}: soft-cap {cap} is not a positive finite number",
                self.layer, self.head
            ));
        }
        let want = [
            ("q", self.q.len(), n * d),
            ("k", self.k.len(), n * d),
            ("logits", self.logits.len(), n * n),
            ("content_logits", self.content_logits.len(), n * n),
        ];
        for (name, got, expect) in want {
            if got != expect {
                return Err(format!(
                    "layer {} head {}: {name} has {got} values, expected {expect}",
                    self.layer, self.head
                ));
            }
        }
        match &self.positional {
            Positional::Rope { inv_freq, .. } if 2 * inv_freq.len() > d => Err(format!(
                "layer {} head {}: {} rotary frequencies do not fit head_dim {d}",
                self.layer,
                self.head,
                inv_freq.len()
            )),
            Positional::AdditiveBias { bias } if bias.len() != n * n => Err(format!(
                "layer {} head {}: bias has {} values, expected {}",
                self.layer,
                self.head,
                bias.len(),
                n * n
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(n: usize, d: usize) -> HeadCapture {
        HeadCapture {
            layer: 0,
            head: 0,
            kv_head: 0,
            n,
            head_dim: d,
            scale: 1.0,
            causal: false,
            window: None,
            softcap: None,
            q: vec![0.0; n * d],
            k: vec![0.0; n * d],
            logits: vec![0.0; n * n],
            content_logits: vec![0.0; n * n],
            positional: Positional::Absolute,
        }
    }

    #[test]
    fn validate_accepts_consistent_and_names_the_bad_buffer() {
        assert!(capture(3, 4).validate().is_ok());
        let mut c = capture(3, 4);
        c.logits.pop();
        let e = c.validate().unwrap_err();
        assert!(e.contains("logits has 8 values, expected 9"), "{e}");
        let mut c = capture(3, 4);
        c.positional = Positional::Rope {
            pairing: Pairing::HalfSplit,
            inv_freq: vec![1.0; 3],
        };
        assert!(c.validate().unwrap_err().contains("rotary"));
        c.positional = Positional::AdditiveBias { bias: vec![0.0; 4] };
        assert!(c.validate().unwrap_err().contains("bias has 4"));
    }
}
