//! DeepSeek V2/V3 multi-head latent attention (`deepseek_v2`, `deepseek_v3`): q from `q_proj`
//! or the low-rank `q_a_proj → q_a_layernorm → q_b_proj`; one compressed latent per token from
//! `kv_a_proj_with_mqa`, split into the content latent (normed, expanded per head by
//! `kv_b_proj` into k_nope and v) and one decoupled RoPE key shared by all heads. RoPE pairs
//! are interleaved (V2 always, V3 with `rope_interleave`, else `rotate_half`); YaRN's
//! `mscale_all_dim` also scales the softmax. Layers from `first_k_dense_replace` on have a
//! mixture-of-experts MLP (`moe`: V2's softmax and V3's sigmoid routers, shared experts).
//!
//! Captured heads put the rotary slice first, `q = [q_rope | q_nope]` and
//! `k = [k_rope (shared) | k_nope]`: the same permutation on both sides leaves every logit
//! unchanged, and the capture format's RoPE covers the leading dimensions.

use std::path::{Path, PathBuf};

mod config;
mod moe;
mod weights;

use crate::error::HfError;
use crate::source::TensorSource;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, check_loss_input, layers_to_run, loss_increase,
    output_head, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;
pub use config::MlaConfig;
use pespectra_attention::{
    attention_logits, flash_attention, rope_frequencies, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, Mla, PositionalEncoding, RopePairing,
};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{cross_entropy, from_heads, rms_norm, Linear};
use weights::Layer;

/// ε of `q_a_layernorm` and `kv_a_layernorm`: transformers builds them with the norm's default
/// 1e-6, not `rms_norm_eps`.
pub const LATENT_EPS: f64 = 1e-6;

/// A loaded DeepSeek MLA checkpoint.
pub struct MlaModel {
    /// Its configuration.
    pub config: MlaConfig,
    weights: Box<dyn TensorSource>,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
}

