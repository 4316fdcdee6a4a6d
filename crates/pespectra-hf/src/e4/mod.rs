//! The synthetic-task encoders of experiment E4 (`model_type: "pespectra_e4"`), written by
//! `pespectra train`: the forward pass of docs/E4_MODEL_FORMAT.md in f32, with per-head capture
//! and head ablation.
//!
//! Two architectures: **paper** (ids padded with `pad_id` to `max_len`, every layer's keys and
//! values read the raw embedded input `x0`, ReLU FFN, mean over all positions) and
//! **standard** (pre-LN keys and values, exact GELU, a final LayerNorm, mean over the non-pad
//! positions). Positions enter through an input PE (sinusoidal, sinusoidal-concat, learned)
//! and/or the attention (RoPE on the first `rope_heads` heads, an unbucketed relative table, T5
//! buckets, ALiBi), or through MLA's decoupled rotary path (a rotation, or the authors' `mla.py`
//! map, which is not one).
//!
//! What a [`HeadCapture`] holds (`causal = false`; `n = max_len` for the paper arch, the number
//! of ids for the standard one):
//! * RoPE heads: [`Positional::Rope`] with interleaved pairs, q/k before the rotation (after the
//!   projection and its bias), `content_logits = scale · q kᵀ`;
//! * relative, T5, ALiBi heads: [`Positional::AdditiveBias`] with the head's n × n bias,
//!   `content_logits = scale · q kᵀ` and `logits = content_logits + bias`;
//! * every other head (NoPE, input PE, the heads partial RoPE leaves unrotated):
//!   [`Positional::Absolute`], `content_logits` from the same forward pass with the input PE
//!   removed (equal to `logits` without an input PE);
//! * MLA with `rotation = "rope"`: [`Positional::Rope`] on `head_dim = dr + dh` with the rotary
//!   slice first, `q = [q_r ; q_c,h]`, `k = [k_r ; k_c,h]` (before the rotation; the format's
//!   half-layout output of `R_i` is one permutation of both sides, so the logits are those of
//!   interleaved RoPE on `q_r`, `k_r`), scale `1/√(dh + dr)`;
//! * MLA with `rotation = "paper"`: [`Positional::Absolute`], q/k as above (before the map),
//!   `content_logits` from the pass with the input PE removed and `R_i` replaced by the identity
//!   in every layer.
//!
//! An ablation zeroes the head's output `O_h` before `attn.o` (MLA: its content and rotary paths
//! together); its effect is `KL(clean ‖ ablated)` of the softmax class distribution, in nats.
//!
//! Standard arch: tokens equal to `pad_id` in the input are padding, as in training: masked as
//! keys and left out of the pooling, so a row padded at the end gives the logits of the unpadded
//! one. These checkpoints have no tokenizer: [`CaptureModel::tokenize`] asks for token ids.
//!
//! [`CaptureModel::tokenize`]: pespectra_capture::CaptureModel::tokenize

mod config;
mod ops;

pub use config::{
    AlibiSlopes, Arch, AttentionPe, E4Config, E4Mla, InputPe, MlaRotation, MODEL_TYPE,
    SINUSOIDAL_BASE,
};
use ops::*;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pespectra_attention::t5_bucket;
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{gelu_erf, layer_norm, Linear};

use crate::error::HfError;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, layers_to_run, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

struct Plain {
    q: Linear,
    k: Linear,
    v: Linear,
}

struct MlaWeights {
    spec: E4Mla,
    dq: Linear,
    uq: Linear,
    qr: Linear,
    dkv: Linear,
    uk: Linear,
    uv: Linear,
    kr: Linear,
}

enum Attn {
    Plain(Plain),
    Mla(Box<MlaWeights>),
}

struct Layer {
    norm1: (Vec<f32>, Vec<f32>),
    attn: Attn,
    o: Linear,
    rel_bias: Option<Vec<f32>>,
    norm2: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
}

