//! The LayerNorm decoders with one fused q/k/v projection: BLOOM (`bloom`), GPT-NeoX / Pythia
//! (`gpt_neox`) and GPT-2 (`gpt2`). They differ only in what [`FusedConfig`] records:
//!
//! * positions — BLOOM: ALiBi as BLOOM forms it, `slope_h · j` added to the scaled scores (key
//!   position j; on causal rows this differs from `−slope_h·|i − j|` by a per-row constant the
//!   softmax ignores, but the pre-mask matrix the capture records is BLOOM's own); GPT-NeoX:
//!   RoPE (`rotate_half`) on the leading `rotary_pct` of each head; GPT-2: a learned position
//!   table added to the embeddings, whose content logits come from the position-free
//!   counterfactual pass (the embeddings without the table);
//! * the fused layout — per head `[q_h | k_h | v_h]` (BLOOM, NeoX) or `[q | k | v]` blocks with
//!   Conv1D `[in, out]` weights (GPT-2);
//! * the residual — sequential, sequential from the LayerNorm output (BLOOM's
//!   `apply_residual_connection_post_layernorm`) or parallel (NeoX's `use_parallel_residual`);
//! * GELU — tanh approximation (BLOOM, GPT-2 `gelu_new`) or exact (NeoX).

use std::path::{Path, PathBuf};

use pespectra_attention::{
    alibi_slopes, attention_logits, flash_attention, rope_frequencies, AttentionConfig,
    AttentionInputs, LogitsRequest, Mask, PositionalEncoding, Rope,
};
use pespectra_capture::{HeadAblation, HeadCapture, ModelDims, Pairing, Positional};
use pespectra_layers::{cross_entropy, from_heads, gelu_erf, gelu_tanh, layer_norm, Linear};

use crate::config::{read, rope_of, Fields};
use crate::error::HfError;
use crate::stack::{
    ablate, capture_model, check_heads, check_ids, check_loss_input, layers_to_run, loss_increase,
    output_head, LayerCache, Trace,
};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

/// ALiBi has no position table; this bounds the n × n work of one request.
pub const ALIBI_MAX_TOKENS: usize = 8192;

/// MPT's ALiBi slopes (`build_mpt_alibi_tensor`): `2^(−k·max/H')` for k = 1..H' with H' the
/// next power of two, interleaved odd-then-even when H is not one.
pub fn mpt_slopes(heads: usize, alibi_bias_max: f64) -> Vec<f64> {
    let p = heads.next_power_of_two();
    // torch computes the exponent and the power in float32
    let s: Vec<f64> = (1..=p)
        .map(|k| f64::from(1.0f32 / 2f32.powf(k as f32 * (alibi_bias_max as f32 / p as f32))))
        .collect();
    if p == heads {
        s
    } else {
        s.iter()
            .skip(1)
            .step_by(2)
            .chain(s.iter().step_by(2))
            .take(heads)
            .copied()
            .collect()
    }
}

/// How positions enter.
#[derive(Clone, Debug, PartialEq)]
pub enum FusedPositions {
    /// BLOOM's ALiBi, one slope per head.
    Alibi(Vec<f64>),
    /// RoPE on the leading fraction of each head.
    Rope(Rope),
    /// A learned table added to the embeddings.
    Learned,
}

/// Where the residual of each sub-layer comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residual {
    /// `x + f(LN(x))`, one sub-layer after the other.
    Sequential,
    /// `LN(x) + f(LN(x))` (BLOOM's `apply_residual_connection_post_layernorm`).
    SequentialPostLn,
    /// `x + attn(LN₁(x)) + mlp(LN₂(x))` (GPT-NeoX's `use_parallel_residual`).
    Parallel,
}

