//! The f32 layers model forward passes are made of, written once: a linear layer on faer's
//! GEMM, RMSNorm and LayerNorm (statistics in f64), SwiGLU and tanh-GELU, the token-major ↔
//! head-major layout change the attention core wants, and next-token cross-entropy (f64
//! log-sum-exp); SiLU and the log-sum-exp use `fast`'s branch-free `exp`, which vectorises.
//!
//! ```
//! use pespectra_layers::{rms_norm, Linear};
//! let w = Linear::new(vec![1.0, 0.0, 0.0, 2.0, 1.0, 1.0], None, 3, 2).unwrap(); // 3 × 2
//! assert_eq!(w.forward(&[1.0, 2.0], 1), vec![1.0, 4.0, 3.0]);
//! let y = rms_norm(&[3.0, 4.0], &[1.0, 1.0], 0.0); // rms = √12.5
//! assert!((y[0] - 3.0 / 12.5f32.sqrt()).abs() < 1e-6);
//! ```

#![warn(missing_docs)]
mod fast;

use fast::exp_f32;

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// `y = x Wᵀ + b` with `W` stored `[out, in]` row-major (the PyTorch / safetensors layout).
#[derive(Clone, Debug)]
pub struct Linear {
    w: Vec<f32>,
    b: Option<Vec<f32>>,
    out: usize,
    inp: usize,
}

impl Linear {
    /// A layer from its weight (`out × inp` values) and optional bias (`out` values);
    /// `None` when the sizes disagree.
    pub fn new(w: Vec<f32>, b: Option<Vec<f32>>, out: usize, inp: usize) -> Option<Self> {
        (w.len() == out * inp && b.as_ref().is_none_or(|b| b.len() == out)).then_some(Self {
            w,
            b,
            out,
            inp,
        })
    }

    /// Output width.
    pub fn out(&self) -> usize {
        self.out
    }

    /// `rows × out` from `rows × inp`.
    pub fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let mut y = vec![0f32; rows * self.out];
        self.apply(x, rows, &mut y, Accum::Replace);
        y
    }

    /// `y += x Wᵀ + b` on `rows × out` (a residual update without a temporary).
    pub fn add_forward(&self, x: &[f32], rows: usize, y: &mut [f32]) {
        self.apply(x, rows, y, Accum::Add);
    }

    /// Row `i` of W (`inp` values): the embedding of token `i` when W is an embedding table.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.w.get(i * self.inp..(i + 1) * self.inp)
    }

    fn apply(&self, x: &[f32], rows: usize, y: &mut [f32], accum: Accum) {
        let a = MatRef::from_row_major_slice(x, rows, self.inp);
        let wt = MatRef::from_row_major_slice(&self.w, self.out, self.inp).transpose();
        let c = MatMut::from_row_major_slice_mut(y, rows, self.out);
        matmul(c, accum, a, wt, 1.0f32, Par::rayon(0));
        if let Some(b) = &self.b {
            for row in y.chunks_mut(self.out) {
                for (v, &bb) in row.iter_mut().zip(b) {
                    *v += bb;
                }
            }
        }
    }
}

/// RMSNorm of each `w.len()`-wide row: `x / √(mean(x²) + ε) · w`, the mean in f64.
pub fn rms_norm(x: &[f32], w: &[f32], eps: f64) -> Vec<f32> {
    let d = w.len().max(1);
    let mut y = vec![0f32; x.len()];
    for (yr, xr) in y.chunks_mut(d).zip(x.chunks(d)) {
        let ms = xr.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / d as f64;
        let inv = (1.0 / (ms + eps).sqrt()) as f32;
        for ((o, &v), &g) in yr.iter_mut().zip(xr).zip(w) {
            *o = g * (v * inv);
        }
    }
    y
}

/// LayerNorm of each `w.len()`-wide row: `(x − mean)/√(var + ε) · w + b`, statistics in f64.
pub fn layer_norm(x: &[f32], w: &[f32], b: &[f32], eps: f64) -> Vec<f32> {
    let d = w.len().max(1);
    let mut y = vec![0f32; x.len()];
    for (yr, xr) in y.chunks_mut(d).zip(x.chunks(d)) {
        let mean = xr.iter().map(|&v| f64::from(v)).sum::<f64>() / d as f64;
        let var = xr
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / d as f64;
        let inv = 1.0 / (var + eps).sqrt();
        for (((o, &v), &g), &bb) in yr.iter_mut().zip(xr).zip(w).zip(b) {
            *o = ((f64::from(v) - mean) * inv) as f32 * g + bb;
        }
    }
    y
}

/// The tanh approximation of GELU with BLOOM's constants:
/// `x/2 · (1 + tanh(0.79788456·x·(1 + 0.044715·x²)))` (the constant as f32).
pub fn gelu_tanh(x: &[f32]) -> Vec<f32> {
    x.iter()
        .map(|&v| v * 0.5 * (1.0 + (0.797_884_6 * v * (1.0 + 0.044_715 * v * v)).tanh()))
        .collect()
}

/// Exact GELU, `x/2 · (1 + erf(x/√2))` (erf in f64).
pub fn gelu_erf(x: &[f32]) -> Vec<f32> {
    x.iter()
        .map(|&v| {
            (0.5 * f64::from(v) * (1.0 + libm::erf(f64::from(v) / std::f64::consts::SQRT_2))) as f32
        })
        .collect()
}

/// `silu(g) · u` elementwise (SwiGLU), `silu(x) = x / (1 + e^−x)`, with the vectorising `exp`
/// (relative error ≤ 2e−7).
pub fn swiglu(gate: &[f32], up: &[f32]) -> Vec<f32> {
    gate.iter()
        .zip(up)
        .map(|(&g, &u)| g / (1.0 + exp_f32(-g)) * u)
        .collect()
}

