//! Measured (floating-point, not certified) figures: E2 contraction and E3 Toeplitz share,
//! concentration.

use faer::Mat;

/// Largest singular value of an n × n f32 matrix (faer SVD, f64).
pub fn spectral_norm(m: &[f32], n: usize) -> f64 {
    let a = Mat::from_fn(n, n, |i, j| m[i * n + j] as f64);
    a.singular_values()
        .map_or(f64::NAN, |s| s.first().copied().unwrap_or(0.0))
}

/// Stable rank ‖S‖_F² / ‖S‖₂² of a symmetric matrix from its eigenvalues.
pub fn stable_rank(eigs: &[f64]) -> f64 {
    let f2: f64 = eigs.iter().map(|v| v * v).sum();
    let top = eigs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if top == 0.0 {
        0.0
    } else {
        f2 / (top * top)
    }
}

/// Share of the Frobenius energy that is Toeplitz: ‖T(M)‖_F² / ‖M‖_F², T(M) replacing every
/// diagonal by its mean. `causal`: only the lower triangle (j ≤ i, the entries a causal model
/// uses) counts, both for the means and for the energy.
pub fn toeplitz_share(m: &[f32], n: usize, causal: bool) -> f64 {
    let v: Vec<f64> = m.iter().map(|&x| x as f64).collect();
    share(&v, n, causal)
}

/// [`toeplitz_share`] after removing each row's mean over the keys that row sees: softmax is
/// invariant to a per-row constant, so this is the share of the energy that matters to the
/// attention weights. A circulant matrix plus any per-row offsets has share 1.
pub fn toeplitz_share_centred(m: &[f32], n: usize, causal: bool) -> f64 {
    let mut v: Vec<f64> = m.iter().map(|&x| x as f64).collect();
    for (i, row) in v.chunks_exact_mut(n).enumerate() {
        let seen = if causal { i + 1 } else { n };
        let mean = row[..seen].iter().sum::<f64>() / seen as f64;
        row[..seen].iter_mut().for_each(|x| *x -= mean);
    }
    share(&v, n, causal)
}

fn share(m: &[f64], n: usize, causal: bool) -> f64 {
    let (mut toe, mut total) = (0.0f64, 0.0f64);
    let lowest = if causal { 0 } else { -(n as i64 - 1) };
    for k in lowest..n as i64 {
        // diagonal i − j = k
        let (mut s, mut s2, mut len) = (0.0f64, 0.0f64, 0usize);
        for j in 0..n {
            let i = j as i64 + k;
            if i < 0 || i >= n as i64 {
                continue;
            }
            let v = m[i as usize * n + j];
            s += v;
            s2 += v * v;
            len += 1;
        }
        if len > 0 {
            toe += s * s / len as f64;
            total += s2;
        }
    }
    if total == 0.0 {
        0.0
    } else {
        toe / total
    }
}

/// Gini coefficient Σ_i Σ_j |x_i − x_j| / (2 n Σ x) of non-negative values (negative values are
/// clamped to 0 first); 0 for equal values, (n − 1)/n when one value holds everything.
pub fn gini(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|v| v.max(0.0)).collect();
    let (n, sum) = (v.len() as f64, v.iter().sum::<f64>());
    if v.is_empty() || sum == 0.0 {
        return 0.0;
    }
    let diff: f64 = v
        .iter()
        .flat_map(|a| v.iter().map(move |b| (a - b).abs()))
        .sum();
    diff / (2.0 * n * sum)
}

/// Eigenvalues of (M + Mᵀ)/2, decreasing (faer, f64; measured).
pub fn sym_eigenvalues(m: &[f32], n: usize) -> Vec<f64> {
    let s = Mat::from_fn(n, n, |i, j| {
        0.5 * (m[i * n + j] as f64 + m[j * n + i] as f64)
    });
    let mut e = s
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .unwrap_or_else(|_| vec![f64::NAN; n]);
    e.reverse();
    e
}

/// E2 of one head (measured).
#[derive(Clone, Debug, Default)]
pub struct E2 {
    /// ‖L‖₂ / ‖L_content‖₂ (non-symmetric logits, pre-mask).
    pub norm_ratio: f64,
    /// spread(sym L) / spread(sym L_content), spread = λmax − λmin.
    pub spread_ratio: f64,
    /// Stable rank of sym L.
    pub stable_rank_logits: f64,
    /// Stable rank of sym L_content.
    pub stable_rank_content: f64,
    /// λmax(sym L).
    pub lambda_max_logits: f64,
    /// λmax(sym L_content).
    pub lambda_max_content: f64,
}

impl E2 {
    /// From the two matrices alone (floating-point eigenvalues; for the growth-with-n sweep).
    pub fn from_matrices(logits: &[f32], content: &[f32], n: usize) -> Self {
        Self::measure(
            logits,
            content,
            n,
            &sym_eigenvalues(logits, n),
            &sym_eigenvalues(content, n),
        )
    }

