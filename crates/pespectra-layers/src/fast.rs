//! A branch-free f32 `exp` that vectorises, for the element-wise steps where libm's scalar
//! `expf` dominated a forward pass (SiLU over the MLP width, log-sum-exp over a large
//! vocabulary).

/// `e^x` for `x ∈ [−87, 88]` (clamped outside), relative error ≤ 2e−7 (tested against f64).
/// Branch-free (Cody–Waite reduction, Cephes' `expf` polynomial, `2^n` built from the rounding
/// constant's bits) so loops over slices vectorise; libm's scalar `expf`/`exp` calls were half
/// of a forward pass (SiLU and the loss's log-sum-exp).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // t's low mantissa bits hold n; (n + 127) << 23 is 2^n (n ∈ [−126, 127] here).
    let two_n = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    e * two_n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_f32_is_accurate_over_its_range() {
        let mut worst = 0f64;
        let steps = 2_000_000;
        for k in 0..=steps {
            let x = -87.0 + 175.0 * k as f64 / steps as f64;
            let x32 = x as f32;
            let want = (x32 as f64).exp();
            let got = exp_f32(x32) as f64;
            worst = worst.max(((got - want) / want).abs());
        }
        eprintln!("exp_f32 max relative error {worst:e}");
        assert!(worst <= 2e-7, "max relative error {worst:e}");
        assert_eq!(exp_f32(0.0), 1.0);
        // Clamped, finite, never NaN outside the range.
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(-1000.0) < 1e-37);
        assert!(exp_f32(1000.0).is_finite() && exp_f32(1000.0) > 1e38);
    }

    #[test]
    fn swiglu_and_cross_entropy_against_f64() {
        let g0: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.05).collect();
        let u: Vec<f32> = (0..1000).map(|i| 1.0 + (i % 7) as f32).collect();
        let g = crate::swiglu(&g0, &u);
        for ((&x, &b), &y) in g0.iter().zip(&u).zip(&g) {
            let want = x as f64 / (1.0 + (-(x as f64)).exp()) * b as f64;
            assert!(
                (y as f64 - want).abs() <= 1e-6 * want.abs().max(1e-3),
                "{x}: {y} vs {want}"
            );
        }
        let vocab = 1003;
        let logits: Vec<f32> = (0..2 * vocab)
            .map(|i| ((i * 37) % 101) as f32 * 0.3 - 12.0)
            .collect();
        let targets = [5u32, 900];
        let got = crate::cross_entropy(&logits, vocab, &targets) * targets.len() as f64;
        let want: f64 = logits
            .chunks(vocab)
            .zip(targets)
            .map(|(r, t)| {
                let s: f64 = r.iter().map(|&v| (v as f64).exp()).sum();
                s.ln() - r[t as usize] as f64
            })
            .sum();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}
