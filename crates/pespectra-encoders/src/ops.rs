//! The encoders' own layout steps (the dense layers are `pespectra-layers`'): embedding sums,
//! head (un)packing of the fused q|k|v rows for the attention core, masked mean pooling.

/// `a += b` elementwise.
pub(crate) fn add_inplace(a: &mut [f32], b: &[f32]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

/// Token-major `[batch, seq, 3, heads, hd]` rows (the fused q|k|v projection) to the
/// attention core's head-major `[batch, heads, seq, hd]` q, k and v.
pub(crate) fn split_qkv(
    qkv: &[f32],
    batch: usize,
    seq: usize,
    heads: usize,
    hd: usize,
) -> [Vec<f32>; 3] {
    let d = heads * hd;
    let mut out = [
        vec![0f32; batch * seq * d],
        vec![0f32; batch * seq * d],
        vec![0f32; batch * seq * d],
    ];
    for (part, buf) in out.iter_mut().enumerate() {
        for b in 0..batch {
            for t in 0..seq {
                let row = &qkv[(b * seq + t) * 3 * d + part * d..][..d];
                for h in 0..heads {
                    buf[((b * heads + h) * seq + t) * hd..][..hd]
                        .copy_from_slice(&row[h * hd..(h + 1) * hd]);
                }
            }
        }
    }
    out
}

/// Head-major `[batch, heads, seq, hd]` back to token-major `[batch, seq, heads·hd]`.
pub(crate) fn merge_heads(
    o: &[f32],
    batch: usize,
    seq: usize,
    heads: usize,
    hd: usize,
) -> Vec<f32> {
    let d = heads * hd;
    let mut out = vec![0f32; batch * seq * d];
    for b in 0..batch {
        for h in 0..heads {
            for t in 0..seq {
                out[(b * seq + t) * d + h * hd..][..hd]
                    .copy_from_slice(&o[((b * heads + h) * seq + t) * hd..][..hd]);
            }
        }
    }
    out
}

/// Mean over the first `lens[b]` rows of each sequence, then L2-normalised
/// (sentence-transformers' Pooling(mean) + Normalize), accumulated in f64.
pub(crate) fn mean_pool_normalize(
    x: &[f32],
    seq: usize,
    lens: &[usize],
    d: usize,
) -> Vec<Vec<f32>> {
    lens.iter()
        .enumerate()
        .map(|(b, &len)| {
            let mut acc = vec![0f64; d];
            for t in 0..len {
                for (a, &v) in acc.iter_mut().zip(&x[(b * seq + t) * d..][..d]) {
                    *a += v as f64;
                }
            }
            let norm = acc.iter().map(|a| a * a).sum::<f64>().sqrt().max(1e-12);
            acc.iter().map(|a| (a / norm) as f32).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_packing_round_trips() {
        let (b, s, h, hd) = (2, 3, 2, 2);
        let qkv: Vec<f32> = (0..b * s * 3 * h * hd).map(|i| i as f32).collect();
        let [q, k, v] = split_qkv(&qkv, b, s, h, hd);
        // batch 1, token 2, head 1 of k: row (1·3 + 2)·12 + 4 (k) + 2 (head 1).
        assert_eq!(&k[((h + 1) * s + 2) * hd..][..hd], &[66.0, 67.0]);
        let d = h * hd;
        let back = [
            merge_heads(&q, b, s, h, hd),
            merge_heads(&k, b, s, h, hd),
            merge_heads(&v, b, s, h, hd),
        ];
        for r in 0..b * s {
            for (p, m) in back.iter().enumerate() {
                assert_eq!(&m[r * d..(r + 1) * d], &qkv[r * 3 * d + p * d..][..d]);
            }
        }
    }

    #[test]
    fn pooling_ignores_padding_and_normalises() {
        // Two sequences padded to 3, d = 2; the second has one real token.
        let x = [3.0, 0.0, 1.0, 4.0, 9.0, 9.0, 0.0, 2.0, 7.0, 7.0, 7.0, 7.0];
        let p = mean_pool_normalize(&x, 3, &[2, 1], 2);
        // mean of (3,0),(1,4) = (2,2) → (1/√2, 1/√2); second = (0,1).
        let r = std::f32::consts::FRAC_1_SQRT_2;
        assert!((p[0][0] - r).abs() < 1e-7 && (p[0][1] - r).abs() < 1e-7);
        assert_eq!(p[1], vec![0.0, 1.0]);
    }
}
