//! BLOOM (`model_type: bloom`): ALiBi as BLOOM forms it, `slope_h · j` added to the scaled
//! scores (key position j; on causal rows this differs from `−slope_h·|i − j|` by a per-row
//! constant the softmax ignores, but the pre-mask matrix the capture records is BLOOM's own),
//! the fused `query_key_value` projection laid out per head as [q_h | k_h | v_h], LayerNorm
//! with biases, tanh-GELU, the embedding LayerNorm and tied output embeddings.

use std::path::{Path, PathBuf};

use pespectra_attention::{
    alibi_slopes, attention_logits, flash_attention, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, PositionalEncoding,
};
use pespectra_capture::{
    CaptureModel, HeadAblation, HeadCapture, ModelDims, ModelError, ModelStage, Positional,
};
use pespectra_layers::{cross_entropy, from_heads, gelu_tanh, layer_norm, Linear};

use crate::config::{read, Fields};
use crate::error::HfError;
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

/// ALiBi has no position table; this bounds the n × n work of one request.
pub const MAX_TOKENS: usize = 8192;

/// BLOOM's hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BloomConfig {
    /// Residual width.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// LayerNorm ε.
    pub eps: f64,
    /// Vocabulary.
    pub vocab: usize,
    /// The residual is taken after the LayerNorm instead of before.
    pub residual_post_ln: bool,
    /// The output projection is the embedding matrix.
    pub tied_embeddings: bool,
}

impl BloomConfig {
    fn load(dir: &Path) -> Result<Self, HfError> {
        let (path, v, _) = read(dir)?;
        let f = Fields { v: &v, path: &path };
        // current names, then BLOOM's own attribute names (n_embed, n_layer, n_head)
        let either = |a: &str, b: &str| if v[a].is_null() { f.uint(b) } else { f.uint(a) };
        let hidden = either("hidden_size", "n_embed")?;
        let heads = either("num_attention_heads", "n_head")?;
        if hidden % heads != 0 {
            return Err(f.err(
                "n_head",
                format!("{heads} does not divide hidden_size {hidden}"),
            ));
        }
        if f.uint_or("pretraining_tp", 1)? != 1 && f.bool_or("slow_but_exact", false)? {
            return Err(f.err("slow_but_exact", "tensor-parallel slicing is not supported"));
        }
        Ok(Self {
            hidden,
            layers: either("num_hidden_layers", "n_layer")?,
            heads,
            eps: f.float_or("layer_norm_epsilon", 1e-5)?,
            vocab: f.uint("vocab_size")?,
            residual_post_ln: f.bool_or("apply_residual_connection_post_layernorm", false)?,
            tied_embeddings: f.bool_or("tie_word_embeddings", true)?,
        })
    }
}

struct Layer {
    ln1: (Vec<f32>, Vec<f32>),
    qkv: Linear,
    dense: Linear,
    ln2: (Vec<f32>, Vec<f32>),
    up: Linear,
    down: Linear,
}

/// A loaded BLOOM checkpoint.
pub struct Bloom {
    /// Its configuration.
    pub config: BloomConfig,
    weights: Weights,
    tokenizer: TextTokenizer,
    slopes: Vec<f64>,
}