/// The hyper-parameters and tensor names of a fused-QKV decoder.
#[derive(Clone, Debug, PartialEq)]
pub struct FusedConfig {
    /// `model_type`.
    pub model_type: String,
    /// Residual width.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Heads.
    pub heads: usize,
    /// MLP width.
    pub inner: usize,
    /// LayerNorm ε.
    pub eps: f64,
    /// Vocabulary.
    pub vocab: usize,
    /// Position limit.
    pub max_positions: usize,
    /// Positions.
    pub positions: FusedPositions,
    /// Residual wiring.
    pub residual: Residual,
    /// Exact (erf) GELU instead of the tanh approximation.
    pub gelu_erf: bool,
    /// The output projection is the embedding matrix.
    pub tied: bool,
    /// Tensor-name prefix of the body (`transformer.`, `gpt_neox.`, or empty in old GPT-2 files).
    pub prefix: String,
    /// The linear layers have biases (not MPT with `no_bias`).
    pub linear_bias: bool,
    /// The LayerNorms have biases (not MPT).
    pub norm_bias: bool,
    /// ALiBi as MPT forms it, `slope_h · (j − (n − 1))`, instead of BLOOM's `slope_h · j`.
    pub alibi_from_last: bool,
}

impl FusedConfig {
    fn load(dir: &Path, weights: &Weights) -> Result<Self, HfError> {
        let (path, v, model_type) = read(dir)?;
        let f = Fields { v: &v, path: &path };
        let either = |a: &str, b: &str| if v[a].is_null() { f.uint(b) } else { f.uint(a) };
        let (hidden, layers, heads) = match model_type.as_str() {
            "gpt2" => (f.uint("n_embd")?, f.uint("n_layer")?, f.uint("n_head")?),
            "mpt" => (f.uint("d_model")?, f.uint("n_layers")?, f.uint("n_heads")?),
            _ => (
                either("hidden_size", "n_embed")?,
                either("num_hidden_layers", "n_layer")?,
                either("num_attention_heads", "n_head")?,
            ),
        };
        if hidden % heads != 0 {
            return Err(f.err(
                "num_attention_heads",
                format!("{heads} does not divide the width {hidden}"),
            ));
        }
        let cfg = match model_type.as_str() {
            "mpt" => {
                let attn = &v["attn_config"];
                let a = Fields {
                    v: attn,
                    path: &path,
                };
                let bad = |k: &str, m: &str| f.err(&format!("attn_config.{k}"), m);
                if !a.bool_or("alibi", false)? {
                    return Err(bad("alibi", "only ALiBi MPT models are supported"));
                }
                if a.bool_or("qk_ln", false)? {
                    return Err(bad("qk_ln", "true is not supported"));
                }
                if !attn["clip_qkv"].is_null() || !attn["softmax_scale"].is_null() {
                    return Err(bad("clip_qkv", "clip_qkv and softmax_scale must be null"));
                }
                // transformers' MptModel always builds the bias with alibi_bias_max = 8 while
                // MosaicML's code honours the config: only the value both agree on is accepted
                let bias_max = a.float_or("alibi_bias_max", 8.0)?;
                if bias_max != 8.0 {
                    return Err(bad("alibi_bias_max", "only 8 is supported (transformers ignores other values, MosaicML's code does not)"));
                }
                Self {
                    inner: f.uint_or("expansion_ratio", 4)? * hidden,
                    eps: f.float_or("layer_norm_epsilon", 1e-5)?,
                    max_positions: f.uint("max_seq_len")?,
                    positions: FusedPositions::Alibi(mpt_slopes(heads, bias_max)),
                    residual: Residual::Sequential,
                    gelu_erf: true,
                    tied: true,
                    prefix: "transformer.".into(),
                    linear_bias: !f.bool_or("no_bias", true)?,
                    norm_bias: false,
                    alibi_from_last: true,
                    ..Self::shape(&model_type, hidden, layers, heads, f.uint("vocab_size")?)
                }
            }
            "bloom" => {
                if f.uint_or("pretraining_tp", 1)? != 1 && f.bool_or("slow_but_exact", false)? {
                    return Err(f.err("slow_but_exact", "tensor-parallel slicing is not supported"));
                }
                Self {
                    inner: 4 * hidden,
                    eps: f.float_or("layer_norm_epsilon", 1e-5)?,
                    max_positions: ALIBI_MAX_TOKENS,
                    positions: FusedPositions::Alibi(alibi_slopes(heads)),
                    residual: if f.bool_or("apply_residual_connection_post_layernorm", false)? {
                        Residual::SequentialPostLn
                    } else {
                        Residual::Sequential
                    },
                    gelu_erf: false,
                    tied: f.bool_or("tie_word_embeddings", true)?,
                    // BloomForCausalLM writes "transformer."; bigscience's checkpoints (saved
                    // from BloomModel) have no prefix
                    prefix: if weights.has("transformer.word_embeddings.weight") {
                        "transformer.".into()
                    } else {
                        String::new()
                    },
                    ..Self::shape(&model_type, hidden, layers, heads, f.uint("vocab_size")?)
                }
            }
            "gpt_neox" => {
                let act = v["hidden_act"].as_str().unwrap_or("gelu");
                if act != "gelu" {
                    return Err(f.err("hidden_act", format!("'{act}' is not supported (gelu)")));
                }
                if !f.bool_or("attention_bias", true)? {
                    return Err(f.err("attention_bias", "false is not supported"));
                }
                Self {
                    inner: f.uint_or("intermediate_size", 4 * hidden)?,
                    eps: f.float_or("layer_norm_eps", 1e-5)?,
                    max_positions: f.uint("max_position_embeddings")?,
                    positions: FusedPositions::Rope(rope_of(&f)?),
                    residual: if f.bool_or("use_parallel_residual", true)? {
                        Residual::Parallel
                    } else {
                        Residual::Sequential
                    },
                    gelu_erf: true,
                    tied: f.bool_or("tie_word_embeddings", false)?,
                    prefix: "gpt_neox.".into(),
                    ..Self::shape(&model_type, hidden, layers, heads, f.uint("vocab_size")?)
                }
            }
            _ => {
                let act = v["activation_function"].as_str().unwrap_or("gelu_new");
                if !matches!(act, "gelu_new" | "gelu_pytorch_tanh") {
                    return Err(f.err(
                        "activation_function",
                        format!("'{act}' is not supported (gelu_new)"),
                    ));
                }
                for (k, want) in [
                    ("scale_attn_weights", true),
                    ("scale_attn_by_inverse_layer_idx", false),
                    ("add_cross_attention", false),
                ] {
                    if f.bool_or(k, want)? != want {
                        return Err(f.err(k, format!("only {want} is supported")));
                    }
                }
                // GPT2LMHeadModel writes "transformer."; the original checkpoints have no prefix
                let prefix = if weights.has("transformer.wte.weight") {
                    "transformer."
                } else {
                    ""
                };
                Self {
                    inner: f.uint_or("n_inner", 4 * hidden)?,
                    eps: f.float_or("layer_norm_epsilon", 1e-5)?,
                    max_positions: f.uint("n_positions")?,
                    positions: FusedPositions::Learned,
                    residual: Residual::Sequential,
                    gelu_erf: false,
                    tied: f.bool_or("tie_word_embeddings", true)?,
                    prefix: prefix.into(),
                    ..Self::shape(&model_type, hidden, layers, heads, f.uint("vocab_size")?)
                }
            }
        };
        Ok(cfg)
    }

