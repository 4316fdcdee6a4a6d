//! Positional-encoding arithmetic shared by the reference and fast paths: RoPE
//! frequencies and rotation, relative (Toeplitz) biases, and the per-head preparation of
//! queries and keys. Everything here is O(seq·dim) and computed in f64, so the f32 path
//! receives correctly rounded rotated inputs and its error analysis only has to cover the
//! O(seq²·dim) part.

use crate::config::{
    rotary_dim, AttentionConfig, AttentionInputs, PositionalEncoding, Rope, RopePairing,
    RopeScaling,
};

/// RoPE inverse frequencies `θ_f` (f = 0..r/2) and the attention factor multiplied into
/// cos/sin (1 except for YaRN), following transformers' `ROPE_INIT_FUNCTIONS` but in f64.
pub fn rope_frequencies(rope: &Rope, rot_dim: usize, seq: usize) -> (Vec<f64>, f64) {
    let r = rot_dim as f64;
    let plain = |base: f64| -> Vec<f64> {
        (0..rot_dim / 2)
            .map(|i| 1.0 / base.powf(2.0 * i as f64 / r))
            .collect()
    };
    match &rope.scaling {
        RopeScaling::None => (plain(rope.base), 1.0),
        RopeScaling::Linear { factor } => {
            (plain(rope.base).iter().map(|f| f / factor).collect(), 1.0)
        }
        RopeScaling::DynamicNtk {
            factor,
            original_max_position_embeddings: orig,
        } => {
            let base = if seq > *orig {
                rope.base
                    * (factor * seq as f64 / *orig as f64 - (factor - 1.0)).powf(r / (r - 2.0))
            } else {
                rope.base
            };
            (plain(base), 1.0)
        }
        RopeScaling::Yarn {
            factor,
            original_max_position_embeddings: orig,
            beta_fast,
            beta_slow,
            attention_factor,
        } => {
            let mscale = |s: f64| if s <= 1.0 { 1.0 } else { 0.1 * s.ln() + 1.0 };
            let att = attention_factor.unwrap_or_else(|| mscale(*factor));
            let corr = |rot: f64| {
                r * (*orig as f64 / (rot * 2.0 * std::f64::consts::PI)).ln()
                    / (2.0 * rope.base.ln())
            };
            let low = corr(*beta_fast).floor().max(0.0);
            let high = corr(*beta_slow).ceil().min(r - 1.0);
            let high = if low == high { high + 0.001 } else { high };
            let extra = plain(rope.base);
            let inv = extra
                .iter()
                .enumerate()
                .map(|(i, &e)| {
                    let ramp = ((i as f64 - low) / (high - low)).clamp(0.0, 1.0);
                    let ext_factor = 1.0 - ramp;
                    (e / factor) * (1.0 - ext_factor) + e * ext_factor
                })
                .collect();
            (inv, att)
        }
        RopeScaling::LongRope {
            short_factor,
            long_factor,
            original_max_position_embeddings: orig,
            attention_factor,
        } => {
            let ext = if seq > *orig {
                long_factor
            } else {
                short_factor
            };
            let inv = plain(rope.base)
                .iter()
                .zip(ext)
                .map(|(f, e)| f / e)
                .collect();
            (inv, *attention_factor)
        }
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings: orig,
        } => {
            let old = *orig as f64;
            let low_wl = old / low_freq_factor;
            let high_wl = old / high_freq_factor;
            let inv = plain(rope.base)
                .into_iter()
                .map(|f| {
                    let wl = 2.0 * std::f64::consts::PI / f;
                    if wl < high_wl {
                        f
                    } else if wl > low_wl {
                        f / factor
                    } else {
                        let s = (old / wl - low_freq_factor) / (high_freq_factor - low_freq_factor);
                        (1.0 - s) * f / factor + s * f
                    }
                })
                .collect();
            (inv, 1.0)
        }
    }
}

