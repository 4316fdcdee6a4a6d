//! D1 (RoPE = Σ_f Re(G^f ∘ E^f)), T1 per-frequency similarity, R4, and the rigorous
//! reconstruction check. Expected values come from explicit rotation matrices built here.

mod common;

use approx::assert_abs_diff_eq;
use common::{adjoint, cmul, max_abs, mul_t, trace, Rng};
use pespectra_pe::*;

/// Explicit d × d rotation by `angle_f` in the plane of each pair, identity elsewhere.
/// Pair indices are written from THEOREMS.md, not taken from the crate.
fn rotation(d: usize, rot: usize, interleaved: bool, angles: &[f64]) -> RealMatrix {
    let mut r = vec![0.0; d * d];
    for c in 0..d {
        r[c * d + c] = 1.0;
    }
    for (f, &a) in angles.iter().enumerate() {
        let (x, y) = if interleaved {
            (2 * f, 2 * f + 1)
        } else {
            (f, f + rot / 2)
        };
        let (s, c) = a.sin_cos();
        r[x * d + x] = c;
        r[x * d + y] = -s;
        r[y * d + x] = s;
        r[y * d + y] = c;
    }
    RealMatrix::new(d, d, r).unwrap()
}

/// ⟨R(iθ)q_i, R(jθ)k_j⟩ with explicit matrices.
fn explicit_rope_logits(
    q: &RealMatrix,
    k: &RealMatrix,
    rot: usize,
    inter: bool,
    theta: &[f64],
) -> RealMatrix {
    let d = q.cols();
    let rotate = |x: &RealMatrix| {
        let rows: Vec<Vec<f64>> = (0..x.rows())
            .map(|p| {
                let angles: Vec<f64> = theta.iter().map(|t| p as f64 * t).collect();
                let r = rotation(d, rot, inter, &angles);
                (0..d)
                    .map(|a| (0..d).map(|b| r.get(a, b) * x.get(p, b)).sum())
                    .collect()
            })
            .collect();
        RealMatrix::from_rows(&rows).unwrap()
    };
    mul_t(&rotate(q), &rotate(k))
}

fn default_theta(rot: usize, base: f64) -> Vec<f64> {
    (0..rot / 2)
        .map(|f| base.powf(-2.0 * f as f64 / rot as f64))
        .collect()
}

#[test]
fn d1_matches_explicit_rotation_matrices_both_pairings_and_partial() {
    let mut rng = Rng::new(1);
    for (pairing, inter) in [(Pairing::Interleaved, true), (Pairing::HalfSplit, false)] {
        for (d, partial) in [(8, 1.0), (16, 1.0), (16, 0.5), (12, 0.34)] {
            let n = 10;
            let (q, k) = (rng.matrix(n, d), rng.matrix(n, d));
            let rope = RopeConfig::new(d, 10_000.0, pairing).with_partial_rotary_factor(partial);
            let rot = rope.rotary_dim().unwrap();
            let expected = explicit_rope_logits(&q, &k, rot, inter, &default_theta(rot, 10_000.0));
            let direct = logits(&q, &k, &PositionalEncoding::Rope(rope.clone()), 0.5).unwrap();
            let d1 = rope_decomposition(&q, &k, &rope, 0.5).unwrap();
            let half = RealMatrix::from_fn(n, n, |i, j| 0.5 * expected.get(i, j));
            assert!(
                direct.max_abs_diff(&half) < 1e-12,
                "{pairing:?} d={d} p={partial}"
            );
            assert!(
                d1.reconstruct().max_abs_diff(&half) < 1e-12,
                "{pairing:?} d={d} p={partial}"
            );
            assert_eq!(d1.num_frequencies(), rot / 2);
            assert_eq!(d1.passthrough.is_some(), rot < d);
        }
    }
}

