//! Enclosures checked against exact rational products (num-rational), the independent oracle.

use super::product::*;
use super::*;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand::{Rng, SeedableRng};

fn q(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap()
}

fn exact_product(a: &Mat<f64>, b: &Mat<f64>, i: usize, j: usize) -> BigRational {
    let mut s = BigRational::zero();
    for l in 0..a.ncols() {
        s += q(a[(i, l)]) * q(b[(l, j)]);
    }
    s
}

/// Runs `check` with every product on faer, then on the system BLAS. The BLAS run is skipped
/// (saying so) when no OpenBLAS can be loaded, unless `PESPECTRA_EXPECT_BLAS` is set, as the
/// test script sets it where it installed one: then a missing library fails the test.
fn on_every_backend(check: impl Fn()) {
    with_backend(Backend::Faer, &check).expect("faer is always available");
    match with_backend(Backend::SystemBlas, &check) {
        Ok(()) => {}
        Err(e) if std::env::var_os("PESPECTRA_EXPECT_BLAS").is_some() => panic!("{e}"),
        Err(e) => eprintln!("skipping the system-BLAS half: {e}"),
    }
}

fn random(rng: &mut impl Rng, r: usize, c: usize, spread: i32) -> Mat<f64> {
    Mat::from_fn(r, c, |_, _| {
        rng.gen_range(-1.0..1.0) * 2f64.powi(rng.gen_range(-spread..=spread))
    })
}

/// The enclosure holds the exact rational product (independent oracle), for badly scaled and
/// cancelling inputs, with sequential and parallel GEMM.
#[test]
fn ball_contains_exact_product() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (m, k, n, spread) in [(5, 7, 3, 0), (16, 40, 9, 30), (33, 65, 17, 200)] {
            let a = random(&mut rng, m, k, spread);
            let b = random(&mut rng, k, n, spread);
            for par in [Par::Seq, par_for(1024)] {
                let c = matmul_ball(a.as_ref(), b.as_ref(), par);
                for i in 0..m {
                    for j in 0..n {
                        let err = (q(c.mid[(i, j)]) - exact_product(&a, &b, i, j)).abs();
                        assert!(err <= q(c.rad[(i, j)]), "({i},{j})");
                    }
                }
            }
        }
    });
}

/// A product that underflows entirely still gets a radius covering the exact (tiny) value.
#[test]
fn underflowing_products_are_covered() {
    on_every_backend(|| {
        let a = Mat::from_fn(3, 4, |i, j| 1e-170 * (1.0 + i as f64 + j as f64));
        let b = Mat::from_fn(4, 2, |i, j| 3e-170 * (1.0 + i as f64 - j as f64));
        let c = matmul_ball(a.as_ref(), b.as_ref(), Par::Seq);
        for i in 0..3 {
            for j in 0..2 {
                let err = (q(c.mid[(i, j)]) - exact_product(&a, &b, i, j)).abs();
                assert!(err <= q(c.rad[(i, j)]));
                assert!(c.rad[(i, j)] > 0.0);
            }
        }
    });
}

#[test]
fn overflow_gives_infinite_radius() {
    on_every_backend(|| {
        let a = Mat::from_fn(2, 2, |_, _| 1e200);
        let c = matmul_ball(a.as_ref(), a.as_ref(), Par::Seq);
        assert!(c.rad[(0, 0)].is_infinite());
    });
}

/// The split product's exact part is exactly the product of the leading parts, and the whole
/// enclosure holds the exact product, with radii far below the plain a priori bound.
#[test]
fn split_product_is_exact_and_tight() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        for (m, k, n, spread) in [(7, 9, 5, 0), (20, 64, 11, 20), (9, 300, 4, 3)] {
            let a = random(&mut rng, m, k, spread);
            let b = random(&mut rng, k, n, spread);
            let sp = matmul_split(a.as_ref(), b.as_ref(), par_for(1024));
            let plain = matmul_ball(a.as_ref(), b.as_ref(), Par::Seq);
            let ball = sp.clone().into_ball();
            for i in 0..m {
                for j in 0..n {
                    let exact = exact_product(&a, &b, i, j);
                    let err = (q(ball.mid[(i, j)]) - &exact).abs();
                    assert!(err <= q(ball.rad[(i, j)]), "({i},{j})");
                    // beyond the unavoidable rounding of the result to one double (≤ u·|mid|)
                    let floor = 2.0 * U64 * ball.mid[(i, j)].abs();
                    // (for well-scaled rows and columns; with a wide spread the small entries
                    // fall entirely into the remainder and the gain shrinks)
                    if spread <= 3 {
                        assert!(
                            ball.rad[(i, j)] <= plain.rad[(i, j)] * 1e-3 + floor,
                            "{} vs {}",
                            ball.rad[(i, j)],
                            plain.rad[(i, j)]
                        );
                    }
                }
            }
        }
    });
}

