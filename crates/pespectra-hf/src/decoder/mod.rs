//! The llama-family decoder forward pass (llama, mistral, qwen2, qwen3, phi3, stablelm,
//! gemma2, gemma3_text) as transformers runs it: RMSNorm, q/k/v projections (biases for Qwen2),
//! per-head q/k RMSNorm (Qwen3, Gemma 3), RoPE with `rotate_half` and the config's scaling
//! inside the attention core, causal and sliding masks, attention soft-capping (Gemma 2),
//! SwiGLU or tanh-GELU MLP, tied or separate output head. Weights are converted to f32 one layer at a time
//! from the memory-mapped checkpoint (kept converted only when the whole model fits in
//! `CACHE_LIMIT_BYTES`).

mod weights;

use crate::config::{DecoderConfig, LayerKind, QkNorm};
use crate::error::HfError;
use crate::source::TensorSource;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, check_loss_input, layers_to_run, loss_increase,
    output_head, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;
use pespectra_attention::{
    attention_logits, flash_attention, rope_frequencies, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, PositionalEncoding,
};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{
    cross_entropy, from_heads, gelu_tanh, layer_norm, rms_norm, swiglu, to_heads, Linear,
};
use std::path::{Path, PathBuf};
use weights::{LayerWeights, Norm};

/// A loaded HF decoder checkpoint.
pub struct Decoder {
    /// Its configuration.
    pub config: DecoderConfig,
    dir: PathBuf,
    weights: Box<dyn TensorSource>,
    tokenizer: TextTokenizer,
    cache: LayerCache<LayerWeights>,
}

