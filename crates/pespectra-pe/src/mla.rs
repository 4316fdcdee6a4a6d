//! DeepSeek-V2/V3 multi-head latent attention: per-head content path without PE plus a
//! decoupled RoPE path whose key is one head shared by all query heads.

use crate::error::PeError;
use crate::logits::{logits, PositionalEncoding};
use crate::matrix::RealMatrix;
use crate::rope::{yarn_get_mscale, RopeConfig, YarnParams};

/// DeepSeek's softmax scale: (d_nope + d_rope)^-0.5, times mscale² with
/// mscale = 0.1·mscale_all_dim·ln(factor) + 1 when YaRN sets a non-zero `mscale_all_dim`
/// (transformers `yarn_apply_mscale`). With V3's config (factor 40, mscale_all_dim 1) mscale² ≈ 1.874.
pub fn mla_softmax_scale(d_nope: usize, d_rope: usize, yarn: Option<&YarnParams>) -> f64 {
    let base = 1.0 / ((d_nope + d_rope) as f64).sqrt();
    match yarn.and_then(|y| y.mscale_all_dim.map(|m| (y.factor, m))) {
        Some((factor, m)) if m != 0.0 => {
            let ms = yarn_get_mscale(factor, m);
            base * ms * ms
        }
        _ => base,
    }
}

/// Logits of every MLA head: head h uses `q_heads[h]` = [q_nope | q_rope] (n × (d_nope + d_rope)),
/// its own `k_nope_heads[h]` (n × d_nope) and the shared `k_rope` (n × d_rope, pre-rotation).
pub fn mla_logits(
    q_heads: &[RealMatrix],
    k_nope_heads: &[RealMatrix],
    k_rope: &RealMatrix,
    rope: &RopeConfig,
    scale: f64,
) -> Result<Vec<RealMatrix>, PeError> {
    if q_heads.is_empty() {
        return Err(PeError::Empty("MLA needs at least one head".into()));
    }
    if q_heads.len() != k_nope_heads.len() {
        return Err(PeError::Shape(format!(
            "{} query heads but {} key heads",
            q_heads.len(),
            k_nope_heads.len()
        )));
    }
    k_rope.validate("k_rope")?;
    q_heads
        .iter()
        .zip(k_nope_heads)
        .map(|(q, k_nope)| {
            k_nope.validate("k_nope")?;
            if k_nope.rows() != k_rope.rows() {
                return Err(PeError::Shape(format!(
                    "k_nope has {} rows but k_rope has {}",
                    k_nope.rows(),
                    k_rope.rows()
                )));
            }
            let d_nope = k_nope.cols();
            let k = RealMatrix::from_fn(k_rope.rows(), d_nope + k_rope.cols(), |i, c| {
                if c < d_nope {
                    k_nope.get(i, c)
                } else {
                    k_rope.get(i, c - d_nope)
                }
            });
            let pe = PositionalEncoding::Mla {
                d_nope,
                rope: rope.clone(),
            };
            logits(q, &k, &pe, scale)
        })
        .collect()
}
