//! The rank reductions of `rope` against the generic verified engine on dense matrices built
//! independently (kernel entries cos/sin((j − i)θ) straight from MPFR), and refusal of claims
//! that are false by a hair.

use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_audit::check::le;
use pespectra_audit::rope::freq_enclosure;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, singular_values_ball, EigOptions};
use rand::{Rng, SeedableRng};
use rug::float::Round;
use rug::Float;

fn trig(x: f64, sin: bool) -> Interval {
    let a = Float::with_val(200, x);
    let f = |r| {
        let v = if sin {
            Float::with_val_round(200, a.sin_ref(), r).0
        } else {
            Float::with_val_round(200, a.cos_ref(), r).0
        };
        v.to_f64_round(r)
    };
    Interval::new(f(Round::Down), f(Round::Up)).unwrap()
}

/// Dense ball of a real matrix given by interval entries.
fn ball(n: usize, e: impl Fn(usize, usize) -> Interval) -> (Mat<f64>, Mat<f64>) {
    let mut c = Mat::zeros(n, n);
    let mut r = Mat::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            let v = e(i, j);
            let m = 0.5 * v.lo() + 0.5 * v.hi();
            c[(i, j)] = m;
            r[(i, j)] = (v - Interval::point(m)).mag();
        }
    }
    (c, r)
}

fn sym_eigs(n: usize, e: impl Fn(usize, usize) -> Interval) -> Vec<Interval> {
    // symmetrise the entry function so the center is exactly symmetric
    let (c, r) = ball(n, |i, j| e(i.min(j), i.max(j)));
    let mut h = HermitianInput::new(CMat::real(c)).unwrap();
    h.radius = Some(r);
    eigenvalues(&h, &EigOptions::default())
        .unwrap()
        .values
        .iter()
        .map(|v| Interval::new(v.lo_f64(), v.hi_f64()).unwrap())
        .collect()
}

fn meets(a: Interval, b: Interval) -> bool {
    a.lo() <= b.hi() && b.lo() <= a.hi()
}

