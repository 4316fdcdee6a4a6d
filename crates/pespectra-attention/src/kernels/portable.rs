//! Portable kernels: the same tiling as the SIMD path in plain Rust. They define the
//! semantics the AVX2 kernels must reproduce and run on any CPU. They use `a*b + c`, not
//! `mul_add` (a slow libm call without hardware FMA); the error bounds hold either way.

use super::{EXP2_COEFFS, MR, PANEL};
use std::time::Instant;

/// `2^x` by range reduction `x = n + f`, `|f| ≤ 1/2`, and the degree-6 polynomial;
/// `x < -126.5` (including `-inf`) flushes to 0 through a zero exponent field.
#[inline]
pub(super) fn exp2(x: f32) -> f32 {
    let x = x.max(-127.0);
    let n = x.round();
    let f = x - n;
    let c = EXP2_COEFFS;
    let p = c[0] + f * (c[1] + f * (c[2] + f * (c[3] + f * (c[4] + f * (c[5] + f * c[6])))));
    let e = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * e
}

pub(super) fn qk(
    q: &[f32],
    rows: usize,
    dk: usize,
    kpan: &[f32],
    npan: usize,
    s: &mut [f32],
    lds: usize,
) {
    for rb in 0..rows.div_ceil(MR) {
        let qb = &q[rb * dk * MR..(rb + 1) * dk * MR];
        for p in 0..npan {
            let panel = &kpan[p * dk * PANEL..(p + 1) * dk * PANEL];
            let mut acc = [[0f32; PANEL]; MR];
            for t in 0..dk {
                let kt = &panel[t * PANEL..(t + 1) * PANEL];
                for (r, a) in acc.iter_mut().enumerate() {
                    let qv = qb[t * MR + r];
                    for (x, &kv) in a.iter_mut().zip(kt) {
                        *x += qv * kv;
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                let row = (rb * MR + r) * lds + p * PANEL;
                s[row..row + PANEL].copy_from_slice(a);
            }
        }
    }
}

pub(super) fn softmax_row(row: &mut [f32], m_old: f32) -> (f32, f32, f32) {
    let m_new = row.iter().fold(m_old, |m, &x| m.max(x));
    if m_new == f32::NEG_INFINITY {
        row.fill(0.0);
        return (m_new, 0.0, 1.0);
    }
    let mut sum = 0.0;
    for x in row.iter_mut() {
        *x = exp2(*x - m_new);
        sum += *x;
    }
    (m_new, sum, exp2(m_old - m_new))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn pv(
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
    for r in 0..rows {
        let orow = &mut o[r * ldo..(r + 1) * ldo];
        orow.iter_mut().for_each(|x| *x *= alpha[r]);
        for (strip, oc) in orow.chunks_exact_mut(PANEL).enumerate() {
            let vs = &v[strip * strip_stride..];
            for j in 0..kc {
                let pj = p[r * ldp + j];
                for (x, &vv) in oc.iter_mut().zip(&vs[j * PANEL..(j + 1) * PANEL]) {
                    *x += pj * vv;
                }
            }
        }
    }
}

/// Scalar multiply-add throughput (8 independent chains), FLOP/s. Plain `a*b + c`
/// rather than `mul_add`, which is a libm call on the baseline x86-64 target.
pub(super) fn fma_probe(seconds: f64) -> f64 {
    let mut acc = [1.0f32, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7];
    let (a, b) = (
        std::hint::black_box(0.999_999f32),
        std::hint::black_box(1e-7f32),
    );
    let iters = 1_000_000u64;
    let start = Instant::now();
    let mut reps = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = *x * a + b;
            }
        }
        reps += 1;
    }
    std::hint::black_box(acc);
    (reps * iters * 8 * 2) as f64 / start.elapsed().as_secs_f64()
}
