//! The small dense kernels of the E4 forward pass: slicing, rotations, scores, softmax, KL.

use super::config::MlaRotation;

/// Columns `[from, from + width)` of the row-major `n × stride` matrix `x`.
pub(super) fn cols(x: &[f32], n: usize, stride: usize, from: usize, width: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|t| x[t * stride + from..][..width].iter().copied())
        .collect()
}

/// Rows `[a_t ; b_t]` of two `n`-row matrices.
pub(super) fn concat_rows(a: &[f32], wa: usize, b: &[f32], wb: usize, n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|t| a[t * wa..][..wa].iter().chain(&b[t * wb..][..wb]).copied())
        .collect()
}

/// RoPE on the rows of `x` (`n × dim`): pairs `(2f, 2f+1)` rotated by `i·θ_f`.
pub(super) fn rope(x: &[f32], n: usize, dim: usize, inv_freq: &[f64]) -> Vec<f32> {
    let mut y = x.to_vec();
    for i in 0..n {
        for (f, &th) in inv_freq.iter().enumerate() {
            let (s, c) = (i as f64 * th).sin_cos();
            let (a, b) = (
                f64::from(x[i * dim + 2 * f]),
                f64::from(x[i * dim + 2 * f + 1]),
            );
            y[i * dim + 2 * f] = (a * c - b * s) as f32;
            y[i * dim + 2 * f + 1] = (a * s + b * c) as f32;
        }
    }
    y
}

/// MLA's `R_i` on the rows of `x` (`n × dr`), `None` for the identity (`s = 0`, `c = 1`):
/// `[x_2f c_f − x_2f+1 s_f]_f ++ [x_2f s_f + x_2f+1 c_f]_f`.
pub(super) fn mla_map(
    x: &[f32],
    n: usize,
    dr: usize,
    inv_freq: &[f64],
    rotation: Option<MlaRotation>,
) -> Vec<f32> {
    let half = dr / 2;
    let mut y = vec![0f32; x.len()];
    for i in 0..n {
        let angle = |f: usize| i as f64 * inv_freq[f];
        // e = [sin iθ_0 … sin iθ_{half−1}, cos iθ_0 … cos iθ_{half−1}]
        let e = |k: usize| {
            if k < half {
                angle(k).sin()
            } else {
                angle(k - half).cos()
            }
        };
        for f in 0..half {
            let (s, c) = match rotation {
                None => (0.0, 1.0),
                Some(MlaRotation::Rope) => angle(f).sin_cos(),
                Some(MlaRotation::Paper) => (e(2 * f), e(2 * f + 1)),
            };
            let (a, b) = (
                f64::from(x[i * dr + 2 * f]),
                f64::from(x[i * dr + 2 * f + 1]),
            );
            y[i * dr + f] = (a * c - b * s) as f32;
            y[i * dr + half + f] = (a * s + b * c) as f32;
        }
    }
    y
}

/// `scale · a bᵀ` of two `n × dim` matrices, sums in f64.
pub(super) fn dots(a: &[f32], b: &[f32], n: usize, dim: usize, scale: f64) -> Vec<f32> {
    let mut s = vec![0f32; n * n];
    for i in 0..n {
        let qi = &a[i * dim..][..dim];
        for j in 0..n {
            let kj = &b[j * dim..][..dim];
            let d: f64 = qi
                .iter()
                .zip(kj)
                .map(|(&x, &y)| f64::from(x) * f64::from(y))
                .sum();
            s[i * n + j] = (d * scale) as f32;
        }
    }
    s
}

/// `softmax_j(S) V` for one head (`S` n × n, `V` n × dh), keys where `keys` is false left out,
/// written to columns `[from, from + dh)` of the `n × stride` context.
pub(super) fn attend(
    s: &[f32],
    v: &[f32],
    keys: &[bool],
    dh: usize,
    ctx: &mut [f32],
    stride: usize,
    from: usize,
) {
    let n = keys.len();
    let mut p = vec![0f64; n];
    for i in 0..n {
        let row = &s[i * n..][..n];
        let m = row
            .iter()
            .zip(keys)
            .filter(|(_, &k)| k)
            .fold(f64::NEG_INFINITY, |m, (&x, _)| m.max(f64::from(x)));
        let mut z = 0.0;
        for j in 0..n {
            p[j] = if keys[j] {
                (f64::from(row[j]) - m).exp()
            } else {
                0.0
            };
            z += p[j];
        }
        for c in 0..dh {
            let o: f64 = (0..n).map(|j| p[j] * f64::from(v[j * dh + c])).sum();
            ctx[i * stride + from + c] = (o / z) as f32;
        }
    }
}

/// `log softmax` of class logits, in f64.
pub(super) fn log_softmax(z: &[f32]) -> Vec<f64> {
    let m = z
        .iter()
        .fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
    let lse = m + z
        .iter()
        .map(|&x| (f64::from(x) - m).exp())
        .sum::<f64>()
        .ln();
    z.iter().map(|&x| f64::from(x) - lse).collect()
}

/// `KL(p ‖ q)` from log-probabilities, nats.
pub(super) fn kl(lp: &[f64], lq: &[f64]) -> f64 {
    lp.iter().zip(lq).map(|(a, b)| a.exp() * (a - b)).sum()
}
