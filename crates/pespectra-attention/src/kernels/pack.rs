//! Packing of f32 inputs that need no positional step (NoPE and the additive biases) into the
//! layouts the micro-kernels stream, testing every element for NaN/±∞ on the way (the flash
//! path's only read of its inputs). These are the portable definitions; the AVX-512 path
//! has vector versions with the same results (tested against these).

use super::{MR, PANEL};

/// 1 if `x` is NaN or ±∞ (all exponent bits set); branch-free so the loops vectorise.
#[inline]
pub(crate) fn non_finite(x: f32) -> u32 {
    u32::from(x.to_bits() & 0x7f80_0000 == 0x7f80_0000)
}

/// `s` key rows of width `d` (contiguous) into `[⌈s/16⌉][d][16]` panels; padding columns of
/// the last panel are left as they were. `false` if an element is not finite.
pub(super) fn k_panels(src: &[f32], s: usize, d: usize, dst: &mut [f32]) -> bool {
    let mut bad = 0u32;
    for j in 0..s {
        let (p, c) = (j / PANEL, j % PANEL);
        let row = &src[j * d..(j + 1) * d];
        bad |= row.iter().fold(0, |a, &x| a | non_finite(x));
        let out = &mut dst[p * d * PANEL + c..];
        for (t, &x) in row.iter().enumerate() {
            out[t * PANEL] = x;
        }
    }
    bad == 0
}

/// `rows` query rows of width `d` (contiguous), times `mult` (one f32 product), into
/// `[⌈rows/6⌉][d][6]` blocks; padding rows are left as they were.
pub(super) fn q_blocks(src: &[f32], rows: usize, d: usize, mult: f32, dst: &mut [f32]) -> bool {
    let mut bad = 0u32;
    for r in 0..rows {
        let row = &src[r * d..(r + 1) * d];
        bad |= row.iter().fold(0, |a, &x| a | non_finite(x));
        let out = &mut dst[(r / MR) * d * MR + r % MR..];
        for (t, &x) in row.iter().enumerate() {
            out[t * MR] = x * mult;
        }
    }
    bad == 0
}

/// `s` value rows of width `dv` (contiguous) into column strips `[⌈dv/16⌉][s_pad][16]`;
/// padding is left as it was.
pub(super) fn v_strips(src: &[f32], s: usize, dv: usize, s_pad: usize, dst: &mut [f32]) -> bool {
    let mut bad = 0u32;
    for (j, row) in src[..s * dv].chunks_exact(dv).enumerate() {
        bad |= row.iter().fold(0, |a, &x| a | non_finite(x));
        for (strip, chunk) in row.chunks(PANEL).enumerate() {
            let at = (strip * s_pad + j) * PANEL;
            dst[at..at + chunk.len()].copy_from_slice(chunk);
        }
    }
    bad == 0
}
