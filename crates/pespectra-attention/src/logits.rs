//! Logits mode: materialises the matrices the spectral analysis needs instead of the
//! attention output.
//!
//! For query head `h` (kv head `g`), positions `i` (query) and `j` (key):
//! - `pre_mask[i][j] = scale · q'_i·k'_j + bias(j - i)`, with `q'`, `k'` after the
//!   positional encoding (RoPE rotation, absolute addition, MLA concatenation) and `bias`
//!   the ALiBi/T5 term; no mask is applied (mask in the analysis code, as HF's eager path
//!   would otherwise insert `finfo.min`) and no soft cap (`AttentionConfig::softcap` acts on
//!   these scores; they are the bilinear form the spectral analysis is about).
//! - `content[i][j] = scale · q_i·k_j`: the NoPE-equivalent logits of the raw inputs (for
//!   MLA `q_nope·k_nope + q_rope·k_rope` without rotation).
//! - RoPE/MLA only, per frequency `f` with pair `(a_f, b_f)` and `θ_f`: the complex content
//!   matrix `G^f[i][j] = scale · α² · (q_{i,a} + i q_{i,b}) · conj(k_{j,a} + i k_{j,b})`,
//!   `α` the YaRN attention factor, and `passthrough[i][j] = scale · Σ_{non-rotated d}
//!   q_{i,d} k_{j,d}`. Then exactly
//!   `pre_mask[i][j] = Σ_f Re(G^f[i][j] · e^{iθ_f (i-j)}) + passthrough[i][j]`.

use num_complex::Complex;
use rayon::prelude::*;

use crate::config::{validate, AttentionConfig, AttentionInputs, PositionalEncoding};
use crate::error::Error;
use crate::kernels::{pack_k_panels, pack_q_blocks, Isa, MR, PANEL};
use crate::pe::Prepared;

/// Which matrices to materialise (each is `batch·heads·seq²` elements, `G^f` `F` times more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogitsRequest {
    /// Pre-mask logits with PE.
    pub pre_mask: bool,
    /// Content-only (NoPE-equivalent) logits.
    pub content: bool,
    /// Per-frequency complex content matrices (RoPE and MLA only).
    pub per_frequency: bool,
}

impl LogitsRequest {
    /// Everything that applies to the configuration's encoding.
    pub fn all(cfg: &AttentionConfig) -> Self {
        Self {
            pre_mask: true,
            content: true,
            per_frequency: matches!(
                cfg.pe,
                PositionalEncoding::Rope(_) | PositionalEncoding::Mla(_)
            ),
        }
    }
}

/// Per-frequency decomposition of the RoPE part of the logits.
#[derive(Debug, Clone, PartialEq)]
pub struct PerFrequency<T> {
    /// `θ_f` after frequency scaling, `f = 0..F`.
    pub inv_freq: Vec<f64>,
    /// `G^f`, layout `[batch, heads, F, seq, seq]`.
    pub g: Vec<Complex<T>>,
    /// Non-rotated part, layout `[batch, heads, seq, seq]`.
    pub passthrough: Vec<T>,
}

/// Output of logits mode; fields are `None` when not requested.
#[derive(Debug, Clone, PartialEq)]
pub struct Logits<T> {
    /// `[batch, heads, seq, seq]`.
    pub pre_mask: Option<Vec<T>>,
    /// `[batch, heads, seq, seq]`.
    pub content: Option<Vec<T>>,
    /// RoPE/MLA decomposition.
    pub per_frequency: Option<PerFrequency<T>>,
}

/// Checks that a per-frequency request makes sense for the encoding.
pub(crate) fn check_request(cfg: &AttentionConfig, req: &LogitsRequest) -> Result<(), Error> {
    if req.per_frequency
        && !matches!(
            cfg.pe,
            PositionalEncoding::Rope(_) | PositionalEncoding::Mla(_)
        )
    {
        return Err(Error::InvalidConfig(
            "per-frequency matrices G^f exist only for RoPE and MLA".into(),
        ));
    }
    Ok(())
}

/// Scalar type of a logits computation (f32 fast path or f64 reference).
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + Default
    + std::ops::Mul<Output = Self>
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
{
    fn from_f64(x: f64) -> Self;
}
impl Real for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}
impl Real for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// `G^f` and passthrough for one `(b, h)`, computed in `T` from prepared (unrotated) rows.
/// `qs` is already multiplied by `scale · α²`; `passthrough` is filled by the caller.
pub(crate) fn per_frequency_head<T: Real>(
    prep: &Prepared,
    qs: &[f64],
    k: &[f64],
    seq: usize,
    dim: usize,
    g_out: &mut [Complex<T>],
) {
    let Some(rope) = &prep.rope else { return };
    for f in 0..rope.freqs {
        let (ia, ib) = rope.pair(f);
        let gf = &mut g_out[f * seq * seq..(f + 1) * seq * seq];
        for i in 0..seq {
            let (a, b) = (T::from_f64(qs[i * dim + ia]), T::from_f64(qs[i * dim + ib]));
            for j in 0..seq {
                let (c, d) = (T::from_f64(k[j * dim + ia]), T::from_f64(k[j * dim + ib]));
                // (a + ib)(c - id) = (ac + bd) + i(bc - ad)
                gf[i * seq + j] = Complex::new(a * c + b * d, b * c - a * d);
            }
        }
    }
}