impl MlaModel {
    /// Loads `dir`; the tensors of the dense layers are checked first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let config = MlaConfig::load(dir)?;
        let weights: Box<dyn TensorSource> = Box::new(Weights::open(dir)?);
        let m = Self {
            cache: LayerCache::new(config.layers, &*weights),
            config,
            weights,
            tokenizer: TextTokenizer::load(dir)?,
        };
        m.check()?;
        Ok(m)
    }

    /// Weight files, for provenance.
    pub fn weight_files(&self) -> Vec<PathBuf> {
        self.weights.files()
    }

    /// Whether `tokenizer.json` was found.
    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.present()
    }

    fn check_ids(&self, ids: &[u32]) -> Result<(), HfError> {
        let c = &self.config;
        check_ids(ids, c.vocab, c.max_positions, "max_position_embeddings")
    }

    fn attention_config(&self, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.nope + c.rope_dim);
        cfg.value_dim = c.v_dim;
        cfg.scale = c.scale;
        cfg.mask = Mask::causal();
        cfg.pe = PositionalEncoding::Mla(Mla {
            nope_dim: c.nope,
            rope_dim: c.rope_dim,
            rope: c.rope.clone(),
        });
        cfg
    }

    /// q `[H, n, nope+rope]`, k_nope `[H, n, nope]`, v `[H, n, v]`, the shared rope key `[n, rope]`.
    fn qkv(&self, w: &Layer, x: &[f32], n: usize) -> [Vec<f32>; 4] {
        let c = &self.config;
        let h = rms_norm(x, &w.in_norm, c.eps);
        let q = match (&w.q[..], &w.q_norm) {
            ([a, b], Some(qn)) => b.forward(&rms_norm(&a.forward(&h, n), qn, LATENT_EPS), n),
            (q, _) => q[0].forward(&h, n),
        };
        let qk = c.nope + c.rope_dim;
        let ckv = w.kv_a.forward(&h, n);
        let width = c.kv_lora + c.rope_dim;
        let mut latent = Vec::with_capacity(n * c.kv_lora);
        let mut rope_key = Vec::with_capacity(n * c.rope_dim);
        for row in ckv.chunks(width) {
            latent.extend_from_slice(&row[..c.kv_lora]);
            rope_key.extend_from_slice(&row[c.kv_lora..]);
        }
        let kv = w
            .kv_b
            .forward(&rms_norm(&latent, &w.kv_norm, LATENT_EPS), n);
        let (mut qh, mut kh, mut vh) = (
            vec![0f32; c.heads * n * qk],
            vec![0f32; c.heads * n * c.nope],
            vec![0f32; c.heads * n * c.v_dim],
        );
        let per = c.nope + c.v_dim;
        for t in 0..n {
            for hd in 0..c.heads {
                qh[(hd * n + t) * qk..][..qk]
                    .copy_from_slice(&q[t * c.heads * qk + hd * qk..][..qk]);
                let src = &kv[t * c.heads * per + hd * per..][..per];
                kh[(hd * n + t) * c.nope..][..c.nope].copy_from_slice(&src[..c.nope]);
                vh[(hd * n + t) * c.v_dim..][..c.v_dim].copy_from_slice(&src[c.nope..]);
            }
        }
        [qh, kh, vh, rope_key]
    }

    fn emit(
        &self,
        l: usize,
        cfg: &AttentionConfig,
        [q, k, v, rk]: &[Vec<f32>; 4],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), HfError> {
        let c = &self.config;
        let n = cfg.seq;
        let inp = AttentionInputs {
            q,
            k,
            v,
            rope_key: Some(rk),
        };
        let req = LogitsRequest {
            pre_mask: true,
            content: true,
            per_frequency: false,
        };
        let lg = attention_logits(cfg, &inp, req)?;
        let (pre, content) = (
            lg.pre_mask.unwrap_or_default(),
            lg.content.unwrap_or_default(),
        );
        let (inv_freq, att) = rope_frequencies(&c.rope, c.rope_dim, n);
        let eff = att * att;
        let qk = c.nope + c.rope_dim;
        let pairing = match c.rope.pairing {
            RopePairing::Interleaved => Pairing::Interleaved,
            RopePairing::HalfSplit => Pairing::HalfSplit,
        };
        for h in 0..c.heads {
            // rotary slice first, on both sides (the logits do not change)
            let mut qc = Vec::with_capacity(n * qk);
            let mut kc = Vec::with_capacity(n * qk);
            for t in 0..n {
                let row = &q[(h * n + t) * qk..][..qk];
                qc.extend_from_slice(&row[c.nope..]);
                qc.extend_from_slice(&row[..c.nope]);
                kc.extend_from_slice(&rk[t * c.rope_dim..][..c.rope_dim]);
                kc.extend_from_slice(&k[(h * n + t) * c.nope..][..c.nope]);
            }
            // the core's content logits put the YaRN factor on neither part; the model's
            // rotary part carries a², recorded in the capture's scale as for RoPE heads
            sink(HeadCapture {
                layer: l,
                head: h,
                kv_head: h,
                n,
                head_dim: qk,
                scale: cfg.scale * eff,
                causal: true,
                window: None,
                softcap: None,
                q: qc,
                k: kc,
                logits: pre[h * n * n..(h + 1) * n * n].to_vec(),
                content_logits: content[h * n * n..(h + 1) * n * n]
                    .iter()
                    .map(|&x| (f64::from(x) * eff) as f32)
                    .collect(),
                positional: Positional::Rope {
                    pairing,
                    inv_freq: inv_freq.clone(),
                },
            });
        }
        Ok(())
    }

    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let o = w.o.forward(ctx, n);
        let mut x: Vec<f32> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
        let h = rms_norm(&x, &w.post_norm, c.eps);
        let m = w.mlp.forward(&h, n);
        for (a, b) in x.iter_mut().zip(&m) {
            *a += b;
        }
        x
    }

    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        mut x: Vec<f32>,
        n: usize,
        layers: std::ops::Range<usize>,
        capture: &[usize],
        mut sink: Option<&mut dyn FnMut(HeadCapture)>,
        mut trace: Option<&mut Trace>,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let cfg = self.attention_config(n);
        for l in layers {
            let w = self.layer(l)?;
            let parts = self.qkv(&w, &x, n);
            if capture.contains(&l) {
                if let Some(s) = sink.as_deref_mut() {
                    self.emit(l, &cfg, &parts, s)?;
                }
            }
            let [q, k, v, rk] = &parts;
            let inp = AttentionInputs {
                q,
                k,
                v,
                rope_key: Some(rk),
            };
            let ctx = from_heads(&flash_attention(&cfg, &inp)?, n, c.heads, c.v_dim);
            let next = self.finish(&w, &x, &ctx, n);
            if let Some(t) = trace.as_deref_mut() {
                t.inputs.push(std::mem::take(&mut x));
                t.contexts.push(ctx);
            }
            x = next;
        }
        Ok(x)
    }

    fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        let rows: Vec<usize> = ids.iter().map(|&t| t as usize).collect();
        self.weights.rows(
            "model.embed_tokens.weight",
            [self.config.vocab, self.config.hidden],
            &rows,
        )
    }

    /// Final hidden states (after the last norm), capturing every head of `capture`.
    pub fn forward(
        &self,
        ids: &[u32],
        capture: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
        full: bool,
    ) -> Result<Vec<f32>, HfError> {
        self.check_ids(ids)?;
        let c = &self.config;
        let until = layers_to_run(capture, c.layers, full)?;
        let x = self.run(
            self.embed(ids)?,
            ids.len(),
            0..until,
            capture,
            Some(sink),
            None,
        )?;
        Ok(rms_norm(
            &x,
            &self.weights.get("model.norm.weight", &[c.hidden])?,
            c.eps,
        ))
    }

    fn loss(&self, x: &[f32], ids: &[u32], head: &Linear, norm: &[f32]) -> f64 {
        let n = ids.len();
        let h = rms_norm(&x[..(n - 1) * self.config.hidden], norm, self.config.eps);
        cross_entropy(&head.forward(&h, n - 1), self.config.vocab, &ids[1..])
    }

    /// Clean next-token loss and the loss with each `(layer, head)` zeroed before `o_proj`.
    pub fn ablation_losses(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(f64, Vec<f64>), HfError> {
        self.check_ids(ids)?;
        let c = &self.config;
        let n = ids.len();
        check_loss_input(n)?;
        check_heads(heads, c.layers, c.heads)?;
        let name = if c.tied {
            "model.embed_tokens.weight"
        } else {
            "lm_head.weight"
        };
        let head = output_head(&*self.weights, name, c.vocab, c.hidden)?;
        let norm = self.weights.get("model.norm.weight", &[c.hidden])?;
        let mut trace = Trace::default();
        let x = self.run(
            self.embed(ids)?,
            n,
            0..c.layers,
            &[],
            None,
            Some(&mut trace),
        )?;
        let clean = self.loss(&x, ids, &head, &norm);
        let losses = ablate(
            &trace,
            heads,
            (n, c.heads * c.v_dim, c.v_dim),
            progress,
            |l, input, ctx| {
                let x = self.finish(&*self.layer(l)?, input, ctx, n);
                let x = self.run(x, n, l + 1..c.layers, &[], None, None)?;
                Ok(self.loss(&x, ids, &head, &norm))
            },
        )?;
        Ok((clean, losses))
    }

    fn model_dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: self.config.max_positions,
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
        let (clean, losses) = self.ablation_losses(ids, heads, progress)?;
        Ok(loss_increase(clean, &losses))
    }
}

capture_model!(MlaModel);
