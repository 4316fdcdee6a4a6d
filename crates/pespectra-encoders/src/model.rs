//! Loading and the forward pass shared by BERT and MPNet.
//!
//! Both are post-LayerNorm encoders with identical layer bodies; they differ only in the
//! embeddings (BERT adds token-type row 0 and uses positions `0..n`; MPNet has no token types
//! and uses positions `2..n+2`) and in MPNet's relative bias, which is built once from the
//! shared `[buckets, heads]` table and added to the scaled scores of every layer (by the
//! attention core's T5 path, whose bucket function is MPNet's `relative_position_bucket`).

use std::path::Path;

use pespectra_attention::{
    flash_attention, AttentionConfig, AttentionInputs, Mask, PositionalEncoding, T5Bias,
};

use crate::config::{Architecture, EncoderConfig, MPNET_MAX_DISTANCE};
use crate::error::EncoderError;
use crate::ops;
use crate::tokenizer::TextTokenizer;
use pespectra_hf::source::TensorSource;
use pespectra_hf::weights::Weights;
use pespectra_layers::{gelu_erf, layer_norm, Linear};

/// LayerNorm weights (PyTorch's biased variance, statistics in f64 by `pespectra-layers`).
pub(crate) struct LayerNorm {
    g: Vec<f32>,
    b: Vec<f32>,
    eps: f64,
}

impl LayerNorm {
    pub(crate) fn apply(&self, x: &[f32]) -> Vec<f32> {
        layer_norm(x, &self.g, &self.b, self.eps)
    }
}

/// One transformer layer.
pub(crate) struct Layer {
    /// Fused `[q; k; v]` projection, `3d × d`.
    pub qkv: Linear,
    pub o: Linear,
    pub ln_attn: LayerNorm,
    pub up: Linear,
    pub down: Linear,
    pub ln_out: LayerNorm,
}

/// A loaded sentence encoder (all-MiniLM-L6-v2 or all-mpnet-base-v2).
pub struct Encoder {
    pub(crate) cfg: EncoderConfig,
    pub(crate) tokenizer: TextTokenizer,
    word: Vec<f32>,
    position: Vec<f32>,
    /// Token-type row 0 (BERT), empty for MPNet.
    token_type0: Vec<f32>,
    ln_emb: LayerNorm,
    pub(crate) layers: Vec<Layer>,
    /// MPNet's shared `[buckets, heads]` relative-bias table; empty for BERT.
    pub(crate) rel_table: Vec<f32>,
}

/// Right-padded batch geometry.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    pub seq: usize,
    pub lens: Vec<usize>,
}

impl Batch {
    pub(crate) fn rows(&self) -> usize {
        self.seq * self.lens.len()
    }
}

