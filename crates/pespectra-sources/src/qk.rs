//! One head captured elsewhere (PyTorch hooks, JAX, a notebook): its content q/k and how
//! positions enter, turned into the [`HeadCapture`] the audit reads. The logits are formed by
//! the attention core's logits mode with the exact conventions of `pespectra-attention`, so
//! a caller never has to form them itself.

use pespectra_attention::{
    attention_logits, rope_frequencies, AttentionConfig, AttentionInputs, LogitsRequest,
    PositionalEncoding, Rope, RopePairing,
};
use pespectra_capture::{HeadCapture, Pairing, Positional};

/// How positions enter a head given by its q/k.
#[derive(Clone, Debug, PartialEq)]
pub enum HeadPositions {
    /// RoPE on q and k (`rope.rotary_fraction` of the head, the leading dimensions).
    Rope(Rope),
    /// ALiBi: `−slope·|i − j|` added to the scaled scores.
    Alibi {
        /// The head's slope.
        slope: f64,
    },
    /// Any n×n bias (row-major) added to the scaled scores: T5 buckets, a learned table.
    Bias(Vec<f32>),
}

/// Why a q/k pair cannot be audited as given.
#[derive(Debug, thiserror::Error)]
pub enum QkError {
    /// Shapes disagree.
    #[error("{0}")]
    Shape(String),
    /// The attention core refused the inputs (non-finite values, bad RoPE width, …).
    #[error(transparent)]
    Attention(#[from] pespectra_attention::Error),
}

/// The capture of one head from row-major `q`, `k` (`n × head_dim`, as they enter the
/// positional step: after projection and any norm, before RoPE and the scale).
pub fn capture_head(
    q: &[f32],
    k: &[f32],
    n: usize,
    head_dim: usize,
    scale: f64,
    causal: bool,
    positions: &HeadPositions,
) -> Result<HeadCapture, QkError> {
    if n < 2 || head_dim == 0 {
        return Err(QkError::Shape(format!(
            "q and k need at least 2 rows and 1 column, got {n}×{head_dim}"
        )));
    }
    if q.len() != n * head_dim || k.len() != n * head_dim {
        return Err(QkError::Shape(format!(
            "q has {} and k {} values, expected {n}×{head_dim} = {} each",
            q.len(),
            k.len(),
            n * head_dim
        )));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(QkError::Shape(format!(
            "the scale must be positive and finite, got {scale}"
        )));
    }
    let mut cfg = AttentionConfig::new(1, 1, n, head_dim);
    cfg.scale = scale;
    let (pe, positional) = match positions {
        HeadPositions::Rope(rope) => {
            let rot = (head_dim as f64 * rope.rotary_fraction).floor() as usize;
            let (inv_freq, _) = rope_frequencies(rope, rot, n);
            let pairing = match rope.pairing {
                RopePairing::Interleaved => Pairing::Interleaved,
                RopePairing::HalfSplit => Pairing::HalfSplit,
            };
            (
                PositionalEncoding::Rope(rope.clone()),
                Positional::Rope { pairing, inv_freq },
            )
        }
        HeadPositions::Alibi { slope } => {
            let bias = (0..n * n)
                .map(|x| (-slope * (x / n).abs_diff(x % n) as f64) as f32)
                .collect();
            (PositionalEncoding::NoPE, Positional::AdditiveBias { bias })
        }
        HeadPositions::Bias(bias) => {
            if bias.len() != n * n {
                return Err(QkError::Shape(format!(
                    "the bias has {} values, expected {n}×{n} = {}",
                    bias.len(),
                    n * n
                )));
            }
            if let Some(i) = bias.iter().position(|b| !b.is_finite()) {
                return Err(QkError::Shape(format!(
                    "the bias is not finite at ({}, {})",
                    i / n,
                    i % n
                )));
            }
            (
                PositionalEncoding::NoPE,
                Positional::AdditiveBias { bias: bias.clone() },
            )
        }
    };
    cfg.pe = pe;
    let v = vec![0f32; n * head_dim];
    let inputs = AttentionInputs {
        q,
        k,
        v: &v,
        rope_key: None,
    };
    let req = LogitsRequest {
        pre_mask: true,
        content: true,
        per_frequency: false,
    };
    let l = attention_logits(&cfg, &inputs, req)?;
    let content = l.content.unwrap_or_default();
    let logits = match &positional {
        // the bias is added to the scaled scores, exactly as the capture's convention says
        Positional::AdditiveBias { bias } => content.iter().zip(bias).map(|(c, b)| c + b).collect(),
        _ => l.pre_mask.unwrap_or_default(),
    };
    Ok(HeadCapture {
        layer: 0,
        head: 0,
        kv_head: 0,
        n,
        head_dim,
        scale,
        causal,
        q: q.to_vec(),
        k: k.to_vec(),
        logits,
        content_logits: content,
        positional,
    })
}