    /// From the two matrices and the (decreasing) eigenvalues of their symmetric parts.
    pub fn measure(logits: &[f32], content: &[f32], n: usize, el: &[f64], ec: &[f64]) -> Self {
        let spread = |e: &[f64]| e[0] - e[e.len() - 1];
        Self {
            norm_ratio: spectral_norm(logits, n) / spectral_norm(content, n),
            spread_ratio: spread(el) / spread(ec),
            stable_rank_logits: stable_rank(el),
            stable_rank_content: stable_rank(ec),
            lambda_max_logits: el[0],
            lambda_max_content: ec[0],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn toeplitz_share_closed_forms() {
        let n = 7;
        // a pure Toeplitz matrix: share 1 (both conventions)
        let t: Vec<f32> = (0..n * n)
            .map(|x| ((x / n) as f32 - (x % n) as f32).sin())
            .collect();
        assert_abs_diff_eq!(toeplitz_share(&t, n, false), 1.0, epsilon = 1e-12);
        assert_abs_diff_eq!(toeplitz_share(&t, n, true), 1.0, epsilon = 1e-12);
        // a diagonal matrix with entries 1, −1, 1, …: the main diagonal's mean is 1/n, so the
        // Toeplitz energy is n·(1/n)² = 1/n of the total n
        let d: Vec<f32> = (0..n * n)
            .map(|x| {
                if x / n == x % n {
                    if (x / n) % 2 == 0 {
                        1.0
                    } else {
                        -1.0
                    }
                } else {
                    0.0
                }
            })
            .collect();
        assert_abs_diff_eq!(
            toeplitz_share(&d, n, false),
            1.0 / (n * n) as f64,
            epsilon = 1e-12
        );
        // column-constant M_ij = c_j with Σ c = 0 over a 2×2: M = [[1, −1], [1, −1]]
        // diagonals: k = 0 {1, −1} mean 0; k = 1 {1}; k = −1 {−1}: Toeplitz energy 2 of 4
        let m = [1.0f32, -1.0, 1.0, -1.0];
        assert_abs_diff_eq!(toeplitz_share(&m, 2, false), 0.5, epsilon = 1e-12);
        // causal: lower triangle {1 (0,0), 1 (1,0), −1 (1,1)}: k=0 mean 0, k=1 one entry 1: 1/3
        assert_abs_diff_eq!(toeplitz_share(&m, 2, true), 1.0 / 3.0, epsilon = 1e-12);
    }

    #[test]
    fn centred_share_ignores_row_offsets() {
        let n = 6;
        // circulant c_{(j − i) mod n} plus row offsets r_i: raw share < 1, centred share 1
        let c = [0.3, -1.0, 2.0, 0.5, -0.2, 0.7];
        let m: Vec<f32> = (0..n * n)
            .map(|x| (c[(x % n + n - x / n) % n] + 3.0 * (x / n) as f64) as f32)
            .collect();
        assert!(toeplitz_share(&m, n, false) < 0.99);
        assert_abs_diff_eq!(toeplitz_share_centred(&m, n, false), 1.0, epsilon = 1e-12);
        // a matrix of row offsets only has no softmax-relevant energy: share 0 by convention
        let r: Vec<f32> = (0..n * n).map(|x| (x / n) as f32).collect();
        assert_eq!(toeplitz_share_centred(&r, n, true), 0.0);
        // causal: row i is centred over j ≤ i only; [[1, ·], [3, 5]] → [[0, ·], [−1, 1]]:
        // diagonal 0 {0, 1} mean ½, diagonal 1 {−1}: Toeplitz energy ½ + 1 of total 2
        let m = [1.0f32, 99.0, 3.0, 5.0];
        assert_abs_diff_eq!(toeplitz_share_centred(&m, 2, true), 0.75, epsilon = 1e-12);
    }

    #[test]
    fn gini_of_known_vectors() {
        assert_eq!(gini(&[2.0, 2.0, 2.0]), 0.0);
        assert_abs_diff_eq!(gini(&[1.0, 0.0, 0.0, 0.0]), 0.75, epsilon = 1e-15);
        // {1, 2, 3}: Σ|x_i − x_j| = 2·(1 + 2 + 1) = 8, 2·n·Σx = 36
        assert_abs_diff_eq!(gini(&[1.0, 2.0, 3.0]), 8.0 / 36.0, epsilon = 1e-15);
        assert_eq!(gini(&[-1.0, 0.0]), 0.0);
    }

    #[test]
    fn stable_rank_and_norm() {
        assert_abs_diff_eq!(stable_rank(&[3.0, 0.0, -4.0]), 25.0 / 16.0, epsilon = 1e-15);
        // [[1, 2], [0, 1]]: symmetric part [[1, 1], [1, 1]] has eigenvalues 2, 0
        let e = sym_eigenvalues(&[1.0, 2.0, 0.0, 1.0], 2);
        assert!((e[0] - 2.0).abs() < 1e-14 && e[1].abs() < 1e-14);
        // [[3, 0], [4, 0]] has σ₁ = 5
        assert_abs_diff_eq!(
            spectral_norm(&[3.0, 0.0, 4.0, 0.0], 2),
            5.0,
            epsilon = 1e-12
        );
    }
}
