//! AVX-512F kernels: the whole tile step (Q·Kᵀ, the online-softmax row update and P·V) in
//! zmm registers, so the hot loop never switches vector width.
//!
//! Register blocking: one zmm holds a 16-wide key panel or value strip, and the micro-kernels
//! take **two** of them at once against 12 query rows (two packed 6-row blocks): 24
//! accumulators + 2 operands + 1 broadcast of the 32 zmm registers. Per step that is 24 FMAs
//! for 14 loads (2 operand vectors, 12 broadcasts), so the two FMA ports, not the load ports,
//! set the pace; a 12×16 block (12 FMAs for 13 loads) was load-bound on Sapphire Rapids.
//! Odd panel/strip counts and row tails fall back to one-panel kernels.
//!
//! `exp2` is the AVX2 algorithm with the same coefficients ([`super::EXP2_COEFFS`]) in
//! 16 lanes, so [`super::EXP2_REL_ERROR`] is unchanged (the shared test checks it here too).
//! This path runs the same tests (`Isa::available()`) on every CPU that reports `avx512f`.

use super::{portable, EXP2_COEFFS, MR, PANEL};
use std::arch::x86_64::*;
use std::time::Instant;

/// Rows per micro-kernel call: two packed 6-row query blocks.
const MR2: usize = 2 * MR;

