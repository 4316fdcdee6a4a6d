//! Fused flash-style f32 attention.
//!
//! 1. Rayon runs over (batch × kv-group). Each group first packs its keys into 16-column
//!    panels and its values into 16-column strips (O(seq·dim), positional encoding applied in
//!    f64 and rounded once to f32), into a pooled buffer that stays in L2 for the group's
//!    tiles; ALiBi/T5 become one Toeplitz bias row per head (`log2(e)`-scaled).
//! 2. Nested Rayon over the group's (query head × query tile). Each task packs its query
//!    rows (multiplied by `scale·log2(e)` so the softmax can use `2^x`) and walks the key
//!    tiles its rows can see — causal tiles beyond the diagonal and tiles left of a sliding
//!    window are never visited — doing S = Q·Kᵀ (SIMD micro-kernel), bias + mask (only on
//!    tiles that need it), the online-softmax row update and O = α·O + P·V (SIMD micro-kernel).
//! 3. Every input element is read once, by the packing, which also tests it for NaN/±∞ (no
//!    separate validation pass over the tensors). Tile scratch is per thread and K/V buffers
//!    are pooled, so no allocation happens inside the tile loops or, after the first call,
//!    at all.

use rayon::prelude::*;
use std::cell::RefCell;
use std::f64::consts::LOG2_E;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::config::{
    check_finite, validate_shapes, AttentionConfig, AttentionInputs, PositionalEncoding,
};
use crate::error::Error;
use crate::kernels::pack::non_finite;
use crate::kernels::{Isa, MR, PANEL};
use crate::pe::Prepared;

/// Query rows per task (a multiple of the micro-kernels' [`MR`] rows).
const BR: usize = 96;
/// Key columns per tile (a multiple of [`PANEL`]). 256 rather than 128 halves the per-tile
/// work (row rescaling, mask tests, loop setup): paired runs 3–8% faster at S = 512 and equal
/// at S = 2048; 512 was slower at S = 2048, D = 128.
const BC: usize = 256;
/// Rows per chunk of a masked tile (see the tile loop): two packed query blocks, one
/// AVX-512 register block.
const CH: usize = 2 * MR;
const _: () = assert!(BR.is_multiple_of(CH) && BC.is_multiple_of(PANEL));

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

/// Per-thread scratch of the tile loop: the packed query tile, logit tile, output tile and
/// row statistics.
struct Scratch {
    q: Vec<f32>,
    s: Vec<f32>,
    o: Vec<f32>,
    m: Vec<f32>,
    l: Vec<f32>,
    alpha: Vec<f32>,
}

impl Scratch {
    fn new(d: usize, dvp: usize) -> Self {
        Self {
            q: vec![0f32; BR * d],
            s: vec![0f32; BR * BC],
            o: vec![0f32; BR * dvp],
            m: vec![0f32; BR],
            l: vec![0f32; BR],
            alpha: vec![0f32; BR],
        }
    }
}

/// Flash attention into a caller-provided output buffer of length `cfg.out_len()`.
///
/// Error bound: see [`crate::error_bounds`] (tested against [`crate::reference_attention`]).
/// Non-finite inputs are detected while they are packed (one pass over the data instead of
/// two) and reported like [`crate::validate`] does; `out` is unspecified after an error.
pub fn flash_attention_into(
    isa: Isa,
    cfg: &AttentionConfig,
    inp: &AttentionInputs<'_>,
    out: &mut [f32],
) -> Result<(), Error> {
    isa.check()?;
    validate_shapes(cfg, inp)?;
    if out.len() != cfg.out_len() {
        return Err(Error::ShapeMismatch {
            tensor: "output",
            expected: cfg.out_len(),
            actual: out.len(),
        });
    }
    if cfg.softcap.is_some() {
        // tanh has no kernel: the f64 definition, rounded once (validates the inputs itself)
        let exact = crate::reference::reference_attention(cfg, inp)?;
        out.iter_mut().zip(&exact).for_each(|(y, &x)| *y = x as f32);
        return Ok(());
    }
    if run(isa, cfg, inp, out) {
        Ok(())
    } else {
        // Slow path, only on error: locate the first offending element.
        check_finite("q", inp.q)?;
        check_finite("k", inp.k)?;
        check_finite("v", inp.v)?;
        unreachable!("the packing passes saw a non-finite input that check_finite did not")
    }
}

