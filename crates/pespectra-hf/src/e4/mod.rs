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

mod attention;
mod weights;

use crate::error::HfError;
use crate::source::TensorSource;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, layers_to_run, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;
use attention::{HeadScores, Kind};
use ops::{dots, kl, log_softmax};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{gelu_erf, layer_norm, Linear};
use std::ops::Range;
use std::path::{Path, PathBuf};
use weights::{linear, Layer};

mod ops;

pub use config::{
    AlibiSlopes, Arch, AttentionPe, E4Config, E4Mla, InputPe, MlaRotation, MODEL_TYPE,
    SINUSOIDAL_BASE,
};

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
    weights: Box<dyn TensorSource>,
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
        let weights: Box<dyn TensorSource> = Box::new(Weights::open(dir)?);
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
        let head = linear(&*weights, "head", c.classes, c.d_model, true)?;
        Ok(Self {
            cache: LayerCache::new(c.layers, &*weights),
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
                    window: None,
                    softcap: None,
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

capture_model!(E4Model);
