//! AVX-512F kernels for Q·Kᵀ and P·V (the softmax row update reuses the AVX2 kernel,
//! which every AVX-512 CPU also runs). One zmm holds a whole 16-wide key panel or value
//! strip, so the register block is 12 rows × 16 columns: 12 accumulators + 1 operand +
//! 1 broadcast of the 32 zmm registers, with the same packed layouts as AVX2.
//!
//! This path is exercised by the same tests (`Isa::available()`) on CPUs that report
//! `avx512f` (it passes them on AMD Zen 4); the kernels are deliberately a line-by-line
//! transcription of the AVX2 ones.

use super::{MR, PANEL};
use std::arch::x86_64::*;
use std::time::Instant;

/// Rows per Q·Kᵀ micro-kernel call: two packed 6-row query blocks.
const MR2: usize = 2 * MR;

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
    for p in 0..npan {
        let b = kp.add(p * dk * PANEL);
        let mut rb = 0;
        while rb + 2 <= blocks {
            qk_mk::<MR2>(
                qp.add(rb * dk * MR),
                dk,
                b,
                sp.add(rb * MR * lds + p * PANEL),
                lds,
            );
            rb += 2;
        }
        if rb < blocks {
            qk_mk::<MR>(
                qp.add(rb * dk * MR),
                dk,
                b,
                sp.add(rb * MR * lds + p * PANEL),
                lds,
            );
        }
    }
}

/// `M` (6 or 12) rows × 16 columns; rows ≥ 6 come from the next packed query block.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn qk_mk<const M: usize>(q: *const f32, dk: usize, b: *const f32, s: *mut f32, lds: usize) {
    let mut c = [_mm512_setzero_ps(); M];
    let q2 = q.add(dk * MR);
    for t in 0..dk {
        let bv = _mm512_loadu_ps(b.add(t * PANEL));
        for (r, acc) in c.iter_mut().enumerate() {
            let src = if r < MR {
                q.add(t * MR + r)
            } else {
                q2.add(t * MR + r - MR)
            };
            *acc = _mm512_fmadd_ps(_mm512_set1_ps(*src), bv, *acc);
        }
    }
    for (r, acc) in c.iter().enumerate() {
        _mm512_storeu_ps(s.add(r * lds), *acc);
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn pv(
    p: &[f32],
    ldp: usize,
    rows: usize,
    kc: usize,
    v: &[f32],
    strip_stride: usize,
    o: &mut [f32],
    ldo: usize,
    alpha: &[f32],
) {
    let (pp, vp, op, ap) = (p.as_ptr(), v.as_ptr(), o.as_mut_ptr(), alpha.as_ptr());
    for (strip, nb) in (0..ldo).step_by(PANEL).enumerate() {
        let vs = vp.add(strip * strip_stride);
        let mut r = 0;
        while r + MR2 <= rows {
            pv_mk::<MR2>(
                pp.add(r * ldp),
                ldp,
                kc,
                vs,
                op.add(r * ldo + nb),
                ldo,
                ap.add(r),
            );
            r += MR2;
        }
        let (pr, orow, ar) = (pp.add(r * ldp), op.add(r * ldo + nb), ap.add(r));
        match rows - r {
            0 => {}
            1 => pv_mk::<1>(pr, ldp, kc, vs, orow, ldo, ar),
            2 => pv_mk::<2>(pr, ldp, kc, vs, orow, ldo, ar),
            3 => pv_mk::<3>(pr, ldp, kc, vs, orow, ldo, ar),
            4 => pv_mk::<4>(pr, ldp, kc, vs, orow, ldo, ar),
            5 => pv_mk::<5>(pr, ldp, kc, vs, orow, ldo, ar),
            6 => pv_mk::<6>(pr, ldp, kc, vs, orow, ldo, ar),
            7 => pv_mk::<7>(pr, ldp, kc, vs, orow, ldo, ar),
            8 => pv_mk::<8>(pr, ldp, kc, vs, orow, ldo, ar),
            9 => pv_mk::<9>(pr, ldp, kc, vs, orow, ldo, ar),
            10 => pv_mk::<10>(pr, ldp, kc, vs, orow, ldo, ar),
            _ => pv_mk::<11>(pr, ldp, kc, vs, orow, ldo, ar),
        }
    }
}

#[inline]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
unsafe fn pv_mk<const M: usize>(
    p: *const f32,
    ldp: usize,
    kc: usize,
    v: *const f32,
    o: *mut f32,
    ldo: usize,
    alpha: *const f32,
) {
    let mut c = [_mm512_setzero_ps(); M];
    for (r, acc) in c.iter_mut().enumerate() {
        *acc = _mm512_mul_ps(
            _mm512_set1_ps(*alpha.add(r)),
            _mm512_loadu_ps(o.add(r * ldo)),
        );
    }
    for j in 0..kc {
        let bv = _mm512_loadu_ps(v.add(j * PANEL));
        for (r, acc) in c.iter_mut().enumerate() {
            *acc = _mm512_fmadd_ps(_mm512_set1_ps(*p.add(r * ldp + j)), bv, *acc);
        }
    }
    for (r, acc) in c.iter().enumerate() {
        _mm512_storeu_ps(o.add(r * ldo), *acc);
    }
}

/// Sixteen independent zmm FMA chains (latency 4 × 2 ports + slack), FLOP/s.
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