/// Precomputed rotation for one configuration.
pub(crate) struct RopeTables {
    /// First rotated dimension inside the q/k row (MLA: `nope_dim`).
    offset: usize,
    pairing: RopePairing,
    /// Number of frequencies `F = rot_dim / 2`.
    pub freqs: usize,
    /// `θ_f`.
    pub inv_freq: Vec<f64>,
    /// YaRN attention factor (already folded into `cos`/`sin`).
    pub attention_factor: f64,
    /// `[seq][F]`, attention factor included.
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl RopeTables {
    pub(crate) fn new(rope: &Rope, offset: usize, rot_dim: usize, seq: usize) -> Self {
        let (inv_freq, att) = rope_frequencies(rope, rot_dim, seq);
        let f = rot_dim / 2;
        let mut cos = Vec::with_capacity(seq * f);
        let mut sin = Vec::with_capacity(seq * f);
        for p in 0..seq {
            for &w in &inv_freq {
                let (s, c) = (p as f64 * w).sin_cos();
                cos.push(c * att);
                sin.push(s * att);
            }
        }
        Self {
            offset,
            pairing: rope.pairing,
            freqs: f,
            inv_freq,
            attention_factor: att,
            cos,
            sin,
        }
    }

    /// Row indices of frequency `f`'s pair (real, imaginary part).
    pub(crate) fn pair(&self, f: usize) -> (usize, usize) {
        match self.pairing {
            RopePairing::Interleaved => (self.offset + 2 * f, self.offset + 2 * f + 1),
            RopePairing::HalfSplit => (self.offset + f, self.offset + f + self.freqs),
        }
    }

    /// Rotates `x` (one q or k row) to position `pos`.
    pub(crate) fn rotate(&self, x: &mut [f64], pos: usize) {
        let c = &self.cos[pos * self.freqs..(pos + 1) * self.freqs];
        let s = &self.sin[pos * self.freqs..(pos + 1) * self.freqs];
        for f in 0..self.freqs {
            let (ia, ib) = self.pair(f);
            let (a, b) = (x[ia], x[ib]);
            x[ia] = a * c[f] - b * s[f];
            x[ib] = a * s[f] + b * c[f];
        }
    }
}

/// T5 relative-position bucket of `rel = key - query`, replicating transformers'
/// float32 arithmetic (`torch.log` of a float32 ratio) so that bucket edges agree.
pub fn t5_bucket(rel: i64, bidirectional: bool, num_buckets: usize, max_distance: usize) -> usize {
    let mut nb = num_buckets as i64;
    let mut bucket = 0i64;
    let n = if bidirectional {
        nb /= 2;
        if rel > 0 {
            bucket += nb;
        }
        rel.abs()
    } else {
        (-rel).max(0)
    };
    let max_exact = nb / 2;
    if n < max_exact {
        bucket += n;
    } else {
        let ratio = (n as f32 / max_exact as f32).ln();
        let denom = (max_distance as f64 / max_exact as f64).ln() as f32;
        let large = max_exact + (ratio / denom * (nb - max_exact) as f32) as i64;
        bucket += large.min(nb - 1);
    }
    bucket as usize
}

/// An additive bias of the scaled logits, laid out so that the biases of one query row
/// over consecutive keys are contiguous (the flash loop adds them as a slice).
pub(crate) enum Bias {
    /// Toeplitz (ALiBi, T5): per query head `2·seq - 1` values, `[h][(j - i) + seq - 1]`.
    Relative(Vec<f64>),
    /// Per key (BLOOM/MPT/Falcon ALiBi as formed): per query head `seq` values, `[h][j]`.
    Key(Vec<f64>),
}

impl Bias {
    /// The values, in logit units.
    pub(crate) fn values(&self) -> &[f64] {
        match self {
            Bias::Relative(v) | Bias::Key(v) => v,
        }
    }

    /// Index in [`Bias::values`] of the bias of head `h`, query `i`, key 0; key `j`'s is
    /// `j` further.
    pub(crate) fn row_start(&self, seq: usize, h: usize, i: usize) -> usize {
        match self {
            Bias::Relative(_) => h * (2 * seq - 1) + seq - 1 - i,
            Bias::Key(_) => h * seq,
        }
    }
}

/// Everything the kernels need besides the raw buffers, derived once per call.
pub(crate) struct Prepared {
    pub rope: Option<RopeTables>,
    /// The additive bias, if the encoding has one.
    pub bias: Option<Bias>,
}

impl Prepared {
    pub(crate) fn new(cfg: &AttentionConfig) -> Self {
        let s = cfg.seq;
        let rope = match &cfg.pe {
            PositionalEncoding::Rope(r) => {
                Some(RopeTables::new(r, 0, rotary_dim(r, cfg.head_dim), s))
            }
            PositionalEncoding::Mla(m) => Some(RopeTables::new(&m.rope, m.nope_dim, m.rope_dim, s)),
            _ => None,
        };
        let rel = |f: &dyn Fn(usize, i64) -> f64| {
            let mut v = Vec::with_capacity(cfg.heads * (2 * s - 1));
            for h in 0..cfg.heads {
                for d in 0..2 * s - 1 {
                    v.push(f(h, d as i64 - (s as i64 - 1)));
                }
            }
            v
        };
        let bias = match &cfg.pe {
            PositionalEncoding::Alibi { slopes } => Some(Bias::Relative(rel(&|h, d| {
                -slopes[h] * d.unsigned_abs() as f64
            }))),
            PositionalEncoding::T5(t) => Some(Bias::Relative(rel(&|h, d| {
                let bk = t5_bucket(d, t.bidirectional, t.num_buckets, t.max_distance);
                t.table[bk * cfg.heads + h] as f64
            }))),
            PositionalEncoding::KeyBias { bias } => {
                Some(Bias::Key(bias.iter().map(|&x| f64::from(x)).collect()))
            }
            _ => None,
        };
        Self { rope, bias }
    }