/// One head of one layer: q and k in the capture layout (before any rotation), `scale · q'k'ᵀ`
/// of the vectors the model dots (after it), and the additive bias.
struct HeadScores {
    q: Vec<f32>,
    k: Vec<f32>,
    dim: usize,
    dot: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl HeadScores {
    /// The scores `S` the softmax sees (before any padding mask).
    fn scores(&self) -> Vec<f32> {
        match &self.bias {
            Some(b) => self.dot.iter().zip(b).map(|(a, b)| a + b).collect(),
            None => self.dot.clone(),
        }
    }
}

/// How positions enter a head, for the capture.
enum Kind {
    Rope(Vec<f64>),
    Bias,
    Absolute,
}

/// A request's tokens as the model runs them.
struct Input {
    ids: Vec<u32>,
    /// Which positions are keys and are pooled (standard arch: the non-pad ones).
    keys: Vec<bool>,
}

impl Input {
    fn n(&self) -> usize {
        self.ids.len()
    }
}

/// A loaded E4 checkpoint.
pub struct E4Model {
    /// Its configuration.
    pub config: E4Config,
    weights: Weights,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
    /// `[max_len, d]`, the input PE (empty without one).
    positions: Vec<f32>,
    final_norm: Option<(Vec<f32>, Vec<f32>)>,
    head: Linear,
}

impl E4Model {
    /// Loads `dir`; every tensor the config calls for is checked for presence, shape and dtype
    /// first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let config = E4Config::load(dir)?;
        let weights = Weights::open(dir)?;
        let c = &config;
        for (name, shape) in Self::tensors(c) {
            weights.check(&name, &shape)?;
        }
        let positions = match c.input_pe {
            InputPe::None => Vec::new(),
            InputPe::Learned => weights.get("pos_embed.weight", &[c.max_len, c.d_model])?,
            _ => c.sinusoids(),
        };
        let norm = |n: &str| -> Result<(Vec<f32>, Vec<f32>), HfError> {
            Ok((
                weights.get(&format!("{n}.weight"), &[c.d_model])?,
                weights.get(&format!("{n}.bias"), &[c.d_model])?,
            ))
        };
        let final_norm = match c.arch {
            Arch::Standard => Some(norm("final_norm")?),
            Arch::Paper => None,
        };
        let head = linear(&weights, "head", c.classes, c.d_model, true)?;
        Ok(Self {
            cache: LayerCache::new(c.layers, &weights),
            tokenizer: TextTokenizer::load(dir)?,
            positions,
            final_norm,
            head,
            weights,
            config,
        })
    }

    /// Weight files, for provenance.
    pub fn weight_files(&self) -> Vec<PathBuf> {
        self.weights.files()
    }

