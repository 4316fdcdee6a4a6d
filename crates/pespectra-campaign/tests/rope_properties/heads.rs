//! The RoPE heads the properties run on: content families, rotary layouts (frequencies,
//! pairing, scaling, rotated fraction) and MLA heads that share one rotary key.

use pespectra_campaign::mix;
use pespectra_pe::Pairing;
use proptest::prelude::*;

/// How the content entries are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Content {
    /// Uniform in [−1, 1].
    Moderate,
    /// Uniform in [−1, 1] times one power of two 2^e, e ∈ [−40, 40] (scale-free claims: the
    /// reductions must not care).
    Dyadic(i32),
    /// Token i scaled by 10^(e_i), e_i ∈ [−15, 15] (outlier tokens, as in trained models).
    PerToken,
    /// ±1/u, u ∈ (10⁻⁶, 1]: heavy-tailed.
    Heavy,
    /// Uniform times 10^e, e ∈ [−37, 38]: up to the ends of the f32 range, where squared
    /// norms and products of Gram entries may under- or overflow (enclosures then widen).
    Extreme(i32),
    /// `a_j = r_j e^{−ijθ_f}` per frequency (R1's content): the rotated vectors are real, so
    /// T2, T3 and T4 hold with equality.
    PhaseAligned,
}

impl Content {
    /// Moderate magnitudes, for which f64 enclosures certify a strict inequality.
    pub(super) fn well(self) -> bool {
        matches!(self, Self::Moderate | Self::Dyadic(_))
    }
}

pub(super) fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        4 => Just(Content::Moderate),
        2 => (-40i32..=40).prop_map(Content::Dyadic),
        1 => Just(Content::PerToken),
        1 => Just(Content::Heavy),
        1 => (-37i32..=38).prop_map(Content::Extreme),
        1 => Just(Content::PhaseAligned),
    ]
}

/// Uniform in [−1, 1) from 53 bits of `mix(seed, idx)`.
pub(super) fn unit(seed: u64, idx: u64) -> f64 {
    (mix(seed, idx) >> 11) as f64 * 2f64.powi(-52) - 1.0
}

/// RoPE inverse frequencies θ_f = base^(−2f/d_rot)/s, f < d_rot/2 (linear scaling by s ≥ 1).
pub(super) fn inv_freq(d_rot: usize, base: f64, scale: f64) -> Vec<f64> {
    (0..d_rot / 2)
        .map(|f| base.powf(-2.0 * f as f64 / d_rot as f64) / scale)
        .collect()
}

/// The rotary layout of a head: the first `2·theta.len()` of `head_dim` dimensions rotate,
/// paired by `pairing`, frequency f by `theta[f]`.
pub(super) struct Rotary<'a> {
    pub(super) head_dim: usize,
    pub(super) pairing: Pairing,
    pub(super) theta: &'a [f64],
}

/// Content rows (n × head_dim, f32 like a capture) of family `c` from `seed` (phase-aligned
/// content is built per frequency in the head's pairing).
pub(super) fn rows(c: Content, seed: u64, n: usize, rot: &Rotary) -> Vec<f32> {
    let (head_dim, nf) = (rot.head_dim, rot.theta.len());
    let u = |i: usize| unit(seed, i as u64);
    let mut x: Vec<f32> = (0..n * head_dim)
        .map(|t| {
            let v = u(t);
            let s = match c {
                Content::Moderate | Content::PhaseAligned => 1.0,
                Content::Dyadic(e) => 2f64.powi(e),
                Content::PerToken => 10f64.powf((15.0 * u(n * head_dim + t / head_dim)).round()),
                Content::Heavy => return (v.signum() / (1e-6 + v.abs())) as f32,
                Content::Extreme(e) => 10f64.powi(e),
            };
            (v * s) as f32
        })
        .collect();
    if c == Content::PhaseAligned {
        for (f, &th) in rot.theta.iter().enumerate() {
            let (re, im) = match rot.pairing {
                Pairing::Interleaved => (2 * f, 2 * f + 1),
                Pairing::HalfSplit => (f, f + nf),
            };
            for j in 0..n {
                let r = 0.25 + u(n * head_dim + j * nf + f).abs();
                let (s, co) = (j as f64 * th).sin_cos();
                x[j * head_dim + re] = (r * co) as f32;
                x[j * head_dim + im] = (-r * s) as f32;
            }
        }
    }
    x
}