impl Bloom {
    /// Loads `dir`; every tensor is checked for presence, shape and dtype first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let config = BloomConfig::load(dir)?;
        let weights = Weights::open(dir)?;
        let b = Self {
            slopes: alibi_slopes(config.heads),
            config,
            weights,
            tokenizer: TextTokenizer::load(dir)?,
        };
        b.check()?;
        Ok(b)
    }

    /// Weight files, for provenance.
    pub fn weight_files(&self) -> Vec<PathBuf> {
        self.weights.files()
    }

    /// Whether `tokenizer.json` was found.
    pub fn has_tokenizer(&self) -> bool {
        self.tokenizer.present()
    }

    fn prefix(name: &str) -> String {
        format!("transformer.{name}")
    }

    fn names(&self, l: usize) -> Vec<(String, Vec<usize>)> {
        let (h, p) = (self.config.hidden, Self::prefix(&format!("h.{l}")));
        vec![
            (format!("{p}.input_layernorm.weight"), vec![h]),
            (format!("{p}.input_layernorm.bias"), vec![h]),
            (
                format!("{p}.self_attention.query_key_value.weight"),
                vec![3 * h, h],
            ),
            (
                format!("{p}.self_attention.query_key_value.bias"),
                vec![3 * h],
            ),
            (format!("{p}.self_attention.dense.weight"), vec![h, h]),
            (format!("{p}.self_attention.dense.bias"), vec![h]),
            (format!("{p}.post_attention_layernorm.weight"), vec![h]),
            (format!("{p}.post_attention_layernorm.bias"), vec![h]),
            (format!("{p}.mlp.dense_h_to_4h.weight"), vec![4 * h, h]),
            (format!("{p}.mlp.dense_h_to_4h.bias"), vec![4 * h]),
            (format!("{p}.mlp.dense_4h_to_h.weight"), vec![h, 4 * h]),
            (format!("{p}.mlp.dense_4h_to_h.bias"), vec![h]),
        ]
    }

    fn check(&self) -> Result<(), HfError> {
        let c = &self.config;
        let w = &self.weights;
        w.check(
            &Self::prefix("word_embeddings.weight"),
            &[c.vocab, c.hidden],
        )?;
        for t in ["word_embeddings_layernorm", "ln_f"] {
            w.check(&Self::prefix(&format!("{t}.weight")), &[c.hidden])?;
            w.check(&Self::prefix(&format!("{t}.bias")), &[c.hidden])?;
        }
        if !c.tied_embeddings {
            w.check("lm_head.weight", &[c.vocab, c.hidden])?;
        }
        for l in 0..c.layers {
            for (n, s) in self.names(l) {
                w.check(&n, &s)?;
            }
        }
        Ok(())
    }

    fn layer(&self, l: usize) -> Result<Layer, HfError> {
        let h = self.config.hidden;
        let p = Self::prefix(&format!("h.{l}"));
        let g = |n: &str, s: &[usize]| self.weights.get(&format!("{p}.{n}"), s);
        let lin = |n: &str, out: usize, inp: usize| -> Result<Linear, HfError> {
            Linear::new(
                g(&format!("{n}.weight"), &[out, inp])?,
                Some(g(&format!("{n}.bias"), &[out])?),
                out,
                inp,
            )
            .ok_or_else(|| HfError::Request(format!("{p}.{n}: inconsistent sizes")))
        };
        let ln = |n: &str| -> Result<(Vec<f32>, Vec<f32>), HfError> {
            Ok((
                g(&format!("{n}.weight"), &[h])?,
                g(&format!("{n}.bias"), &[h])?,
            ))
        };
        Ok(Layer {
            ln1: ln("input_layernorm")?,
            qkv: lin("self_attention.query_key_value", 3 * h, h)?,
            dense: lin("self_attention.dense", h, h)?,
            ln2: ln("post_attention_layernorm")?,
            up: lin("mlp.dense_h_to_4h", 4 * h, h)?,
            down: lin("mlp.dense_4h_to_h", h, 4 * h)?,
        })
    }

    fn check_ids(&self, ids: &[u32]) -> Result<(), HfError> {
        if ids.is_empty() || ids.len() > MAX_TOKENS {
            return Err(HfError::Request(format!(
                "{} tokens: need 1..={MAX_TOKENS}",
                ids.len()
            )));
        }
        if let Some(&t) = ids.iter().find(|&&t| t as usize >= self.config.vocab) {
            return Err(HfError::Request(format!(
                "token id {t} is outside the vocabulary of {} tokens",
                self.config.vocab
            )));
        }
        Ok(())
    }

    fn ln(&self, name: &str, x: &[f32]) -> Result<Vec<f32>, HfError> {
        let h = self.config.hidden;
        let w = self
            .weights
            .get(&Self::prefix(&format!("{name}.weight")), &[h])?;
        let b = self
            .weights
            .get(&Self::prefix(&format!("{name}.bias")), &[h])?;
        Ok(layer_norm(x, &w, &b, self.config.eps))
    }

    fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let rows: Vec<usize> = ids.iter().map(|&t| t as usize).collect();
        let x = self.weights.rows(
            &Self::prefix("word_embeddings.weight"),
            [c.vocab, c.hidden],
            &rows,
        )?;
        self.ln("word_embeddings_layernorm", &x)
    }

    fn attention_config(&self, n: usize) -> AttentionConfig {
        let c = &self.config;
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.hidden / c.heads);
        cfg.mask = Mask::causal();
        // the core's −slope·|i − j| equals BLOOM's slope·j up to a per-row constant on causal
        // rows, so the attention output is BLOOM's
        cfg.pe = PositionalEncoding::Alibi {
            slopes: self.slopes.clone(),
        };
        cfg
    }

    /// Head-major q, k, v from the fused projection ([n, heads, 3, hd]).
    fn qkv(&self, w: &Layer, h: &[f32], n: usize) -> [Vec<f32>; 3] {
        let c = &self.config;
        let hd = c.hidden / c.heads;
        let fused = w.qkv.forward(h, n);
        let mut out = [
            vec![0f32; n * c.hidden],
            vec![0f32; n * c.hidden],
            vec![0f32; n * c.hidden],
        ];
        for t in 0..n {
            for head in 0..c.heads {
                for (s, o) in out.iter_mut().enumerate() {
                    let src = &fused[t * 3 * c.hidden + (head * 3 + s) * hd..][..hd];
                    o[head * n * hd + t * hd..][..hd].copy_from_slice(src);
                }
            }
        }
        out
    }

    fn emit(
        &self,
        l: usize,
        cfg: &AttentionConfig,
        q: &[f32],
        k: &[f32],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), HfError> {
        let (n, hd, heads) = (cfg.seq, cfg.head_dim, cfg.heads);
        let mut plain = cfg.clone();
        plain.pe = PositionalEncoding::NoPE;
        let v = vec![0f32; q.len()];
        let inp = AttentionInputs {
            q,
            k,
            v: &v,
            rope_key: None,
        };
        let req = LogitsRequest {
            pre_mask: false,
            content: true,
            per_frequency: false,
        };
        let content = attention_logits(&plain, &inp, req)?
            .content
            .unwrap_or_default();
        for (h, &slope) in self.slopes.iter().enumerate().take(heads) {
            let c = &content[h * n * n..(h + 1) * n * n];
            let bias: Vec<f32> = (0..n * n)
                .map(|x| (slope * (x % n) as f64) as f32)
                .collect();
            sink(HeadCapture {
                layer: l,
                head: h,
                kv_head: h,
                n,
                head_dim: hd,
                scale: cfg.scale,
                causal: true,
                q: q[h * n * hd..(h + 1) * n * hd].to_vec(),
                k: k[h * n * hd..(h + 1) * n * hd].to_vec(),
                logits: c.iter().zip(&bias).map(|(a, b)| a + b).collect(),
                content_logits: c.to_vec(),
                positional: Positional::AdditiveBias { bias },
            });
        }
        Ok(())
    }

    /// Layer `l`'s output from its input and its attention context.
    fn finish(&self, w: &Layer, x: &[f32], ctx: &[f32], n: usize) -> Vec<f32> {
        let c = &self.config;
        let h1 = layer_norm(x, &w.ln1.0, &w.ln1.1, c.eps);
        let residual = if c.residual_post_ln { &h1 } else { x };
        let attn: Vec<f32> = w
            .dense
            .forward(ctx, n)
            .iter()
            .zip(residual)
            .map(|(a, b)| a + b)
            .collect();
        let h2 = layer_norm(&attn, &w.ln2.0, &w.ln2.1, c.eps);
        let residual = if c.residual_post_ln { &h2 } else { &attn };
        w.down
            .forward(&gelu_tanh(&w.up.forward(&h2, n)), n)
            .iter()
            .zip(residual)
            .map(|(a, b)| a + b)
            .collect()
    }

    #[allow(clippy::type_complexity)]
    fn run(
        &self,
        mut x: Vec<f32>,
        n: usize,
        layers: std::ops::Range<usize>,
        capture: &[usize],
        mut sink: Option<&mut dyn FnMut(HeadCapture)>,
        mut trace: Option<&mut (Vec<Vec<f32>>, Vec<Vec<f32>>)>,
    ) -> Result<Vec<f32>, HfError> {
        let c = &self.config;
        let cfg = self.attention_config(n);
        for l in layers {
            let w = self.layer(l)?;
            let h1 = layer_norm(&x, &w.ln1.0, &w.ln1.1, c.eps);
            let [q, k, v] = self.qkv(&w, &h1, n);
            if capture.contains(&l) {
                if let Some(s) = sink.as_deref_mut() {
                    self.emit(l, &cfg, &q, &k, s)?;
                }
            }
            let inp = AttentionInputs {
                q: &q,
                k: &k,
                v: &v,
                rope_key: None,
            };
            let ctx = from_heads(
                &flash_attention(&cfg, &inp)?,
                n,
                c.heads,
                c.hidden / c.heads,
            );
            let next = self.finish(&w, &x, &ctx, n);
            if let Some(t) = trace.as_deref_mut() {
                t.0.push(std::mem::take(&mut x));
                t.1.push(ctx);
            }
            x = next;
        }
        Ok(x)
    }

    /// Final hidden states (after `ln_f`), capturing every head of the `capture` layers.
    pub fn forward(
        &self,
        ids: &[u32],
        capture: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
        full: bool,
    ) -> Result<Vec<f32>, HfError> {
        self.check_ids(ids)?;
        let c = &self.config;
        if let Some(&l) = capture.iter().find(|&&l| l >= c.layers) {
            return Err(HfError::Request(format!(
                "layer {l} does not exist (the model has {} layers)",
                c.layers
            )));
        }
        let until = if full {
            c.layers
        } else {
            capture.iter().max().map_or(0, |m| m + 1)
        };
        let x = self.run(
            self.embed(ids)?,
            ids.len(),
            0..until,
            capture,
            Some(sink),
            None,
        )?;
        self.ln("ln_f", &x)
    }

    fn loss(&self, x: &[f32], ids: &[u32], head: &Linear) -> Result<f64, HfError> {
        let n = ids.len();
        let h = self.ln("ln_f", &x[..(n - 1) * self.config.hidden])?;
        Ok(cross_entropy(
            &head.forward(&h, n - 1),
            self.config.vocab,
            &ids[1..],
        ))
    }

    /// Clean next-token loss and the loss with each `(layer, head)` zeroed before `dense`.
    pub fn ablation_losses(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(f64, Vec<f64>), HfError> {
        self.check_ids(ids)?;
        let c = &self.config;
        let n = ids.len();
        if n < 2 {
            return Err(HfError::Request(
                "a next-token loss needs at least 2 tokens".into(),
            ));
        }
        if let Some(&(l, h)) = heads.iter().find(|&&(l, h)| l >= c.layers || h >= c.heads) {
            return Err(HfError::Request(format!(
                "layer {l} head {h} does not exist"
            )));
        }
        let name = if c.tied_embeddings {
            Self::prefix("word_embeddings.weight")
        } else {
            "lm_head.weight".into()
        };
        let head = Linear::new(
            self.weights.get(&name, &[c.vocab, c.hidden])?,
            None,
            c.vocab,
            c.hidden,
        )
        .ok_or_else(|| HfError::Request("inconsistent output head".into()))?;
        let mut trace = (Vec::new(), Vec::new());
        let x = self.run(
            self.embed(ids)?,
            n,
            0..c.layers,
            &[],
            None,
            Some(&mut trace),
        )?;
        let clean = self.loss(&x, ids, &head)?;
        let hd = c.hidden / c.heads;
        let mut losses = Vec::with_capacity(heads.len());
        for (i, &(l, h)) in heads.iter().enumerate() {
            let w = self.layer(l)?;
            let mut ctx = trace.1[l].clone();
            for t in 0..n {
                ctx[t * c.hidden + h * hd..][..hd].fill(0.0);
            }
            let x = self.finish(&w, &trace.0[l], &ctx, n);
            let x = self.run(x, n, l + 1..c.layers, &[], None, None)?;
            losses.push(self.loss(&x, ids, &head)?);
            progress(i + 1, heads.len());
        }
        Ok((clean, losses))
    }
}

impl CaptureModel for Bloom {
    fn dims(&self) -> ModelDims {
        ModelDims {
            layers: self.config.layers,
            heads: self.config.heads,
            context: MAX_TOKENS,
        }
    }

    fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        self.tokenizer
            .encode(text)
            .map_err(|e| ModelError::new(ModelStage::Tokenize, e))
    }

    fn capture(
        &self,
        ids: &[u32],
        layers: &[usize],
        sink: &mut dyn FnMut(HeadCapture),
    ) -> Result<(), ModelError> {
        self.forward(ids, layers, sink, false)
            .map(|_| ())
            .map_err(|e| ModelError::new(ModelStage::Forward, e))
    }

    fn ablation(
        &self,
        ids: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<HeadAblation, ModelError> {
        let (clean, losses) = self
            .ablation_losses(ids, heads, progress)
            .map_err(|e| ModelError::new(ModelStage::Ablation, e))?;
        Ok(HeadAblation {
            metric: format!("next-token loss increase (nats; clean loss {clean:.4})"),
            effects: losses.iter().map(|l| l - clean).collect(),
        })
    }
}