/// Calls `$mk::<M, …>` with `M` = `$rem` (1..=11) as a compile-time constant, so the
/// accumulator arrays stay in registers.
macro_rules! rows_tail {
    ($rem:expr, $mk:ident::<_ $(, $g:tt)*>, $($arg:expr),*) => {
        match $rem {
            0 => {}
            1 => $mk::<1 $(, $g)*>($($arg),*),
            2 => $mk::<2 $(, $g)*>($($arg),*),
            3 => $mk::<3 $(, $g)*>($($arg),*),
            4 => $mk::<4 $(, $g)*>($($arg),*),
            5 => $mk::<5 $(, $g)*>($($arg),*),
            6 => $mk::<6 $(, $g)*>($($arg),*),
            7 => $mk::<7 $(, $g)*>($($arg),*),
            8 => $mk::<8 $(, $g)*>($($arg),*),
            9 => $mk::<9 $(, $g)*>($($arg),*),
            10 => $mk::<10 $(, $g)*>($($arg),*),
            _ => $mk::<11 $(, $g)*>($($arg),*),
        }
    };
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn qk(
    q: &[f32],
    rows: usize,
    dk: usize,
    kpan: &[f32],
    npan: usize,
    s: &mut [f32],
    lds: usize,
) {
    let (qp, kp, sp) = (q.as_ptr(), kpan.as_ptr(), s.as_mut_ptr());
    let blocks = rows.div_ceil(MR);
    let mut p = 0;
    while p < npan {
        // Two panels (32 key columns) stay in L1 while the query row blocks stream past.
        let width = if p + 2 <= npan { 2 } else { 1 };
        let b = kp.add(p * dk * PANEL);
        let mut rb = 0;
        while rb < blocks {
            let m = if rb + 2 <= blocks { MR2 } else { MR };
            let (qb, sb) = (qp.add(rb * dk * MR), sp.add(rb * MR * lds + p * PANEL));
            match (width, m) {
                (2, MR2) => qk_mk::<MR2, 2>(qb, dk, b, sb, lds),
                (2, _) => qk_mk::<MR, 2>(qb, dk, b, sb, lds),
                (_, MR2) => qk_mk::<MR2, 1>(qb, dk, b, sb, lds),
                _ => qk_mk::<MR, 1>(qb, dk, b, sb, lds),
            }
            rb += m / MR;
        }
        p += width;
    }
}

/// `M` (6 or 12) rows × `W`·16 columns; rows ≥ 6 come from the next packed query block,
/// panel 1 starts `dk·16` floats after panel 0.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn qk_mk<const M: usize, const W: usize>(
    q: *const f32,
    dk: usize,
    b: *const f32,
    s: *mut f32,
    lds: usize,
) {
    let mut c = [[_mm512_setzero_ps(); W]; M];
    let q2 = q.add(dk * MR);
    for t in 0..dk {
        let mut bv = [_mm512_setzero_ps(); W];
        for (w, v) in bv.iter_mut().enumerate() {
            *v = _mm512_loadu_ps(b.add(w * dk * PANEL + t * PANEL));
        }
        for (r, acc) in c.iter_mut().enumerate() {
            let src = if r < MR {
                q.add(t * MR + r)
            } else {
                q2.add(t * MR + r - MR)
            };
            let a = _mm512_set1_ps(*src);
            for (x, v) in acc.iter_mut().zip(&bv) {
                *x = _mm512_fmadd_ps(a, *v, *x);
            }
        }
    }
    for (r, acc) in c.iter().enumerate() {
        for (w, x) in acc.iter().enumerate() {
            _mm512_storeu_ps(s.add(r * lds + w * PANEL), *x);
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pv<const LDP: usize>(
    p: &[f32],
    rows: usize,
    kc: usize,
    v: &[f32],
    strip_stride: usize,
    o: &mut [f32],
    ldo: usize,
    alpha: &[f32],
) {
    let (pp, vp, op, ap) = (p.as_ptr(), v.as_ptr(), o.as_mut_ptr(), alpha.as_ptr());
    let strips = ldo / PANEL;
    let mut strip = 0;
    while strip < strips {
        // Two kc×16 strips of V (32 output columns) stay in L1 while P's rows stream past.
        let (vs, os) = (vp.add(strip * strip_stride), op.add(strip * PANEL));
        if strip + 2 <= strips {
            pv_columns::<2, LDP>(pp, rows, kc, vs, strip_stride, os, ldo, ap);
            strip += 2;
        } else {
            pv_columns::<1, LDP>(pp, rows, kc, vs, strip_stride, os, ldo, ap);
            strip += 1;
        }
    }
}

/// All `rows` rows of `W` strips: 12-row blocks, then one tail block.
#[inline]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn pv_columns<const W: usize, const LDP: usize>(
    pp: *const f32,
    rows: usize,
    kc: usize,
    vs: *const f32,
    strip_stride: usize,
    os: *mut f32,
    ldo: usize,
    ap: *const f32,
) {
    let mut r = 0;
    while r + MR2 <= rows {
        let (pr, orow, ar) = (pp.add(r * LDP), os.add(r * ldo), ap.add(r));
        pv_mk::<MR2, W, LDP>(pr, kc, vs, strip_stride, orow, ldo, ar);
        r += MR2;
    }
    let (pr, orow, ar) = (pp.add(r * LDP), os.add(r * ldo), ap.add(r));
    rows_tail!(
        rows - r,
        pv_mk::<_, W, LDP>,
        pr,
        kc,
        vs,
        strip_stride,
        orow,
        ldo,
        ar
    );
}

/// `M` rows × `W`·16 output columns: `o = α·o + P·V`, strip `w` of V at `v + w·strip_stride`.
#[inline]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn pv_mk<const M: usize, const W: usize, const LDP: usize>(
    p: *const f32,
    kc: usize,
    v: *const f32,
    strip_stride: usize,
    o: *mut f32,
    ldo: usize,
    alpha: *const f32,
) {
    let mut c = [[_mm512_setzero_ps(); W]; M];
    for (r, acc) in c.iter_mut().enumerate() {
        let a = _mm512_set1_ps(*alpha.add(r));
        for (w, x) in acc.iter_mut().enumerate() {
            *x = _mm512_mul_ps(a, _mm512_loadu_ps(o.add(r * ldo + w * PANEL)));
        }
    }
    for j in 0..kc {
        let mut bv = [_mm512_setzero_ps(); W];
        for (w, b) in bv.iter_mut().enumerate() {
            *b = _mm512_loadu_ps(v.add(w * strip_stride + j * PANEL));
        }
        for (r, acc) in c.iter_mut().enumerate() {
            let a = _mm512_set1_ps(*p.add(r * LDP + j));
            for (x, b) in acc.iter_mut().zip(&bv) {
                *x = _mm512_fmadd_ps(a, *b, *x);
            }
        }
    }
    for (r, acc) in c.iter().enumerate() {
        for (w, x) in acc.iter().enumerate() {
            _mm512_storeu_ps(o.add(r * ldo + w * PANEL), *x);
        }
    }
}

/// Vector `2^x`: the AVX2 algorithm ([`super::avx2`]) in 16 lanes, except that `n`, the
/// integer nearest `x`, comes from adding `SHIFT = 1.5·2²³ + 127` rather than from
/// `vrndscaleps` (two p0 µops on Intel) and `vcvtps2dq`. For `x ∈ [-127, 0]` the sum lies in
/// `[2²³, 2²⁴)`, where f32 spacing is 1, so it is `SHIFT + n` exactly, and shifting its bits
/// left by 23 leaves exactly the bits of `2^n` (the constant's own bits shift out). Ties
/// (`x` a half-integer) round to the even sum, i.e. odd `n`; either neighbour keeps
/// `f = x − n ∈ [−1/2, 1/2]`, where the polynomial's bound holds, so
/// [`super::EXP2_REL_ERROR`] is unchanged. Inputs ≤ −126.5 (and NaN, which `max` replaces
/// by its second operand) give `n = −127`, whose bits are +0: exactly 0.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn exp2v(x: __m512) -> __m512 {
    const SHIFT: f32 = 12_582_912.0 + 127.0;
    let x = _mm512_max_ps(x, _mm512_set1_ps(-127.0));
    let t = _mm512_add_ps(x, _mm512_set1_ps(SHIFT));
    let n = _mm512_sub_ps(t, _mm512_set1_ps(SHIFT));
    let f = _mm512_sub_ps(x, n);
    let c = EXP2_COEFFS;
    let mut p = _mm512_set1_ps(c[6]);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[5]));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[4]));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[3]));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[2]));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[1]));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(c[0]));
    let e = _mm512_slli_epi32::<23>(_mm512_castps_si512(t));
    _mm512_mul_ps(p, _mm512_castsi512_ps(e))
}

