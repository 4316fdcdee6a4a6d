//! What a fused-QKV checkpoint's config.json says: positions, residual form, GELU, the fused layout
//! and the shape, validated per `model_type` (BLOOM, Falcon, GPT-NeoX, GPT-2, MPT).

use std::path::Path;

use super::alibi::AlibiForm;
use crate::config::{read, rope_of, Fields};
use crate::error::HfError;
use crate::source::TensorSource;
use pespectra_attention::{alibi_slopes, Rope};

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
    /// ALiBi, one slope per head, formed as the family forms it.
    Alibi(Vec<f64>, AlibiForm),
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

/// How the fused projection's output is laid out, per token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QkvLayout {
    /// Per head `[q_h | k_h | v_h]` (BLOOM, GPT-NeoX, Falcon's original multi-head layout).
    PerHead,
    /// `[q | k | v]` blocks: all query heads, then the key heads, then the value heads (GPT-2,
    /// MPT, and Falcon-7B's multi-query layout with one key/value head).
    Blocks,
    /// Per key/value group `[q_g,1 … q_g,r | k_g | v_g]` with `r = heads / kv_heads` (Falcon's
    /// `new_decoder_architecture`).
    Grouped,
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
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (`heads` but for Falcon's multi-query and grouped layouts).
    pub kv_heads: usize,
    /// The fused projection's layout.
    pub layout: QkvLayout,
    /// One LayerNorm feeds both the attention and the MLP of a parallel block (Falcon-7B,
    /// and `num_ln_in_parallel_attn = 1`), so the second norm is the first.
    pub shared_norm: bool,
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
}

impl FusedConfig {
    pub(super) fn load(dir: &Path, weights: &dyn TensorSource) -> Result<Self, HfError> {
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
                    positions: FusedPositions::Alibi(mpt_slopes(heads, bias_max), AlibiForm::Mpt),
                    residual: Residual::Sequential,
                    gelu_erf: true,
                    tied: true,
                    prefix: "transformer.".into(),
                    linear_bias: !f.bool_or("no_bias", true)?,
                    norm_bias: false,
                    layout: QkvLayout::Blocks,
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
                    positions: FusedPositions::Alibi(alibi_slopes(heads), AlibiForm::Bloom),
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
            "falcon" => {
                let act = v["activation"].as_str().unwrap_or("gelu");
                if act != "gelu" {
                    return Err(f.err("activation", format!("'{act}' is not supported (gelu)")));
                }
                let alibi = f.bool_or("alibi", false)?;
                let new_arch = f.bool_or("new_decoder_architecture", false)?;
                let multi_query = f.bool_or("multi_query", true)?;
                let parallel = f.bool_or("parallel_attn", true)?;
                let (layout, kv_heads) = if new_arch {
                    let kv = f.uint_or("num_kv_heads", heads)?;
                    if kv == 0 || heads % kv != 0 {
                        return Err(f.err(
                            "num_kv_heads",
                            format!("{kv} does not divide the {heads} heads"),
                        ));
                    }
                    (QkvLayout::Grouped, kv)
                } else if multi_query {
                    (QkvLayout::Blocks, 1)
                } else {
                    (QkvLayout::PerHead, heads)
                };
                // FalconDecoderLayer: the new architecture is always parallel, with ln_attn and
                // ln_mlp unless num_ln_in_parallel_attn is 1; the old parallel block has one norm
                let lns = if v["num_ln_in_parallel_attn"].is_null() {
                    if new_arch {
                        2
                    } else {
                        1
                    }
                } else {
                    f.uint("num_ln_in_parallel_attn")?
                };
                if (new_arch && !parallel && lns == 1) || (!new_arch && parallel && lns != 1) {
                    return Err(f.err(
                        "num_ln_in_parallel_attn",
                        format!("{lns} with parallel_attn {parallel} and new_decoder_architecture {new_arch} is a layout transformers cannot run"),
                    ));
                }
                if new_arch && lns != 1 && lns != 2 {
                    return Err(f.err("num_ln_in_parallel_attn", format!("{lns} is not 1 or 2")));
                }
                if alibi && (new_arch || multi_query || parallel) {
                    return Err(f.err(
                        "alibi",
                        "ALiBi is supported in the falcon-rw layout only (multi-head, sequential: multi_query, parallel_attn and new_decoder_architecture false)",
                    ));
                }
                let positions = if alibi {
                    FusedPositions::Alibi(alibi_slopes(heads), AlibiForm::Falcon)
                } else {
                    FusedPositions::Rope(rope_of(&f)?)
                };
                Self {
                    kv_heads,
                    layout,
                    shared_norm: (new_arch || parallel) && lns == 1,
                    inner: f.uint_or("ffn_hidden_size", 4 * hidden)?,
                    eps: f.float_or("layer_norm_epsilon", 1e-5)?,
                    max_positions: if alibi {
                        ALIBI_MAX_TOKENS
                    } else {
                        f.uint_or("max_position_embeddings", 2048)?
                    },
                    positions,
                    residual: if new_arch || parallel {
                        Residual::Parallel
                    } else {
                        Residual::Sequential
                    },
                    gelu_erf: true,
                    tied: f.bool_or("tie_word_embeddings", true)?,
                    prefix: "transformer.".into(),
                    linear_bias: f.bool_or("bias", false)?,
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
                    layout: QkvLayout::Blocks,
                    ..Self::shape(&model_type, hidden, layers, heads, f.uint("vocab_size")?)
                }
            }
        };
        Ok(cfg)
    }

    pub(super) fn shape(
        model_type: &str,
        hidden: usize,
        layers: usize,
        heads: usize,
        vocab: usize,
    ) -> Self {
        Self {
            model_type: model_type.into(),
            hidden,
            layers,
            heads,
            kv_heads: heads,
            layout: QkvLayout::PerHead,
            shared_norm: false,
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
        }
    }

    /// GPT-2's Conv1D layers store `[in, out]`.
    pub(super) fn gpt2(&self) -> bool {
        self.model_type == "gpt2"
    }

    /// Width of one head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    /// Output width of the fused projection: the query heads and the key and value heads.
    pub(super) fn qkv_width(&self) -> usize {
        (self.heads + 2 * self.kv_heads) * self.head_dim()
    }

    /// Offset, within one token's fused output, of query head `h` (`part` 0), or of key/value
    /// head `h` (`part` 1 or 2).
    pub(super) fn qkv_offset(&self, part: usize, h: usize) -> usize {
        let (hd, r) = (self.head_dim(), self.heads / self.kv_heads);
        let head = match (self.layout, part) {
            (QkvLayout::PerHead, _) => h * 3 + part,
            (QkvLayout::Blocks, 0) => h,
            (QkvLayout::Blocks, _) => self.heads + (part - 1) * self.kv_heads + h,
            (QkvLayout::Grouped, 0) => h / r * (r + 2) + h % r,
            (QkvLayout::Grouped, _) => h * (r + 2) + r + part - 1,
        };
        head * hd
    }
}