#[test]
fn interleaved_and_half_split_are_different_conventions() {
    let mut rng = Rng::new(2);
    let (q, k) = (rng.matrix(8, 8), rng.matrix(8, 8));
    let a = logits(
        &q,
        &k,
        &PositionalEncoding::Rope(RopeConfig::new(8, 10_000.0, Pairing::Interleaved)),
        1.0,
    )
    .unwrap();
    let b = logits(
        &q,
        &k,
        &PositionalEncoding::Rope(RopeConfig::new(8, 10_000.0, Pairing::HalfSplit)),
        1.0,
    )
    .unwrap();
    assert!(a.max_abs_diff(&b) > 0.1);
    // And the rigorous check notices: direct interleaved vs half-split D1 must be refused.
    let direct = logits_with_bound(
        &q,
        &k,
        &PositionalEncoding::Rope(RopeConfig::new(8, 10_000.0, Pairing::Interleaved)),
        1.0,
    )
    .unwrap();
    let wrong = rope_decomposition(
        &q,
        &k,
        &RopeConfig::new(8, 10_000.0, Pairing::HalfSplit),
        1.0,
    )
    .unwrap();
    assert!(
        !check_agreement(&direct, &wrong.reconstruct_with_bound())
            .unwrap()
            .holds
    );
}

#[test]
fn reconstruction_agrees_within_rigorous_bound_for_every_rotary_variant() {
    let mut rng = Rng::new(3);
    let yarn = RopeScaling::Yarn(YarnParams::new(4.0, 2048));
    let configs = vec![
        RopeConfig::new(16, 10_000.0, Pairing::Interleaved),
        RopeConfig::new(16, 10_000.0, Pairing::HalfSplit).with_partial_rotary_factor(0.25),
        RopeConfig::new(32, 500_000.0, Pairing::HalfSplit).with_scaling(yarn),
        RopeConfig::new(32, 500_000.0, Pairing::HalfSplit).with_scaling(RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        }),
    ];
    for rope in configs {
        let d = rope.head_dim;
        for n in [1, 5, 300] {
            let (q, k) = (rng.matrix(n, d), rng.matrix(n, d));
            let direct =
                logits_with_bound(&q, &k, &PositionalEncoding::Rope(rope.clone()), 0.125).unwrap();
            let recon = rope_decomposition(&q, &k, &rope, 0.125)
                .unwrap()
                .reconstruct_with_bound();
            let c = check_agreement(&direct, &recon).unwrap();
            assert!(c.holds, "{rope:?} n={n}: {c:?}");
            assert_eq!(
                check_d1(&q, &k, &PositionalEncoding::Rope(rope.clone()), 0.125).unwrap(),
                c
            );
            // The bound must also be useful, not merely true.
            assert!(max_abs(&direct.bound) < 1e-11 && max_abs(&recon.bound) < 1e-11);
        }
    }
}

#[test]
fn shrinking_the_bound_a_hair_makes_the_check_refuse() {
    // Exact boundary: |d − r| = 2^-29 = 2^-30 + 2^-30 holds; one ulp less in one bound refuses.
    let one = |v: f64, e: f64| ErrorBounded {
        value: RealMatrix::new(1, 1, vec![v]).unwrap(),
        bound: RealMatrix::new(1, 1, vec![e]).unwrap(),
    };
    let e = 2f64.powi(-30);
    assert!(
        check_agreement(&one(1.0 + 2.0 * e, e), &one(1.0, e))
            .unwrap()
            .holds
    );
    assert!(
        !check_agreement(&one(1.0 + 2.0 * e, e.next_down()), &one(1.0, e))
            .unwrap()
            .holds
    );

    // Real data: scale both bounds to just below the share of the budget actually used.
    let mut rng = Rng::new(4);
    let rope = RopeConfig::new(8, 10_000.0, Pairing::Interleaved);
    let (q, k) = (rng.matrix(40, 8), rng.matrix(40, 8));
    let direct = logits_with_bound(&q, &k, &PositionalEncoding::Rope(rope.clone()), 1.0).unwrap();
    let recon = rope_decomposition(&q, &k, &rope, 1.0)
        .unwrap()
        .reconstruct_with_bound();
    let used = check_agreement(&direct, &recon).unwrap().max_budget_used;
    assert!(used > 0.0 && used < 1.0);
    let shrink = |b: &ErrorBounded, f: f64| ErrorBounded {
        value: b.value.clone(),
        bound: RealMatrix::from_fn(b.bound.rows(), b.bound.cols(), |i, j| b.bound.get(i, j) * f),
    };
    let tight = used * (1.0 + 1e-6);
    assert!(
        check_agreement(&shrink(&direct, tight), &shrink(&recon, tight))
            .unwrap()
            .holds
    );
    let short = used * (1.0 - 1e-6);
    assert!(
        !check_agreement(&shrink(&direct, short), &shrink(&recon, short))
            .unwrap()
            .holds
    );
}