/// One generated RoPE head.
#[derive(Clone, Debug)]
pub(super) struct Head {
    pub(super) n: usize,
    pub(super) head_dim: usize,
    pub(super) d_rot: usize,
    pub(super) base: f64,
    pub(super) scale: f64,
    pub(super) pairing: Pairing,
    pub(super) content: Content,
    /// W_Q = W_K: the key rows are the query rows.
    pub(super) tied: bool,
    pub(super) seed: u64,
}

impl Head {
    pub(super) fn theta(&self) -> Vec<f64> {
        inv_freq(self.d_rot, self.base, self.scale)
    }

    /// Query and key rows.
    pub(super) fn qk(&self, rot: &Rotary) -> (Vec<f32>, Vec<f32>) {
        let q = rows(self.content, self.seed, self.n, rot);
        let k = if self.tied {
            q.clone()
        } else {
            rows(self.content, !self.seed, self.n, rot)
        };
        (q, k)
    }
}

pub(super) fn base() -> impl Strategy<Value = f64> {
    (100f64.ln()..1e6f64.ln()).prop_map(f64::exp)
}

pub(super) fn pairing() -> impl Strategy<Value = Pairing> {
    prop_oneof![Just(Pairing::Interleaved), Just(Pairing::HalfSplit)]
}

/// Linear position interpolation factor s (θ_f/s): none half of the time, else 1..=32.
pub(super) fn scaling() -> impl Strategy<Value = f64> {
    prop_oneof![Just(1.0), 1.0f64..32.0]
}

/// n up to 1024, mostly small. Content whose Gram matrix Γ = YᵀY is singular (k = q, or
/// phase-aligned) sends the audit to its dense n × n fallback, so those stay ≤ 64.
pub(super) fn head() -> impl Strategy<Value = Head> {
    (content(), any::<bool>())
        .prop_flat_map(|(content, tied)| {
            let dense = tied || content == Content::PhaseAligned;
            let n = if dense {
                (2usize..=64).boxed()
            } else {
                prop_oneof![4 => 2usize..=16, 3 => 17usize..=128, 2 => 129usize..=1024].boxed()
            };
            (
                Just((content, tied)),
                n,
                1usize..=64,
                any::<prop::sample::Index>(),
            )
        })
        .prop_flat_map(|((content, tied), n, half, rot)| {
            let d_rot = 2 * (1 + rot.index(half));
            (base(), scaling(), pairing(), any::<u64>()).prop_map(
                move |(base, scale, pairing, seed)| Head {
                    n,
                    head_dim: 2 * half,
                    d_rot,
                    base,
                    scale,
                    pairing,
                    content,
                    tied,
                    seed,
                },
            )
        })
}

/// DeepSeek MLA: `heads` query RoPE blocks against one shared RoPE key block (n × d_rope, the
/// key rotated once for all heads).
#[derive(Clone, Debug)]
pub(super) struct Mla {
    pub(super) n: usize,
    pub(super) d_rope: usize,
    pub(super) base: f64,
    pub(super) scale: f64,
    pub(super) pairing: Pairing,
    pub(super) heads: usize,
    pub(super) content: Content,
    pub(super) seed: u64,
}

pub(super) fn mla() -> impl Strategy<Value = Mla> {
    (
        prop_oneof![3 => 4usize..=32, 1 => 33usize..=512],
        1usize..=32,
        base(),
        scaling(),
        pairing(),
        1usize..=8,
        prop_oneof![
            3 => Just(Content::Moderate),
            1 => (-40i32..=40).prop_map(Content::Dyadic),
            1 => Just(Content::PerToken),
            1 => Just(Content::Heavy),
        ],
        any::<u64>(),
    )
        .prop_map(
            |(n, pairs, base, scale, pairing, heads, content, seed)| Mla {
                n,
                d_rope: 2 * pairs,
                base,
                scale,
                pairing,
                heads,
                content,
                seed,
            },
        )
}
