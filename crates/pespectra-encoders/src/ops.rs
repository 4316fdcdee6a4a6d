//! The dense building blocks in f32: linear layers on faer's GEMM, LayerNorm, exact GELU,
//! head (un)packing for the attention core, masked mean pooling.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// `y = x Wᵀ + b` with `W` stored `[out, in]` row-major (PyTorch `nn.Linear`).
pub(crate) struct Linear {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub out: usize,
    pub inp: usize,
}

impl Linear {
    /// `rows × out` output for `rows × inp` input (both row-major).
    pub(crate) fn apply(&self, x: &[f32], rows: usize) -> Vec<f32> {
        debug_assert_eq!(x.len(), rows * self.inp);
        let mut y = Vec::with_capacity(rows * self.out);
        for _ in 0..rows {
            y.extend_from_slice(&self.b);
        }
        let a = MatRef::from_row_major_slice(x, rows, self.inp);
        let wt = MatRef::from_row_major_slice(&self.w, self.out, self.inp).transpose();
        let c = MatMut::from_row_major_slice_mut(&mut y, rows, self.out);
        matmul(c, Accum::Add, a, wt, 1.0f32, Par::rayon(0));
        y
    }
}

/// LayerNorm over the last dimension (biased variance, as PyTorch), statistics in f64.
pub(crate) struct LayerNorm {
    pub g: Vec<f32>,
    pub b: Vec<f32>,
    pub eps: f64,
}

impl LayerNorm {
    pub(crate) fn apply_inplace(&self, x: &mut [f32]) {
        let d = self.g.len();
        x.par_chunks_mut(d).for_each(|row| {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d as f64;
            let inv = 1.0 / (var + self.eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.g).zip(&self.b) {
                *v = ((*v as f64 - mean) * inv) as f32 * g + b;
            }
        });
    }
}

/// Exact GELU `x·Φ(x) = x/2·(1 + erf(x/√2))` (BERT's and MPNet's `"gelu"`, not the tanh form).
/// `libm::erff` is accurate to about one f32 ulp, as accurate as the activations it acts on,
/// and cheaper than going through the f64 `erf` (GELU was ~15% of a MiniLM forward with it).
pub(crate) fn gelu_inplace(x: &mut [f32]) {
    x.par_chunks_mut(4096).for_each(|c| {
        for v in c {
            *v = 0.5 * *v * (1.0 + libm::erff(*v * std::f32::consts::FRAC_1_SQRT_2));
        }
    });
}

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
    fn linear_matches_a_hand_product() {
        // W = [[1,2],[3,4],[5,6]] (out 3, in 2), b = [0.5, 0, -1], x = [[1,-1],[2,0.5]].
        let lin = Linear {
            w: vec![1., 2., 3., 4., 5., 6.],
            b: vec![0.5, 0., -1.],
            out: 3,
            inp: 2,
        };
        let y = lin.apply(&[1., -1., 2., 0.5], 2);
        assert_eq!(y, vec![-0.5, -1., -2., 3.5, 8., 12.]);
    }

    #[test]
    fn layer_norm_and_gelu_known_values() {
        let ln = LayerNorm {
            g: vec![1.0; 4],
            b: vec![0.0; 4],
            eps: 0.0,
        };
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        ln.apply_inplace(&mut x);
        // mean 2.5, biased variance 1.25.
        let s = 1.25f64.sqrt();
        for (v, w) in x.iter().zip([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]) {
            assert!((*v as f64 - w).abs() < 1e-6);
        }
        // Φ(1) = 0.841344746..., Φ(-2) = 0.022750131...
        let mut g = vec![1.0f32, -2.0, 0.0];
        gelu_inplace(&mut g);
        assert!((g[0] - 0.841_344_7).abs() < 1e-6);
        assert!((g[1] + 2.0 * 0.022_750_13).abs() < 1e-6);
        assert_eq!(g[2], 0.0);
    }

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