#[test]
fn reductions_agree_with_the_dense_verified_engine() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for (case, &theta) in [0.7, 1e-3, 2.5, 0.0123].iter().enumerate() {
        let n = 9 + 3 * case;
        let mut v = || (rng.gen_range(-2.0..2.0f64), rng.gen_range(-2.0..2.0f64));
        let a: Vec<(f64, f64)> = (0..n).map(|_| v()).collect();
        let b: Vec<(f64, f64)> = (0..n).map(|_| v()).collect();
        let e = freq_enclosure(&a, &b, theta).unwrap();
        assert!(e.reduced, "generic data must not need the dense fallback");
        let p = Interval::point;
        // G_ij = conj(a_i) b_j = (ar br + ai bi) + i(ar bi − ai br); E_ij = e^{i(j−i)θ}
        let g_re = |i: usize, j: usize| p(a[i].0) * p(b[j].0) + p(a[i].1) * p(b[j].1);
        let g_im = |i: usize, j: usize| p(a[i].0) * p(b[j].1) - p(a[i].1) * p(b[j].0);
        let ang = |i: usize, j: usize| (j as f64 - i as f64) * theta; // see below
                                                                      // (j − i)·θ is rounded once in f64: enclose the rounding by a 1-ulp widening of the
                                                                      // trig values (|d cos/dx| ≤ 1) so the oracle stays rigorous
        let tr = |i: usize, j: usize, s: bool| {
            let x = ang(i, j);
            let w = trig(x, s);
            let u = (x.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            Interval::ball(
                0.5 * w.lo() + 0.5 * w.hi(),
                (w - p(0.5 * w.lo() + 0.5 * w.hi())).mag() + u,
            )
        };
        let l = |i: usize, j: usize| g_re(i, j) * tr(i, j, false) - g_im(i, j) * tr(i, j, true);
        // σ(L): dense Jordan–Wielandt engine
        let (c, r) = ball(n, l);
        let sv: Vec<Interval> =
            singular_values_ball(&CMat::real(c), Some(&r), &EigOptions::default())
                .unwrap()
                .values
                .iter()
                .map(|v| Interval::new(v.lo_f64(), v.hi_f64()).unwrap())
                .collect();
        assert!(
            meets(sv[0], e.sigma_l[0]) && meets(sv[1], e.sigma_l[1]),
            "case {case}: σ(L) {:?} vs {:?}",
            &sv[..2],
            e.sigma_l
        );
        assert!(
            sv[2..].iter().all(|s| s.contains(0.0) || s.hi() < 1e-9),
            "rank ≤ 2"
        );
        assert!(meets(sv[0] + sv[1], e.sigma_l_sum));
        // σ(G) = ‖a‖‖b‖ by the dense complex engine
        let (gc, gr) = ball(n, g_re);
        let (gi, gir) = ball(n, g_im);
        let rad = Mat::from_fn(n, n, |i, j| gr[(i, j)] + gir[(i, j)]);
        let sg = singular_values_ball(&CMat::complex(gc, gi), Some(&rad), &EigOptions::default())
            .unwrap();
        assert!(meets(
            Interval::new(sg.values[0].lo_f64(), sg.values[0].hi_f64()).unwrap(),
            e.sigma_g
        ));
        assert!(meets(e.sigma_g, e.sigma_ge), "T1");
        // eigenvalues of S = sym L and of Re A (NoPE) by the dense engine
        let es = sym_eigs(n, |i, j| (l(i, j) + l(j, i)) * p(0.5));
        let en = sym_eigs(n, |i, j| (g_re(i, j) + g_re(j, i)) * p(0.5));
        for (dense, red) in [(&es, &e.eig_s), (&en, &e.eig_nope)] {
            assert_eq!(red.len(), 4);
            let pairs = [
                (dense[0], red[0]),
                (dense[1], red[1]),
                (dense[n - 2], red[2]),
                (dense[n - 1], red[3]),
            ];
            for (d, r) in pairs {
                assert!(meets(d, r), "case {case}: dense {d:?} vs reduced {r:?}");
            }
            assert!(dense[2..n - 2]
                .iter()
                .all(|x| x.contains(0.0) || x.mag() < 1e-9));
        }
        // A = Herm(G): λ± from the 2 × 2 formula vs the dense complex Hermitian engine
        let (hc, hr) = ball(n, |i, j| (g_re(i, j) + g_re(j, i)) * p(0.5));
        let him = Mat::from_fn(n, n, |i, j| {
            if i == j {
                0.0
            } else {
                let v = (g_im(i.min(j), i.max(j)) - g_im(i.max(j), i.min(j))) * p(0.5);
                let m = 0.5 * v.lo() + 0.5 * v.hi();
                if i < j {
                    m
                } else {
                    -m
                }
            }
        });
        let hrad = Mat::from_fn(n, n, |i, j| hr[(i.min(j), i.max(j))] + 1e-14);
        let hs = HermitianInput {
            center: CMat::complex(Mat::from_fn(n, n, |i, j| hc[(i.min(j), i.max(j))]), him),
            radius: Some(hrad),
        };
        let ea = eigenvalues(&hs, &EigOptions::default()).unwrap();
        let top = Interval::new(ea.values[0].lo_f64(), ea.values[0].hi_f64()).unwrap();
        let bot = Interval::new(ea.values[n - 1].lo_f64(), ea.values[n - 1].hi_f64()).unwrap();
        assert!(
            meets(top, e.lambda_a[0]) && meets(bot, e.lambda_a[1]),
            "λ(A)"
        );
        // the theorems hold with certified margins on generic data
        for (name, (m, _)) in [("T2", e.t2()), ("T3", e.t3()), ("T4", e.t4())] {
            assert!(m > 0.0, "case {case}: {name} margin {m}");
        }
        assert!(
            e.t1().0 == 0.0 && e.t1().1 <= 0.0,
            "T1 enclosures consistent"
        );
        // the reductions are tight: relative widths near the unit roundoff times n
        let rel = |x: Interval| x.width() / x.mag().max(1e-300);
        assert!(
            rel(e.sigma_l_sum) < 1e-12 && rel(e.eig_s[0]) < 1e-10,
            "{:e} {:e}",
            rel(e.sigma_l_sum),
            rel(e.eig_s[0])
        );
    }
}