impl Decoder {
    /// Loads `dir` (config.json, weights, tokenizer.json when present); every tensor is checked
    /// for presence, shape and dtype before anything runs.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        Self::from_parts(
            dir,
            DecoderConfig::load(dir)?,
            Box::new(Weights::open(dir)?),
            TextTokenizer::load(dir)?,
        )
    }

    /// The decoder of `config` over tensors from `weights` (HF names and conventions), with
    /// `dir` as its directory; every tensor is checked before anything runs.
    pub fn from_parts(
        dir: &Path,
        config: DecoderConfig,
        weights: Box<dyn TensorSource>,
        tokenizer: TextTokenizer,
    ) -> Result<Self, HfError> {
        let cache = LayerCache::new(config.layers, &*weights);
        let d = Self {
            config,
            dir: dir.to_path_buf(),
            weights,
            tokenizer,
            cache,
        };
        d.check_tensors()?;
        Ok(d)
    }

    /// The checkpoint directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The weight files.
    pub fn weight_files(&self) -> Vec<PathBuf> {
        self.weights.files()
    }

    /// Whether `tokenizer.json` was found.
    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.present()
    }

    /// Token ids of `text` with the tokenizer's special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, HfError> {
        self.tokenizer.encode(text)
    }

    fn check_ids(&self, ids: &[u32]) -> Result<(), HfError> {
        let c = &self.config;
        check_ids(ids, c.vocab, c.max_positions, "max_position_embeddings")
    }

    fn attention_config(&self, l: usize, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.head_dim);
        cfg.kv_heads = c.kv_heads;
        cfg.mask = Mask::causal();
        cfg.sliding_window = match c.layer_kinds[l] {
            LayerKind::Full => None,
            LayerKind::Sliding(w) => Some(w),
        };
        cfg.scale = c.scale;
        cfg.softcap = c.attn_softcap;
        cfg.pe = PositionalEncoding::Rope(self.rope(l).clone());
        cfg
    }

    /// The RoPE of layer `l` (Gemma 3's sliding layers have their own base).
    fn rope(&self, l: usize) -> &pespectra_attention::Rope {
        let c = &self.config;
        match (&c.rope_local, c.layer_kinds[l]) {
            (Some(r), LayerKind::Sliding(_)) => r,
            _ => &c.rope,
        }
    }

    /// q (after projection, bias and q-norm; head-major), k and v (head-major) of layer `l`.
    fn qkv(&self, w: &LayerWeights, x: &[f32], n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let c = &self.config;
        let h = w.in_norm.apply(x, c.rms_eps);
        let mut q = w.q.forward(&h, n);
        let mut k = w.k.forward(&h, n);
        let v = w.v.forward(&h, n);
        match c.qk_norm {
            QkNorm::None => {}
            QkNorm::SharedRms => {
                q = rms_norm(&q, &w.q_norm[0], c.rms_eps);
                k = rms_norm(&k, &w.k_norm[0], c.rms_eps);
            }
            QkNorm::PerHeadLayerNorm => {
                // token-major [n, heads·head_dim]: each head's slice has its own weights
                let per_head = |x: &mut [f32], ws: &[Vec<f32>]| {
                    let zero = vec![0f32; c.head_dim];
                    for row in x.chunks_exact_mut(ws.len() * c.head_dim) {
                        for (hs, wt) in row.chunks_exact_mut(c.head_dim).zip(ws) {
                            let y = layer_norm(hs, wt, &zero, c.rms_eps);
                            hs.copy_from_slice(&y);
                        }
                    }
                };
                per_head(&mut q, &w.q_norm);
                per_head(&mut k, &w.k_norm);
            }
        }
        (
            to_heads(&q, n, c.heads, c.head_dim),
            to_heads(&k, n, c.kv_heads, c.head_dim),
            to_heads(&v, n, c.kv_heads, c.head_dim),
        )
    }

    fn emit(
        &self,
        l: usize,
        cfg: &AttentionConfig,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), HfError> {
        let c = &self.config;
        let n = cfg.seq;
        let inp = AttentionInputs {
            q,
            k,
            v,
            rope_key: None,
        };
        let pre_only = LogitsRequest {
            pre_mask: true,
            content: false,
            per_frequency: false,
        };
        let rope = self.rope(l);
        let rot = (c.head_dim as f64 * rope.rotary_fraction).floor() as usize;
        let (inv_freq, att) = rope_frequencies(rope, rot, n);
        let pre = attention_logits(cfg, &inp, pre_only)?
            .pre_mask
            .unwrap_or_default();
        // YaRN and LongRoPE multiply cos and sin by an attention factor a, i.e. the rotated
        // dimensions (only) by a: the capture folds it into those dimensions of q and k, so
        // scale·⟨RoPE(q̃), RoPE(k̃)⟩ is exactly the model's score and the content logits
        // scale·q̃k̃ᵀ stand on the same footing, partial rotary included.
        let fold = |x: &[f32]| -> Vec<f32> {
            let mut y = x.to_vec();
            if att != 1.0 {
                for row in y.chunks_exact_mut(c.head_dim) {
                    row[..rot]
                        .iter_mut()
                        .for_each(|v| *v = (f64::from(*v) * att) as f32);
                }
            }
            y
        };
        let (qf, kf) = (fold(q), fold(k));
        let mut plain = cfg.clone();
        plain.pe = PositionalEncoding::NoPE;
        let folded = AttentionInputs {
            q: &qf,
            k: &kf,
            v,
            rope_key: None,
        };
        let content = attention_logits(&plain, &folded, pre_only)?
            .pre_mask
            .unwrap_or_default();
        let group = c.heads / c.kv_heads;
        let hd = c.head_dim;
        for h in 0..c.heads {
            let kv = h / group;
            sink(HeadCapture {
                layer: l,
                head: h,
                kv_head: kv,
                n,
                head_dim: hd,
                scale: cfg.scale,
                causal: true,
                window: cfg.sliding_window,
                softcap: cfg.softcap,
                q: qf[h * n * hd..(h + 1) * n * hd].to_vec(),
                k: kf[kv * n * hd..(kv + 1) * n * hd].to_vec(),
                logits: pre[h * n * n..(h + 1) * n * n].to_vec(),
                content_logits: content[h * n * n..(h + 1) * n * n].to_vec(),
                positional: Positional::Rope {
                    pairing: Pairing::HalfSplit,
                    inv_freq: inv_freq.clone(),
                },
            });
        }
        Ok(())
    }

    /// The residual after layer `l` from its input `x` and attention context `ctx`
    /// (token-major `[n, heads·head_dim]`).
    fn finish(&self, w: &LayerWeights, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let add =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(p, q)| p + q).collect() };
        let o = w.o.forward(ctx, n);
        match &w.sandwich {
            // Gemma: x + norm(attn); then x + norm(mlp(norm(x))) with a tanh-GELU gate
            Some([pre, post]) => {
                let x = match &w.post_norm {
                    Some(p) => add(x, &p.apply(&o, c.rms_eps)),
                    None => add(x, &o),
                };
                let h = rms_norm(&x, pre, c.rms_eps);
                let gate: Vec<f32> = gelu_tanh(&w.gate.forward(&h, n));
                let prod: Vec<f32> = gate
                    .iter()
                    .zip(&w.up.forward(&h, n))
                    .map(|(a, b)| a * b)
                    .collect();
                add(&x, &rms_norm(&w.down.forward(&prod, n), post, c.rms_eps))
            }
            None => {
                let mlp = |h: &[f32]| {
                    w.down
                        .forward(&swiglu(&w.gate.forward(h, n), &w.up.forward(h, n)), n)
                };
                match &w.post_norm {
                    Some(post) => {
                        let x = add(x, &o);
                        add(&x, &mlp(&post.apply(&x, c.rms_eps)))
                    }
                    // StableLM's parallel residual: both branches read LN(x)
                    None => add(&add(x, &o), &mlp(&w.in_norm.apply(x, c.rms_eps))),
                }
            }
        }
    }

    /// Runs layers `from..` on the residual `x`; captures the listed layers, records the trace.
    fn run_layers(
        &self,
        mut x: Vec<f32>,
        n: usize,
        layers: std::ops::Range<usize>,
        capture: &[usize],
        mut sink: Option<&mut dyn FnMut(HeadCapture)>,
        mut trace: Option<&mut Trace>,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        for l in layers {
            let w = self.layer(l)?;
            let cfg = self.attention_config(l, n);
            let (q, k, v) = self.qkv(&w, &x, n);
            if capture.contains(&l) {
                if let Some(s) = sink.as_deref_mut() {
                    self.emit(l, &cfg, &q, &k, &v, s)?;
                }
            }
            let inp = AttentionInputs {
                q: &q,
                k: &k,
                v: &v,
                rope_key: None,
            };
            let ctx = from_heads(&flash_attention(&cfg, &inp)?, n, c.heads, c.head_dim);
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
        let c = &self.config;
        let rows: Vec<usize> = ids.iter().map(|&t| t as usize).collect();
        let x = self
            .weights
            .rows("model.embed_tokens.weight", [c.vocab, c.hidden], &rows)?;
        // Gemma scales the embeddings by √hidden (in the weights' f32)
        Ok(if c.gemma {
            let s = (c.hidden as f32).sqrt();
            x.iter().map(|v| v * s).collect()
        } else {
            x
        })
    }

    /// The final hidden states (after the last norm, `[n, hidden]`), capturing every head of
    /// `capture` layers into `sink` (only the layers up to the last one captured run when
    /// `full` is false).
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
        let x = self.run_layers(
            self.embed(ids)?,
            ids.len(),
            0..until,
            capture,
            Some(sink),
            None,
        )?;
        Ok(self.final_norm()?.apply(&x, c.rms_eps))
    }

    /// Output logits (final soft-cap applied) of the `rows` residual rows `x`.
    fn logits(&self, x: &[f32], rows: usize, head: &Linear, norm: &Norm) -> Vec<f32> {
        let h = norm.apply(&x[..rows * self.config.hidden], self.config.rms_eps);
        let mut logits = head.forward(&h, rows);
        if let Some(cap) = self.config.final_softcap {
            for v in &mut logits {
                *v = (cap * (f64::from(*v) / cap).tanh()) as f32;
            }
        }
        logits
    }

    fn loss(&self, x: &[f32], ids: &[u32], head: &Linear, norm: &Norm) -> f64 {
        let n = ids.len();
        let logits = self.logits(x, n - 1, head, norm);
        cross_entropy(&logits, self.config.vocab, &ids[1..])
    }

    fn output_head(&self) -> Result<Linear, HfError> {
        let c = &self.config;
        let name = if c.tied_embeddings {
            "model.embed_tokens.weight"
        } else {
            "lm_head.weight"
        };
        output_head(&*self.weights, name, c.vocab, c.hidden)
    }

    /// The logits of the token after `ids` (vocabulary-wide, final soft-cap applied).
    pub fn next_token_logits(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        self.check_ids(ids)?;
        let (c, n) = (&self.config, ids.len());
        let x = self.run_layers(self.embed(ids)?, n, 0..c.layers, &[], None, None)?;
        let last = &x[(n - 1) * c.hidden..];
        Ok(self.logits(last, 1, &self.output_head()?, &self.final_norm()?))
    }

    /// Mean next-token loss of the clean model and, per `(layer, head)`, with that head's
    /// attention output zeroed before the output projection (layers before it are reused).
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
        let head = self.output_head()?;
        let norm = self.final_norm()?;
        let mut trace = Trace::default();
        let x = self.run_layers(
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
            (n, c.heads * c.head_dim, c.head_dim),
            progress,
            |l, input, ctx| {
                let w = self.layer(l)?;
                let x = self.finish(&w, input, ctx, n);
                let x = self.run_layers(x, n, l + 1..c.layers, &[], None, None)?;
                Ok(self.loss(&x, ids, &head, &norm))
            },
        )?;
        Ok((clean, losses))
    }

    fn model_dims(&self) -> ModelDims {
        let c = &self.config;
        ModelDims {
            layers: c.layers,
            heads: c.heads,
            context: c.max_positions,
        }
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

capture_model!(Decoder);