#[test]
fn t1_each_frequency_is_a_diagonal_unitary_similarity() {
    let mut rng = Rng::new(5);
    let n = 9;
    let (q, k) = (rng.matrix(n, 8), rng.matrix(n, 8));
    let d1 =
        rope_decomposition(&q, &k, &RopeConfig::new(8, 100.0, Pairing::HalfSplit), 1.0).unwrap();
    for f in 0..d1.num_frequencies() {
        let g = &d1.content(f).unwrap();
        let e = d1.kernel(f).unwrap();
        let x = g.hadamard(&e).unwrap();
        // X = D G Dᴴ with D = diag(exp(−i·p·θ_f)), checked entrywise.
        let t = d1.theta[f];
        let dg = ComplexMatrix::from_fn(n, n, |i, j| {
            Complex64::from_polar(1.0, -(i as f64) * t)
                * g.get(i, j)
                * Complex64::from_polar(1.0, j as f64 * t)
        });
        for (a, b) in x.data().iter().zip(dg.data()) {
            assert!((a - b).norm() < 1e-12);
        }
        // Same spectrum and singular values: traces of powers of X and of X Xᴴ agree.
        let (mut px, mut pg) = (x.clone(), g.clone());
        let (xx, gg) = (cmul(&x, &adjoint(&x)), cmul(g, &adjoint(g)));
        let (mut pxx, mut pgg) = (xx.clone(), gg.clone());
        for _ in 0..4 {
            let (a, b) = (trace(&px), trace(&pg));
            assert!(
                (a - b).norm() <= 1e-10 * (1.0 + b.norm()),
                "f={f}: {a} vs {b}"
            );
            let (a, b) = (trace(&pxx), trace(&pgg));
            assert!((a - b).norm() <= 1e-10 * (1.0 + b.norm()));
            px = cmul(&px, &x);
            pg = cmul(&pg, g);
            pxx = cmul(&pxx, &xx);
            pgg = cmul(&pgg, &gg);
        }
        // E^f is rank one with unit diagonal: E = ū uᵀ, so tr E = n and tr E² = n².
        assert!((trace(&e) - Complex64::new(n as f64, 0.0)).norm() < 1e-12);
        assert!((trace(&cmul(&e, &e)) - Complex64::new((n * n) as f64, 0.0)).norm() < 1e-9);
    }
}

#[test]
fn r4_one_summed_kernel_is_wrong_for_distinct_frequencies() {
    let mut rng = Rng::new(6);
    let n = 12;
    for (d, should_match) in [(2, true), (8, false)] {
        let rope = RopeConfig::new(d, 10_000.0, Pairing::Interleaved);
        let (q, k) = (rng.matrix(n, d), rng.matrix(n, d));
        let d1 = rope_decomposition(&q, &k, &rope, 1.0).unwrap();
        let g_sum = ComplexMatrix::from_fn(n, n, |i, j| {
            (0..d1.num_frequencies())
                .map(|f| d1.content(f).unwrap().get(i, j))
                .sum()
        });
        let e_sum = ComplexMatrix::from_fn(n, n, |i, j| {
            (0..d1.theta.len())
                .map(|f| d1.kernel(f).unwrap().get(i, j))
                .sum()
        });
        let one_kernel = g_sum.hadamard(&e_sum).unwrap().re();
        let real_content = mul_t(&q, &k); // the other reading: Re(Q Kᵀ ∘ G_e)
        let other =
            ComplexMatrix::from_fn(n, n, |i, j| e_sum.get(i, j) * real_content.get(i, j)).re();
        let truth = logits(&q, &k, &PositionalEncoding::Rope(rope), 1.0).unwrap();
        if should_match {
            assert!(one_kernel.max_abs_diff(&truth) < 1e-12);
        } else {
            assert!(one_kernel.max_abs_diff(&truth) > 1e-2);
            assert!(other.max_abs_diff(&truth) > 1e-2);
        }
    }
}