    /// Bias of query head `h`, query `i`, key `j`.
    pub(crate) fn bias(&self, seq: usize, h: usize, i: usize, j: usize) -> f64 {
        self.bias
            .as_ref()
            .map_or(0.0, |b| b.values()[b.row_start(seq, h, i) + j])
    }

    /// Writes the `[seq][head_dim]` query block of `(b, h)` into `out`, with the
    /// absolute embedding added and RoPE applied when `with_pe`, multiplied by `mult`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn query(
        &self,
        cfg: &AttentionConfig,
        inp: &AttentionInputs<'_>,
        b: usize,
        h: usize,
        with_pe: bool,
        mult: f64,
        out: &mut [f64],
    ) {
        for (p, row) in out.chunks_exact_mut(cfg.head_dim).enumerate() {
            self.query_row(cfg, inp, b, h, p, with_pe, mult, row);
        }
    }

    /// Row `p` of [`Prepared::query`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn query_row(
        &self,
        cfg: &AttentionConfig,
        inp: &AttentionInputs<'_>,
        b: usize,
        h: usize,
        p: usize,
        with_pe: bool,
        mult: f64,
        row: &mut [f64],
    ) {
        let (s, d) = (cfg.seq, cfg.head_dim);
        let src = &inp.q[((b * cfg.heads + h) * s + p) * d..][..d];
        for (o, &x) in row.iter_mut().zip(src) {
            *o = x as f64;
        }
        if with_pe {
            self.apply_pe(cfg, row, p, true);
        }
        row.iter_mut().for_each(|x| *x *= mult);
    }

    /// Writes the `[seq][head_dim]` effective key block of `(b, kv head g)` into `out`
    /// (for MLA: content key followed by the shared RoPE key).
    pub(crate) fn key(
        &self,
        cfg: &AttentionConfig,
        inp: &AttentionInputs<'_>,
        b: usize,
        g: usize,
        with_pe: bool,
        out: &mut [f64],
    ) {
        for (p, row) in out.chunks_exact_mut(cfg.head_dim).enumerate() {
            self.key_row(cfg, inp, b, g, p, with_pe, row);
        }
    }

    /// Row `p` of [`Prepared::key`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn key_row(
        &self,
        cfg: &AttentionConfig,
        inp: &AttentionInputs<'_>,
        b: usize,
        g: usize,
        p: usize,
        with_pe: bool,
        row: &mut [f64],
    ) {
        let (s, kd) = (cfg.seq, cfg.key_dim());
        let src = &inp.k[((b * cfg.kv_heads + g) * s + p) * kd..][..kd];
        for (o, &x) in row.iter_mut().zip(src) {
            *o = x as f64;
        }
        if let (PositionalEncoding::Mla(m), Some(rk)) = (&cfg.pe, inp.rope_key) {
            let r = &rk[(b * s + p) * m.rope_dim..][..m.rope_dim];
            for (o, &x) in row[kd..].iter_mut().zip(r) {
                *o = x as f64;
            }
        }
        if with_pe {
            self.apply_pe(cfg, row, p, false);
        }
    }

    fn apply_pe(&self, cfg: &AttentionConfig, row: &mut [f64], p: usize, is_q: bool) {
        if let PositionalEncoding::AbsoluteAdditive { q_table, k_table } = &cfg.pe {
            let t = if is_q { q_table } else { k_table };
            let d = cfg.head_dim;
            for (o, &x) in row.iter_mut().zip(&t[p * d..(p + 1) * d]) {
                *o += x as f64;
            }
        }
        if let Some(r) = &self.rope {
            r.rotate(row, p);
        }
    }
}
