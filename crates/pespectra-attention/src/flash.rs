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
use std::f64::consts::LOG2_E;

use crate::config::{validate, AttentionConfig, AttentionInputs};
use crate::error::Error;
use crate::kernels::{Isa, PANEL};
use crate::pe::Prepared;

/// Query rows per task (a multiple of the 6-row micro-kernel).
const BR: usize = 96;
/// Key columns per tile (a multiple of [`PANEL`]).
const BC: usize = 128;

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

/// Packs `[s][d]` keys into `npan` panels of `[d][PANEL]` (zero-padded past `s`).
pub(crate) fn pack_k_panels(k: &[f64], s: usize, d: usize, npan: usize) -> Vec<f32> {
    let mut out = vec![0f32; npan * d * PANEL];
    pack_k_into(k, s, d, &mut out);
    out
}

fn pack_k_into(k: &[f64], s: usize, d: usize, out: &mut [f32]) {
    for j in 0..s {
        let (p, c) = (j / PANEL, j % PANEL);
        for t in 0..d {
            out[(p * d + t) * PANEL + c] = k[j * d + t] as f32;
        }
    }
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
/// Error bound (tested against [`crate::reference_attention`]): with `u = 2^-24`,
/// `E_i = (D + 8)·u·scale·‖q'_i‖·max_j‖k'_j‖ + 4u·max|bias|` the logit error, each output
/// element satisfies `|o - o_ref| ≤ [(e^{2E_i} - 1) + 2·ε_exp + (S + 4·S/BC + 8)·u]·max_j|v_j|`
/// where `ε_exp` = [`crate::EXP2_REL_ERROR`].
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
    let prep = Prepared::new(cfg);
    let (s, d, dv) = (cfg.seq, cfg.head_dim, cfg.value_dim);
    let (heads, kvh) = (cfg.heads, cfg.kv_heads);
    let gqa = heads / kvh;
    let npan = s.div_ceil(PANEL);
    let s_pad = npan * PANEL;
    let dvp = dv.div_ceil(PANEL) * PANEL;

    // --- Prepass: O(seq·dim) per head, f64 then one rounding to f32.
    let mut qp = vec![0f32; cfg.batch * heads * s * d];
    qp.par_chunks_mut(s * d).enumerate().for_each_init(
        || vec![0f64; s * d],
        |tmp, (idx, dst)| {
            prep.query(
                cfg,
                inp,
                idx / heads,
                idx % heads,
                true,
                cfg.scale * LOG2_E,
                tmp,
            );
            dst.iter_mut()
                .zip(tmp.iter())
                .for_each(|(o, &x)| *o = x as f32);
        },
    );
    let mut kp = vec![0f32; cfg.batch * kvh * npan * d * PANEL];
    kp.par_chunks_mut(npan * d * PANEL)
        .enumerate()
        .for_each_init(
            || vec![0f64; s * d],
            |tmp, (idx, dst)| {
                prep.key(cfg, inp, idx / kvh, idx % kvh, true, tmp);
                pack_k_into(tmp, s, d, dst);
            },
        );
    let mut vp = vec![0f32; cfg.batch * kvh * s_pad * dvp];
    vp.par_chunks_mut(s_pad * dvp)
        .enumerate()
        .for_each(|(idx, dst)| {
            let src = &inp.v[idx * s * dv..(idx + 1) * s * dv];
            for j in 0..s {
                dst[j * dvp..j * dvp + dv].copy_from_slice(&src[j * dv..(j + 1) * dv]);
            }
        });
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
        let q = &qp[(bh * s + i0) * d..(bh * s + i0 + rows) * d];
        let kpan = &kp[g * npan * d * PANEL..(g + 1) * npan * d * PANEL];
        let vg = &vp[g * s_pad * dvp..(g + 1) * s_pad * dvp];
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
            isa.qk(q, d, rows, d, &kpan[j0 * d..], nc / PANEL, &mut scr.s, BC);
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
            isa.pv(
                &scr.s,
                BC,
                rows,
                nc,
                &vg[j0 * dvp..],
                dvp,
                otile,
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
    Ok(())
}