/// Packed K and V buffers of one kv-group, reused across groups and calls: fresh
/// multi-megabyte allocations are page-faulted in on every use, which cost ~5% at S = 512.
/// A pool rather than a thread-local because a thread waiting inside one group's parallel
/// tile loop may steal (and pack) another group.
static KV_POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

thread_local! {
    /// Tile scratch reused across tasks and calls on this thread (tasks never nest).
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Frees the pooled K/V packing buffers kept between calls to avoid page-faulting them in
/// again, and the calling thread's tile scratch. The next call reallocates them.
pub fn release_workspace() {
    KV_POOL.lock().unwrap_or_else(|e| e.into_inner()).clear();
    SCRATCH.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = None;
        }
    });
}

fn pool_take(n: usize) -> Vec<f32> {
    let mut buf = KV_POOL
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop()
        .unwrap_or_default();
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
    buf
}

fn pool_put(buf: Vec<f32>) {
    KV_POOL.lock().unwrap_or_else(|e| e.into_inner()).push(buf);
}

/// The flash computation proper, on shape-validated input; `false` if an input is not finite.
///
/// Per (batch, kv-group), in parallel: pack that group's K into 16-column panels and V into
/// column strips (both stay in L2 for the group's tiles), then run the tiles of its query
/// heads in parallel, each packing its own query rows. Every input element is read once,
/// and the finiteness test rides along with the packing.
fn run(isa: Isa, cfg: &AttentionConfig, inp: &AttentionInputs<'_>, out: &mut [f32]) -> bool {
    let prep = Prepared::new(cfg);
    let (s, d, dv) = (cfg.seq, cfg.head_dim, cfg.value_dim);
    let (heads, kvh) = (cfg.heads, cfg.kv_heads);
    let gqa = heads / kvh;
    let npan = s.div_ceil(PANEL);
    let s_pad = npan * PANEL;
    let dvp = dv.div_ceil(PANEL) * PANEL;
    let kv_stride = npan * d * PANEL;
    let v_stride = s_pad * dvp;
    // NoPE and the additive biases leave q and k untouched: skip the f64 round trip.
    let f32_prepass = matches!(
        cfg.pe,
        PositionalEncoding::NoPE
            | PositionalEncoding::Alibi { .. }
            | PositionalEncoding::T5(_)
            | PositionalEncoding::KeyBias { .. }
    );
    let mult32 = (cfg.scale * LOG2_E) as f32;
    let bias: Option<Vec<f32>> = prep
        .bias
        .as_ref()
        .map(|b| b.values().iter().map(|&x| (x * LOG2_E) as f32).collect());
    let finite = AtomicBool::new(true);

    // --- Packing of one group's K and V: O(seq·dim), f64 then one rounding to f32 (or one
    // f32 copy). Padding key columns are always masked to -inf, so they need no clearing; V
    // padding is zeroed because P·V reads it (with weight 0, and 0·NaN would be NaN). V goes
    // into column strips `[dvp/16][s_pad][16]`: a tile's kc×16 strip is contiguous, which
    // avoids the L1 set conflicts of reading 16 floats from rows 4·dvp bytes apart.
    let pack_kv = |idx: usize, kp: &mut [f32], vp: &mut [f32], row: &mut [f64]| -> bool {
        let kd = cfg.key_dim();
        let keys_ok = if f32_prepass {
            isa.pack_keys(&inp.k[idx * s * kd..(idx + 1) * s * kd], s, d, kp)
        } else {
            let mut bad = 0u32;
            for j in 0..s {
                let (p, c) = (j / PANEL, j % PANEL);
                let src = &inp.k[(idx * s + j) * kd..][..kd];
                bad |= src.iter().fold(0, |a, &x| a | non_finite(x));
                let dst = &mut kp[p * d * PANEL + c..];
                prep.key_row(cfg, inp, idx / kvh, idx % kvh, j, true, row);
                for (t, &x) in row.iter().enumerate() {
                    dst[t * PANEL] = x as f32;
                }
            }
            bad == 0
        };
        if dv != dvp || s != s_pad {
            vp.fill(0.0);
        }
        let values_ok = isa.pack_values(&inp.v[idx * s * dv..(idx + 1) * s * dv], s, dv, s_pad, vp);
        keys_ok && values_ok
    };

    // --- Packing of one query tile into `[blk][d][MR]` row blocks, scaled by
    // `scale·log2(e)` so the softmax can use 2^x. Padding rows of the last block only produce
    // logit rows that are never read, so they need no clearing.
    let pack_q = |b: usize, h: usize, i0: usize, rows: usize, qt: &mut [f32], row: &mut [f64]| {
        let at = ((b * heads + h) * s + i0) * d;
        if f32_prepass {
            // One f32 product (2u instead of u relative error per element, inside the
            // bound's (D + 8)u margin).
            return isa.pack_queries(&inp.q[at..at + rows * d], rows, d, mult32, qt);
        }
        let mut bad = 0u32;
        for r in 0..rows {
            let src = &inp.q[at + r * d..][..d];
            bad |= src.iter().fold(0, |a, &x| a | non_finite(x));
            let dst = &mut qt[(r / MR) * d * MR + r % MR..];
            prep.query_row(cfg, inp, b, h, i0 + r, true, cfg.scale * LOG2_E, row);
            for (t, &x) in row.iter().enumerate() {
                dst[t * MR] = x as f32;
            }
        }
        bad == 0
    };

    // --- One query tile of head (b, h) against its group's packed K/V.
    let task = |scr: &mut Scratch,
                b: usize,
                h: usize,
                t: usize,
                o: &mut [f32],
                kpan: &[f32],
                vg: &[f32],
                row: &mut [f64]| {
        let i0 = t * BR;
        let rows = o.len() / dv;
        if !pack_q(b, h, i0, rows, &mut scr.q, row) {
            finite.store(false, Ordering::Relaxed);
            return;
        }
        let q = &scr.q[..];
        let hbias = bias.as_deref().zip(prep.bias.as_ref());
        let (jlo, _) = cfg.allowed_range(b, i0);
        let (_, jhi) = cfg.allowed_range(b, i0 + rows - 1);
        let otile = &mut scr.o[..rows * dvp];
        otile.fill(0.0);
        scr.m[..rows].fill(f32::NEG_INFINITY);
        scr.l[..rows].fill(0.0);
        let mut j0 = jlo / PANEL * PANEL;
        while j0 < jhi {
            let nc = (jhi.min(j0 + BC) - j0).div_ceil(PANEL) * PANEL;
            // Rows' visible ranges are monotone in i, so the first/last row decide.
            let needs_mask =
                cfg.allowed_range(b, i0 + rows - 1).0 > j0 || cfg.allowed_range(b, i0).1 < j0 + nc;
            // Key columns (whole panels) each CH-row chunk can see in this tile: all nc unless
            // masked; on a causal diagonal tile a chunk's last row bounds them, so panels that
            // are masked for the whole chunk are neither multiplied, exponentiated nor summed.
            let mut chunk_nc = [nc; BR / CH];
            let chunks = rows.div_ceil(CH);
            if needs_mask {
                for (c, w) in chunk_nc.iter_mut().enumerate().take(chunks) {
                    let last = i0 + ((c + 1) * CH).min(rows) - 1;
                    let hi = cfg.allowed_range(b, last).1.clamp(j0, j0 + nc);
                    *w = (hi - j0).div_ceil(PANEL) * PANEL;
                }
                for (c, &w) in chunk_nc
                    .iter()
                    .enumerate()
                    .take(chunks)
                    .filter(|(_, &w)| w > 0)
                {
                    let r0 = c * CH;
                    // CH is a multiple of MR, so row r0 starts a packed block at q[r0·d..].
                    let (qc, sc) = (&q[r0 * d..], &mut scr.s[r0 * BC..]);
                    isa.qk(qc, CH.min(rows - r0), d, &kpan[j0 * d..], w / PANEL, sc, BC);
                }
            } else {
                isa.qk(q, rows, d, &kpan[j0 * d..], nc / PANEL, &mut scr.s, BC);
            }
            for r in 0..rows {
                let ncr = chunk_nc[r / CH];
                if ncr == 0 {
                    continue; // no visible key in this tile: the row's state is unchanged
                }
                let i = i0 + r;
                let srow = &mut scr.s[r * BC..r * BC + ncr];
                if let Some((hb, layout)) = hbias {
                    let n = s.min(j0 + ncr) - j0;
                    let at = layout.row_start(s, h, i) + j0;
                    let brow = &hb[at..at + n];
                    srow[..n].iter_mut().zip(brow).for_each(|(x, &y)| *x += y);
                }
                if needs_mask {
                    let (lo, hi) = cfg.allowed_range(b, i);
                    let lo = lo.clamp(j0, j0 + ncr) - j0;
                    let hi = hi.clamp(j0, j0 + ncr) - j0;
                    srow[..lo].fill(f32::NEG_INFINITY);
                    srow[hi.max(lo)..].fill(f32::NEG_INFINITY);
                }
                let (m_new, sum, a) = isa.softmax_row(srow, scr.m[r]);
                scr.l[r] = scr.l[r] * a + sum;
                scr.m[r] = m_new;
                scr.alpha[r] = a;
            }
            let v = &vg[j0 * PANEL..];
            let (stride, pv_chunks) = if needs_mask { (CH, chunks) } else { (rows, 1) };
            for c in 0..pv_chunks {
                let (r0, w) = (c * stride, chunk_nc[c * stride / CH]);
                if w > 0 {
                    let rc = stride.min(rows - r0);
                    isa.pv::<BC>(
                        &scr.s[r0 * BC..],
                        rc,
                        w,
                        v,
                        s_pad * PANEL,
                        &mut otile[r0 * dvp..],
                        dvp,
                        &scr.alpha[r0..],
                    );
                }
            }
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

    // Heads h = g·gqa … (g+1)·gqa − 1 share kv-group g and are contiguous in `out`.
    out.par_chunks_mut(gqa * s * dv)
        .enumerate()
        .for_each(|(bg, group_out)| {
            let (b, g) = (bg / kvh, bg % kvh);
            let mut buf = pool_take(kv_stride + v_stride);
            let (kp, rest) = buf.split_at_mut(kv_stride);
            let vp = &mut rest[..v_stride];
            if !pack_kv(bg, kp, vp, &mut vec![0f64; d]) {
                finite.store(false, Ordering::Relaxed);
                pool_put(buf);
                return;
            }
            let (kp, vp) = (&*kp, &*vp);
            group_out
                .par_chunks_mut(s * dv)
                .enumerate()
                .flat_map(|(hh, head)| {
                    head.par_chunks_mut(BR * dv)
                        .enumerate()
                        .map(move |(t, o)| (g * gqa + hh, t, o))
                })
                .for_each_init(
                    || vec![0f64; d],
                    |row, (h, t, o)| {
                        if !finite.load(Ordering::Relaxed) {
                            return;
                        }
                        SCRATCH.with(|cell| match cell.try_borrow_mut() {
                            Ok(mut slot) => {
                                let scr = slot.get_or_insert_with(|| Scratch::new(d, dvp));
                                if scr.q.len() < BR * d || scr.o.len() < BR * dvp {
                                    *scr = Scratch::new(d, dvp);
                                }
                                task(scr, b, h, t, o, kp, vp, row);
                            }
                            Err(_) => task(&mut Scratch::new(d, dvp), b, h, t, o, kp, vp, row),
                        })
                    },
                );
            pool_put(buf);
        });
    finite.load(Ordering::Relaxed)
}