/// Tiny but well-scaled matrices keep relative accuracy (the norms are scaled per line).
#[test]
fn split_product_is_tight_for_tiny_matrices() {
    on_every_backend(|| {
        let a = Mat::from_fn(4, 4, |i, j| 1e-260 * (1.0 + (i + 2 * j) as f64 / 7.0));
        let ball = matmul_split(a.as_ref(), a.as_ref(), Par::Seq).into_ball();
        for i in 0..4 {
            for j in 0..4 {
                let exact = exact_product(&a, &a, i, j);
                assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                // product entries are ~1e-520: not representable, so the radius may be η-sized
                assert!(ball.rad[(i, j)] <= 1e-300, "{}", ball.rad[(i, j)]);
            }
        }
        let b = Mat::from_fn(4, 4, |i, j| 1.0 + (i * j) as f64);
        let ball = matmul_split(a.as_ref(), b.as_ref(), Par::Seq).into_ball();
        for i in 0..4 {
            for j in 0..4 {
                assert!(ball.rad[(i, j)] <= 1e-270, "{}", ball.rad[(i, j)]);
            }
        }
    });
}

#[test]
fn split_falls_back_at_extreme_exponents() {
    on_every_backend(|| {
        let a = Mat::from_fn(3, 3, |i, j| if i == j { 1e-310 } else { 1e300 });
        let sp = matmul_split(a.as_ref(), a.as_ref(), Par::Seq);
        let ball = sp.into_ball();
        for i in 0..3 {
            for j in 0..3 {
                let exact = exact_product(&a, &a, i, j);
                if ball.rad[(i, j)].is_finite() {
                    assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                }
            }
        }
    });
}

/// The Gram product's lower-triangle balls enclose every entry of the exact `XᵀX`, for badly
/// scaled columns and the strided-input path, and stay far tighter than the plain bound.
#[test]
fn gram_split_encloses_exact_gram() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(15);
        for (k, n, spread) in [(9, 7, 0), (64, 20, 3), (40, 12, 250)] {
            let x = random(&mut rng, k, n, spread);
            let xt = x.transpose().to_owned();
            for strided in [false, true] {
                let view = if strided { xt.transpose() } else { x.as_ref() };
                let ball = gram_split(view, par_for(1024)).into_ball();
                let plain = matmul_ball(x.transpose(), x.as_ref(), Par::Seq);
                for i in 0..n {
                    for j in 0..n {
                        let exact = exact_product(&xt, &x, i, j);
                        let err = (q(ball.mid[(i, j)]) - &exact).abs();
                        assert!(err <= q(ball.rad[(i, j)]), "({i},{j})");
                        if spread == 0 {
                            let floor = 2.0 * U64 * ball.mid[(i, j)].abs();
                            assert!(ball.rad[(i, j)] <= plain.rad[(i, j)] * 1e-3 + floor);
                        }
                    }
                }
            }
        }
        // out-of-range exponents fall back to the plain product, still enclosing
        let x = Mat::from_fn(3, 3, |i, j| if i == j { 1e-310 } else { 1e300 });
        let ball = gram_split(x.as_ref(), Par::Seq).into_ball();
        let xt = x.transpose().to_owned();
        for i in 0..3 {
            for j in 0..3 {
                if ball.rad[(i, j)].is_finite() {
                    let exact = exact_product(&xt, &x, i, j);
                    assert!((q(ball.mid[(i, j)]) - exact).abs() <= q(ball.rad[(i, j)]));
                }
            }
        }
    });
}

/// `|P − x·y|` bounds dominate the exact rational value for general and Gram products
/// (shift `X·diag(d)` and the identity), and exceed it by little for well-scaled data.
#[test]
fn modulus_minus_products_dominates_exact() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
        for (n, spread) in [(6, 0), (17, 2), (12, 200)] {
            let a = random(&mut rng, n, n, spread);
            let x = random(&mut rng, n, n, 0);
            let d: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
            let m = matmul_split(a.as_ref(), x.as_ref(), Par::Seq)
                .modulus_minus_products(|i, j| (x[(i, j)], d[j]));
            let g = gram_split(x.as_ref(), Par::Seq)
                .modulus_minus_products(|i, j| (if i == j { 1.0 } else { 0.0 }, 1.0));
            let xt = x.transpose().to_owned();
            for i in 0..n {
                for j in 0..n {
                    let t = (exact_product(&a, &x, i, j) - q(x[(i, j)]) * q(d[j])).abs();
                    assert!(t <= q(m[(i, j)]), "AX−XD ({i},{j})");
                    let one = if i == j { 1.0 } else { 0.0 };
                    let f = (exact_product(&xt, &x, i, j) - q(one)).abs();
                    assert!(f <= q(g[(i, j)]), "XᵀX−I ({i},{j})");
                    assert_eq!(g[(i, j)], g[(j, i)]);
                    if spread == 0 {
                        // slack: a few ulps of the computed entry plus the remainder radius
                        let slack = q(16.0 * U64 * (1.0 + m[(i, j)]));
                        assert!(q(m[(i, j)]) - t <= slack, "AX−XD too loose ({i},{j})");
                    }
                }
            }
        }
        // non-finite data gives +∞, never a finite bound
        let a = Mat::from_fn(3, 3, |i, j| if i == j { f64::NAN } else { 1.0 });
        let m = matmul_split(a.as_ref(), a.as_ref(), Par::Seq)
            .modulus_minus_products(|_, _| (0.0, 0.0));
        assert!(m[(0, 0)].is_infinite());
    });
}

