//! Attention configuration, positional-encoding descriptions and input validation.
//!
//! Layout conventions (all row-major, contiguous):
//! - `q`: `[batch, heads, seq, head_dim]`;
//! - `k`: `[batch, kv_heads, seq, head_dim]` (for MLA: `[batch, kv_heads, seq, nope_dim]`);
//! - `v`: `[batch, kv_heads, seq, value_dim]`;
//! - MLA shared decoupled RoPE key `rope_key`: `[batch, seq, rope_dim]`;
//! - output: `[batch, heads, seq, value_dim]`.
//!
//! Query head `h` uses key/value head `h / (heads / kv_heads)` (HF `repeat_kv`), so
//! `kv_heads == heads` is MHA, `kv_heads == 1` is MQA and anything in between is GQA.

mod inputs;
mod rope;

use crate::error::Error;
pub(crate) use inputs::{check_finite, validate_shapes};
pub use inputs::{validate, AttentionInputs};
pub(crate) use rope::rotary_dim;
use rope::validate_rope;
pub use rope::{Rope, RopePairing, RopeScaling};

/// Masking applied after the pre-mask logits are formed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mask {
    /// Query `i` may only see keys `j <= i`.
    pub causal: bool,
    /// Per-batch number of valid keys (right padding): keys `j >= key_lengths[b]` are
    /// masked. Each length must be in `1..=seq`. A query row that sees no key at all
    /// (only possible with padding plus a sliding window) outputs zeros.
    pub key_lengths: Option<Vec<usize>>,
}

impl Mask {
    /// No mask: every query sees every key.
    pub fn none() -> Self {
        Self::default()
    }
    /// Causal (decoder) mask.
    pub fn causal() -> Self {
        Self {
            causal: true,
            key_lengths: None,
        }
    }
    /// Right-padding mask with the given per-batch valid key counts.
    pub fn padding(key_lengths: Vec<usize>) -> Self {
        Self {
            causal: false,
            key_lengths: Some(key_lengths),
        }
    }
}

/// T5 bucketed relative-position bias (`T5Attention._relative_position_bucket`).
#[derive(Debug, Clone, PartialEq)]
pub struct T5Bias {
    /// Embedding table `[num_buckets, heads]` (the layout of HF `relative_attention_bias.weight`).
    pub table: Vec<f32>,
    /// Number of buckets (32 in T5/MPNet).
    pub num_buckets: usize,
    /// Distance beyond which all offsets share the last bucket (128 in T5/MPNet).
    pub max_distance: usize,
    /// Encoder-style (true) or decoder-style (false) bucketing.
    pub bidirectional: bool,
}

/// DeepSeek-V2/V3 multi-head latent attention with a decoupled RoPE key.
///
/// Queries are `[nope | rope]` per head (`head_dim = nope_dim + rope_dim`); content keys
/// are `[batch, kv_heads, seq, nope_dim]`; one RoPE key per token, `[batch, seq, rope_dim]`,
/// is shared by all heads. logit = scale·(q_nope·k_nope + RoPE(q_rope)·RoPE(k_rope)).
#[derive(Debug, Clone, PartialEq)]
pub struct Mla {
    /// Content (no-PE) width per head.
    pub nope_dim: usize,
    /// Decoupled RoPE width (even).
    pub rope_dim: usize,
    /// RoPE applied to the decoupled part (`rotary_fraction` must be 1).
    pub rope: Rope,
}

/// Positional encoding applied inside the attention core.
#[derive(Debug, Clone, PartialEq)]
pub enum PositionalEncoding {
    /// No positional information.
    NoPE,
    /// Rotary embedding on q and k.
    Rope(Rope),
    /// ALiBi with one slope per query head. Convention: bias `-slope·|i-j|` added to the
    /// scaled logits (llama.cpp; equal to Press et al. on causal rows). BLOOM/MPT differ
    /// on causal rows by a per-row constant, which the softmax ignores.
    Alibi {
        /// Slope per query head (see [`alibi_slopes`]).
        slopes: Vec<f64>,
    },
    /// T5 bucketed relative bias added to the scaled logits (use `scale = 1.0` for T5).
    T5(T5Bias),
    /// A bias that depends on the key position only, added to the scaled logits of every
    /// query: ALiBi exactly as BLOOM, MPT and Falcon form it (`slope·j` up to each family's
    /// rounding and scaling), which `Alibi`'s `-slope·|i - j|` reproduces only up to a
    /// per-row constant and one rounding.
    KeyBias {
        /// `[heads, seq]`: the bias of key `j` for query head `h` at `h·seq + j`.
        bias: Vec<f32>,
    },
    /// Learned/sinusoidal absolute embedding, already projected per head-dimension: row
    /// `p` of `q_table` (`[seq, head_dim]`) is added to every query head at position `p`,
    /// row `p` of `k_table` to every key head. This models `W(x + p) = Wx + Wp` with a
    /// head-shared projection.
    AbsoluteAdditive {
        /// `[seq, head_dim]`.
        q_table: Vec<f32>,
        /// `[seq, head_dim]`.
        k_table: Vec<f32>,
    },
    /// Multi-head latent attention.
    Mla(Mla),
}

