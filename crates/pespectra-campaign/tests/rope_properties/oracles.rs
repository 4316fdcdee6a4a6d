//! Independent checks of the exact rank-≤4 reductions: a dense f64 oracle on small heads, claims
//! false by a hair, and the growth of the ALiBi distance matrix's eigenvalues (T8).

use super::heads::{base, inv_freq, pairing, rows, scaling, Content, Rotary};
use super::{persisted, REGRESSIONS};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_audit::check::le;
use pespectra_audit::rope::{freq_enclosure, pairs};
use pespectra_pe::Pairing;
use pespectra_theorems::{run, Params, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// Distance from `x` to the enclosure `v` (0 inside).
pub(super) fn outside(v: Interval, x: f64) -> f64 {
    (v.lo() - x).max(x - v.hi()).max(0.0)
}

/// Dense f64 oracle of one frequency: σ₁, σ₂ of L = Re(G∘E), the extreme eigenvalues of
/// S = (L + Lᵀ)/2 and of A = (G + Gᴴ)/2 (through its real 2n × 2n embedding), ‖a‖‖b‖ — all
/// from E_ij = cos((j−i)θ) + i sin((j−i)θ) in libm, entry by entry, independently of the
/// reductions.
pub(super) fn dense_oracle(a: &[(f64, f64)], b: &[(f64, f64)], theta: f64) -> [f64; 7] {
    let n = a.len();
    let g = |i: usize, j: usize| {
        let ((ar, ai), (br, bi)) = (a[i], b[j]);
        (ar * br + ai * bi, ar * bi - ai * br) // conj(a_i) b_j
    };
    let l = Mat::from_fn(n, n, |i, j| {
        let (gr, gi) = g(i, j);
        let (s, c) = ((j as f64 - i as f64) * theta).sin_cos();
        gr * c - gi * s
    });
    let sv = l.singular_values().unwrap();
    let s = Mat::from_fn(n, n, |i, j| 0.5 * (l[(i, j)] + l[(j, i)]));
    let es = s.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    // A = (G + Gᴴ)/2: Re A_ij = (Re g_ij + Re g_ji)/2, Im A_ij = (Im g_ij − Im g_ji)/2
    let emb = Mat::from_fn(2 * n, 2 * n, |i, j| {
        let (bi, bj, i, j) = (i / n, j / n, i % n, j % n);
        let (re, im) = (0.5 * (g(i, j).0 + g(j, i).0), 0.5 * (g(i, j).1 - g(j, i).1));
        match (bi, bj) {
            (0, 0) | (1, 1) => re,
            (0, 1) => -im,
            _ => im,
        }
    });
    let ea = emb.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    let norm = |x: &[(f64, f64)]| x.iter().map(|v| v.0 * v.0 + v.1 * v.1).sum::<f64>().sqrt();
    [
        sv[0],
        if n > 1 { sv[1] } else { 0.0 },
        es[0], // faer: increasing
        es[n - 1],
        ea[0],
        ea[2 * n - 1],
        norm(a) * norm(b),
    ]
}

/// The reductions agree with a dense f64 computation on small heads (n ≤ 8): a sanity check
/// that the enclosures are about the right matrices (tolerance 1e-9·‖a‖‖b‖), not a verdict.
#[test]
pub(super) fn small_heads_agree_with_dense_f64() {
    let strategy = (
        2usize..=8,
        1usize..=4,
        base(),
        scaling(),
        pairing(),
        any::<bool>(),
        any::<u64>(),
    );
    let result = TestRunner::new(persisted(128)).run(
        &strategy,
        |(n, pairs_, base, scale, pairing, tied, seed)| {
            let d = 2 * pairs_;
            let theta = inv_freq(d, base, scale);
            let rot = Rotary {
                head_dim: d,
                pairing,
                theta: &theta,
            };
            let q = rows(Content::Moderate, seed, n, &rot);
            let k = if tied {
                q.clone()
            } else {
                rows(Content::Moderate, !seed, n, &rot)
            };
            for (f, &th) in theta.iter().enumerate() {
                let (a, b) = (
                    pairs(&q, d, pairing, pairs_, f),
                    pairs(&k, d, pairing, pairs_, f),
                );
                let e = freq_enclosure(&a, &b, th).unwrap();
                let o = dense_oracle(&a, &b, th);
                let s = e.eig_s.len();
                let got: [Interval; 7] = [
                    e.sigma_l[0],
                    e.sigma_l[1],
                    e.eig_s[s - 1],
                    e.eig_s[0],
                    e.lambda_a[1],
                    e.lambda_a[0],
                    e.sigma_g,
                ];
                // the reduced S keeps its 4 non-zero eigenvalues, of inertia (2, 2) (Lemma 4),
                // so its extremes are S's
                let tol = 1e-9 * o[6];
                for (k, (&v, &x)) in got.iter().zip(&o).enumerate() {
                    if outside(v, x) > tol {
                        return Err(TestCaseError::fail(format!(
                            "quantity {k} at f = {f}: enclosure {v:?} vs dense f64 {x:e}"
                        )));
                    }
                }
                if outside(e.sigma_ge, o[6]) > tol {
                    return Err(TestCaseError::fail("σ(G∘E) vs ‖a‖‖b‖"));
                }
            }
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("dense cross-check: {e}\nshrunk seed stored in {REGRESSIONS}");
    }
}

/// With k = q, σ₁ + σ₂ of L equals ‖a‖² exactly (L = UUᵀ, tr L = ‖α‖² = ‖a‖²) although the
/// phases are only enclosed: the claim "σ₁ + σ₂ ≤ ‖a‖²(1 − 2⁻⁴⁰)" is false by 2⁻⁴⁰ relative
/// and must not be certified (and must be refuted with 2⁻²⁰), while "≤ ‖a‖²(1 + 2⁻⁴⁰)" must be.
/// A single position (n = 1) with a = b real is the same equality with exact phases.
#[test]
pub(super) fn claims_false_by_a_hair_are_refused() {
    let theta = inv_freq(64, 10000.0, 1.0);
    let rot = Rotary {
        head_dim: 64,
        pairing: Pairing::HalfSplit,
        theta: &theta,
    };
    let q = rows(Content::Moderate, 7, 6, &rot);
    for (f, &th) in theta.iter().enumerate() {
        let a = pairs(&q, 64, Pairing::HalfSplit, 32, f);
        let e = freq_enclosure(&a, &a, th).unwrap();
        let scaled = |r: f64| e.sigma_g * Interval::point(r);
        let (m, _) = le(e.sigma_l_sum, scaled(1.0 - 2f64.powi(-40)));
        assert!(
            m < 0.0,
            "f = {f}: a claim false by 2^-40 was certified: {e:?}"
        );
        let (_, v) = le(e.sigma_l_sum, scaled(1.0 - 2f64.powi(-20)));
        assert!(
            v > 0.0,
            "f = {f}: a claim false by 2^-20 was not refuted: {e:?}"
        );
        let (m, _) = le(e.sigma_l_sum, scaled(1.0 + 2f64.powi(-40)));
        assert!(
            m >= 0.0,
            "f = {f}: a claim true by 2^-40 was not certified: {e:?}"
        );
        // and the theorem itself (equality) is never reported violated
        assert!(e.t4().1 <= 0.0 && e.t3().1 <= 0.0);
    }
    let e = freq_enclosure(&[(0.75, 0.0)], &[(0.75, 0.0)], 0.3).unwrap();
    let (m, v) = le(
        e.sigma_l_sum,
        e.sigma_g * Interval::point(1.0 - 2f64.powi(-40)),
    );
    assert!(m < 0.0 && v > 0.0, "n = 1: ({m:e}, {v:e}), {e:?}");
}

/// f64 eigenvalues of D_n (decreasing).
pub(super) fn dn_eigenvalues(n: usize) -> Vec<f64> {
    let d = Mat::from_fn(n, n, |i, j| i.abs_diff(j) as f64);
    let mut e = d.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    e.reverse();
    e
}

/// T8 on D_n for random n ≥ 2: HOLDS, and its certified margin (a lower bound of every slack
/// it checks: λmax − (n²−1)/3, n(n−1)/2 − λmax, λmax, −λ₂) does not exceed the true slacks
/// from an independent f64 eigendecomposition. D₂ has λmax = 1 = (n²−1)/3 = n(n−1)/2 (the
/// all-ones vector is an eigenvector), equality at both ends: decided exactly, margin 0.
#[test]
pub(super) fn t8_alibi_distance_matrix_growth() {
    let result = TestRunner::new(persisted(64)).run(&(2usize..=200, any::<u64>()), |(n, seed)| {
        let r = run("T8", &Params::new(seed, n)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if r.verdict != Verdict::Holds {
            return Err(TestCaseError::fail(format!(
                "T8 n = {n}: {:?} {}",
                r.verdict, r.detail
            )));
        }
        let e = dn_eigenvalues(n);
        let nf = n as f64;
        let (lower, upper) = ((nf * nf - 1.0) / 3.0, nf * (nf - 1.0) / 2.0);
        let slack = (e[0] - lower).min(upper - e[0]).min(e[0]).min(-e[1]);
        let margin = r.margin.unwrap();
        if !(0.0..=slack + 1e-9 * nf * nf).contains(&margin) || e[1] >= 0.0 {
            return Err(TestCaseError::fail(format!(
                "T8 n = {n}: certified margin {margin:e} vs true slack {slack:e} (λ = {:e}, {:e})",
                e[0], e[1]
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("T8: {e}\nshrunk seed stored in {REGRESSIONS}");
    }
    let r = run("T8", &Params::new(1, 2)).unwrap();
    assert_eq!(
        (r.verdict, r.margin),
        (Verdict::Holds, Some(0.0)),
        "D₂: {}",
        r.detail
    );
}
