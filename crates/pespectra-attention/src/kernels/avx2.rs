//! AVX2 + FMA kernels. Register blocking is the classic Haswell/Zen 6×16 shape: six rows
//! of the left operand are broadcast against two ymm vectors of the right operand, giving
//! 12 accumulators + 2 operand registers + 1 broadcast = 15 of the 16 ymm registers.
//! The same micro-kernel shape serves Q·Kᵀ (right operand = packed key panel) and P·V
//! (right operand = 16 contiguous columns of V rows, so V needs no packing).
//!
//! Every function here is `unsafe` because it requires AVX2+FMA (checked by
//! [`super::Isa::check`]) and trusts the bounds asserted in [`super::Isa`]'s wrappers.

use super::{portable, EXP2_COEFFS, PANEL};
use std::arch::x86_64::*;
use std::time::Instant;

use super::MR;

/// Calls `$mk::<M>` for the `rows % MR` tail rows, with `M` a compile-time constant so
/// that the accumulator arrays stay in registers.
macro_rules! tail {
    ($rem:expr, $mk:ident, $($arg:expr),*) => {
        match $rem {
            1 => $mk::<1>($($arg),*),
            2 => $mk::<2>($($arg),*),
            3 => $mk::<3>($($arg),*),
            4 => $mk::<4>($($arg),*),
            5 => $mk::<5>($($arg),*),
            _ => {}
        }
    };
}

#[target_feature(enable = "avx2,fma")]
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
        // One 16-column key panel stays in L1 while all row blocks stream past it.
        let b = kp.add(p * dk * PANEL);
        for rb in 0..blocks {
            qk_mk(
                qp.add(rb * dk * MR),
                dk,
                b,
                sp.add(rb * MR * lds + p * PANEL),
                lds,
            );
        }
    }
}

/// 6×16 block of `Q·Kᵀ`: `q` is a `[dk][6]` row block, `b` a `[dk][16]` key panel, so
/// both operands stream contiguously.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn qk_mk(q: *const f32, dk: usize, b: *const f32, s: *mut f32, lds: usize) {
    let mut c0 = [_mm256_setzero_ps(); MR];
    let mut c1 = [_mm256_setzero_ps(); MR];
    let step = |t: usize, c0: &mut [__m256; MR], c1: &mut [__m256; MR]| {
        let b0 = _mm256_loadu_ps(b.add(t * PANEL));
        let b1 = _mm256_loadu_ps(b.add(t * PANEL + 8));
        for r in 0..MR {
            let a = _mm256_broadcast_ss(&*q.add(t * MR + r));
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    };
    // Unrolled ×4: fewer loop-control µops per FMA (measured +5–10% on Zen 3).
    let mut t = 0;
    while t + 4 <= dk {
        step(t, &mut c0, &mut c1);
        step(t + 1, &mut c0, &mut c1);
        step(t + 2, &mut c0, &mut c1);
        step(t + 3, &mut c0, &mut c1);
        t += 4;
    }
    while t < dk {
        step(t, &mut c0, &mut c1);
        t += 1;
    }
    for r in 0..MR {
        _mm256_storeu_ps(s.add(r * lds), c0[r]);
        _mm256_storeu_ps(s.add(r * lds + 8), c1[r]);
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
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
        // A contiguous kc×16 strip of V stays in L1 while the row blocks of P stream past.
        let vs = vp.add(strip * strip_stride);
        let mut r = 0;
        while r + MR <= rows {
            pv_mk::<MR>(
                pp.add(r * ldp),
                ldp,
                kc,
                vs,
                op.add(r * ldo + nb),
                ldo,
                ap.add(r),
            );
            r += MR;
        }
        tail!(
            rows - r,
            pv_mk,
            pp.add(r * ldp),
            ldp,
            kc,
            vs,
            op.add(r * ldo + nb),
            ldo,
            ap.add(r)
        );
    }
}

