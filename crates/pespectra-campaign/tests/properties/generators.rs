//! The matrix families the properties run on: Gram, symmetric, repeated, clustered, badly scaled,
//! phase-aligned, Hermitian and logit matrices, PSD Toeplitz and Gram kernels, each tagged with its
//! family and whether it is well conditioned.

use faer::Mat;
use pespectra_spectra::matrix::CMat;
use proptest::prelude::*;

/// A generated matrix, the family it comes from, and whether it is well-conditioned.
#[derive(Clone, Debug)]
pub(super) struct Gen {
    pub(super) family: &'static str,
    pub(super) well: bool,
    pub(super) m: CMat,
}

impl Gen {
    /// PSD by construction (Gram matrices, rank-one phase-aligned content, `I + small`).
    pub(super) fn psd(&self) -> bool {
        matches!(
            self.family,
            "gram" | "low-rank gram" | "phase-aligned" | "clustered" | "gram B"
        )
    }
}

pub(super) fn real(family: &'static str, well: bool, m: Mat<f64>) -> Gen {
    Gen {
        family,
        well,
        m: CMat::real(m),
    }
}

pub(super) fn entries(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1.0f64..1.0, len)
}

/// `Σ_k x[i,k]·y[j,k]` in a fixed order; `dot(x, x, i, j) == dot(x, x, j, i)` exactly.
pub(super) fn dot(x: &[f64], y: &[f64], d: usize, i: usize, j: usize) -> f64 {
    (0..d).map(|k| x[i * d + k] * y[j * d + k]).sum()
}

/// Content Gram matrix `X Xᵀ` (W_Q = W_K), `X` n×d; `d < n` gives the usual low-rank case.
pub(super) fn gram(n: usize, d: usize) -> impl Strategy<Value = Gen> {
    entries(n * d).prop_map(move |x| {
        real(
            if d < n { "low-rank gram" } else { "gram" },
            true,
            Mat::from_fn(n, n, |i, j| dot(&x, &x, d, i, j)),
        )
    })
}

/// Symmetrised logits `(QKᵀ + KQᵀ)/2` with W_Q ≠ W_K.
pub(super) fn sym_logits(n: usize, d: usize) -> impl Strategy<Value = Gen> {
    (entries(n * d), entries(n * d)).prop_map(move |(q, k)| {
        real(
            "symmetrised logits",
            true,
            Mat::from_fn(n, n, |i, j| {
                0.5 * (dot(&q, &k, d, i, j) + dot(&q, &k, d, j, i))
            }),
        )
    })
}

/// Random symmetric matrix with entries in [-1, 1].
pub(super) fn sym(n: usize) -> impl Strategy<Value = Gen> {
    entries(n * n).prop_map(move |v| {
        real(
            "symmetric",
            true,
            Mat::from_fn(n, n, |i, j| v[i.min(j) * n + i.max(j)]),
        )
    })
}

/// Exactly repeated eigenvalues: `K ⊗ I_m` (each eigenvalue of K m times) or `c·I + low rank`
/// (c repeated n − r times).
pub(super) fn repeated(n: usize) -> impl Strategy<Value = Gen> {
    let kron = (1usize..=3).prop_flat_map(move |m| {
        let k = n.div_ceil(m);
        entries(k * k).prop_map(move |v| {
            real(
                "kron repeated",
                true,
                Mat::from_fn(n, n, |i, j| {
                    if i % m == j % m {
                        v[(i / m).min(j / m) * k + (i / m).max(j / m)]
                    } else {
                        0.0
                    }
                }),
            )
        })
    });
    let shifted = (entries(n * 2), -2i32..=2).prop_map(move |(x, c)| {
        real(
            "shift + rank 2",
            true,
            Mat::from_fn(n, n, |i, j| {
                dot(&x, &x, 2, i, j) + if i == j { c as f64 } else { 0.0 }
            }),
        )
    });
    prop_oneof![kron, shifted]
}

