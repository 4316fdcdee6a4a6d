//! The T5 encoder stack (`model_type: t5`): bucketed relative-position bias computed in the
//! first layer and added, unscaled, to the unscaled scores of every layer
//! (`T5Attention._relative_position_bucket`, bidirectional); RMS LayerNorm without mean or bias;
//! ReLU or gated-GELU feed-forward; no mask. The audit reads the encoder's self-attention heads,
//! and an ablation effect is `1 − cos` of the mean-pooled encoder output (the sentence-T5
//! embedding), as for the other encoders.

mod weights;

use crate::config::{read, Fields};
use crate::error::HfError;
use crate::source::TensorSource;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, layers_to_run, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;
use pespectra_attention::{
    attention_logits, flash_attention, t5_bucket, AttentionConfig, AttentionInputs, LogitsRequest,
    Mask, PositionalEncoding, T5Bias,
};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Positional};
use pespectra_layers::{from_heads, gelu_tanh, rms_norm};
use std::path::{Path, PathBuf};
use weights::Layer;

/// Relative positions have no table limit; this bounds the n × n work of one request.
pub const MAX_TOKENS: usize = 8192;

/// The encoder's hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct T5Config {
    /// `d_model`.
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// `d_kv`, the width of one head.
    pub head_dim: usize,
    /// `d_ff`.
    pub inner: usize,
    /// RMS norm ε.
    pub eps: f64,
    /// Vocabulary.
    pub vocab: usize,
    /// Relative-position buckets.
    pub buckets: usize,
    /// Distance beyond which offsets share the last bucket.
    pub max_distance: usize,
    /// `gated-gelu` (wi_0, wi_1) instead of `relu` (wi).
    pub gated: bool,
}

impl T5Config {
    fn load(dir: &Path) -> Result<Self, HfError> {
        let (path, v, _) = read(dir)?;
        let f = Fields { v: &v, path: &path };
        let ff = v["feed_forward_proj"].as_str().unwrap_or("relu");
        let gated = match ff {
            "relu" => false,
            "gated-gelu" => true,
            other => {
                return Err(f.err(
                    "feed_forward_proj",
                    format!("'{other}' is not supported (relu, gated-gelu)"),
                ))
            }
        };
        Ok(Self {
            hidden: f.uint("d_model")?,
            layers: f.uint("num_layers")?,
            heads: f.uint("num_heads")?,
            head_dim: f.uint("d_kv")?,
            inner: f.uint("d_ff")?,
            eps: f.float_or("layer_norm_epsilon", 1e-6)?,
            vocab: f.uint("vocab_size")?,
            buckets: f.uint_or("relative_attention_num_buckets", 32)?,
            max_distance: f.uint_or("relative_attention_max_distance", 128)?,
            gated,
        })
    }
}

/// A loaded T5 encoder.
pub struct T5Encoder {
    /// Its configuration.
    pub config: T5Config,
    weights: Box<dyn TensorSource>,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
    /// `[buckets, heads]`, from layer 0.
    table: Vec<f32>,
}

impl T5Encoder {
    /// Loads `dir`; every encoder tensor is checked for presence, shape and dtype first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let config = T5Config::load(dir)?;
        let weights: Box<dyn TensorSource> = Box::new(Weights::open(dir)?);
        let c = &config;
        let table = weights.get(
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            &[c.buckets, c.heads],
        )?;
        let m = Self {
            tokenizer: TextTokenizer::load(dir)?,
            cache: LayerCache::new(config.layers, &*weights),
            table,
            weights,
            config,
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
        check_ids(
            ids,
            self.config.vocab,
            MAX_TOKENS,
            "a bound on the n × n work",
        )
    }