/// Lane mask of the first `len` (< 16) lanes.
#[inline]
fn head_mask(len: usize) -> __mmask16 {
    ((1u32 << len) - 1) as __mmask16
}

#[cfg(test)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn exp2_slice(x: &mut [f32]) {
    for c in x.chunks_mut(PANEL) {
        let m = if c.len() == PANEL {
            !0
        } else {
            head_mask(c.len())
        };
        let y = exp2v(_mm512_maskz_loadu_ps(m, c.as_ptr()));
        _mm512_mask_storeu_ps(c.as_mut_ptr(), m, y);
    }
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn softmax_row(row: &mut [f32], m_old: f32) -> (f32, f32, f32) {
    let n = row.len();
    let ptr = row.as_mut_ptr();
    let full = n / PANEL * PANEL;
    let tail = head_mask(n - full);
    let ninf = _mm512_set1_ps(f32::NEG_INFINITY);
    let (mut m0, mut m1) = (_mm512_set1_ps(m_old), ninf);
    let mut i = 0;
    while i + 2 * PANEL <= full {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(ptr.add(i)));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(ptr.add(i + PANEL)));
        i += 2 * PANEL;
    }
    if i < full {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(ptr.add(i)));
    }
    if tail != 0 {
        m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(ninf, tail, ptr.add(full)));
    }
    let m_new = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
    if m_new == f32::NEG_INFINITY {
        row.fill(0.0);
        return (m_new, 0.0, 1.0);
    }
    let vmn = _mm512_set1_ps(m_new);
    let (mut s0, mut s1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 2 * PANEL <= full {
        let e0 = exp2v(_mm512_sub_ps(_mm512_loadu_ps(ptr.add(i)), vmn));
        let e1 = exp2v(_mm512_sub_ps(_mm512_loadu_ps(ptr.add(i + PANEL)), vmn));
        _mm512_storeu_ps(ptr.add(i), e0);
        _mm512_storeu_ps(ptr.add(i + PANEL), e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
        i += 2 * PANEL;
    }
    if i < full {
        let e0 = exp2v(_mm512_sub_ps(_mm512_loadu_ps(ptr.add(i)), vmn));
        _mm512_storeu_ps(ptr.add(i), e0);
        s0 = _mm512_add_ps(s0, e0);
    }
    if tail != 0 {
        let x = _mm512_mask_loadu_ps(ninf, tail, ptr.add(full));
        let e = exp2v(_mm512_sub_ps(x, vmn));
        _mm512_mask_storeu_ps(ptr.add(full), tail, e);
        // Masked-off lanes are exp2(-inf) = 0, so they add nothing.
        s1 = _mm512_add_ps(s1, e);
    }
    (
        m_new,
        _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)),
        portable::exp2(m_old - m_new),
    )
}