#[test]
fn nonneg_upper_dominates_exact() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let a = Mat::from_fn(20, 31, |_, _| rng.gen_range(0.0..1.0));
        let b = Mat::from_fn(31, 6, |_, _| rng.gen_range(0.0..1.0));
        let up = matmul_nonneg_upper(a.as_ref(), b.as_ref(), Par::Seq);
        for i in 0..20 {
            for j in 0..6 {
                assert!(exact_product(&a, &b, i, j) <= q(up[(i, j)]));
            }
        }
    });
}

#[test]
fn norm2_upper_survives_extreme_scales() {
    for s in [1e-310, 1e-300, 1e300] {
        let j = Mat::from_fn(5, 5, |_, _| s);
        let b = norm2_upper(j.as_ref());
        assert!(b >= 5.0 * s && b <= 5.0 * s * (1.0 + 1e-12), "{s}: {b}");
    }
}

#[test]
fn norm2_upper_bounds_all_ones() {
    // ‖J_n‖₂ = n exactly; the bound must be ≥ n and here is exact.
    let j = Mat::from_fn(7, 7, |_, _| 1.0);
    assert!(norm2_upper(j.as_ref()) >= 7.0);
    assert!(norm2_upper(j.as_ref()) <= 7.0 * (1.0 + 1e-14));
}

/// The parallel column-block path (n ≥ 192) gives the closed form ‖J_n‖₂ = n from above, and a
/// NaN anywhere gives no bound at all rather than a finite one that ignores it.
#[test]
fn norm2_upper_parallel_blocks_and_nan() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| {
        let j = Mat::from_fn(300, 257, |_, _| 1.0);
        let b = norm2_upper(j.as_ref());
        let exact = (300.0f64 * 257.0).sqrt();
        assert!(b >= exact && b <= exact * (1.0 + 1e-12), "{b}");
        let mut m = Mat::from_fn(300, 300, |i, j| ((i + j) % 7) as f64);
        m[(299, 1)] = f64::NAN;
        assert!(norm2_upper(m.as_ref()).is_nan());
    });
    let mut m = Mat::from_fn(4, 4, |_, _| 1.0);
    m[(2, 3)] = f64::NAN;
    assert!(norm2_upper(m.as_ref()).is_nan());
}

/// One column split serves the product and the Gram matrix: both enclose the exact values when
/// the column blocks run in parallel on a matrix with many blocks.
#[test]
fn shared_column_split_encloses_both_products() {
    on_every_backend(|| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let (a, x) = (random(&mut rng, 23, 23, 1), random(&mut rng, 23, 23, 0));
        let par = Par::rayon(2);
        let xs = ColumnSplit::new(x.as_ref(), par);
        let p = matmul_split_with(a.as_ref(), &xs, par).into_ball();
        let g = gram_split_with(&xs, par).into_ball();
        let xt = x.transpose().to_owned();
        for i in 0..23 {
            for j in 0..23 {
                assert!((q(p.mid[(i, j)]) - exact_product(&a, &x, i, j)).abs() <= q(p.rad[(i, j)]));
                assert!(
                    (q(g.mid[(i, j)]) - exact_product(&xt, &x, i, j)).abs() <= q(g.rad[(i, j)])
                );
            }
        }
    });
}

/// A Gram product wider than one BLAS block column (256): entries on both sides of the block
/// boundaries and a spread of the rest enclose the exact values, on both backends.
#[test]
fn gram_split_across_block_columns() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let x = random(&mut rng, 37, 300, 2);
    let xt = x.transpose().to_owned();
    let lines: Vec<usize> = (0..300)
        .filter(|&i| i % 23 == 0 || (254..259).contains(&i) || i == 299)
        .collect();
    on_every_backend(|| {
        let ball = gram_split(x.as_ref(), Par::rayon(2)).into_ball();
        for &i in &lines {
            for &j in &lines {
                let err = (q(ball.mid[(i, j)]) - exact_product(&xt, &x, i, j)).abs();
                assert!(err <= q(ball.rad[(i, j)]), "({i},{j})");
            }
        }
    });
}
