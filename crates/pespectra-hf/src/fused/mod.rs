//! The LayerNorm decoders with one fused q/k/v projection: BLOOM (`bloom`), Falcon (`falcon`),
//! MPT (`mpt`), GPT-NeoX / Pythia (`gpt_neox`) and GPT-2 (`gpt2`). They differ only in what
//! [`FusedConfig`] records:
//!
//! * positions — ALiBi as each family forms it ([`AlibiForm`]: a bias of the key position j
//!   added to the scaled scores, used by the forward pass and recorded by the capture alike;
//!   on causal rows it differs from `−slope_h·|i − j|` by a per-row constant); GPT-NeoX and
//!   Falcon without ALiBi: RoPE (`rotate_half`) on the leading `rotary_pct` of each head (all
//!   of it for Falcon); GPT-2: a learned position table added to the embeddings, whose content
//!   logits come from the position-free counterfactual pass (the embeddings without the table);
//! * the fused layout ([`QkvLayout`]) — per head `[q_h | k_h | v_h]` (BLOOM, NeoX, multi-head
//!   Falcon), `[q | k | v]` blocks (GPT-2 with Conv1D `[in, out]` weights, MPT, Falcon-7B's
//!   multi-query layout with one key/value head) or per key/value group (Falcon's
//!   `new_decoder_architecture`, e.g. Falcon-40B/180B);
//! * the residual — sequential, sequential from the LayerNorm output (BLOOM's
//!   `apply_residual_connection_post_layernorm`) or parallel (NeoX's `use_parallel_residual`,
//!   Falcon's parallel blocks, with one shared norm or `ln_attn`/`ln_mlp`);
//! * GELU — tanh approximation (BLOOM, GPT-2 `gelu_new`) or exact (NeoX, Falcon).

use std::path::{Path, PathBuf};

mod alibi;
mod config;
mod weights;

use crate::error::HfError;
use crate::source::TensorSource;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, check_loss_input, layers_to_run, loss_increase,
    output_head, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;
pub use alibi::AlibiForm;
pub use config::{mpt_slopes, FusedConfig, FusedPositions, QkvLayout, Residual, ALIBI_MAX_TOKENS};
use pespectra_attention::{
    attention_logits, flash_attention, rope_frequencies, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, PositionalEncoding,
};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{cross_entropy, from_heads, gelu_erf, gelu_tanh, layer_norm, Linear};
use weights::{Layer, Names};

/// A loaded fused-QKV decoder checkpoint.
pub struct Fused {
    /// Its configuration.
    pub config: FusedConfig,
    weights: Box<dyn TensorSource>,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
}