impl Encoder {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from `dir` (the folder
    /// `pespectra_models::fetch` returns for `minilm-l6` / `mpnet-base`).
    pub fn load(dir: &Path) -> Result<Self, EncoderError> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|source| EncoderError::Io {
            path: config_path.clone(),
            source,
        })?;
        let cfg = EncoderConfig::from_json(&text)?;
        let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"), cfg.max_tokens())?;
        let weights = Weights::open(dir)?;
        Self::from_weights(cfg, tokenizer, &weights)
    }

    fn from_weights(
        cfg: EncoderConfig,
        tokenizer: TextTokenizer,
        w: &dyn TensorSource,
    ) -> Result<Self, EncoderError> {
        let (d, f) = (cfg.hidden, cfg.intermediate);
        let mut want: Vec<(String, Vec<usize>)> = vec![
            (
                "embeddings.word_embeddings.weight".into(),
                vec![cfg.vocab_size, d],
            ),
            (
                "embeddings.position_embeddings.weight".into(),
                vec![cfg.max_position_embeddings, d],
            ),
            ("embeddings.LayerNorm.weight".into(), vec![d]),
            ("embeddings.LayerNorm.bias".into(), vec![d]),
        ];
        match cfg.arch {
            Architecture::Bert => want.push((
                "embeddings.token_type_embeddings.weight".into(),
                vec![cfg.type_vocab_size, d],
            )),
            Architecture::MpNet => want.push((
                "encoder.relative_attention_bias.weight".into(),
                vec![cfg.relative_buckets, cfg.heads],
            )),
        }
        let [q, k, v, o, ln_attn] = match cfg.arch {
            Architecture::Bert => [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "attention.output.LayerNorm",
            ],
            Architecture::MpNet => [
                "attention.attn.q",
                "attention.attn.k",
                "attention.attn.v",
                "attention.attn.o",
                "attention.LayerNorm",
            ],
        };
        for l in 0..cfg.layers {
            let p = |s: &str, t: &str| format!("encoder.layer.{l}.{s}.{t}");
            for (name, rows, cols) in [
                (q, d, d),
                (k, d, d),
                (v, d, d),
                (o, d, d),
                ("intermediate.dense", f, d),
                ("output.dense", d, f),
            ] {
                want.push((p(name, "weight"), vec![rows, cols]));
                want.push((p(name, "bias"), vec![rows]));
            }
            for name in [ln_attn, "output.LayerNorm"] {
                want.push((p(name, "weight"), vec![d]));
                want.push((p(name, "bias"), vec![d]));
            }
        }
        let mut t = want
            .iter()
            .map(|(name, shape)| w.get(name, shape))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        let mut next = || t.next().expect("one tensor per request");
        let eps = cfg.layer_norm_eps;
        let word = next();
        let position = next();
        let ln_emb = LayerNorm {
            g: next(),
            b: next(),
            eps,
        };
        let (token_type0, rel_table) = match cfg.arch {
            Architecture::Bert => (next()[..d].to_vec(), Vec::new()),
            Architecture::MpNet => (Vec::new(), next()),
        };
        let linear = |w: Vec<f32>, b: Vec<f32>| {
            let (out, inp) = (b.len(), w.len() / b.len());
            Linear::new(w, Some(b), out, inp).expect("shapes checked at load")
        };
        let mut layers = Vec::with_capacity(cfg.layers);
        for _ in 0..cfg.layers {
            let (mut wqkv, mut bqkv) = (Vec::with_capacity(3 * d * d), Vec::with_capacity(3 * d));
            for _ in 0..3 {
                wqkv.extend(next());
                bqkv.extend(next());
            }
            let o = linear(next(), next());
            let up = linear(next(), next());
            let down = linear(next(), next());
            let ln_attn = LayerNorm {
                g: next(),
                b: next(),
                eps,
            };
            let ln_out = LayerNorm {
                g: next(),
                b: next(),
                eps,
            };
            layers.push(Layer {
                qkv: linear(wqkv, bqkv),
                o,
                ln_attn,
                up,
                down,
                ln_out,
            });
        }
        Ok(Self {
            cfg,
            tokenizer,
            word,
            position,
            token_type0,
            ln_emb,
            layers,
            rel_table,
        })
    }

    /// The model's shape and constants.
    pub fn config(&self) -> &EncoderConfig {
        &self.cfg
    }

    /// Token ids of `text` with the model's special tokens, exactly as transformers'
    /// tokenizer (no truncation). Errors on text with no tokens and on more tokens than
    /// [`EncoderConfig::max_tokens`].
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, EncoderError> {
        self.tokenizer.encode(text)
    }

    /// Vocabulary strings of `ids`.
    pub fn tokens(&self, ids: &[u32]) -> Vec<String> {
        self.tokenizer.tokens(ids)
    }

    /// Sentence embeddings (mean pooling over the tokens, then L2 normalisation: the
    /// sentence-transformers pipeline of both models), one per text, batched with padding.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let ids = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<Vec<_>, _>>()?;
        self.embed_ids(&ids)
    }

    /// [`Encoder::embed`] on token ids (specials included).
    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let batch = self.check_ids(ids)?;
        let mut x = self.embed_input(ids, &batch, true);
        for l in 0..self.cfg.layers {
            let ctx = self.attend(l, &x, &batch)?;
            x = self.finish(l, &x, &ctx, &batch);
        }
        Ok(ops::mean_pool_normalize(
            &x,
            batch.seq,
            &batch.lens,
            self.cfg.hidden,
        ))
    }

    /// Validates a batch of id sequences and returns its padded geometry.
    pub(crate) fn check_ids(&self, ids: &[Vec<u32>]) -> Result<Batch, EncoderError> {
        if ids.is_empty() {
            return Err(EncoderError::InvalidInput("no input sequences".into()));
        }
        for (b, s) in ids.iter().enumerate() {
            if s.is_empty() {
                return Err(EncoderError::InvalidInput(format!(
                    "sequence {b} has no tokens"
                )));
            }
            if s.len() > self.cfg.max_tokens() {
                return Err(EncoderError::TooLong {
                    tokens: s.len(),
                    max: self.cfg.max_tokens(),
                });
            }
            if let Some(&id) = s.iter().find(|&&id| id as usize >= self.cfg.vocab_size) {
                return Err(EncoderError::InvalidInput(format!(
                    "token id {id} in sequence {b} is outside the vocabulary ({})",
                    self.cfg.vocab_size
                )));
            }
        }
        Ok(Batch {
            seq: ids.iter().map(Vec::len).max().unwrap_or(0),
            lens: ids.iter().map(Vec::len).collect(),
        })
    }

    /// Layer-0 input: word (+ position) (+ token type 0) embeddings, LayerNorm. Padded rows get
    /// the pad token (and, for MPNet, the `padding_idx` position, as transformers does);
    /// they are masked as keys and never pooled. `positions = false` is the position-free
    /// counterfactual (the position table taken as zero).
    pub(crate) fn embed_input(&self, ids: &[Vec<u32>], batch: &Batch, positions: bool) -> Vec<f32> {
        let d = self.cfg.hidden;
        let mut x = vec![0f32; batch.rows() * d];
        for (b, s) in ids.iter().enumerate() {
            for t in 0..batch.seq {
                let row = &mut x[(b * batch.seq + t) * d..][..d];
                let (id, pos) = match s.get(t) {
                    Some(&id) => (id as usize, self.cfg.position_row(t)),
                    None => (
                        self.cfg.pad_token_id as usize,
                        match self.cfg.arch {
                            Architecture::Bert => t,
                            Architecture::MpNet => crate::config::MPNET_PADDING_IDX,
                        },
                    ),
                };
                row.copy_from_slice(&self.word[id * d..][..d]);
                if positions {
                    ops::add_inplace(row, &self.position[pos * d..][..d]);
                }
                if !self.token_type0.is_empty() {
                    ops::add_inplace(row, &self.token_type0);
                }
            }
        }
        self.ln_emb.apply(&x)
    }

    /// The attention core's description of one layer's attention on `batch`.
    pub(crate) fn attention_config(&self, batch: &Batch) -> AttentionConfig {
        let mut cfg = AttentionConfig::new(
            batch.lens.len(),
            self.cfg.heads,
            batch.seq,
            self.cfg.head_dim(),
        );
        if batch.lens.iter().any(|&l| l < batch.seq) {
            cfg.mask = Mask::padding(batch.lens.clone());
        }
        if self.cfg.arch == Architecture::MpNet {
            cfg.pe = PositionalEncoding::T5(T5Bias {
                table: self.rel_table.clone(),
                num_buckets: self.cfg.relative_buckets,
                max_distance: MPNET_MAX_DISTANCE,
                bidirectional: true,
            });
        }
        cfg
    }

    /// Fused q|k|v projection of layer `l`: token-major `rows × 3d`.
    pub(crate) fn qkv(&self, l: usize, x: &[f32], batch: &Batch) -> Vec<f32> {
        self.layers[l].qkv.forward(x, batch.rows())
    }

    /// Attention context of layer `l` (softmax(scores)·V per head, heads concatenated), the
    /// input of the output projection: token-major `rows × d`.
    pub(crate) fn attend(
        &self,
        l: usize,
        x: &[f32],
        batch: &Batch,
    ) -> Result<Vec<f32>, EncoderError> {
        let qkv = self.qkv(l, x, batch);
        self.attend_qkv(&qkv, batch)
    }

    pub(crate) fn attend_qkv(&self, qkv: &[f32], batch: &Batch) -> Result<Vec<f32>, EncoderError> {
        let (h, hd) = (self.cfg.heads, self.cfg.head_dim());
        let nb = batch.lens.len();
        let [q, k, v] = ops::split_qkv(qkv, nb, batch.seq, h, hd);
        let cfg = self.attention_config(batch);
        let o = flash_attention(
            &cfg,
            &AttentionInputs {
                q: &q,
                k: &k,
                v: &v,
                rope_key: None,
            },
        )?;
        Ok(ops::merge_heads(&o, nb, batch.seq, h, hd))
    }

    /// Rest of layer `l` from its input `x` and attention context `ctx`: output projection,
    /// residual, LayerNorm, GELU feed-forward, residual, LayerNorm.
    pub(crate) fn finish(&self, l: usize, x: &[f32], ctx: &[f32], batch: &Batch) -> Vec<f32> {
        let layer = &self.layers[l];
        let rows = batch.rows();
        let mut a = x.to_vec();
        layer.o.add_forward(ctx, rows, &mut a);
        let a = layer.ln_attn.apply(&a);
        let u = gelu_erf(&layer.up.forward(&a, rows));
        let mut y = a.clone();
        layer.down.add_forward(&u, rows, &mut y);
        layer.ln_out.apply(&y)
    }
}
