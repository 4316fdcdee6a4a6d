//! Tile kernels of the flash path and their runtime dispatch.
//!
//! Three kernels make up one (query tile × key tile) step:
//! - [`Isa::qk`]: `S = Q·Kᵀ` on a tile, `K` packed in [`PANEL`]-wide column panels;
//! - [`Isa::softmax_row`]: online-softmax update of one row (max, `exp2`, sum, rescale factor);
//! - [`Isa::pv`]: `O = diag(α)·O + P·V`.
//!
//! Each exists as a portable Rust version, an AVX2+FMA version (6×16 register-blocked
//! micro-kernels, `#[target_feature]`, selected at run time) and an AVX-512F version (12×32
//! zmm micro-kernels and a 16-lane softmax, so that path never leaves 512-bit code). The
//! test-suite runs every path `Isa::available()` reports, so the zmm kernels are exercised on
//! AVX-512 CPUs (AMD Zen 4, Intel Sapphire Rapids-class Xeon) and skipped elsewhere.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
pub(crate) mod pack;
mod portable;

/// Off x86-64 `Isa::Avx2` is never available, so this shim is never dispatched; it only
/// keeps the dispatch `match` identical on every target.
#[cfg(not(target_arch = "x86_64"))]
mod avx512 {
    #[cfg(test)]
    pub(super) use super::avx2::exp2_slice;
    pub(super) use super::avx2::{fma_probe, pv, qk, softmax_row};
    pub(super) use super::pack::{
        k_panels as pack_k_panels, q_blocks as pack_q_blocks, v_strips as pack_v_strips,
    };
}

#[cfg(not(target_arch = "x86_64"))]
mod avx2 {
    pub(super) use super::portable::{fma_probe, pv, qk, softmax_row};
    #[cfg(test)]
    pub(super) fn exp2_slice(x: &mut [f32]) {
        x.iter_mut().for_each(|v| *v = super::portable::exp2(*v));
    }
}

use crate::error::Error;

/// Rows of a query block (the micro-kernels' register-blocking height).
pub(crate) const MR: usize = 6;

/// Packs `rows` f64 rows of width `d` (scaled by nothing, rounded once to f32) into row
/// blocks of `[d][MR]`, zero-padding the last block: the layout [`Isa::qk`] broadcasts from.
pub(crate) fn pack_q_blocks(q: &[f64], rows: usize, d: usize, out: &mut [f32]) {
    for i in 0..rows {
        let (blk, r) = (i / MR, i % MR);
        for t in 0..d {
            out[(blk * d + t) * MR + r] = q[i * d + t] as f32;
        }
    }
}

/// Packs `[s][d]` f64 keys into panels of `[d][PANEL]` f32 (zero-padded past `s`): the
/// layout [`Isa::qk`] streams.
pub(crate) fn pack_k_panels(k: &[f64], s: usize, d: usize, out: &mut [f32]) {
    for j in 0..s {
        let (p, c) = (j / PANEL, j % PANEL);
        for t in 0..d {
            out[(p * d + t) * PANEL + c] = k[j * d + t] as f32;
        }
    }
}

/// Width of a packed key panel and of the value/output column blocks (two ymm registers).
pub(crate) const PANEL: usize = 16;

/// Instruction-set path of the SIMD kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust (whatever the compiler auto-vectorises for the baseline target).
    Portable,
    /// x86-64 AVX2 + FMA intrinsics.
    Avx2,
    /// x86-64 AVX-512F micro-kernels and softmax.
    Avx512,
}

impl Isa {
    /// The fastest path this CPU supports.
    pub fn detect() -> Isa {
        if Isa::Avx512.is_available() {
            Isa::Avx512
        } else if Isa::Avx2.is_available() {
            Isa::Avx2
        } else {
            Isa::Portable
        }
    }