#[test]
fn claims_false_by_a_hair_are_refused_and_true_ones_by_a_hair_certified() {
    // θ = 0, real a, b: every quantity is computed exactly (cos 0 = 1, perfect squares), so
    // L = a bᵀ, σ₁(L) = ‖a‖‖b‖ = 5·13 = 65, σ₂ = 0 and the equality of T4 is certified with
    // margin exactly 0
    let a: Vec<(f64, f64)> = [3.0, 4.0, 0.0, 0.0, 0.0, 0.0]
        .iter()
        .map(|&x| (x, 0.0))
        .collect();
    let b: Vec<(f64, f64)> = [0.0, 5.0, 12.0, 0.0, 0.0, 0.0]
        .iter()
        .map(|&x| (x, 0.0))
        .collect();
    let e = freq_enclosure(&a, &b, 0.0).unwrap();
    assert_eq!(e.t4(), (0.0, 0.0));
    let hair = 65.0 * 2f64.powi(-40);
    let (m, v) = le(e.sigma_l_sum, Interval::point(65.0 - hair));
    assert!(
        m < 0.0 && v > 0.0,
        "σ₁ + σ₂ ≤ 65 − hair is false: certified violation expected ({m:e}, {v:e})"
    );
    // λ₊(A) = ½(a·b + ‖a‖‖b‖) = ½(20 + 65) exactly
    assert!(e.lambda_a[0].contains(42.5));
    assert!(le(e.eig_s[0], Interval::point(42.5 - 42.5 * 2f64.powi(-40))).0 < 0.0);

    // θ = 0.9, content at one position j = 3 only, b₃ = 2a₃: G∘E has the single entry
    // conj(a₃)b₃|u₃|² = 50, so σ₁(L) = 50 = ‖a‖‖b‖ (T4 with equality) while the phase u₃ is
    // only enclosed: equality can be neither certified nor refuted, and claims off by a hair
    // in either direction are decided correctly
    let mut a = vec![(0.0, 0.0); 6];
    let mut b = vec![(0.0, 0.0); 6];
    a[3] = (3.0, 4.0);
    b[3] = (6.0, 8.0);
    let e = freq_enclosure(&a, &b, 0.9).unwrap();
    let (m, v) = e.t4();
    assert!(
        m < 0.0 && v <= 0.0,
        "T4 with inexact equality is INCONCLUSIVE: ({m:e}, {v:e})"
    );
    let hair = 50.0 * 2f64.powi(-40);
    let (m, v) = le(e.sigma_l[0], Interval::point(50.0 - hair));
    assert!(m < 0.0 && v > 0.0, "σ₁ ≤ 50 − hair is refuted");
    assert!(
        le(e.sigma_l[0], Interval::point(50.0 + hair)).0 >= 0.0,
        "σ₁ ≤ 50 + hair is certified"
    );
    assert!(
        le(Interval::point(50.0 - hair), e.sigma_l[0]).0 >= 0.0,
        "σ₁ ≥ 50 − hair is certified"
    );
}

#[test]
fn degenerate_content_falls_back_to_the_dense_engine() {
    // q pairs all zero at this frequency: Γ is singular, no Cholesky; the dense path still
    // decides T4 (0 ≤ 0 holds with margin 0 exactly: every enclosure is the point 0)
    let n = 5;
    let a = vec![(0.0, 0.0); n];
    let b: Vec<(f64, f64)> = (0..n).map(|j| (j as f64, 1.0)).collect();
    let e = freq_enclosure(&a, &b, 0.3).unwrap();
    assert!(!e.reduced);
    assert_eq!(e.t4().0, 0.0);
    assert!(e.eig_s.iter().all(|x| x.contains(0.0)));
}
