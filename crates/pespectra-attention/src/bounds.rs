//! Stated a-priori error bounds of the f32 paths against the f64 reference.
//!
//! Model: `u = 2^-24`; the prepass rounds the f64-rotated `q'`, `k'` once to f32 (relative
//! `u` per element); an f32 dot product of length `D` with FMA has error at most
//! `γ_D·Σ|q'_t||k'_t| ≤ γ_D·‖q'‖‖k'‖` (Higham, Thm 3.1, then Cauchy–Schwarz); adding the
//! rounded bias and forming `x - m` in the softmax each add at most a few `u` of the
//! operands. Hence every logit is off by at most
//! `E_i = (D + 8)·u·scale·‖q'_i‖·max_j‖k'_j‖ + 4u·max|bias|`.
//! Logit errors bounded by `E` change each softmax weight by a factor in `[e^-2E, e^2E]`
//! (softmax conditioning: the normaliser moves by at most `e^±E` too), so the weighted
//! mean moves by at most `(e^{2E} - 1)·max|v|`. The approximate `2^x` and the f32
//! accumulation of `Σ p_j v_j` and `Σ p_j` (depth ≤ S plus two rescalings per key tile)
//! perturb each weight relatively by at most `ε_exp + (S + 2·S/16 + 4)·u`, contributing twice
//! that times `max|v|`; the final f32 store adds `u·max|v|`.

use crate::config::{validate, AttentionConfig, AttentionInputs};
use crate::error::Error;
use crate::kernels::EXP2_REL_ERROR;
use crate::pe::{Bias, Prepared};

/// Unit roundoff of f32.
pub const F32_UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// Per-element a-priori error bounds for a given problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBounds {
    /// `[batch, heads, seq]`: bound on `|logit_f32 - logit_f64|` for every key of query `i`
    /// (applies to `pre_mask` logits of logits mode and inside the flash path).
    pub logit: Vec<f64>,
    /// `[batch, heads, seq, value_dim]`: bound on `|out_f32 - out_f64|`.
    pub output: Vec<f64>,
}

/// Computes [`ErrorBounds`] (see the module docs for the derivation).
pub fn error_bounds(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
) -> Result<ErrorBounds, Error> {
    validate(cfg, inp)?;
    let u = F32_UNIT_ROUNDOFF;
    let prep = Prepared::new(cfg);
    let (s, d, dv) = (cfg.seq, cfg.head_dim, cfg.value_dim);
    let gqa = cfg.heads / cfg.kv_heads;
    let mut logit = Vec::with_capacity(cfg.batch * cfg.heads * s);
    let mut output = Vec::with_capacity(cfg.out_len());
    let mut q = vec![0f64; s * d];
    let mut k = vec![0f64; s * d];
    let norm = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>().sqrt();
    for b in 0..cfg.batch {
        for h in 0..cfg.heads {
            let g = h / gqa;
            prep.query(cfg, inp, b, h, true, 1.0, &mut q);
            prep.key(cfg, inp, b, g, true, &mut k);
            let kmax = k.chunks(d).map(norm).fold(0.0, f64::max);
            let bmax = prep.bias.as_ref().map_or(0.0, |b| {
                // every bias row of this head lies in the head's block of values
                let (lo, len) = match b {
                    Bias::Relative(_) => (h * (2 * s - 1), 2 * s - 1),
                    Bias::Key(_) => (h * s, s),
                };
                b.values()[lo..lo + len]
                    .iter()
                    .fold(0.0, |m: f64, x| m.max(x.abs()))
            });
            let v = &inp.v[(b * cfg.kv_heads + g) * s * dv..][..s * dv];
            let vmax: Vec<f64> = (0..dv)
                .map(|c| (0..s).fold(0.0, |m: f64, j| m.max((v[j * dv + c] as f64).abs())))
                .collect();
            let accum = 2.0 * (EXP2_REL_ERROR + (s + 2 * s.div_ceil(16) + 4) as f64 * u) + u;
            for qi in q.chunks(d) {
                let e = (d + 8) as f64 * u * cfg.scale * norm(qi) * kmax + 4.0 * u * bmax;
                logit.push(e);
                let w = (2.0 * e).exp_m1() + accum;
                output.extend(vmax.iter().map(|m| w * m));
            }
        }
    }
    Ok(ErrorBounds { logit, output })
}