    fn shape(model_type: &str, hidden: usize, layers: usize, heads: usize, vocab: usize) -> Self {
        Self {
            model_type: model_type.into(),
            hidden,
            layers,
            heads,
            inner: 4 * hidden,
            eps: 1e-5,
            vocab,
            max_positions: 0,
            positions: FusedPositions::Learned,
            residual: Residual::Sequential,
            gelu_erf: false,
            tied: true,
            prefix: String::new(),
            linear_bias: true,
            norm_bias: true,
            alibi_from_last: false,
        }
    }

    /// GPT-2's Conv1D layers store `[in, out]`.
    fn gpt2(&self) -> bool {
        self.model_type == "gpt2"
    }

    /// `[q | k | v]` blocks (GPT-2, MPT) rather than per-head `[q_h | k_h | v_h]`.
    fn qkv_blocks(&self) -> bool {
        matches!(self.model_type.as_str(), "gpt2" | "mpt")
    }
}

/// Tensor names per family.
struct Names<'a>(&'a FusedConfig);

impl Names<'_> {
    fn body(&self, n: &str) -> String {
        format!("{}{n}", self.0.prefix)
    }
    fn embed(&self) -> String {
        self.body(match self.0.model_type.as_str() {
            "bloom" => "word_embeddings.weight",
            "gpt_neox" => "embed_in.weight",
            _ => "wte.weight", // gpt2, mpt
        })
    }
    fn final_ln(&self) -> String {
        self.body(match self.0.model_type.as_str() {
            "bloom" => "ln_f",
            "gpt_neox" => "final_layer_norm",
            "mpt" => "norm_f",
            _ => "ln_f",
        })
    }
    fn head(&self) -> String {
        if self.0.tied {
            self.embed()
        } else if self.0.model_type == "gpt_neox" {
            "embed_out.weight".into()
        } else {
            "lm_head.weight".into()
        }
    }
    /// (ln1, qkv, dense, ln2, up, down) of layer `l`.
    fn layer(&self, l: usize) -> [String; 6] {
        let c = self.0;
        let p = match c.model_type.as_str() {
            "gpt_neox" => self.body(&format!("layers.{l}")),
            "mpt" => self.body(&format!("blocks.{l}")),
            _ => self.body(&format!("h.{l}")),
        };
        let [a, b, d, e, g, h] = match c.model_type.as_str() {
            "bloom" => [
                "input_layernorm",
                "self_attention.query_key_value",
                "self_attention.dense",
                "post_attention_layernorm",
                "mlp.dense_h_to_4h",
                "mlp.dense_4h_to_h",
            ],
            "gpt_neox" => [
                "input_layernorm",
                "attention.query_key_value",
                "attention.dense",
                "post_attention_layernorm",
                "mlp.dense_h_to_4h",
                "mlp.dense_4h_to_h",
            ],
            "mpt" => [
                "norm_1",
                "attn.Wqkv",
                "attn.out_proj",
                "norm_2",
                "ffn.up_proj",
                "ffn.down_proj",
            ],
            _ => [
                "ln_1",
                "attn.c_attn",
                "attn.c_proj",
                "ln_2",
                "mlp.c_fc",
                "mlp.c_proj",
            ],
        };
        [a, b, d, e, g, h].map(|s| format!("{p}.{s}"))
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

/// A loaded fused-QKV decoder checkpoint.
pub struct Fused {
    /// Its configuration.
    pub config: FusedConfig,
    weights: Weights,
    tokenizer: TextTokenizer,
    cache: LayerCache<Layer>,
}

impl Fused {
    /// Loads `dir`; every tensor is checked for presence, shape and dtype first.
    pub fn load(dir: &Path) -> Result<Self, HfError> {
        let weights = Weights::open(dir)?;
        let config = FusedConfig::load(dir, &weights)?;
        let m = Self {
            cache: LayerCache::new(config.layers, &weights),
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

    /// `[out, in]` shape of a linear layer as stored (GPT-2's Conv1D stores `[in, out]`).
    fn stored(&self, out: usize, inp: usize) -> [usize; 2] {
        if self.config.gpt2() {
            [inp, out]
        } else {
            [out, inp]
        }
    }

    fn check(&self) -> Result<(), HfError> {
        let c = &self.config;
        let (w, n, h) = (&self.weights, Names(c), c.hidden);
        w.check(&n.embed(), &[c.vocab, h])?;
        w.check(&format!("{}.weight", n.final_ln()), &[h])?;
        if c.norm_bias {
            w.check(&format!("{}.bias", n.final_ln()), &[h])?;
        }
        if c.model_type == "bloom" {
            w.check(&n.body("word_embeddings_layernorm.weight"), &[h])?;
            w.check(&n.body("word_embeddings_layernorm.bias"), &[h])?;
        }
        if c.gpt2() {
            w.check(&n.body("wpe.weight"), &[c.max_positions, h])?;
        }
        if !c.tied {
            w.check(&n.head(), &[c.vocab, h])?;
        }
        for l in 0..c.layers {
            let [ln1, qkv, dense, ln2, up, down] = n.layer(l);
            for ln in [&ln1, &ln2] {
                w.check(&format!("{ln}.weight"), &[h])?;
                if c.norm_bias {
                    w.check(&format!("{ln}.bias"), &[h])?;
                }
            }
            for (name, out, inp) in [
                (qkv, 3 * h, h),
                (dense, h, h),
                (up, c.inner, h),
                (down, h, c.inner),
            ] {
                w.check(&format!("{name}.weight"), &self.stored(out, inp))?;
                if c.linear_bias {
                    w.check(&format!("{name}.bias"), &[out])?;
                }
            }
        }
        Ok(())
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Linear, HfError> {
        let w = self
            .weights
            .get(&format!("{name}.weight"), &self.stored(out, inp))?;
        let w = if self.config.gpt2() {
            // Conv1D [in, out] → [out, in]
            let mut t = vec![0f32; w.len()];
            for i in 0..inp {
                for o in 0..out {
                    t[o * inp + i] = w[i * out + o];
                }
            }
            t
        } else {
            w
        };
        let b = if self.config.linear_bias {
            Some(self.weights.get(&format!("{name}.bias"), &[out])?)
        } else {
            None
        };
        Linear::new(w, b, out, inp)
            .ok_or_else(|| HfError::Request(format!("{name}: inconsistent sizes")))
    }

    fn norm(&self, name: &str) -> Result<(Vec<f32>, Vec<f32>), HfError> {
        let h = self.config.hidden;
        let b = if self.config.norm_bias {
            self.weights.get(&format!("{name}.bias"), &[h])?
        } else {
            vec![0.0; h]
        };
        Ok((self.weights.get(&format!("{name}.weight"), &[h])?, b))
    }

    fn layer(&self, l: usize) -> Result<std::sync::Arc<Layer>, HfError> {
        self.cache.get(l, || self.load_layer(l))
    }

    fn load_layer(&self, l: usize) -> Result<Layer, HfError> {
        let c = &self.config;
        let [ln1, qkv, dense, ln2, up, down] = Names(c).layer(l);
        Ok(Layer {
            ln1: self.norm(&ln1)?,
            qkv: self.linear(&qkv, 3 * c.hidden, c.hidden)?,
            dense: self.linear(&dense, c.hidden, c.hidden)?,
            ln2: self.norm(&ln2)?,
            up: self.linear(&up, c.inner, c.hidden)?,
            down: self.linear(&down, c.hidden, c.inner)?,
        })
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
        let mut cfg = AttentionConfig::new(1, c.heads, n, c.hidden / c.heads);
        cfg.mask = Mask::causal();
        cfg.pe = match &c.positions {
            // the core's −slope·|i − j| equals BLOOM's slope·j up to a per-row constant on
            // causal rows, so the attention output is BLOOM's
            FusedPositions::Alibi(s) => PositionalEncoding::Alibi { slopes: s.clone() },
            FusedPositions::Rope(r) => PositionalEncoding::Rope(r.clone()),
            FusedPositions::Learned => PositionalEncoding::NoPE,
        };
        cfg
    }

    /// Head-major q, k, v from the fused projection.
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
                    // per head [q_h | k_h | v_h], or GPT-2's [q | k | v] blocks
                    let at = if c.qkv_blocks() {
                        s * c.hidden + head * hd
                    } else {
                        (head * 3 + s) * hd
                    };
                    o[head * n * hd + t * hd..][..hd]
                        .copy_from_slice(&fused[t * 3 * c.hidden + at..][..hd]);
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
            let ctx = from_heads(
                &flash_attention(&cfg, &inp)?,
                n,
                c.heads,
                c.hidden / c.heads,
            );
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
        let v = vec![0f32; q.len()];
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
        let hd = c.hidden / c.heads;
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
                let (pre, positional) = match &c.positions {
                    FusedPositions::Alibi(s) => (None, Some(s)),
                    FusedPositions::Rope(_) | FusedPositions::Learned => {
                        (Some(self.logits(cfg, q, k, true)?), None)
                    }
                };
                for h in 0..c.heads {
                    let block = |m: &[f32]| m[h * n * n..(h + 1) * n * n].to_vec();
                    let cl = block(&content);
                    let (logits, positional) = match (&c.positions, positional) {
                        (FusedPositions::Alibi(_), Some(s)) => {
                            // BLOOM: slope·j; MPT: slope·(j − (n − 1))
                            let shift = if c.alibi_from_last {
                                n as f64 - 1.0
                            } else {
                                0.0
                            };
                            let bias: Vec<f32> = (0..n * n)
                                .map(|x| (s[h] * ((x % n) as f64 - shift)) as f32)
                                .collect();
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
        let head = output_head(&self.weights, &names.head(), c.vocab, c.hidden)?;
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
            (n, c.hidden, c.hidden / c.heads),
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