/// BLOOM's ALiBi slopes (`_get_alibi_slopes`): `2^(-8k/n)` for the closest power of two
/// `n <= heads`, plus odd powers of `2^(-4/n)` for the remaining heads.
pub fn alibi_slopes(heads: usize) -> Vec<f64> {
    if heads == 0 {
        return Vec::new();
    }
    let n = 1usize << (usize::BITS - 1 - heads.leading_zeros());
    let base = 2f64.powf(-8.0 / n as f64);
    let mut s: Vec<f64> = (1..=n).map(|k| base.powi(k as i32)).collect();
    if n != heads {
        let extra = 2f64.powf(-4.0 / n as f64);
        s.extend((0..heads - n).map(|k| extra.powi(2 * k as i32 + 1)));
    }
    s
}

/// Full attention problem description. Construct with [`AttentionConfig::new`] and
/// adjust the public fields.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionConfig {
    /// Batch size.
    pub batch: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (divides `heads`).
    pub kv_heads: usize,
    /// Sequence length (queries and keys; self-attention).
    pub seq: usize,
    /// Query/key width per head (for MLA: `nope_dim + rope_dim`).
    pub head_dim: usize,
    /// Value/output width per head.
    pub value_dim: usize,
    /// Multiplier of `q·k` (default `head_dim^-0.5`; 1.0 for T5). Biases are not scaled.
    pub scale: f64,
    /// Causal and padding masks.
    pub mask: Mask,
    /// Sliding window `w`: query `i` keeps keys with `i - j < w` (and, without the causal
    /// mask, `j - i < w`), i.e. `w` keys including itself on a causal row — the HF
    /// `sliding_window_overlay` and llama.cpp convention (candle keeps one more).
    pub sliding_window: Option<usize>,
    /// Logit soft-capping `c` (Gemma 2): every score `x` (scaled, bias added) becomes
    /// `c·tanh(x/c)` before the mask and softmax. The flash kernels have no `tanh`, so a
    /// soft-capped configuration runs the f64 reference path and rounds its output once.
    pub softcap: Option<f64>,
    /// Positional encoding.
    pub pe: PositionalEncoding,
}

impl AttentionConfig {
    /// MHA without mask or PE, `scale = head_dim^-0.5`, `value_dim = head_dim`.
    pub fn new(batch: usize, heads: usize, seq: usize, head_dim: usize) -> Self {
        Self {
            batch,
            heads,
            kv_heads: heads,
            seq,
            head_dim,
            value_dim: head_dim,
            scale: 1.0 / (head_dim.max(1) as f64).sqrt(),
            mask: Mask::none(),
            sliding_window: None,
            softcap: None,
            pe: PositionalEncoding::NoPE,
        }
    }

    /// Width of the key buffer per head (`nope_dim` for MLA, else `head_dim`).
    pub fn key_dim(&self) -> usize {
        match &self.pe {
            PositionalEncoding::Mla(m) => m.nope_dim,
            _ => self.head_dim,
        }
    }

    /// Expected lengths of `q`, `k`, `v`, output.
    pub fn q_len(&self) -> usize {
        self.batch * self.heads * self.seq * self.head_dim
    }
    /// Expected length of `k`.
    pub fn k_len(&self) -> usize {
        self.batch * self.kv_heads * self.seq * self.key_dim()
    }
    /// Expected length of `v`.
    pub fn v_len(&self) -> usize {
        self.batch * self.kv_heads * self.seq * self.value_dim
    }
    /// Length of the output `[batch, heads, seq, value_dim]`.
    pub fn out_len(&self) -> usize {
        self.batch * self.heads * self.seq * self.value_dim
    }

    /// Number of valid keys in batch `b`.
    pub(crate) fn key_len(&self, b: usize) -> usize {
        self.mask
            .key_lengths
            .as_ref()
            .map_or(self.seq, |l| l[b].min(self.seq))
    }

    /// Half-open range of keys query `i` may see in batch `b`.
    pub(crate) fn allowed_range(&self, b: usize, i: usize) -> (usize, usize) {
        let len = self.key_len(b);
        let mut lo = 0;
        let mut hi = if self.mask.causal { i + 1 } else { self.seq };
        if let Some(w) = self.sliding_window {
            lo = (i + 1).saturating_sub(w);
            if !self.mask.causal {
                hi = hi.min(i + w);
            }
        }
        (lo, hi.min(len))
    }

