//! Reproducible random instances: the seeded generator of every check and the matrices the
//! seeded checks are built from.

use crate::Params;
use faer::Mat;
use pespectra_arith::gemm::{matmul_ball, par_for};
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) fn rng(p: &Params, salt: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(
        p.seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(salt),
    )
}

pub(crate) fn random_mat(r: &mut ChaCha8Rng, rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| r.gen_range(-1.0..1.0))
}

/// Random real symmetric matrix (exact).
pub(crate) fn random_symmetric(r: &mut ChaCha8Rng, n: usize) -> Ball {
    let m = random_mat(r, n, n);
    Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| {
        m[(i.min(j), i.max(j))]
    })))
}

/// `X Yᵀ` enclosed (two GEMMs).
pub(crate) fn gram(x: &Mat<f64>, y: &Mat<f64>) -> Ball {
    matmul_ball(x.as_ref(), y.transpose(), par_for(x.nrows())).into()
}

/// ALiBi bias −m·|i−j| (exact for a dyadic slope).
pub(crate) fn alibi(n: usize, m: f64) -> Ball {
    Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| {
        -m * i.abs_diff(j) as f64
    })))
}