    /// Whether `tokenizer.json` was found (the trainer writes none).
    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.present()
    }

    /// Every tensor name and shape the config calls for.
    fn tensors(c: &E4Config) -> Vec<(String, Vec<usize>)> {
        let (d, dh, hh) = (c.d_model, c.head_dim(), c.heads);
        let mut t = vec![
            ("embed.weight".to_string(), vec![c.vocab, d]),
            ("head.weight".into(), vec![c.classes, d]),
            ("head.bias".into(), vec![c.classes]),
        ];
        if c.input_pe == InputPe::Learned {
            t.push(("pos_embed.weight".into(), vec![c.max_len, d]));
        }
        if c.arch == Arch::Standard {
            t.push(("final_norm.weight".into(), vec![d]));
            t.push(("final_norm.bias".into(), vec![d]));
        }
        for l in 0..c.layers {
            let p = format!("layers.{l}");
            for n in ["norm1", "norm2"] {
                t.push((format!("{p}.{n}.weight"), vec![d]));
                t.push((format!("{p}.{n}.bias"), vec![d]));
            }
            match &c.mla {
                None => {
                    for n in ["q", "k", "v", "o"] {
                        t.push((format!("{p}.attn.{n}.weight"), vec![d, d]));
                        t.push((format!("{p}.attn.{n}.bias"), vec![d]));
                    }
                }
                Some(m) => {
                    let (dc, dr) = (m.d_compress, m.rope_dim);
                    let hq = if m.shared_q_rope { 1 } else { hh };
                    for (n, shape) in [
                        ("dq", [dc, d]),
                        ("uq", [hh * dh, dc]),
                        ("qr", [hq * dr, dc]),
                        ("dkv", [dc, d]),
                        ("uk", [hh * dh, dc]),
                        ("uv", [hh * dh, dc]),
                        ("kr", [dr, d]),
                        ("o", [d, hh * dh]),
                    ] {
                        t.push((format!("{p}.attn.{n}.weight"), shape.to_vec()));
                    }
                }
            }
            match c.attention_pe {
                AttentionPe::Relative => {
                    t.push((format!("{p}.attn.rel_bias"), vec![2 * c.max_len - 1, hh]))
                }
                AttentionPe::T5 { buckets, .. } => {
                    t.push((format!("{p}.attn.rel_bias"), vec![buckets, hh]))
                }
                _ => {}
            }
            t.push((format!("{p}.ffn.up.weight"), vec![c.d_ff, d]));
            t.push((format!("{p}.ffn.up.bias"), vec![c.d_ff]));
            t.push((format!("{p}.ffn.down.weight"), vec![d, c.d_ff]));
            t.push((format!("{p}.ffn.down.bias"), vec![d]));
        }
        t
    }

    fn layer(&self, l: usize) -> Result<Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let (d, dh, hh) = (c.d_model, c.head_dim(), c.heads);
        let p = format!("layers.{l}");
        let w = &self.weights;
        let lin = |n: &str, out: usize, inp: usize, bias: bool| {
            linear(w, &format!("{p}.{n}"), out, inp, bias)
        };
        let norm = |n: &str| -> Result<(Vec<f32>, Vec<f32>), HfError> {
            Ok((
                w.get(&format!("{p}.{n}.weight"), &[d])?,
                w.get(&format!("{p}.{n}.bias"), &[d])?,
            ))
        };
        let (attn, o) = match &c.mla {
            None => (
                Attn::Plain(Plain {
                    q: lin("attn.q", d, d, true)?,
                    k: lin("attn.k", d, d, true)?,
                    v: lin("attn.v", d, d, true)?,
                }),
                lin("attn.o", d, d, true)?,
            ),
            Some(m) => {
                let (dc, dr) = (m.d_compress, m.rope_dim);
                let hq = if m.shared_q_rope { 1 } else { hh };
                (
                    Attn::Mla(Box::new(MlaWeights {
                        spec: *m,
                        dq: lin("attn.dq", dc, d, false)?,
                        uq: lin("attn.uq", hh * dh, dc, false)?,
                        qr: lin("attn.qr", hq * dr, dc, false)?,
                        dkv: lin("attn.dkv", dc, d, false)?,
                        uk: lin("attn.uk", hh * dh, dc, false)?,
                        uv: lin("attn.uv", hh * dh, dc, false)?,
                        kr: lin("attn.kr", dr, d, false)?,
                    })),
                    lin("attn.o", d, hh * dh, false)?,
                )
            }
        };
        let rel_bias = match c.attention_pe {
            AttentionPe::Relative => {
                Some(w.get(&format!("{p}.attn.rel_bias"), &[2 * c.max_len - 1, hh])?)
            }
            AttentionPe::T5 { buckets, .. } => {
                Some(w.get(&format!("{p}.attn.rel_bias"), &[buckets, hh])?)
            }
            _ => None,
        };
        Ok(Layer {
            norm1: norm("norm1")?,
            attn,
            o,
            rel_bias,
            norm2: norm("norm2")?,
            up: lin("ffn.up", c.d_ff, d, true)?,
            down: lin("ffn.down", d, c.d_ff, true)?,
        })
    }

    /// The ids as the model runs them: checked, and padded to `max_len` for the paper arch.
    fn input(&self, ids: &[u32]) -> Result<Input, HfError> {
        let c = &self.config;
        check_ids(ids, c.vocab, c.max_len, "max_len")?;
        Ok(match c.arch {
            Arch::Paper => {
                let mut ids = ids.to_vec();
                ids.resize(c.max_len, c.pad_id);
                Input {
                    keys: vec![true; ids.len()],
                    ids,
                }
            }
            Arch::Standard => {
                let keys: Vec<bool> = ids.iter().map(|&t| t != c.pad_id).collect();
                if !keys.contains(&true) {
                    return Err(HfError::Request(format!(
                        "every token is pad_id {}: the standard arch pools over the non-pad tokens",
                        c.pad_id
                    )));
                }
                Input {
                    ids: ids.to_vec(),
                    keys,
                }
            }
        })
    }

    /// `x0 = embed[t] + p` (`with_pe = false`: the position-free counterfactual, `p = 0`).
    fn embed(&self, inp: &Input, with_pe: bool) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let rows: Vec<usize> = inp.ids.iter().map(|&t| t as usize).collect();
        let mut x = self
            .weights
            .rows("embed.weight", [c.vocab, c.d_model], &rows)?;
        if with_pe && !self.positions.is_empty() {
            for (a, b) in x.iter_mut().zip(&self.positions) {
                *a += b;
            }
        }
        Ok(x)
    }

    /// The n × n additive bias of head `h`, if its attention has one.
    fn bias(&self, w: &Layer, h: usize, n: usize) -> Option<Vec<f32>> {
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
    fn kind(&self, h: usize) -> Kind {
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
    fn attention(
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

    /// The rest of a layer from its input `x` and attention context: the output projection,
    /// the residual and the FFN.
    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let o = w.o.forward(ctx, n);
        let mut x: Vec<f32> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
        let h =
            w.up.forward(&layer_norm(&x, &w.norm2.0, &w.norm2.1, c.eps), n);
        let act = match c.arch {
            Arch::Paper => h.iter().map(|v| v.max(0.0)).collect(),
            Arch::Standard => gelu_erf(&h),
        };
        for (a, b) in x.iter_mut().zip(&w.down.forward(&act, n)) {
            *a += b;
        }
        x
    }

    /// Runs `layers` from the residual `x` (`x0` the embedded input the paper arch's keys
    /// read), handing each layer's head scores to `heads_of` and recording the trace.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn run(
        &self,
        x0: &[f32],
        mut x: Vec<f32>,
        inp: &Input,
        layers: Range<usize>,
        identity: bool,
        mut heads_of: Option<&mut dyn FnMut(usize, Vec<HeadScores>)>,
        mut trace: Option<&mut Trace>,
    ) -> Result<Vec<f32>, HfError> {
        for l in layers {
            let w = self.layer(l)?;
            let (ctx, heads) = self.attention(&w, &x, x0, inp, identity);
            if let Some(f) = heads_of.as_deref_mut() {
                f(l, heads);
            }
            let next = self.finish(&w, &x, &ctx, inp.n());
            if let Some(t) = trace.as_deref_mut() {
                t.inputs.push(std::mem::take(&mut x));
                t.contexts.push(ctx);
            }
            x = next;
        }
        Ok(x)
    }

    /// Class logits from the last residual stream: the mean over the positions (standard
    /// arch: after the final norm, over the non-pad ones) through `head`.
    fn classify(&self, x: &[f32], inp: &Input) -> Vec<f32> {
        let c = &self.config;
        let d = c.d_model;
        let x = match &self.final_norm {
            Some((w, b)) => layer_norm(x, w, b, c.eps),
            None => x.to_vec(),
        };
        let mut pooled = vec![0f64; d];
        let mut count = 0usize;
        for (row, &k) in x.chunks(d).zip(&inp.keys) {
            if k {
                count += 1;
                for (a, &b) in pooled.iter_mut().zip(row) {
                    *a += f64::from(b);
                }
            }
        }
        let pooled: Vec<f32> = pooled.iter().map(|v| (v / count as f64) as f32).collect();
        self.head.forward(&pooled, 1)
    }

    /// Class logits (`num_classes` values) of `ids` (at most `max_len`; the paper arch pads).
    pub fn logits(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        let inp = self.input(ids)?;
        let x0 = self.embed(&inp, true)?;
        let x = self.run(
            &x0,
            x0.clone(),
            &inp,
            0..self.config.layers,
            false,
            None,
            None,
        )?;
        Ok(self.classify(&x, &inp))
    }

    /// The residual stream (`n × d_model`, before any final norm) after the last layer run,
    /// every head of the `capture` layers handed to `sink`; `full` runs every layer, else up
    /// to the last captured one.
    pub fn forward(
        &self,
        ids: &[u32],
        capture: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
        full: bool,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let inp = self.input(ids)?;
        let n = inp.n();
        let until = layers_to_run(capture, c.layers, full)?;
        let kinds: Vec<Kind> = (0..c.heads).map(|h| self.kind(h)).collect();
        let mla_paper = c.mla.is_some_and(|m| m.rotation == MlaRotation::Paper);
        // the counterfactual (no input PE; MLA paper: no R_i either) for the absolute heads
        let mut counterfactual: Vec<(usize, Vec<Vec<f32>>)> = Vec::new();
        if !capture.is_empty()
            && kinds.iter().any(|k| matches!(k, Kind::Absolute))
            && (c.input_pe != InputPe::None || mla_paper)
        {
            let x0 = self.embed(&inp, false)?;
            let mut keep = |l: usize, heads: Vec<HeadScores>| {
                if capture.contains(&l) {
                    counterfactual.push((l, heads.iter().map(HeadScores::scores).collect()));
                }
            };
            let last = layers_to_run(capture, c.layers, false)?;
            self.run(
                &x0,
                x0.clone(),
                &inp,
                0..last,
                mla_paper,
                Some(&mut keep),
                None,
            )?;
        }
        let scale = c.scale();
        let mut emit = |l: usize, heads: Vec<HeadScores>| {
            if !capture.contains(&l) {
                return;
            }
            let cf = counterfactual.iter().find(|(cl, _)| *cl == l);
            for (h, (s, kind)) in heads.into_iter().zip(&kinds).enumerate() {
                let logits = s.scores();
                let (content_logits, positional) = match kind {
                    Kind::Rope(f) => (
                        dots(&s.q, &s.k, n, s.dim, scale),
                        Positional::Rope {
                            pairing: Pairing::Interleaved,
                            inv_freq: f.clone(),
                        },
                    ),
                    Kind::Bias => (
                        s.dot,
                        Positional::AdditiveBias {
                            bias: s.bias.unwrap_or_else(|| vec![0.0; n * n]),
                        },
                    ),
                    Kind::Absolute => (
                        cf.map_or_else(|| logits.clone(), |(_, m)| m[h].clone()),
                        Positional::Absolute,
                    ),
                };
                sink(HeadCapture {
                    layer: l,
                    head: h,
                    kv_head: h,
                    n,
                    head_dim: s.dim,
                    scale,
                    causal: false,
                    q: s.q,
                    k: s.k,
                    logits,
                    content_logits,
                    positional,
                });
            }
        };
        let x0 = self.embed(&inp, true)?;
        self.run(
            &x0,
            x0.clone(),
            &inp,
            0..until,
            false,
            Some(&mut emit),
            None,
        )
    }

    /// `KL(clean ‖ ablated)` of the class distribution (nats) with each `(layer, head)`'s
    /// output `O_h` zeroed before `attn.o`.
    pub fn ablation_effects(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<f64>, HfError> {
        let c = &self.config;
        let inp = self.input(ids)?;
        check_heads(heads, c.layers, c.heads)?;
        let n = inp.n();
        let x0 = self.embed(&inp, true)?;
        let mut trace = Trace::default();
        let x = self.run(
            &x0,
            x0.clone(),
            &inp,
            0..c.layers,
            false,
            None,
            Some(&mut trace),
        )?;
        let clean = log_softmax(&self.classify(&x, &inp));
        let dh = c.head_dim();
        ablate(
            &trace,
            heads,
            (n, c.heads * dh, dh),
            progress,
            |l, input, ctx| {
                let x = self.finish(&*self.layer(l)?, input, ctx, n);
                let x = self.run(&x0, x, &inp, l + 1..c.layers, false, None, None)?;
                Ok(kl(&clean, &log_softmax(&self.classify(&x, &inp))))
            },
        )
    }

    fn model_dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: self.config.max_len,
        }
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, HfError> {
        self.tokenizer.encode(text)
    }

    fn head_effects(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, HfError> {
        Ok(HeadAblation {
            metric: "KL(clean ‖ ablated) of the softmax class distribution when the head's output is zeroed (nats)".into(),
            effects: self.ablation_effects(ids, heads, progress)?,
        })
    }
}

/// The linear layer `name` (`name.weight [out, inp]`, `name.bias [out]` when `bias`).
fn linear(w: &Weights, name: &str, out: usize, inp: usize, bias: bool) -> Result<Linear, HfError> {
    let b = if bias {
        Some(w.get(&format!("{name}.bias"), &[out])?)
    } else {
        None
    };
    Linear::new(w.get(&format!("{name}.weight"), &[out, inp])?, b, out, inp)
        .ok_or_else(|| HfError::Request(format!("{name}: inconsistent sizes")))
}

capture_model!(E4Model);