    /// Every path this CPU can run (tests iterate over these).
    pub fn available() -> Vec<Isa> {
        [Isa::Portable, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| i.is_available())
            .collect()
    }

    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2+fma",
            Isa::Avx512 => "avx512f",
        }
    }

    /// Whether this CPU can execute the path.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Portable => true,
            Isa::Avx2 => avx2_available(),
            Isa::Avx512 => avx2_available() && avx512_available(),
        }
    }

    /// `Err` unless the path can run here; every public entry point calls this before
    /// any kernel, which is what makes the `unsafe` dispatch below sound.
    pub fn check(self) -> Result<(), Error> {
        if self.is_available() {
            Ok(())
        } else {
            Err(Error::IsaUnavailable(self.name()))
        }
    }

    /// `s[r][c] = Σ_t q[r][t] · K[c][t]` for `r < ⌈rows/MR⌉·MR` (whole row blocks; `s` must
    /// have room for them) and `c < npan·PANEL`. `q` holds row blocks of `[dk][MR]` floats
    /// (see [`pack_q_blocks`]), `kpan` `npan` panels of `[dk][PANEL]` floats.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn qk(
        self,
        q: &[f32],
        rows: usize,
        dk: usize,
        kpan: &[f32],
        npan: usize,
        s: &mut [f32],
        lds: usize,
    ) {
        let blocks = rows.div_ceil(MR);
        assert!(q.len() >= blocks * dk * MR);
        assert!(kpan.len() >= npan * dk * PANEL && lds >= npan * PANEL);
        assert!(blocks == 0 || s.len() >= (blocks * MR - 1) * lds + npan * PANEL);
        match self {
            Isa::Portable => portable::qk(q, rows, dk, kpan, npan, s, lds),
            // SAFETY: `Isa::Avx2` is only dispatched after `check()` succeeded, and the
            // asserts above cover every pointer offset the kernel forms.
            Isa::Avx2 => unsafe { avx2::qk(q, rows, dk, kpan, npan, s, lds) },
            // SAFETY: as above, with `avx512f` checked.
            Isa::Avx512 => unsafe { avx512::qk(q, rows, dk, kpan, npan, s, lds) },
        }
    }

    /// Online-softmax step on one row of log2-domain logits (`len % 8 == 0`; masked
    /// entries are `-inf`). Replaces the row by `p = 2^(x - m_new)` and returns
    /// `(m_new, Σp, 2^(m_old - m_new))`. A row that is still entirely `-inf` yields
    /// `p = 0`, `α = 1`.
    pub(crate) fn softmax_row(self, row: &mut [f32], m_old: f32) -> (f32, f32, f32) {
        assert!(row.len().is_multiple_of(8));
        match self {
            Isa::Portable => portable::softmax_row(row, m_old),
            // SAFETY: see `qk`; the kernel only touches `row`.
            Isa::Avx2 => unsafe { avx2::softmax_row(row, m_old) },
            // SAFETY: as above, with `avx512f` checked.
            Isa::Avx512 => unsafe { avx512::softmax_row(row, m_old) },
        }
    }

    /// `o[r][:] = α_r·o[r][:] + Σ_{j<kc} p[r][j]·V[j][:]` over `ldo` columns
    /// (`ldo % PANEL == 0`), `p` rows `LDP` floats apart (a constant so the
    /// kernels address every row of `p` by an immediate offset), with `V` stored as `ldo/PANEL` strips of `[j][PANEL]` floats,
    /// `strip_stride` apart, `v` starting at the first strip's row 0.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pv<const LDP: usize>(
        self,
        p: &[f32],
        rows: usize,
        kc: usize,
        v: &[f32],
        strip_stride: usize,
        o: &mut [f32],
        ldo: usize,
        alpha: &[f32],
    ) {
        assert!(ldo.is_multiple_of(PANEL) && alpha.len() >= rows && kc <= LDP);
        assert!(
            kc.is_multiple_of(4),
            "kc must be a multiple of 4 (whole key panels)"
        );
        assert!(rows == 0 || p.len() >= (rows - 1) * LDP + kc);
        assert!(ldo == 0 || v.len() >= (ldo / PANEL - 1) * strip_stride + kc * PANEL);
        assert!(o.len() >= rows * ldo);
        match self {
            Isa::Portable => portable::pv(p, LDP, rows, kc, v, strip_stride, o, ldo, alpha),
            // SAFETY: see `qk`.
            Isa::Avx2 => unsafe { avx2::pv(p, LDP, rows, kc, v, strip_stride, o, ldo, alpha) },
            // SAFETY: see `qk`.
            Isa::Avx512 => unsafe {
                avx512::pv::<LDP>(p, rows, kc, v, strip_stride, o, ldo, alpha)
            },
        }
    }

    /// [`pack::k_panels`]: `s` f32 key rows of width `d` into `[⌈s/16⌉][d][16]` panels,
    /// `false` if one is not finite.
    pub(crate) fn pack_keys(self, src: &[f32], s: usize, d: usize, dst: &mut [f32]) -> bool {
        assert!(src.len() >= s * d && dst.len() >= s.div_ceil(PANEL) * d * PANEL);
        match self {
            Isa::Portable | Isa::Avx2 => pack::k_panels(src, s, d, dst),
            // SAFETY: `avx512f` checked (see `qk`); the asserts bound every lane read/written.
            Isa::Avx512 => unsafe { avx512::pack_k_panels(src, s, d, dst) },
        }
    }

    /// [`pack::q_blocks`]: `rows` f32 query rows of width `d`, times `mult`, into
    /// `[⌈rows/6⌉][d][6]` blocks, `false` if one is not finite.
    pub(crate) fn pack_queries(
        self,
        src: &[f32],
        rows: usize,
        d: usize,
        mult: f32,
        dst: &mut [f32],
    ) -> bool {
        assert!(src.len() >= rows * d && dst.len() >= rows.div_ceil(MR) * d * MR);
        match self {
            Isa::Portable | Isa::Avx2 => pack::q_blocks(src, rows, d, mult, dst),
            // SAFETY: as in `pack_keys`.
            Isa::Avx512 => unsafe { avx512::pack_q_blocks(src, rows, d, mult, dst) },
        }
    }

    /// [`pack::v_strips`]: `s` f32 value rows of width `dv` into `[⌈dv/16⌉][s_pad][16]`
    /// strips, `false` if one is not finite.
    pub(crate) fn pack_values(
        self,
        src: &[f32],
        s: usize,
        dv: usize,
        s_pad: usize,
        dst: &mut [f32],
    ) -> bool {
        assert!(
            s <= s_pad && src.len() >= s * dv && dst.len() >= dv.div_ceil(PANEL) * s_pad * PANEL
        );
        match self {
            Isa::Portable | Isa::Avx2 => pack::v_strips(src, s, dv, s_pad, dst),
            // SAFETY: as in `pack_keys`.
            Isa::Avx512 => unsafe { avx512::pack_v_strips(src, s, dv, s_pad, dst) },
        }
    }

    /// Approximate `2^x` elementwise (the softmax exponential), exposed for its tests.
    #[cfg(test)]
    pub(crate) fn exp2(self, x: &mut [f32]) {
        match self {
            Isa::Portable => x.iter_mut().for_each(|v| *v = portable::exp2(*v)),
            // SAFETY: see `qk`.
            Isa::Avx2 => unsafe { avx2::exp2_slice(x) },
            // SAFETY: see `qk`.
            Isa::Avx512 => unsafe { avx512::exp2_slice(x) },
        }
    }

    /// Floating-point operations per second of a tight FMA loop on one thread, in
    /// FLOP/s (one FMA = 2 FLOP), run for about `seconds`.
    pub(crate) fn fma_probe(self, seconds: f64) -> f64 {
        match self {
            Isa::Portable => portable::fma_probe(seconds),
            // SAFETY: see `qk`.
            Isa::Avx2 => unsafe { avx2::fma_probe(seconds) },
            // SAFETY: see `qk`.
            Isa::Avx512 => unsafe { avx512::fma_probe(seconds) },
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx2_available() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn avx512_available() -> bool {
    is_x86_feature_detected!("avx512f")
}

#[cfg(not(target_arch = "x86_64"))]
fn avx512_available() -> bool {
    false
}

/// Degree-6 Taylor coefficients of `2^f` on `f ∈ [-1/2, 1/2]`: `(ln 2)^k / k!`.
/// Truncation error ≤ (ln2/2)^7/7! / 2^-1/2 ≈ 8.5e-8 relative; with f32 Horner rounding
/// the measured maximum relative error is below [`EXP2_REL_ERROR`].
pub(crate) const EXP2_COEFFS: [f32; 7] = [
    1.0,
    std::f32::consts::LN_2,
    0.240_226_5,
    0.055_504_11,
    0.009_618_129,
    0.001_333_355_8,
    0.000_154_035_3,
];

/// Stated (and tested) bound on the relative error of the kernels' `2^x` for
/// `x ∈ [-126, 0]`; results for `x < -126.5` flush to 0 (those weights are below
/// 2^-126 of the row maximum's weight, which is 1).
pub const EXP2_REL_ERROR: f64 = 4.0e-7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp2_error_within_stated_bound_on_every_path() {
        for isa in Isa::available() {
            let n = 200_003;
            let mut xs: Vec<f32> = (0..n).map(|i| -126.0 * i as f32 / (n - 1) as f32).collect();
            xs.extend([0.0, -0.5, -0.49999997, -1e-8, -125.99]);
            let mut ys = xs.clone();
            isa.exp2(&mut ys);
            let worst = xs
                .iter()
                .zip(&ys)
                .map(|(&x, &y)| {
                    let t = (x as f64).exp2();
                    ((y as f64 - t) / t).abs()
                })
                .fold(0.0, f64::max);
            assert!(worst <= EXP2_REL_ERROR, "{}: {worst:e}", isa.name());
            let mut tiny = vec![f32::NEG_INFINITY, -127.0, -200.0, -1e30];
            isa.exp2(&mut tiny);
            assert!(tiny.iter().all(|&t| t == 0.0), "{}: {tiny:?}", isa.name());
        }
    }

    /// Every path packs exactly what the portable definitions pack, leaves padding alone,
    /// and reports a non-finite element wherever it is (odd sizes hit every mask).
    #[test]
    fn packing_agrees_with_the_portable_definition_on_every_path() {
        for (s, d) in [(1usize, 1usize), (7, 3), (16, 16), (33, 40), (50, 9)] {
            let src: Vec<f32> = (0..s * d).map(|x| (x as f32 * 0.37).sin()).collect();
            let pan = s.div_ceil(PANEL);
            let blocks = s.div_ceil(MR);
            let strips = d.div_ceil(PANEL);
            let s_pad = pan * PANEL;
            let mut want_k = vec![-7.0f32; pan * d * PANEL];
            let mut want_q = vec![-7.0f32; blocks * d * MR];
            let mut want_v = vec![-7.0f32; strips * s_pad * PANEL];
            assert!(pack::k_panels(&src, s, d, &mut want_k));
            assert!(pack::q_blocks(&src, s, d, 1.5, &mut want_q));
            assert!(pack::v_strips(&src, s, d, s_pad, &mut want_v));
            for isa in Isa::available() {
                let (mut k, mut q, mut v) = (
                    vec![-7.0f32; want_k.len()],
                    vec![-7.0f32; want_q.len()],
                    vec![-7.0f32; want_v.len()],
                );
                assert!(isa.pack_keys(&src, s, d, &mut k));
                assert!(isa.pack_queries(&src, s, d, 1.5, &mut q));
                assert!(isa.pack_values(&src, s, d, s_pad, &mut v));
                assert_eq!(k, want_k, "{} keys {s}x{d}", isa.name());
                assert_eq!(q, want_q, "{} queries {s}x{d}", isa.name());
                assert_eq!(v, want_v, "{} values {s}x{d}", isa.name());
                for at in [0, s * d / 2, s * d - 1] {
                    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                        let mut x = src.clone();
                        x[at] = bad;
                        assert!(!isa.pack_keys(&x, s, d, &mut k), "{} keys {at}", isa.name());
                        assert!(
                            !isa.pack_queries(&x, s, d, 1.0, &mut q),
                            "{} q {at}",
                            isa.name()
                        );
                        assert!(
                            !isa.pack_values(&x, s, d, s_pad, &mut v),
                            "{} v {at}",
                            isa.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn softmax_row_handles_fully_masked_rows() {
        for isa in Isa::available() {
            let mut row = vec![f32::NEG_INFINITY; 16];
            let (m, s, a) = isa.softmax_row(&mut row, f32::NEG_INFINITY);
            assert_eq!((m, s, a), (f32::NEG_INFINITY, 0.0, 1.0));
            assert!(row.iter().all(|&p| p == 0.0));
        }
    }
}
