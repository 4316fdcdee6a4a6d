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
        window: None,
        softcap: None,
        q: q.to_vec(),
        k: k.to_vec(),
        logits,
        content_logits: content,
        positional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qk(n: usize, d: usize) -> Vec<f32> {
        (0..n * d)
            .map(|x| ((x * 37 % 11) as f32 - 5.0) / 4.0)
            .collect()
    }

    #[test]
    fn alibi_logits_are_content_plus_the_bias() {
        let (n, d) = (6, 4);
        let q = qk(n, d);
        let c = capture_head(
            &q,
            &q,
            n,
            d,
            0.5,
            false,
            &HeadPositions::Alibi { slope: 0.25 },
        )
        .unwrap();
        c.validate().unwrap();
        for i in 0..n {
            for j in 0..n {
                // small dyadic inputs: the content logit and the bias are exact in f32
                let dot: f32 = (0..d).map(|t| q[i * d + t] * q[j * d + t]).sum::<f32>() * 0.5;
                assert_eq!(c.content_logits[i * n + j], dot);
                let want = dot - 0.25 * i.abs_diff(j) as f32;
                assert_eq!(c.logits[i * n + j], want, "({i}, {j})");
            }
        }
    }

    #[test]
    fn rope_keeps_the_diagonal_and_records_the_frequencies() {
        let (n, d) = (5, 8);
        let q = qk(n, d);
        let rope = Rope::new(RopePairing::HalfSplit, 100.0);
        let c = capture_head(&q, &q, n, d, 1.0, true, &HeadPositions::Rope(rope)).unwrap();
        let Positional::Rope { inv_freq, pairing } = &c.positional else {
            panic!("a RoPE head is recorded as RoPE");
        };
        assert_eq!(*pairing, Pairing::HalfSplit);
        assert_eq!(inv_freq.len(), d / 2);
        assert!((inv_freq[1] - 100f64.powf(-2.0 / 8.0)).abs() < 1e-15);
        for i in 0..n {
            // a rotation by the same angle on both sides leaves ⟨q_i, q_i⟩ unchanged
            let (l, c0) = (c.logits[i * n + i], c.content_logits[i * n + i]);
            assert!((l - c0).abs() <= 1e-5 * c0.abs().max(1.0), "{l} vs {c0}");
        }
        assert!(c.causal);
    }

    #[test]
    fn refuses_bad_shapes_and_values() {
        let q = qk(4, 2);
        let e = |r: Result<HeadCapture, QkError>| r.unwrap_err().to_string();
        let alibi = HeadPositions::Alibi { slope: 1.0 };
        assert!(e(capture_head(&q, &q, 3, 2, 1.0, false, &alibi)).contains("expected 3×2"));
        assert!(e(capture_head(&q, &q, 4, 2, 0.0, false, &alibi)).contains("scale"));
        let bias = HeadPositions::Bias(vec![0.0; 15]);
        assert!(e(capture_head(&q, &q, 4, 2, 1.0, false, &bias)).contains("bias has 15"));
        let mut nan = q.clone();
        nan[3] = f32::NAN;
        assert!(capture_head(&nan, &q, 4, 2, 1.0, false, &alibi).is_err());
    }
}