    fn attention_config(&self, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.head_dim);
        cfg.scale = 1.0; // T5 does not scale q·kᵀ
        cfg.mask = Mask::none();
        cfg.pe = PositionalEncoding::T5(T5Bias {
            table: self.table.clone(),
            num_buckets: c.buckets,
            max_distance: c.max_distance,
            bidirectional: true,
        });
        cfg
    }

    fn heads(&self, x: &[f32], n: usize) -> Vec<f32> {
        pespectra_layers::to_heads(x, n, self.config.heads, self.config.head_dim)
    }

    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let o = w.o.forward(ctx, n);
        let x: Vec<f32> = x.iter().zip(&o).map(|(a, b)| a + b).collect();
        let h = rms_norm(&x, &w.ln2, c.eps);
        let act: Vec<f32> = if c.gated {
            let g = gelu_tanh(&w.wi[0].forward(&h, n));
            g.iter()
                .zip(&w.wi[1].forward(&h, n))
                .map(|(a, b)| a * b)
                .collect()
        } else {
            w.wi[0].forward(&h, n).iter().map(|v| v.max(0.0)).collect()
        };
        let m = w.wo.forward(&act, n);
        x.iter().zip(&m).map(|(a, b)| a + b).collect()
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
            let h = rms_norm(&x, &w.ln1, c.eps);
            let (q, k, v) = (
                self.heads(&w.q.forward(&h, n), n),
                self.heads(&w.k.forward(&h, n), n),
                self.heads(&w.v.forward(&h, n), n),
            );
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
        let req = LogitsRequest {
            pre_mask: false,
            content: true,
            per_frequency: false,
        };
        let content = attention_logits(cfg, &inp, req)?
            .content
            .unwrap_or_default();
        let hd = c.head_dim;
        for h in 0..c.heads {
            let bias: Vec<f32> = (0..n * n)
                .map(|x| {
                    let (i, j) = (x / n, x % n);
                    self.table[t5_bucket(j as i64 - i as i64, true, c.buckets, c.max_distance)
                        * c.heads
                        + h]
                })
                .collect();
            let cl = content[h * n * n..(h + 1) * n * n].to_vec();
            sink(HeadCapture {
                layer: l,
                head: h,
                kv_head: h,
                n,
                head_dim: hd,
                scale: 1.0,
                causal: false,
                window: None,
                softcap: None,
                q: q[h * n * hd..(h + 1) * n * hd].to_vec(),
                k: k[h * n * hd..(h + 1) * n * hd].to_vec(),
                logits: cl.iter().zip(&bias).map(|(a, b)| a + b).collect(),
                content_logits: cl,
                positional: Positional::AdditiveBias { bias },
            });
        }
        Ok(())
    }

    fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        let rows: Vec<usize> = ids.iter().map(|&t| t as usize).collect();
        self.weights.rows(
            self.embed_name(),
            [self.config.vocab, self.config.hidden],
            &rows,
        )
    }

    /// The encoder output (after the final RMS norm), capturing every head of `capture`.
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
        let w = self
            .weights
            .get("encoder.final_layer_norm.weight", &[c.hidden])?;
        Ok(rms_norm(&x, &w, c.eps))
    }

    /// The mean-pooled, unit-length encoder output.
    fn pooled(&self, x: &[f32]) -> Result<Vec<f64>, HfError> {
        let c = &self.config;
        let w = self
            .weights
            .get("encoder.final_layer_norm.weight", &[c.hidden])?;
        let y = rms_norm(x, &w, c.eps);
        let n = y.len() / c.hidden;
        let mut m = vec![0f64; c.hidden];
        for row in y.chunks(c.hidden) {
            for (a, &b) in m.iter_mut().zip(row) {
                *a += f64::from(b) / n as f64;
            }
        }
        let norm = m
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        Ok(m.iter().map(|v| v / norm).collect())
    }

    /// `1 − cos` between the clean pooled output and the one with each `(layer, head)` zeroed.
    pub fn ablation_effects(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<f64>, HfError> {
        self.check_ids(ids)?;
        let c = &self.config;
        let n = ids.len();
        check_heads(heads, c.layers, c.heads)?;
        let mut trace = Trace::default();
        let x = self.run(
            self.embed(ids)?,
            n,
            0..c.layers,
            &[],
            None,
            Some(&mut trace),
        )?;
        let clean = self.pooled(&x)?;
        ablate(
            &trace,
            heads,
            (n, c.heads * c.head_dim, c.head_dim),
            progress,
            |l, input, ctx| {
                let x = self.finish(&*self.layer(l)?, input, ctx, n);
                let p = self.pooled(&self.run(x, n, l + 1..c.layers, &[], None, None)?)?;
                Ok(1.0 - p.iter().zip(&clean).map(|(a, b)| a * b).sum::<f64>())
            },
        )
    }

    fn model_dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: MAX_TOKENS,
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
            metric: "1 − cos(mean-pooled encoder output) when the head is zeroed".into(),
            effects: self.ablation_effects(ids, heads, progress)?,
        })
    }
}

capture_model!(T5Encoder);