impl Fused {
    /// Loads `dir`; every tensor is checked for presence, shape and dtype first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let weights: Box<dyn TensorSource> = Box::new(Weights::open(dir)?);
        let config = FusedConfig::load(dir, &*weights)?;
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
        check_ids(ids, c.vocab, c.max_positions, "its position limit")
    }

    /// The input of layer 0 (`positions = false`: GPT-2's counterfactual without the table).
    fn embed(&self, ids: &[u32], positions: bool) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let n = Names(c);
        let rows: Vec<usize> = ids.iter().map(|&t| t as usize).collect();
        let mut x = self.weights.rows(&n.embed(), [c.vocab, c.hidden], &rows)?;
        if c.model_type == "bloom" {
            let (w, b) = self.norm(&n.body("word_embeddings_layernorm"))?;
            x = layer_norm(&x, &w, &b, c.eps);
        }
        if c.gpt2() && positions {
            let pos: Vec<usize> = (0..ids.len()).collect();
            let p = self
                .weights
                .rows(&n.body("wpe.weight"), [c.max_positions, c.hidden], &pos)?;
            for (a, b) in x.iter_mut().zip(&p) {
                *a += b;
            }
        }
        Ok(x)
    }

    fn attention_config(&self, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.head_dim());
        cfg.kv_heads = c.kv_heads;
        cfg.mask = Mask::causal();
        cfg.pe = match &c.positions {
            FusedPositions::Alibi(s, form) => PositionalEncoding::KeyBias {
                bias: form.key_bias(s, n, c.head_dim()),
            },
            FusedPositions::Rope(r) => PositionalEncoding::Rope(r.clone()),
            FusedPositions::Learned => PositionalEncoding::NoPE,
        };
        cfg
    }

    /// Head-major q `[heads, n, hd]`, k and v `[kv_heads, n, hd]` from the fused projection.
    fn qkv(&self, w: &Layer, h: &[f32], n: usize) -> [Vec<f32>; 3] {
        let c = &self.config;
        let (hd, width) = (c.head_dim(), c.qkv_width());
        let fused = w.qkv.forward(h, n);
        let mut out = [
            vec![0f32; n * c.heads * hd],
            vec![0f32; n * c.kv_heads * hd],
            vec![0f32; n * c.kv_heads * hd],
        ];
        for (part, o) in out.iter_mut().enumerate() {
            let heads = if part == 0 { c.heads } else { c.kv_heads };
            for head in 0..heads {
                let at = c.qkv_offset(part, head);
                for t in 0..n {
                    o[head * n * hd + t * hd..][..hd]
                        .copy_from_slice(&fused[t * width + at..][..hd]);
                }
            }
        }
        out
    }

    /// The layer's output from its input and its attention context.
    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let gelu = |v: &[f32]| {
            if c.gelu_erf {
                gelu_erf(v)
            } else {
                gelu_tanh(v)
            }
        };
        let mlp = |h: &[f32]| w.down.forward(&gelu(&w.up.forward(h, n)), n);
        let add =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(x, y)| x + y).collect() };
        let attn = w.dense.forward(ctx, n);
        match c.residual {
            Residual::Parallel => add(
                &add(x, &attn),
                &mlp(&layer_norm(x, &w.ln2.0, &w.ln2.1, c.eps)),
            ),
            Residual::Sequential => {
                let a = add(x, &attn);
                add(&a, &mlp(&layer_norm(&a, &w.ln2.0, &w.ln2.1, c.eps)))
            }
            Residual::SequentialPostLn => {
                let a = add(&layer_norm(x, &w.ln1.0, &w.ln1.1, c.eps), &attn);
                let h2 = layer_norm(&a, &w.ln2.0, &w.ln2.1, c.eps);
                add(&h2, &mlp(&h2))
            }
        }
    }

    /// Runs `layers`; emits the q/k of `capture` layers through `emit`; records the trace.
    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        mut x: Vec<f32>,
        n: usize,
        layers: std::ops::Range<usize>,
        mut emit: Option<
            &mut dyn FnMut(usize, &AttentionConfig, &[f32], &[f32]) -> Result<(), HfError>,
        >,
        capture: &[usize],
        mut trace: Option<&mut Trace>,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let cfg = self.attention_config(n);
        for l in layers {
            let w = self.layer(l)?;
            let h1 = layer_norm(&x, &w.ln1.0, &w.ln1.1, c.eps);
            let [q, k, v] = self.qkv(&w, &h1, n);
            if capture.contains(&l) {
                if let Some(e) = emit.as_deref_mut() {
                    e(l, &cfg, &q, &k)?;
                }
            }
            let inp = AttentionInputs {
                q: &q,
                k: &k,
                v: &v,
                rope_key: None,
            };
            let ctx = from_heads(&flash_attention(&cfg, &inp)?, n, c.heads, c.head_dim());
            let next = self.finish(&w, &x, &ctx, n);
            if let Some(t) = trace.as_deref_mut() {
                t.inputs.push(std::mem::take(&mut x));
                t.contexts.push(ctx);
            }
            x = next;
        }
        Ok(x)
    }

    /// Pre-mask logits `[heads, n, n]` (`with_pe`: the model's, else content only).
    fn logits(
        &self,
        cfg: &AttentionConfig,
        q: &[f32],
        k: &[f32],
        with_pe: bool,
    ) -> Result<Vec<f32>, HfError> {
        let mut c = cfg.clone();
        if !with_pe {
            c.pe = PositionalEncoding::NoPE;
        }
        let v = vec![0f32; k.len()];
        let inp = AttentionInputs {
            q,
            k,
            v: &v,
            rope_key: None,
        };
        let req = LogitsRequest {
            pre_mask: with_pe,
            content: !with_pe,
            per_frequency: false,
        };
        let l = attention_logits(&c, &inp, req)?;
        Ok(if with_pe { l.pre_mask } else { l.content }.unwrap_or_default())
    }

    /// Final hidden states (after the final LayerNorm), capturing every head of `capture`.
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
        let n = ids.len();
        let hd = c.head_dim();
        let group = c.heads / c.kv_heads;
        // GPT-2: the counterfactual pass first, keeping its content logits per captured layer
        let mut counterfactual: Vec<(usize, Vec<f32>)> = Vec::new();
        if c.positions == FusedPositions::Learned && !capture.is_empty() {
            let mut keep =
                |l: usize, cfg: &AttentionConfig, q: &[f32], k: &[f32]| -> Result<(), HfError> {
                    counterfactual.push((l, self.logits(cfg, q, k, false)?));
                    Ok(())
                };
            let last = layers_to_run(capture, c.layers, false)?;
            self.run(
                self.embed(ids, false)?,
                n,
                0..last,
                Some(&mut keep),
                capture,
                None,
            )?;
        }
        let mut emit =
            |l: usize, cfg: &AttentionConfig, q: &[f32], k: &[f32]| -> Result<(), HfError> {
                let content = match counterfactual.iter().find(|(cl, _)| *cl == l) {
                    Some((_, cf)) => cf.clone(),
                    None => self.logits(cfg, q, k, false)?,
                };
                // the bias the forward pass added (attention_config formed it once)
                let (pre, key_bias) = match &cfg.pe {
                    PositionalEncoding::KeyBias { bias } => (None, Some(bias.as_slice())),
                    _ => (Some(self.logits(cfg, q, k, true)?), None),
                };
                for h in 0..c.heads {
                    let block = |m: &[f32]| m[h * n * n..(h + 1) * n * n].to_vec();
                    let cl = block(&content);
                    let (logits, positional) = match (&c.positions, key_bias) {
                        (FusedPositions::Alibi(..), Some(kb)) => {
                            let bias: Vec<f32> = (0..n * n).map(|x| kb[h * n + x % n]).collect();
                            (
                                cl.iter().zip(&bias).map(|(a, b)| a + b).collect(),
                                Positional::AdditiveBias { bias },
                            )
                        }
                        (FusedPositions::Rope(r), _) => {
                            let rot = (hd as f64 * r.rotary_fraction).floor() as usize;
                            let (inv_freq, _) = rope_frequencies(r, rot, n);
                            (
                                block(pre.as_deref().unwrap_or_default()),
                                Positional::Rope {
                                    pairing: Pairing::HalfSplit,
                                    inv_freq,
                                },
                            )
                        }
                        _ => (
                            block(pre.as_deref().unwrap_or_default()),
                            Positional::Absolute,
                        ),
                    };
                    let g = h / group;
                    sink(HeadCapture {
                        layer: l,
                        head: h,
                        kv_head: g,
                        n,
                        head_dim: hd,
                        scale: cfg.scale,
                        causal: true,
                        window: None,
                        softcap: None,
                        q: q[h * n * hd..(h + 1) * n * hd].to_vec(),
                        k: k[g * n * hd..(g + 1) * n * hd].to_vec(),
                        logits,
                        content_logits: cl,
                        positional,
                    });
                }
                Ok(())
            };
        let x = self.run(
            self.embed(ids, true)?,
            n,
            0..until,
            Some(&mut emit),
            capture,
            None,
        )?;
        let (w, b) = self.norm(&Names(c).final_ln())?;
        Ok(layer_norm(&x, &w, &b, c.eps))
    }

    fn loss(&self, x: &[f32], ids: &[u32], head: &Linear, norm: &(Vec<f32>, Vec<f32>)) -> f64 {
        let n = ids.len();
        let h = layer_norm(
            &x[..(n - 1) * self.config.hidden],
            &norm.0,
            &norm.1,
            self.config.eps,
        );
        cross_entropy(&head.forward(&h, n - 1), self.config.vocab, &ids[1..])
    }

    /// Clean next-token loss and the loss with each `(layer, head)` zeroed before the output
    /// projection of its layer.
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
        let names = Names(c);
        let head = output_head(&*self.weights, &names.head(), c.vocab, c.hidden)?;
        let norm = self.norm(&names.final_ln())?;
        let mut trace = Trace::default();
        let x = self.run(
            self.embed(ids, true)?,
            n,
            0..c.layers,
            None,
            &[],
            Some(&mut trace),
        )?;
        let clean = self.loss(&x, ids, &head, &norm);
        let losses = ablate(
            &trace,
            heads,
            (n, c.hidden, c.head_dim()),
            progress,
            |l, input, ctx| {
                let x = self.finish(&*self.layer(l)?, input, ctx, n);
                let x = self.run(x, n, l + 1..c.layers, None, &[], None)?;
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

capture_model!(Fused);