/// Token-major `[batch, n, heads·hd]` to head-major `[batch, heads, n, hd]` (the attention
/// core's layout; `batch` is `x.len() / (n·heads·hd)`).
pub fn to_heads(x: &[f32], n: usize, heads: usize, hd: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    let seq = (n * heads * hd).max(1);
    for (ys, xs) in y.chunks_mut(seq).zip(x.chunks(seq)) {
        for t in 0..n {
            for h in 0..heads {
                let src = &xs[t * heads * hd + h * hd..][..hd];
                ys[h * n * hd + t * hd..][..hd].copy_from_slice(src);
            }
        }
    }
    y
}

/// Head-major `[batch, heads, n, hd]` back to token-major `[batch, n, heads·hd]`.
pub fn from_heads(x: &[f32], n: usize, heads: usize, hd: usize) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    let seq = (n * heads * hd).max(1);
    for (ys, xs) in y.chunks_mut(seq).zip(x.chunks(seq)) {
        for h in 0..heads {
            for t in 0..n {
                let src = &xs[h * n * hd + t * hd..][..hd];
                ys[t * heads * hd + h * hd..][..hd].copy_from_slice(src);
            }
        }
    }
    y
}

/// Mean cross-entropy (nats) of `targets[t]` under the logits row `t` (`vocab` wide): the
/// exponentials in f32 with the vectorising `exp` (relative error ≤ 2e−7, arguments ≤ 0 after
/// the row maximum is subtracted), their sum and the logarithm in f64.
pub fn cross_entropy(logits: &[f32], vocab: usize, targets: &[u32]) -> f64 {
    let mut e = vec![0f32; vocab];
    let total: f64 = logits
        .chunks(vocab)
        .zip(targets)
        .map(|(row, &t)| {
            let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            for (o, &v) in e.iter_mut().zip(row) {
                *o = exp_f32(v - m);
            }
            // eight f64 lanes, so the sum vectorises too
            let mut acc = [0f64; 8];
            let chunks = e[..row.len()].chunks_exact(8);
            let tail: f64 = chunks.remainder().iter().map(|&v| v as f64).sum();
            for c in chunks {
                for (a, &v) in acc.iter_mut().zip(c) {
                    *a += v as f64;
                }
            }
            let lse = m as f64 + (acc.iter().sum::<f64>() + tail).ln();
            lse - row.get(t as usize).copied().unwrap_or(f32::NAN) as f64
        })
        .sum();
    total / targets.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_centres_and_scales() {
        let y = layer_norm(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0], &[0.5, 0.0], 0.0);
        assert_eq!(y, vec![-0.5, 2.0, -0.5, 2.0]);
        let e = gelu_erf(&[0.0, 1.0]);
        // Φ(1) = 0.841344746…
        assert!(e[0] == 0.0 && (e[1] - 0.841_344_7).abs() < 1e-6);
        let g = gelu_tanh(&[0.0, 3.0, -3.0]);
        assert_eq!(g[0], 0.0);
        assert!((g[1] - 2.996).abs() < 1e-3 && g[2].abs() < 5e-3);
    }

    #[test]
    fn layouts_are_inverse() {
        let x: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let h = to_heads(&x, 3, 2, 4);
        // head 1, token 0 is x[4..8]
        assert_eq!(&h[12..16], &x[4..8]);
        assert_eq!(from_heads(&h, 3, 2, 4), x);
        // two sequences: each is laid out on its own, the second starting at n·heads·hd
        let xx: Vec<f32> = (0..48).map(|v| v as f32).collect();
        let hh = to_heads(&xx, 3, 2, 4);
        assert_eq!(&hh[..24], &h[..]);
        assert_eq!(&hh[24 + 12..24 + 16], &xx[24 + 4..24 + 8]);
        assert_eq!(from_heads(&hh, 3, 2, 4), xx);
    }

    #[test]
    fn residual_update_and_rows() {
        let l = Linear::new(vec![1.0, 2.0, 3.0, 4.0], Some(vec![0.5, 0.0]), 2, 2).unwrap();
        let mut y = vec![10.0, 20.0];
        l.add_forward(&[1.0, 1.0], 1, &mut y);
        assert_eq!(y, vec![13.5, 27.0]);
        assert_eq!(l.row(1), Some(&[3.0f32, 4.0][..]));
        assert_eq!(l.row(2), None);
    }

    #[test]
    fn cross_entropy_of_uniform_logits_is_ln_vocab() {
        let ce = cross_entropy(&[0.0; 8], 4, &[1, 3]);
        approx::assert_relative_eq!(ce, 4f64.ln(), max_relative = 1e-12);
        // a confident correct prediction costs almost nothing
        assert!(cross_entropy(&[0.0, 30.0], 2, &[1]) < 1e-12);
    }

    #[test]
    fn linear_with_bias_and_swiglu() {
        let l = Linear::new(vec![1.0, 2.0], Some(vec![0.5]), 1, 2).unwrap();
        assert_eq!(l.forward(&[1.0, 1.0, 2.0, 0.0], 2), vec![3.5, 2.5]);
        assert!(Linear::new(vec![1.0], None, 1, 2).is_none());
        let s = swiglu(&[0.0, 1.0], &[5.0, 2.0]);
        assert_eq!(s[0], 0.0);
        approx::assert_relative_eq!(s[1], 2.0 / (1.0 + (-1f32).exp()), max_relative = 1e-6);
    }
}
