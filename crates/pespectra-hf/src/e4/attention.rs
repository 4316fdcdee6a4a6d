//! One layer's attention as the E4 trainer computes it: per head the additive bias, how
//! positions enter (for the capture), and the scores and context of plain or MLA attention.

use super::config::{Arch, AttentionPe, MlaRotation};
use super::ops::{attend, cols, concat_rows, dots, mla_map, rope};
use super::weights::{Attn, Layer};
use super::{E4Model, Input};
use pespectra_attention::t5_bucket;
use pespectra_layers::layer_norm;

/// One head of one layer: q and k in the capture layout (before any rotation), `scale · q'k'ᵀ`
/// of the vectors the model dots (after it), and the additive bias.
pub(super) struct HeadScores {
    pub(super) q: Vec<f32>,
    pub(super) k: Vec<f32>,
    pub(super) dim: usize,
    pub(super) dot: Vec<f32>,
    pub(super) bias: Option<Vec<f32>>,
}

impl HeadScores {
    /// The scores `S` the softmax sees (before any padding mask).
    pub(super) fn scores(&self) -> Vec<f32> {
        match &self.bias {
            Some(b) => self.dot.iter().zip(b).map(|(a, b)| a + b).collect(),
            None => self.dot.clone(),
        }
    }
}

/// How positions enter a head, for the capture.
pub(super) enum Kind {
    Rope(Vec<f64>),
    Bias,
    Absolute,
}

impl E4Model {
    /// The n × n additive bias of head `h`, if its attention has one.
    pub(super) fn bias(&self, w: &Layer, h: usize, n: usize) -> Option<Vec<f32>> {
        let c = &self.config;
        let (hh, l) = (c.heads, c.max_len);
        let at = |f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> {
            (0..n * n).map(|x| f(x / n, x % n)).collect()
        };
        match (c.attention_pe, &w.rel_bias) {
            (AttentionPe::Relative, Some(t)) => Some(at(&|i, j| t[(j + l - 1 - i) * hh + h])),
            (
                AttentionPe::T5 {
                    buckets,
                    max_distance,
                },
                Some(t),
            ) => Some(at(&|i, j| {
                t[t5_bucket(j as i64 - i as i64, true, buckets, max_distance) * hh + h]
            })),
            (AttentionPe::Alibi(s), _) => {
                let m = c.alibi_slope(s, h);
                Some(at(&|i, j| (-m * i.abs_diff(j) as f64) as f32))
            }
            _ => None,
        }
    }

    /// How positions enter head `h`.
    pub(super) fn kind(&self, h: usize) -> Kind {
        let c = &self.config;
        match (&c.mla, c.attention_pe) {
            (Some(m), _) => match m.rotation {
                MlaRotation::Rope => Kind::Rope(c.inv_freq(m.rope_dim)),
                MlaRotation::Paper => Kind::Absolute,
            },
            (None, AttentionPe::Rope { rope_heads }) if h < rope_heads => {
                Kind::Rope(c.inv_freq(c.head_dim()))
            }
            (None, AttentionPe::Relative | AttentionPe::T5 { .. } | AttentionPe::Alibi(_)) => {
                Kind::Bias
            }
            _ => Kind::Absolute,
        }
    }

    /// One layer's attention context (`[n, H·dh]`, token-major) and its heads' scores;
    /// `identity`: MLA's `R_i` replaced by the identity.
    pub(super) fn attention(
        &self,
        w: &Layer,
        x: &[f32],
        x0: &[f32],
        inp: &Input,
        identity: bool,
    ) -> (Vec<f32>, Vec<HeadScores>) {
        let c = &self.config;
        let (n, d, dh, hh) = (inp.n(), c.d_model, c.head_dim(), c.heads);
        let sq = layer_norm(x, &w.norm1.0, &w.norm1.1, c.eps);
        let skv: &[f32] = match c.arch {
            Arch::Paper => x0,
            Arch::Standard => &sq,
        };
        let scale = c.scale();
        let mut heads = Vec::with_capacity(hh);
        let mut values = Vec::with_capacity(hh);
        match &w.attn {
            Attn::Plain(a) => {
                let (q, k, v) = (
                    a.q.forward(&sq, n),
                    a.k.forward(skv, n),
                    a.v.forward(skv, n),
                );
                for h in 0..hh {
                    let (qh, kh) = (cols(&q, n, d, h * dh, dh), cols(&k, n, d, h * dh, dh));
                    let dot = match c.attention_pe {
                        AttentionPe::Rope { rope_heads } if h < rope_heads => {
                            let f = c.inv_freq(dh);
                            dots(&rope(&qh, n, dh, &f), &rope(&kh, n, dh, &f), n, dh, scale)
                        }
                        _ => dots(&qh, &kh, n, dh, scale),
                    };
                    heads.push(HeadScores {
                        q: qh,
                        k: kh,
                        dim: dh,
                        dot,
                        bias: self.bias(w, h, n),
                    });
                    values.push(cols(&v, n, d, h * dh, dh));
                }
            }
            Attn::Mla(a) => {
                let m = &a.spec;
                let dr = m.rope_dim;
                let rotation = (!identity).then_some(m.rotation);
                let f = c.inv_freq(dr);
                let cq = a.dq.forward(&sq, n);
                let (qc, qr) = (a.uq.forward(&cq, n), a.qr.forward(&cq, n));
                let ckv = a.dkv.forward(skv, n);
                let (kc, v) = (a.uk.forward(&ckv, n), a.uv.forward(&ckv, n));
                let kr = a.kr.forward(skv, n);
                let rk = mla_map(&kr, n, dr, &f, rotation);
                let hq = if m.shared_q_rope { 1 } else { hh };
                for h in 0..hh {
                    let qrh = cols(
                        &qr,
                        n,
                        hq * dr,
                        if m.shared_q_rope { 0 } else { h * dr },
                        dr,
                    );
                    let (qch, kch) = (cols(&qc, n, d, h * dh, dh), cols(&kc, n, d, h * dh, dh));
                    // the order of the two parts inside the dot product does not matter
                    let qd = concat_rows(&mla_map(&qrh, n, dr, &f, rotation), dr, &qch, dh, n);
                    let kd = concat_rows(&rk, dr, &kch, dh, n);
                    heads.push(HeadScores {
                        dot: dots(&qd, &kd, n, dr + dh, scale),
                        q: concat_rows(&qrh, dr, &qch, dh, n),
                        k: concat_rows(&kr, dr, &kch, dh, n),
                        dim: dr + dh,
                        bias: None,
                    });
                    values.push(cols(&v, n, d, h * dh, dh));
                }
            }
        }
        let mut ctx = vec![0f32; n * hh * dh];
        for (h, (s, v)) in heads.iter().zip(&values).enumerate() {
            attend(&s.scores(), v, &inp.keys, dh, &mut ctx, hh * dh, h * dh);
        }
        (ctx, heads)
    }
}
