//! D2 (additive decomposition), sinusoidal Toeplitz structure and R6.

mod common;

use approx::assert_abs_diff_eq;
use common::{mul, mul_t, toeplitz_defect, Rng};
use pespectra_pe::*;

#[test]
fn d2_parts_sum_to_direct_logits_with_and_without_bias() {
    let mut rng = Rng::new(11);
    let (n, dm, dh) = (12, 10, 6);
    let c = rng.matrix(n, dm);
    let p = sinusoidal_table(n, dm, 10_000.0, SinusoidalLayout::Interleaved).unwrap();
    let (wq, wk) = (rng.matrix(dm, dh), rng.matrix(dm, dh));
    let alibi = PositionalEncoding::Alibi {
        slope: 0.25,
        form: AlibiForm::Symmetric,
    };
    let bias = bias_matrix(n, &alibi).unwrap();
    for b in [None, bias.as_ref()] {
        let dec = additive_decomposition(&c, &p, &wq, &wk, b, 0.5).unwrap();
        let direct = additive_logits_with_bound(&c, &p, &wq, &wk, b, 0.5).unwrap();
        assert!(
            check_agreement(&direct, &dec.reconstruct_with_bound())
                .unwrap()
                .holds
        );
        // Independent reference: plain ((C+P)W_Q)((C+P)W_K)ᵀ/2 − |i−j|/4.
        let x = RealMatrix::from_fn(n, dm, |i, j| c.get(i, j) + p.get(i, j));
        let g = mul_t(&mul(&x, &wq), &mul(&x, &wk));
        let expected = RealMatrix::from_fn(n, n, |i, j| {
            0.5 * g.get(i, j)
                - if b.is_some() {
                    0.25 * (i as f64 - j as f64).abs()
                } else {
                    0.0
                }
        });
        assert!(dec.reconstruct().max_abs_diff(&expected) < 1e-11);
        assert!(direct.value.max_abs_diff(&expected) < 1e-11);
        // G_{qp,kp} is the position-only term.
        let gpp = mul_t(&mul(&p, &wq), &mul(&p, &wk));
        assert!(dec.position_position.value.max_abs_diff(&gpp) < 1e-11);
    }
}

#[test]
fn absolute_encoding_logits_equal_the_d2_sum_in_head_space() {
    let mut rng = Rng::new(12);
    let (n, dm, dh) = (8, 6, 4);
    let c = rng.matrix(n, dm);
    let p = rng.matrix(n, dm); // learned table
    let (wq, wk) = (rng.matrix(dm, dh), rng.matrix(dm, dh));
    let pe = PositionalEncoding::Absolute {
        query_pos: mul(&p, &wq),
        key_pos: mul(&p, &wk),
    };
    let direct = logits(&mul(&c, &wq), &mul(&c, &wk), &pe, 1.0).unwrap();
    let dec = additive_decomposition(&c, &p, &wq, &wk, None, 1.0).unwrap();
    assert!(direct.max_abs_diff(&dec.reconstruct()) < 1e-11);
}

#[test]
fn sinusoidal_gram_is_toeplitz_sum_of_cosine_kernels_but_pwpt_is_not() {
    let mut rng = Rng::new(13);
    let (n, d) = (20, 16);
    for layout in [SinusoidalLayout::Interleaved, SinusoidalLayout::Split] {
        let p = sinusoidal_table(n, d, 10_000.0, layout).unwrap();
        // Entry checks against the textbook definition.
        let w1 = 10_000f64.powf(-2.0 / d as f64);
        let (sin_col, cos_col) = match layout {
            SinusoidalLayout::Interleaved => (2, 3),
            SinusoidalLayout::Split => (1, d / 2 + 1),
        };
        assert_abs_diff_eq!(p.get(5, sin_col), (5.0 * w1).sin(), epsilon = 1e-15);
        assert_abs_diff_eq!(p.get(5, cos_col), (5.0 * w1).cos(), epsilon = 1e-15);
        let ppt = mul_t(&p, &p);
        let c_sum = RealMatrix::from_fn(n, n, |i, j| {
            (0..d / 2)
                .map(|f| ((i as f64 - j as f64) * 10_000f64.powf(-2.0 * f as f64 / d as f64)).cos())
                .sum()
        });
        assert!(ppt.max_abs_diff(&c_sum) < 1e-12);
        assert!(toeplitz_defect(&ppt) < 1e-12);
        let w = rng.matrix(d, d);
        let pwpt = mul_t(&mul(&p, &w), &p);
        assert!(
            toeplitz_defect(&pwpt) > 1e-2,
            "R6: P W Pᵀ should not be Toeplitz"
        );
    }
}

#[test]
fn alibi_and_t5_biases_are_toeplitz_and_forms_differ_by_row_constants() {
    let n = 9;
    let m = 0.375;
    let b = |form| {
        bias_matrix(n, &PositionalEncoding::Alibi { slope: m, form })
            .unwrap()
            .unwrap()
            .value
    };
    let (sym, causal, bloom, mpt) = (
        b(AlibiForm::Symmetric),
        b(AlibiForm::Causal),
        b(AlibiForm::BloomRowOffset),
        b(AlibiForm::MptOffset),
    );
    for i in 0..n {
        for j in 0..n {
            assert_eq!(sym.get(i, j), -m * (i as f64 - j as f64).abs());
            assert_eq!(causal.get(i, j), -m * (i as f64 - j as f64));
            assert_eq!(bloom.get(i, j) - causal.get(i, j), m * i as f64);
            assert_eq!(
                mpt.get(i, j) - causal.get(i, j),
                m * (i as f64 - (n - 1) as f64)
            );
        }
    }
    assert_eq!(toeplitz_defect(&sym), 0.0);
    assert_eq!(toeplitz_defect(&causal), 0.0);
    assert!(toeplitz_defect(&bloom) > 0.0); // the row offset breaks Toeplitz structure
    let t5 = PositionalEncoding::T5 {
        buckets: T5Buckets::ENCODER,
        table: (0..32).map(|x| x as f64).collect(),
    };
    let tb = bias_matrix(40, &t5).unwrap().unwrap().value;
    assert_eq!(toeplitz_defect(&tb), 0.0);
    assert_eq!(tb.get(0, 39), 16.0 + 12.0); // key 39 after query 0: 16 + bucket of 32..45
                                            // Masking is explicit: the causal form above the diagonal is the linear extension.
    let mut masked = causal.clone();
    masked.causal_mask(f64::NEG_INFINITY);
    assert_eq!(masked.get(0, 1), f64::NEG_INFINITY);
    assert_eq!(masked.get(1, 0), -m);
}