/// Mask of the dimensions RoPE does not rotate (the passthrough part).
pub(crate) fn passthrough_dims(prep: &Prepared, dim: usize) -> Vec<bool> {
    let mut pass = vec![true; dim];
    if let Some(r) = &prep.rope {
        for f in 0..r.freqs {
            let (a, b) = r.pair(f);
            pass[a] = false;
            pass[b] = false;
        }
    }
    pass
}

/// f32 logits mode using the dispatched SIMD Q·Kᵀ kernel (auto-detected ISA).
pub fn attention_logits(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    req: LogitsRequest,
) -> Result<Logits<f32>, Error> {
    attention_logits_with(Isa::detect(), cfg, inp, req)
}

/// f32 logits mode on a forced instruction set.
///
/// Error bound (tested): each logit differs from the f64 reference by at most
/// `(D + 8)·u·scale·‖q'_i‖‖k'_j‖ + 4u·|bias|`, `u = 2^-24`, `D = head_dim`.
pub fn attention_logits_with(
    isa: Isa,
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    req: LogitsRequest,
) -> Result<Logits<f32>, Error> {
    isa.check()?;
    validate(cfg, inp)?;
    check_request(cfg, &req)?;
    let prep = Prepared::new(cfg);
    let (s, d) = (cfg.seq, cfg.head_dim);
    let bh = cfg.batch * cfg.heads;
    let gqa = cfg.heads / cfg.kv_heads;
    let matrix = |with_pe: bool| -> Vec<f32> {
        let mut out = vec![0f32; bh * s * s];
        out.par_chunks_mut(s * s).enumerate().for_each(|(idx, o)| {
            let (b, h) = (idx / cfg.heads, idx % cfg.heads);
            let mut q64 = vec![0f64; s * d];
            let mut k64 = vec![0f64; s * d];
            prep.query(cfg, inp, b, h, with_pe, cfg.scale, &mut q64);
            prep.key(cfg, inp, b, h / gqa, with_pe, &mut k64);
            let nblk = s.div_ceil(MR);
            let mut q = vec![0f32; nblk * MR * d];
            pack_q_blocks(&q64, s, d, &mut q);
            let npan = s.div_ceil(PANEL);
            let mut kp = vec![0f32; npan * d * PANEL];
            pack_k_panels(&k64, s, d, &mut kp);
            let ldo = npan * PANEL;
            let mut tile = vec![0f32; nblk * MR * ldo];
            isa.qk(&q, s, d, &kp, npan, &mut tile, ldo);
            for i in 0..s {
                for j in 0..s {
                    let bias = if with_pe { prep.bias(s, h, i, j) } else { 0.0 };
                    o[i * s + j] = tile[i * ldo + j] + bias as f32;
                }
            }
        });
        out
    };
    let pre_mask = req.pre_mask.then(|| matrix(true));
    let content = req.content.then(|| matrix(false));
    let per_frequency = req
        .per_frequency
        .then(|| per_frequency_all::<f32>(cfg, inp, &prep));
    Ok(Logits {
        pre_mask,
        content,
        per_frequency,
    })
}

/// `G^f` and passthrough for all heads, in precision `T`.
pub(crate) fn per_frequency_all<T>(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    prep: &Prepared,
) -> PerFrequency<T>
where
    T: Real + std::ops::Mul<Output = T> + std::ops::Add<Output = T> + std::ops::Sub<Output = T>,
{
    let rope = prep.rope.as_ref().expect("checked by check_request");
    let (s, d, f) = (cfg.seq, cfg.head_dim, rope.freqs);
    let gqa = cfg.heads / cfg.kv_heads;
    let bh = cfg.batch * cfg.heads;
    let pass = passthrough_dims(prep, d);
    let mut g = vec![Complex::new(T::default(), T::default()); bh * f * s * s];
    let mut passthrough = vec![T::default(); bh * s * s];
    let att2 = rope.attention_factor * rope.attention_factor;
    g.par_chunks_mut(f * s * s)
        .zip(passthrough.par_chunks_mut(s * s))
        .enumerate()
        .for_each(|(idx, (gh, ph))| {
            let (b, h) = (idx / cfg.heads, idx % cfg.heads);
            let mut q = vec![0f64; s * d];
            let mut k = vec![0f64; s * d];
            prep.query(cfg, inp, b, h, false, cfg.scale, &mut q);
            prep.key(cfg, inp, b, h / gqa, false, &mut k);
            for i in 0..s {
                for j in 0..s {
                    let mut acc = 0f64;
                    for (dd, &p) in pass.iter().enumerate() {
                        if p {
                            acc += q[i * d + dd] * k[j * d + dd];
                        }
                    }
                    ph[i * s + j] = T::from_f64(acc);
                }
            }
            q.iter_mut().for_each(|x| *x *= att2);
            per_frequency_head(prep, &q, &k, s, d, gh);
        });
    PerFrequency {
        inv_freq: rope.inv_freq.clone(),
        g,
        passthrough,
    }
}