    /// Checks every configuration invariant; the kernels rely on them.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidConfig(m));
        if self.batch == 0 || self.heads == 0 || self.kv_heads == 0 || self.seq == 0 {
            return bad("batch, heads, kv_heads and seq must all be >= 1".into());
        }
        if self.head_dim == 0 || self.value_dim == 0 {
            return bad("head_dim and value_dim must be >= 1".into());
        }
        let dims = [self.batch, self.heads.max(self.kv_heads), self.seq];
        let widest = self.key_dim().max(self.head_dim).max(self.value_dim);
        if dims
            .iter()
            .try_fold(widest, |acc, &x| acc.checked_mul(x))
            .and_then(|len| len.checked_mul(std::mem::size_of::<f64>()))
            .is_none()
        {
            return bad(format!(
                "batch × heads × seq × dim ({} × {} × {} × {widest}) overflows the address space",
                self.batch,
                self.heads.max(self.kv_heads),
                self.seq
            ));
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            return bad(format!(
                "heads ({}) must be a multiple of kv_heads ({})",
                self.heads, self.kv_heads
            ));
        }
        if !self.scale.is_finite() || self.scale <= 0.0 {
            return bad(format!("scale must be finite and > 0, got {}", self.scale));
        }
        if let Some(l) = &self.mask.key_lengths {
            if l.len() != self.batch {
                return bad(format!(
                    "key_lengths has {} entries, batch is {}",
                    l.len(),
                    self.batch
                ));
            }
            if let Some(&x) = l.iter().find(|&&x| x == 0 || x > self.seq) {
                return bad(format!("key length {x} outside 1..={}", self.seq));
            }
        }
        if let Some(c) = self.softcap.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return bad(format!("softcap must be finite and > 0, got {c}"));
        }
        if self.sliding_window == Some(0) {
            return bad("sliding_window must be >= 1 (it counts the query itself)".into());
        }
        match &self.pe {
            PositionalEncoding::NoPE => {}
            PositionalEncoding::Rope(r) => {
                validate_rope(r, self.head_dim)?;
            }
            PositionalEncoding::Alibi { slopes } => {
                if slopes.len() != self.heads {
                    return bad(format!(
                        "ALiBi needs one slope per head: {} slopes, {} heads",
                        slopes.len(),
                        self.heads
                    ));
                }
                if slopes.iter().any(|s| !s.is_finite()) {
                    return bad("ALiBi slopes must be finite".into());
                }
            }
            PositionalEncoding::KeyBias { bias } => {
                if bias.len() != self.heads * self.seq {
                    return Err(Error::ShapeMismatch {
                        tensor: "key bias",
                        expected: self.heads * self.seq,
                        actual: bias.len(),
                    });
                }
                check_finite("key bias", bias)?;
            }
            PositionalEncoding::T5(t) => {
                if t.num_buckets < 4 || t.num_buckets % 2 != 0 {
                    return bad("T5 num_buckets must be even and >= 4".into());
                }
                let exact = if t.bidirectional {
                    t.num_buckets / 4
                } else {
                    t.num_buckets / 2
                };
                if t.max_distance <= exact {
                    return bad(format!(
                        "T5 max_distance ({}) must exceed the exact range ({exact})",
                        t.max_distance
                    ));
                }
                if t.table.len() != t.num_buckets * self.heads {
                    return Err(Error::ShapeMismatch {
                        tensor: "t5 table",
                        expected: t.num_buckets * self.heads,
                        actual: t.table.len(),
                    });
                }
                check_finite("t5 table", &t.table)?;
            }
            PositionalEncoding::AbsoluteAdditive { q_table, k_table } => {
                for (name, t) in [("q_table", q_table), ("k_table", k_table)] {
                    if t.len() != self.seq * self.head_dim {
                        return Err(Error::ShapeMismatch {
                            tensor: name,
                            expected: self.seq * self.head_dim,
                            actual: t.len(),
                        });
                    }
                    check_finite(name, t)?;
                }
            }
            PositionalEncoding::Mla(m) => {
                if m.nope_dim + m.rope_dim != self.head_dim {
                    return bad(format!(
                        "MLA: nope_dim ({}) + rope_dim ({}) must equal head_dim ({})",
                        m.nope_dim, m.rope_dim, self.head_dim
                    ));
                }
                if m.nope_dim == 0 {
                    return bad("MLA: nope_dim must be >= 1".into());
                }
                if m.rope.rotary_fraction != 1.0 {
                    return bad("MLA: the decoupled RoPE must rotate all rope_dim dims".into());
                }
                validate_rope(&m.rope, m.rope_dim)?;
            }
        }
        Ok(())
    }
}
