//! Fused flash-style f32 attention.
//!
//! 1. A parallel O(seq·dim) prepass applies the positional encoding in f64 and rounds once
//!    to f32: queries are multiplied by `scale·log2(e)` (so the softmax can use `2^x`), keys
//!    are packed into 16-column panels, values are padded to a multiple of 16 columns, and
//!    ALiBi/T5 become one Toeplitz bias row per head (`log2(e)`-scaled).
//! 2. Rayon runs over (batch × head × query tile). Each task walks the key tiles its rows
//!    can see — causal tiles beyond the diagonal and tiles left of a sliding window are
//!    never visited — doing S = Q·Kᵀ (SIMD micro-kernel), bias + mask (only on tiles that
//!    need it), the online-softmax row update and O = α·O + P·V (SIMD micro-kernel).
//! 3. Per-thread scratch (logit tile, output tile, row statistics) comes from
//!    `for_each_init`, so no allocation happens inside the tile loops.

use rayon::prelude::*;
use std::cell::RefCell;
use std::f64::consts::LOG2_E;

use crate::config::{validate, AttentionConfig, AttentionInputs, PositionalEncoding};
use crate::error::Error;
use crate::kernels::{Isa, MR, PANEL};
use crate::pe::Prepared;

/// Query rows per task (a multiple of the micro-kernels' [`MR`] rows).
const BR: usize = 96;
/// Key columns per tile (a multiple of [`PANEL`]).
const BC: usize = 128;
const _: () = assert!(BR.is_multiple_of(MR) && BC.is_multiple_of(PANEL));

/// Flash attention on the fastest available path; output `[batch, heads, seq, value_dim]`.
pub fn flash_attention(
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
) -> Result<Vec<f32>, Error> {
    flash_attention_with(Isa::detect(), cfg, inp)
}

/// Flash attention on a forced instruction-set path.
pub fn flash_attention_with(
    isa: Isa,
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
) -> Result<Vec<f32>, Error> {
    let mut out = vec![0f32; cfg.out_len()];
    flash_attention_into(isa, cfg, inp, &mut out)?;
    Ok(out)
}

/// Per-thread scratch of the tile loop.
struct Scratch {
    s: Vec<f32>,
    o: Vec<f32>,
    m: Vec<f32>,
    l: Vec<f32>,
    alpha: Vec<f32>,
}

/// Flash attention into a caller-provided output buffer of length `cfg.out_len()`.
///
/// Error bound: see [`crate::error_bounds`] (tested against [`crate::reference_attention`]).
pub fn flash_attention_into(
    isa: Isa,
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    isa.check()?;
    validate(cfg, inp)?;
    if out.len() != cfg.out_len() {
        return Err(Error::ShapeMismatch {
            tensor: "output",
            expected: cfg.out_len(),
            actual: out.len(),
        });
    }
    WORKSPACE.with(|ws| match ws.try_borrow_mut() {
        Ok(mut bufs) => run(isa, cfg, inp, out, &mut bufs),
        // Re-entrant call on this thread (e.g. from inside a Rayon job): use fresh buffers.
        Err(_) => run(isa, cfg, inp, out, &mut Default::default()),
    });
    Ok(())
}

thread_local! {
    /// Prepass buffers (packed Q, K, V) reused across calls on the calling thread: fresh
    /// multi-megabyte allocations are page-faulted in on every call, which cost ~5% at
    /// S = 512. Holds up to the packed size of the largest problem seen on this thread.
    static WORKSPACE: RefCell<[Vec<f32>; 3]> = RefCell::default();
}

/// Frees the calling thread's flash workspace (the packed copies of Q, K and V kept between
/// calls to avoid page-faulting them in again). The next call reallocates it.
pub fn release_workspace() {
    WORKSPACE.with(|ws| {
        if let Ok(mut bufs) = ws.try_borrow_mut() {
            *bufs = Default::default();
        }
    });
}

/// Grows `buf` to at least `n` elements and returns the first `n`. Stale contents are
/// fine: the prepass overwrites every element the kernels read unmasked (see `run`).
fn take(buf: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
    &mut buf[..n]
}