/// Sixteen independent zmm FMA chains (latency 4 × 2 ports + slack), FLOP/s: the probe
/// measures the 512-bit FMA peak the kernels above run at.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn fma_probe(seconds: f64) -> f64 {
    const CHAINS: usize = 16;
    const ITERS: u64 = 100_000;
    let a = _mm512_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm512_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    let start = Instant::now();
    let mut reps = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..ITERS {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        reps += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (reps * ITERS * CHAINS as u64 * 16 * 2) as f64 / elapsed
}

/// Lane mask of NaN/±∞ lanes of `x`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn non_finite_mask(x: __m512) -> __mmask16 {
    let exp = _mm512_set1_epi32(0x7f80_0000);
    _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(x), exp), exp)
}

/// [`super::pack::k_panels`] with one 16-lane gather per `(panel, t)`: lane `c` reads row
/// `16·p + c` (masked past `s`).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pack_k_panels(src: &[f32], s: usize, d: usize, dst: &mut [f32]) -> bool {
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let stride = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(d as i32),
    );
    let mut bad: __mmask16 = 0;
    for p in 0..s.div_ceil(PANEL) {
        let rows = (s - p * PANEL).min(PANEL);
        let m = if rows == PANEL { !0 } else { head_mask(rows) };
        let base = sp.add(p * PANEL * d);
        let out = dp.add(p * d * PANEL);
        for t in 0..d {
            let x = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), m, stride, base.add(t));
            bad |= non_finite_mask(x);
            _mm512_mask_storeu_ps(out.add(t * PANEL), m, x);
        }
    }
    bad == 0
}

/// [`super::pack::q_blocks`]: per 6-row block and pair of columns `(t, t + 1)`, one 12-lane
/// gather (lanes 0–5 column `t`, 6–11 column `t + 1`), times `mult`, one contiguous store.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pack_q_blocks(
    src: &[f32],
    rows: usize,
    d: usize,
    mult: f32,
    dst: &mut [f32],
) -> bool {
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let di = d as i32;
    // lane l: row l % 6, column offset l / 6
    let idx = _mm512_setr_epi32(
        0,
        di,
        2 * di,
        3 * di,
        4 * di,
        5 * di,
        1,
        di + 1,
        2 * di + 1,
        3 * di + 1,
        4 * di + 1,
        5 * di + 1,
        0,
        0,
        0,
        0,
    );
    let vm = _mm512_set1_ps(mult);
    let mut bad: __mmask16 = 0;
    for blk in 0..rows.div_ceil(MR) {
        let r = (rows - blk * MR).min(MR);
        let one = head_mask(r); // lanes of column t
        let two = one | (one << MR); // and of column t + 1
        let base = sp.add(blk * MR * d);
        let out = dp.add(blk * d * MR);
        let mut t = 0;
        while t + 2 <= d {
            let x = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), two, idx, base.add(t));
            bad |= non_finite_mask(x);
            // rows past `rows` keep what they held, as in the portable version
            _mm512_mask_storeu_ps(out.add(t * MR), two, _mm512_mul_ps(x, vm));
            t += 2;
        }
        if t < d {
            let x = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), one, idx, base.add(t));
            bad |= non_finite_mask(x);
            _mm512_mask_storeu_ps(out.add(t * MR), one, _mm512_mul_ps(x, vm));
        }
    }
    bad == 0
}

/// [`super::pack::v_strips`] with masked 16-lane row copies.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pack_v_strips(
    src: &[f32],
    s: usize,
    dv: usize,
    s_pad: usize,
    dst: &mut [f32],
) -> bool {
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let mut bad: __mmask16 = 0;
    for strip in 0..dv.div_ceil(PANEL) {
        let w = (dv - strip * PANEL).min(PANEL);
        let m = if w == PANEL { !0 } else { head_mask(w) };
        let out = dp.add(strip * s_pad * PANEL);
        for j in 0..s {
            let x = _mm512_maskz_loadu_ps(m, sp.add(j * dv + strip * PANEL));
            bad |= non_finite_mask(x);
            _mm512_mask_storeu_ps(out.add(j * PANEL), m, x);
        }
    }
    bad == 0
}