/// Clustered eigenvalues `I + 2^-e·S`: a cluster of width ~2^-e around 1.
pub(super) fn clustered(n: usize) -> impl Strategy<Value = Gen> {
    (entries(n * n), 10i32..=45).prop_map(move |(v, e)| {
        let eps = 2f64.powi(-e);
        real(
            "clustered",
            e <= 30,
            Mat::from_fn(n, n, |i, j| {
                let s = eps * v[i.min(j) * n + i.max(j)];
                if i == j {
                    1.0 + s
                } else {
                    s
                }
            }),
        )
    })
}

/// Badly scaled: `s_ij·(d_i·d_j)` with `d_i = 10^e_i`, `e_i ∈ [−75, 75]` (entries from 1e-150 to
/// 1e150), or one global scale 10^e, `e ∈ [−150, 150]`; and heavy-tailed (Cauchy-like) entries.
pub(super) fn badly_scaled(n: usize) -> impl Strategy<Value = Gen> {
    let diag = (entries(n * n), prop::collection::vec(-75i32..=75, n)).prop_map(move |(v, e)| {
        real(
            "diagonally scaled 1e±150",
            false,
            Mat::from_fn(n, n, |i, j| {
                v[i.min(j) * n + i.max(j)] * (10f64.powi(e[i]) * 10f64.powi(e[j]))
            }),
        )
    });
    let global = (entries(n * n), -150i32..=150).prop_map(move |(v, e)| {
        let s = 10f64.powi(e);
        real(
            "globally scaled 1e±150",
            false,
            Mat::from_fn(n, n, |i, j| v[i.min(j) * n + i.max(j)] * s),
        )
    });
    let heavy = prop::collection::vec(1e-6f64..1.0, n * n).prop_map(move |u| {
        real(
            "heavy-tailed",
            false,
            Mat::from_fn(n, n, |i, j| {
                let t = i.min(j) * n + i.max(j);
                let sign = if t.is_multiple_of(3) { -1.0 } else { 1.0 };
                sign / u[t]
            }),
        )
    });
    prop_oneof![diag, global, heavy]
}

/// Phase-aligned content (R1): `G_ij = conj(a_i)·a_j` with `a_j = r_j e^{−ijθ}`, exactly
/// Hermitian in f64 (the imaginary part is computed antisymmetrically).
pub(super) fn phase_aligned(n: usize) -> impl Strategy<Value = Gen> {
    (prop::collection::vec(0.25f64..2.0, n), 0.05f64..3.0).prop_map(move |(r, theta)| {
        let (ar, ai): (Vec<f64>, Vec<f64>) = (0..n)
            .map(|j| {
                let (s, c) = (j as f64 * theta).sin_cos();
                (r[j] * c, -r[j] * s)
            })
            .unzip();
        let re = Mat::from_fn(n, n, |i, j| ar[i] * ar[j] + ai[i] * ai[j]);
        let im = Mat::from_fn(n, n, |i, j| ar[i] * ai[j] - ai[i] * ar[j]);
        Gen {
            family: "phase-aligned",
            well: true,
            m: CMat::complex(re, im),
        }
    })
}

/// Every Hermitian family at size n.
pub(super) fn hermitian(n: usize) -> impl Strategy<Value = Gen> {
    prop_oneof![
        gram(n, n + 2),
        gram(n, 1 + n / 3),
        sym_logits(n, 1 + n / 2),
        sym(n),
        repeated(n),
        clustered(n),
        badly_scaled(n),
        phase_aligned(n),
    ]
}

/// General (non-Hermitian) logits `Q Kᵀ`, W_Q ≠ W_K, low rank d < n allowed.
pub(super) fn logits(n: usize) -> impl Strategy<Value = Gen> {
    (1usize..=n, any::<prop::sample::Index>()).prop_flat_map(move |(d, _)| {
        (entries(n * d), entries(n * d)).prop_map(move |(q, k)| {
            real(
                "logits QKᵀ",
                true,
                Mat::from_fn(n, n, |i, j| dot(&q, &k, d, i, j)),
            )
        })
    })
}