/// The flash computation proper, on validated input.
fn run(
    isa: Isa,
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    out: &mut [f32],
    bufs: &mut [Vec<f32>; 3],
) {
    let prep = Prepared::new(cfg);
    let (s, d, dv) = (cfg.seq, cfg.head_dim, cfg.value_dim);
    let (heads, kvh) = (cfg.heads, cfg.kv_heads);
    let gqa = heads / kvh;
    let npan = s.div_ceil(PANEL);
    let s_pad = npan * PANEL;
    let qblk = s.div_ceil(MR) * MR * d;
    let dvp = dv.div_ceil(PANEL) * PANEL;
    let kv_stride = npan * d * PANEL;
    let v_stride = s_pad * dvp;
    let [qbuf, kbuf, vbuf] = bufs;

    // --- Prepass: O(seq·dim) per head, f64 then one rounding to f32. Padding rows of Q
    // (beyond seq in the last row block) only produce logit rows that are never read, and
    // padding key columns are always masked to -inf, so neither needs clearing; V padding
    // is zeroed because P·V reads it (with weight 0, and 0·NaN would be NaN).
    // NoPE, ALiBi and T5 leave q and k untouched: skip the f64 round trip.
    let f32_prepass = matches!(
        cfg.pe,
        PositionalEncoding::NoPE | PositionalEncoding::Alibi { .. } | PositionalEncoding::T5(_)
    );
    let mult32 = (cfg.scale * LOG2_E) as f32;
    let qp = take(qbuf, cfg.batch * heads * qblk);
    qp.par_chunks_mut(qblk).enumerate().for_each_init(
        || vec![0f64; d],
        |row, (idx, dst)| {
            let (b, h) = (idx / heads, idx % heads);
            for i in 0..s {
                let (blk, r) = (i / MR, i % MR);
                if f32_prepass {
                    // No rotation or addition: one f32 product (2u instead of u relative
                    // error per element, inside the bound's (D + 8)u margin).
                    let src = &inp.q[(idx * s + i) * d..][..d];
                    for (t, &x) in src.iter().enumerate() {
                        dst[(blk * d + t) * MR + r] = x * mult32;
                    }
                    continue;
                }
                prep.query_row(cfg, inp, b, h, i, true, cfg.scale * LOG2_E, row);
                for (t, &x) in row.iter().enumerate() {
                    dst[(blk * d + t) * MR + r] = x as f32;
                }
            }
        },
    );
    let kp = take(kbuf, cfg.batch * kvh * kv_stride);
    kp.par_chunks_mut(kv_stride).enumerate().for_each_init(
        || vec![0f64; d],
        |row, (idx, dst)| {
            for j in 0..s {
                let (p, c) = (j / PANEL, j % PANEL);
                if f32_prepass {
                    let src = &inp.k[(idx * s + j) * d..][..d];
                    for (t, &x) in src.iter().enumerate() {
                        dst[(p * d + t) * PANEL + c] = x;
                    }
                    continue;
                }
                prep.key_row(cfg, inp, idx / kvh, idx % kvh, j, true, row);
                for (t, &x) in row.iter().enumerate() {
                    dst[(p * d + t) * PANEL + c] = x as f32;
                }
            }
        },
    );
    // V as column strips `[dvp/16][s_pad][16]`: a tile's kc×16 strip is contiguous, which
    // avoids the L1 set conflicts of reading 16 floats from rows 4·dvp bytes apart.
    let vp = take(vbuf, cfg.batch * kvh * v_stride);
    vp.par_chunks_mut(v_stride)
        .enumerate()
        .for_each(|(idx, dst)| {
            let src = &inp.v[idx * s * dv..(idx + 1) * s * dv];
            if dv != dvp || s != s_pad {
                dst.fill(0.0);
            }
            for (j, row) in src.chunks_exact(dv).enumerate() {
                for (strip, chunk) in row.chunks(PANEL).enumerate() {
                    let at = (strip * s_pad + j) * PANEL;
                    dst[at..at + chunk.len()].copy_from_slice(chunk);
                }
            }
        });
    let (qp, kp, vp) = (&*qp, &*kp, &*vp);
    let bias: Option<Vec<f32>> = prep
        .rel_bias
        .as_ref()
        .map(|b| b.iter().map(|&x| (x * LOG2_E) as f32).collect());

    // --- Tile loop.
    let task = |scr: &mut Scratch, bh: usize, t: usize, o: &mut [f32]| {
        let (b, h) = (bh / heads, bh % heads);
        let g = b * kvh + h / gqa;
        let i0 = t * BR;
        let rows = o.len() / dv;
        let q = &qp[bh * qblk + i0 * d..(bh + 1) * qblk];
        let kpan = &kp[g * kv_stride..(g + 1) * kv_stride];
        let vg = &vp[g * v_stride..(g + 1) * v_stride];
        let hbias = bias
            .as_ref()
            .map(|x| &x[h * (2 * s - 1)..(h + 1) * (2 * s - 1)]);
        let (jlo, _) = cfg.allowed_range(b, i0);
        let (_, jhi) = cfg.allowed_range(b, i0 + rows - 1);
        let otile = &mut scr.o[..rows * dvp];
        otile.fill(0.0);
        scr.m[..rows].fill(f32::NEG_INFINITY);
        scr.l[..rows].fill(0.0);
        let mut j0 = jlo / PANEL * PANEL;
        while j0 < jhi {
            let nc = (jhi.min(j0 + BC) - j0).div_ceil(PANEL) * PANEL;
            isa.qk(q, rows, d, &kpan[j0 * d..], nc / PANEL, &mut scr.s, BC);
            // Rows' visible ranges are monotone in i, so the first/last row decide.
            let needs_mask =
                cfg.allowed_range(b, i0 + rows - 1).0 > j0 || cfg.allowed_range(b, i0).1 < j0 + nc;
            for r in 0..rows {
                let i = i0 + r;
                let srow = &mut scr.s[r * BC..r * BC + nc];
                if let Some(hb) = hbias {
                    let n = s.min(j0 + nc) - j0;
                    let brow = &hb[j0 + s - 1 - i..j0 + s - 1 - i + n];
                    srow[..n].iter_mut().zip(brow).for_each(|(x, &y)| *x += y);
                }
                if needs_mask {
                    let (lo, hi) = cfg.allowed_range(b, i);
                    let lo = lo.clamp(j0, j0 + nc) - j0;
                    let hi = hi.clamp(j0, j0 + nc) - j0;
                    srow[..lo].fill(f32::NEG_INFINITY);
                    srow[hi.max(lo)..].fill(f32::NEG_INFINITY);
                }
                let (m_new, sum, a) = isa.softmax_row(srow, scr.m[r]);
                scr.l[r] = scr.l[r] * a + sum;
                scr.m[r] = m_new;
                scr.alpha[r] = a;
            }
            let v = &vg[j0 * PANEL..];
            isa.pv(
                &scr.s,
                BC,
                rows,
                nc,
                v,
                s_pad * PANEL,
                otile,
                dvp,
                &scr.alpha,
            );
            j0 += BC;
        }
        for r in 0..rows {
            // l = 0 only for rows that see no key at all: they output zeros, like the reference.
            let inv = if scr.l[r] > 0.0 { 1.0 / scr.l[r] } else { 0.0 };
            o[r * dv..(r + 1) * dv]
                .iter_mut()
                .zip(&otile[r * dvp..r * dvp + dv])
                .for_each(|(y, &x)| *y = x * inv);
        }
    };
    out.par_chunks_mut(s * dv)
        .enumerate()
        .flat_map(|(bh, head)| {
            head.par_chunks_mut(BR * dv)
                .enumerate()
                .map(move |(t, o)| (bh, t, o))
        })
        .for_each_init(
            || Scratch {
                s: vec![0f32; BR * BC],
                o: vec![0f32; BR * dvp],
                m: vec![0f32; BR],
                l: vec![0f32; BR],
                alpha: vec![0f32; BR],
            },
            |scr, (bh, t, o)| task(scr, bh, t, o),
        );
}
