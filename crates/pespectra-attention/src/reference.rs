//! f64 reference path: the textbook definition (materialised logits, max-shifted
//! softmax, weighted sum), written for clarity rather than speed. The f32 paths are tested
//! against it with explicit error bounds.

use rayon::prelude::*;

use crate::config::{validate, AttentionConfig, AttentionInputs};
use crate::error::Error;
use crate::logits::{check_request, per_frequency_all, Logits, LogitsRequest};
use crate::pe::Prepared;

/// Attention output `[batch, heads, seq, value_dim]` in f64 (soft-capped when
/// [`AttentionConfig::softcap`] is set).
pub fn reference_attention(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
) -> Result<Vec<f64>, Error> {
    validate(cfg, inp)?;
    let prep = Prepared::new(cfg);
    let (s, d, dv) = (cfg.seq, cfg.head_dim, cfg.value_dim);
    let gqa = cfg.heads / cfg.kv_heads;
    let mut out = vec![0f64; cfg.out_len()];
    out.par_chunks_mut(s * dv).enumerate().for_each(|(idx, o)| {
        let (b, h) = (idx / cfg.heads, idx % cfg.heads);
        let g = h / gqa;
        let mut q = vec![0f64; s * d];
        let mut k = vec![0f64; s * d];
        prep.query(cfg, inp, b, h, true, cfg.scale, &mut q);
        prep.key(cfg, inp, b, g, true, &mut k);
        let v = &inp.v[(b * cfg.kv_heads + g) * s * dv..][..s * dv];
        let mut logit = vec![0f64; s];
        for i in 0..s {
            let (lo, hi) = cfg.allowed_range(b, i);
            let mut m = f64::NEG_INFINITY;
            for j in lo..hi {
                let dot: f64 = (0..d).map(|t| q[i * d + t] * k[j * d + t]).sum();
                let x = dot + prep.bias(s, h, i, j);
                logit[j] = cfg.softcap.map_or(x, |c| c * (x / c).tanh());
                m = m.max(logit[j]);
            }
            let mut sum = 0.0;
            let row = &mut o[i * dv..(i + 1) * dv];
            for j in lo..hi {
                let p = (logit[j] - m).exp();
                sum += p;
                for (r, &x) in row.iter_mut().zip(&v[j * dv..(j + 1) * dv]) {
                    *r += p * x as f64;
                }
            }
            // A row with no visible key (padding plus a sliding window) outputs zeros.
            if sum > 0.0 {
                row.iter_mut().for_each(|r| *r /= sum);
            }
        }
    });
    Ok(out)
}

/// Logits mode in f64 (see `crate::logits` for the definitions; scores before any soft cap).
pub fn reference_logits(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    req: LogitsRequest,
) -> Result<Logits<f64>, Error> {
    validate(cfg, inp)?;
    check_request(cfg, &req)?;
    let prep = Prepared::new(cfg);
    let (s, d) = (cfg.seq, cfg.head_dim);
    let gqa = cfg.heads / cfg.kv_heads;
    let matrix = |with_pe: bool| -> Vec<f64> {
        let mut out = vec![0f64; cfg.batch * cfg.heads * s * s];
        out.par_chunks_mut(s * s).enumerate().for_each(|(idx, o)| {
            let (b, h) = (idx / cfg.heads, idx % cfg.heads);
            let mut q = vec![0f64; s * d];
            let mut k = vec![0f64; s * d];
            prep.query(cfg, inp, b, h, with_pe, cfg.scale, &mut q);
            prep.key(cfg, inp, b, h / gqa, with_pe, &mut k);
            for i in 0..s {
                for j in 0..s {
                    let dot: f64 = (0..d).map(|t| q[i * d + t] * k[j * d + t]).sum();
                    let bias = if with_pe { prep.bias(s, h, i, j) } else { 0.0 };
                    o[i * s + j] = dot + bias;
                }
            }
        });
        out
    };
    Ok(Logits {
        pre_mask: req.pre_mask.then(|| matrix(true)),
        content: req.content.then(|| matrix(false)),
        per_frequency: req
            .per_frequency
            .then(|| per_frequency_all::<f64>(cfg, inp, &prep)),
    })
}