/// `cos(kω)` for the five angles whose cosines are dyadic at every k: ω = 0, π/3, π/2, 2π/3, π.
pub(super) fn dyadic_cos(atom: usize, k: usize) -> f64 {
    match atom {
        0 => 1.0,
        1 => [1.0, 0.5, -0.5, -1.0, -0.5, 0.5][k % 6],
        2 => [1.0, 0.0, -1.0, 0.0][k % 4],
        3 => [1.0, -0.5, -0.5][k % 3],
        _ => [1.0, -1.0][k % 2],
    }
}

/// PSD unit-diagonal Toeplitz kernels `t_k = Σ_j w_j cos(kω_j)` from non-negative spectral
/// measures (Carathéodory–Toeplitz), in two forms:
/// - *exact*: dyadic weights c_j/16 on the five dyadic-cosine atoms (and optionally a white
///   share c_w/16, the uniform measure, contributing δ_k0): every entry is exact in f64, so the
///   matrix is exactly PSD with diagonal exactly 1 (singular without the white share);
/// - *f64*: weights on arbitrary atoms ω_j ∈ [0, π] plus a white share w₀; `t_0 = 1` exactly,
///   the other entries rounded. With w₀ ≥ 1/16 the rounding cannot reach λmin ≥ w₀, so the
///   matrix is PD and certifiable; with w₀ = 0 it is only approximately PSD (INCONCLUSIVE
///   allowed, FAILS never).
pub(super) fn psd_toeplitz(n: usize) -> impl Strategy<Value = Gen> {
    let exact = (prop::collection::vec(0u32..=3, 5), any::<bool>()).prop_map(move |(c, white)| {
        let mut c: Vec<f64> = c.iter().map(|&v| v as f64).collect();
        let rest = 16.0 - c.iter().sum::<f64>();
        if !white {
            c[0] += rest;
        }
        let t: Vec<f64> = (0..n)
            .map(|k| {
                if k == 0 {
                    1.0
                } else {
                    (0..5).map(|a| c[a] * dyadic_cos(a, k)).sum::<f64>() / 16.0
                }
            })
            .collect();
        real(
            "exact dyadic spectral measure",
            white,
            Mat::from_fn(n, n, |i, j| t[i.abs_diff(j)]),
        )
    });
    let float = (
        prop::collection::vec((0.0f64..std::f64::consts::PI, 0.0f64..1.0), 1..=4),
        prop_oneof![Just(0.0), 0.0625f64..1.0],
    )
        .prop_map(move |(atoms, w0)| {
            let total: f64 = atoms.iter().map(|a| a.1).sum::<f64>().max(1e-300);
            let t: Vec<f64> = (0..n)
                .map(|k| {
                    if k == 0 {
                        1.0
                    } else {
                        atoms
                            .iter()
                            .map(|&(w, p)| (1.0 - w0) * p / total * (k as f64 * w).cos())
                            .sum()
                    }
                })
                .collect();
            real(
                "f64 spectral measure",
                w0 > 0.0,
                Mat::from_fn(n, n, |i, j| t[i.abs_diff(j)]),
            )
        });
    prop_oneof![exact, float]
}

/// PSD matrices that are not unit-diagonal: Gram `Y Yᵀ` with Y n×(n+2) (full rank, so the f64
/// rounding keeps it PD in practice; certified by `run_on` anyway).
pub(super) fn psd_gram(n: usize) -> impl Strategy<Value = Gen> {
    entries(n * (n + 2)).prop_map(move |y| {
        real(
            "gram B",
            true,
            Mat::from_fn(n, n, |i, j| dot(&y, &y, n + 2, i, j)),
        )
    })
}

pub(super) fn size() -> impl Strategy<Value = usize> {
    prop_oneof![4usize..=12, 13usize..=40]
}