#[inline]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma")]
unsafe fn pv_mk<const M: usize>(
    p: *const f32,
    ldp: usize,
    kc: usize,
    v: *const f32,
    o: *mut f32,
    ldo: usize,
    alpha: *const f32,
) {
    let mut c0 = [_mm256_setzero_ps(); M];
    let mut c1 = [_mm256_setzero_ps(); M];
    for r in 0..M {
        let a = _mm256_broadcast_ss(&*alpha.add(r));
        c0[r] = _mm256_mul_ps(a, _mm256_loadu_ps(o.add(r * ldo)));
        c1[r] = _mm256_mul_ps(a, _mm256_loadu_ps(o.add(r * ldo + 8)));
    }
    let step = |j: usize, c0: &mut [__m256; M], c1: &mut [__m256; M]| {
        let b0 = _mm256_loadu_ps(v.add(j * PANEL));
        let b1 = _mm256_loadu_ps(v.add(j * PANEL + 8));
        for r in 0..M {
            let a = _mm256_broadcast_ss(&*p.add(r * ldp + j));
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    };
    // kc is a multiple of PANEL (whole key panels), so the ×4 unrolled loop has no tail.
    debug_assert!(kc.is_multiple_of(4));
    for j in (0..kc).step_by(4) {
        step(j, &mut c0, &mut c1);
        step(j + 1, &mut c0, &mut c1);
        step(j + 2, &mut c0, &mut c1);
        step(j + 3, &mut c0, &mut c1);
    }
    for r in 0..M {
        _mm256_storeu_ps(o.add(r * ldo), c0[r]);
        _mm256_storeu_ps(o.add(r * ldo + 8), c1[r]);
    }
}

/// Vector `2^x`, same algorithm and coefficients as [`portable::exp2`].
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp2v(x: __m256) -> __m256 {
    // max_ps returns the second operand for NaN/-inf inputs, so both flush to 0 below.
    let x = _mm256_max_ps(x, _mm256_set1_ps(-127.0));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(x);
    let f = _mm256_sub_ps(x, n);
    let c = EXP2_COEFFS;
    let mut p = _mm256_set1_ps(c[6]);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[5]));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[4]));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[3]));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[2]));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[1]));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(c[0]));
    let e = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    _mm256_mul_ps(p, _mm256_castsi256_ps(e))
}

#[cfg(test)]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn exp2_slice(x: &mut [f32]) {
    let mut chunks = x.chunks_exact_mut(8);
    for c in &mut chunks {
        _mm256_storeu_ps(c.as_mut_ptr(), exp2v(_mm256_loadu_ps(c.as_ptr())));
    }
    for v in chunks.into_remainder() {
        *v = portable::exp2(*v);
    }
}

#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn hmax(v: __m256) -> f32 {
    let m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    let m = _mm_max_ss(m, _mm_shuffle_ps::<1>(m, m));
    _mm_cvtss_f32(m)
}

#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn softmax_row(row: &mut [f32], m_old: f32) -> (f32, f32, f32) {
    let n = row.len();
    let ptr = row.as_mut_ptr();
    let mut vm = _mm256_set1_ps(m_old);
    for i in (0..n).step_by(8) {
        vm = _mm256_max_ps(vm, _mm256_loadu_ps(ptr.add(i)));
    }
    let m_new = hmax(vm);
    if m_new == f32::NEG_INFINITY {
        row.fill(0.0);
        return (m_new, 0.0, 1.0);
    }
    let vmn = _mm256_set1_ps(m_new);
    let (mut s0, mut s1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        let e0 = exp2v(_mm256_sub_ps(_mm256_loadu_ps(ptr.add(i)), vmn));
        let e1 = exp2v(_mm256_sub_ps(_mm256_loadu_ps(ptr.add(i + 8)), vmn));
        _mm256_storeu_ps(ptr.add(i), e0);
        _mm256_storeu_ps(ptr.add(i + 8), e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
        i += 16;
    }
    if i < n {
        let e0 = exp2v(_mm256_sub_ps(_mm256_loadu_ps(ptr.add(i)), vmn));
        _mm256_storeu_ps(ptr.add(i), e0);
        s0 = _mm256_add_ps(s0, e0);
    }
    (
        m_new,
        hsum(_mm256_add_ps(s0, s1)),
        portable::exp2(m_old - m_new),
    )
}

/// Twelve independent FMA chains (≥ latency 4 × 2 pipes + slack), FLOP/s on this thread.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn fma_probe(seconds: f64) -> f64 {
    const CHAINS: usize = 12;
    const ITERS: u64 = 200_000;
    let a = _mm256_set1_ps(std::hint::black_box(0.999_999));
    let b = _mm256_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    let start = Instant::now();
    let mut reps = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..ITERS {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        reps += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    std::hint::black_box(acc);
    (reps * ITERS * CHAINS as u64 * 8 * 2) as f64 / elapsed
}
