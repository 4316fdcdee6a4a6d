//! ALiBi as each fused-QKV family forms it in transformers: a bias of the key position `j`
//! only, added to the scaled scores. The forward pass and the capture both use these values,
//! so the audited bias is the one the model adds, rounding included.

/// Which family's ALiBi.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlibiForm {
    /// BLOOM: `slope_h · j` in f32.
    Bloom,
    /// MPT: `slope_h · (j − (n − 1))` in f32 (zero on the last key).
    Mpt,
    /// Falcon (`alibi: true`): `bf16(bf16(slope_h) · bf16(j)) / √head_dim` — transformers
    /// multiplies the slopes, cast to bfloat16, by the integer positions (so the product is
    /// rounded to bfloat16), then divides by `√head_dim` in f32.
    Falcon,
}

/// Round-to-nearest-even to bfloat16 (the top 16 bits of an f32), as torch's `.bfloat16()`.
fn bf16(x: f32) -> f32 {
    if !x.is_finite() {
        return x;
    }
    let b = x.to_bits();
    let rounded = b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000;
    f32::from_bits(rounded)
}

impl AlibiForm {
    /// `[heads, n]`: the bias of key `j` for head `h` at `h·n + j`.
    pub fn key_bias(self, slopes: &[f64], n: usize, head_dim: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(slopes.len() * n);
        for &s in slopes {
            out.extend((0..n).map(|j| match self {
                AlibiForm::Bloom => s as f32 * j as f32,
                AlibiForm::Mpt => s as f32 * (j as f32 - (n as f32 - 1.0)),
                AlibiForm::Falcon => {
                    bf16(bf16(s as f32) * bf16(j as f32)) / (head_dim as f32).sqrt()
                }
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounds_to_nearest_even() {
        // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1)
        assert_eq!(bf16(1.0 + 1.0 / 256.0), 1.0);
        // just above the tie rounds up
        assert_eq!(bf16(1.0 + 1.0 / 256.0 + 1.0 / 65536.0), 1.0 + 1.0 / 128.0);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up to even
        assert_eq!(bf16(1.0 + 3.0 / 256.0), 1.0 + 1.0 / 64.0);
        assert_eq!(bf16(-3.0), -3.0);
        // integers above 256 are not all representable: 257 rounds to 256, 259 to 260
        assert_eq!((bf16(257.0), bf16(259.0)), (256.0, 260.0));
    }

    #[test]
    fn falcon_rounds_the_product_through_bf16() {
        // slope 1/3 (not a bf16): bf16(1/3) = 0.333984375; × 7 = 2.337890625 → bf16 2.34375
        let b = AlibiForm::Falcon.key_bias(&[1.0 / 3.0], 8, 4);
        assert_eq!(b[7], 2.34375 / 2.0);
        assert_eq!(b[0], 0.0);
        let bloom = AlibiForm::Bloom.key_bias(&[0.5], 3, 4);
        assert_eq!(bloom, vec![0.0, 0.5, 1.0]);
        let mpt = AlibiForm::Mpt.key_bias(&[0.5], 3, 4);
        assert_eq!(mpt, vec![-1.0, -0.5, 0.0]);
    }
}