#[test]
fn nope_is_the_content_sum_and_rope_keeps_the_diagonal() {
    let mut rng = Rng::new(7);
    let (q, k) = (rng.matrix(7, 6), rng.matrix(7, 6));
    let rope = RopeConfig::new(6, 10_000.0, Pairing::HalfSplit);
    let d1 = rope_decomposition(&q, &k, &rope, 1.0).unwrap();
    let nope = logits(&q, &k, &PositionalEncoding::None, 1.0).unwrap();
    assert!(d1.nope_logits().max_abs_diff(&nope) < 1e-12);
    assert!(nope.max_abs_diff(&mul_t(&q, &k)) < 1e-12);
    let rl = d1.reconstruct();
    for i in 0..7 {
        assert_abs_diff_eq!(rl.get(i, i), nope.get(i, i), epsilon = 1e-12); // E^f has unit diagonal
    }
}

#[test]
fn mla_is_nope_content_plus_rope_with_a_shared_key() {
    let mut rng = Rng::new(8);
    let (n, heads, dn, dr) = (6, 3, 5, 4);
    let rope = RopeConfig::new(dr, 10_000.0, Pairing::Interleaved);
    let k_rope = rng.matrix(n, dr);
    let q_heads: Vec<_> = (0..heads).map(|_| rng.matrix(n, dn + dr)).collect();
    let k_nope: Vec<_> = (0..heads).map(|_| rng.matrix(n, dn)).collect();
    let scale = mla_softmax_scale(dn, dr, None);
    assert_eq!(scale, 1.0 / 3.0);
    let out = mla_logits(&q_heads, &k_nope, &k_rope, &rope, scale).unwrap();
    let theta = default_theta(dr, 10_000.0);
    for h in 0..heads {
        let q_n = RealMatrix::from_fn(n, dn, |i, c| q_heads[h].get(i, c));
        let q_r = RealMatrix::from_fn(n, dr, |i, c| q_heads[h].get(i, dn + c));
        let content = mul_t(&q_n, &k_nope[h]);
        let position = explicit_rope_logits(&q_r, &k_rope, dr, true, &theta);
        let expected = RealMatrix::from_fn(n, n, |i, j| {
            scale * (content.get(i, j) + position.get(i, j))
        });
        assert!(out[h].max_abs_diff(&expected) < 1e-12);
        // D1 for the head: nope block is the pass-through term, and it checks rigorously.
        let k = RealMatrix::from_fn(n, dn + dr, |i, c| {
            if c < dn {
                k_nope[h].get(i, c)
            } else {
                k_rope.get(i, c - dn)
            }
        });
        let d1 = mla_decomposition(&q_heads[h], &k, dn, &rope, scale).unwrap();
        let direct = logits_with_bound(
            &q_heads[h],
            &k,
            &PositionalEncoding::Mla {
                d_nope: dn,
                rope: rope.clone(),
            },
            scale,
        )
        .unwrap();
        assert!(
            check_agreement(&direct, &d1.reconstruct_with_bound())
                .unwrap()
                .holds
        );
        // The key pairs b_j^f are the same for every head (shared k_rope).
        let d0 = mla_decomposition(
            &q_heads[0],
            &RealMatrix::from_fn(n, dn + dr, |i, c| {
                if c < dn {
                    k_nope[0].get(i, c)
                } else {
                    k_rope.get(i, c - dn)
                }
            }),
            dn,
            &rope,
            scale,
        )
        .unwrap();
        assert_eq!(d1.key_pairs, d0.key_pairs);
    }
    // DeepSeek-V3: factor 40, mscale_all_dim 1 ⇒ mscale² = (1 + 0.1 ln 40)².
    let mut y = YarnParams::new(40.0, 4096);
    y.mscale = Some(1.0);
    y.mscale_all_dim = Some(1.0);
    let s = mla_softmax_scale(128, 64, Some(&y));
    assert_abs_diff_eq!(
        s,
        (1.0 + 0.1 * 40f64.ln()).powi(2) / 192f64.sqrt(),
        epsilon = 1e-15
    );
}
