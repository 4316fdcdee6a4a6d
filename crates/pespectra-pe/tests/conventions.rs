//! Convention oracles from the research notes (T5 table, ALiBi slopes), frequency-scaling
//! properties, and error handling.

use approx::assert_abs_diff_eq;
use pespectra_pe::*;

#[test]
fn t5_buckets_match_the_measured_table() {
    let enc = T5Buckets::ENCODER;
    let b = |r: i64| enc.bucket(r).unwrap();
    let ranges: [(i64, i64, usize); 8] = [
        (-11, -8, 8),
        (-15, -12, 9),
        (-22, -16, 10),
        (-31, -23, 11),
        (-45, -32, 12),
        (-63, -46, 13),
        (-90, -64, 14),
        (-1000, -91, 15),
    ];
    assert_eq!(b(0), 0);
    for r in 1..=7 {
        assert_eq!(b(-r), r as usize);
        assert_eq!(b(r), 16 + r as usize);
    }
    for (lo, hi, bucket) in ranges {
        for r in lo..=hi {
            assert_eq!(b(r), bucket, "encoder rel {r}");
            assert_eq!(b(-r), bucket + 16, "encoder rel {}", -r);
        }
    }
    assert_eq!(b(i64::MIN + 1), 15);
    let dec = T5Buckets::DECODER;
    let b = |r: i64| dec.bucket(r).unwrap();
    for r in 0..500 {
        assert_eq!(b(r), 0, "future keys share bucket 0");
    }
    for r in 1..=15 {
        assert_eq!(b(-r), r as usize);
    }
    for r in 16..=18 {
        assert_eq!(b(-r), 16);
    }
    assert_eq!(b(-112), 30);
    for r in 113..2000 {
        assert_eq!(b(-r), 31);
    }
    assert_eq!(b(i64::MIN), 31);
}

#[test]
#[allow(clippy::approx_constant)] // 0.7071 is copied verbatim from the research notes
fn alibi_slopes_match_closed_forms() {
    for h in [1usize, 2, 4, 8, 16, 32, 64] {
        let base = 2f64.powf(-8.0 / h as f64);
        let bloom = alibi_slopes_bloom(h).unwrap();
        for (k, s) in bloom.iter().enumerate() {
            // powi rounds up to k + 1 times
            assert!((s - base.powi(k as i32 + 1)).abs() <= (k + 2) as f64 * f64::EPSILON * s);
        }
        assert_eq!(bloom, alibi_slopes_geometric(h).unwrap());
    }
    // BLOOM H = 12 from the research notes: 2^-1..2^-8 then 0.7071, 0.3536, 0.1768, 0.0884.
    let expected = [
        0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625, 0.7071, 0.3536, 0.1768,
        0.0884,
    ];
    let got = alibi_slopes_bloom(12).unwrap();
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 5e-5, "{g} vs {e}");
    }
    assert_eq!(got[8], 2f64.powf(-0.5));
    // With max 8 the MPT and llama.cpp slopes are the same set *and order* as BLOOM for every
    // head count (the research note's "differs at H = 12" does not hold for the slopes; MPT
    // differs in its bias offset and in alibi_bias_max).
    for h in 1..=64 {
        let bloom = alibi_slopes_bloom(h).unwrap();
        let mpt = alibi_slopes_mpt(h, 8.0).unwrap();
        let lcpp = alibi_slopes_llama_cpp(h, 8.0).unwrap();
        for i in 0..h {
            assert!((bloom[i] - mpt[i]).abs() <= 1e-15 * bloom[i], "H={h} i={i}");
            assert!(
                (bloom[i] - lcpp[i]).abs() <= 1e-15 * bloom[i],
                "H={h} i={i}"
            );
        }
    }
    assert_ne!(
        alibi_slopes_mpt(16, 16.0).unwrap(),
        alibi_slopes_bloom(16).unwrap()
    );
    // Arbitrary slopes, e.g. exp(−h/16), are just numbers for the Alibi encoding.
    let pe = PositionalEncoding::Alibi {
        slope: (-3.0f64 / 16.0).exp(),
        form: AlibiForm::Symmetric,
    };
    let b = bias_matrix(4, &pe).unwrap().unwrap().value;
    assert_abs_diff_eq!(
        b.get(0, 3),
        -(3.0 * (-3.0f64 / 16.0).exp()),
        epsilon = 1e-15
    );
}

#[test]
fn frequency_scaling_variants_behave_as_documented() {
    let base = RopeConfig::new(64, 10_000.0, Pairing::HalfSplit);
    let t0 = base.frequencies().unwrap().theta;
    assert_eq!(t0[0], 1.0);
    assert_abs_diff_eq!(t0[31], 10_000f64.powf(-62.0 / 64.0), epsilon = 1e-18);
    let lin = base
        .clone()
        .with_scaling(RopeScaling::Linear { factor: 4.0 })
        .frequencies()
        .unwrap();
    assert!(lin
        .theta
        .iter()
        .zip(&t0)
        .all(|(a, b)| (a * 4.0 - b).abs() <= 1e-16 * b));
    // Dynamic NTK changes nothing until seq_len exceeds the trained context.
    let dynamic = |seq_len| {
        base.clone()
            .with_scaling(RopeScaling::Dynamic {
                factor: 2.0,
                max_position_embeddings: 2048,
                seq_len,
            })
            .frequencies()
            .unwrap()
            .theta
    };
    assert_eq!(dynamic(100), t0);
    let long = dynamic(8192);
    assert_eq!(long[0], 1.0);
    assert!(long[31] < t0[31]);
    // YaRN: highest frequency extrapolated (unchanged), lowest interpolated (÷ factor),
    // attention factor 0.1 ln s + 1.
    let y = base
        .clone()
        .with_scaling(RopeScaling::Yarn(YarnParams::new(4.0, 2048)))
        .frequencies()
        .unwrap();
    assert_eq!(y.theta[0], t0[0]);
    assert!((y.theta[31] * 4.0 - t0[31]).abs() <= 1e-15 * t0[31]);
    assert_abs_diff_eq!(y.attention_factor, (0.1 * 4f64.ln() + 1.0), epsilon = 1e-15);
    // Llama 3: short wavelengths kept, long ones ÷ 8.
    let l3 = RopeConfig::new(128, 500_000.0, Pairing::HalfSplit)
        .with_scaling(RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        })
        .frequencies()
        .unwrap();
    assert_eq!(l3.theta[0], 1.0);
    let plain = RopeConfig::new(128, 500_000.0, Pairing::HalfSplit)
        .frequencies()
        .unwrap()
        .theta;
    assert!((l3.theta[63] * 8.0 - plain[63]).abs() <= 1e-15 * plain[63]);
}

#[test]
fn user_errors_are_reported_not_panicked() {
    let q = RealMatrix::from_fn(4, 6, |i, j| (i + j) as f64);
    let rope = |d| PositionalEncoding::Rope(RopeConfig::new(d, 10_000.0, Pairing::HalfSplit));
    assert!(matches!(
        logits(&q, &q, &rope(7), 1.0),
        Err(PeError::Shape(_))
    ));
    let odd = RealMatrix::from_fn(4, 5, |i, j| (i * j) as f64);
    assert!(matches!(
        logits(&odd, &odd, &rope(5), 1.0),
        Err(PeError::OddRotaryDim(5))
    ));
    let k = RealMatrix::from_fn(3, 6, |_, _| 1.0);
    assert!(matches!(
        logits(&q, &k, &PositionalEncoding::None, 1.0),
        Err(PeError::Shape(_))
    ));
    let empty = RealMatrix::new(0, 6, vec![]).unwrap();
    assert!(matches!(
        logits(&empty, &empty, &PositionalEncoding::None, 1.0),
        Err(PeError::Empty(_))
    ));
    let mut bad = q.data().to_vec();
    bad[7] = f64::NAN;
    let bad = RealMatrix::new(4, 6, bad).unwrap();
    assert_eq!(
        logits(&bad, &q, &PositionalEncoding::None, 1.0),
        Err(PeError::NonFinite {
            what: "q".into(),
            index: 7
        })
    );
    assert!(logits(&q, &q, &PositionalEncoding::None, f64::INFINITY).is_err());
    assert!(RealMatrix::new(2, 2, vec![1.0]).is_err());
    assert!(RealMatrix::from_rows(&[vec![1.0], vec![1.0, 2.0]]).is_err());
    let t5 = PositionalEncoding::T5 {
        buckets: T5Buckets::ENCODER,
        table: vec![0.0; 31],
    };
    assert!(matches!(logits(&q, &q, &t5, 1.0), Err(PeError::Shape(_))));
    let degenerate = T5Buckets {
        bidirectional: true,
        num_buckets: 2,
        max_distance: 8,
    };
    assert!(degenerate.bucket(3).is_err());
    let alibi = PositionalEncoding::Alibi {
        slope: f64::NAN,
        form: AlibiForm::Causal,
    };
    assert!(logits(&q, &q, &alibi, 1.0).is_err());
    assert!(alibi_slopes_bloom(0).is_err());
    let partial = RopeConfig::new(6, 10_000.0, Pairing::HalfSplit).with_partial_rotary_factor(1.5);
    assert!(partial.frequencies().is_err());
    let explicit = RopeConfig::explicit(6, vec![1.0, 0.1], 1.0, Pairing::Interleaved);
    assert!(matches!(explicit.frequencies(), Err(PeError::Shape(_))));
    assert!(sinusoidal_table(4, 5, 10_000.0, SinusoidalLayout::Split).is_err());
    let mla = PositionalEncoding::Mla {
        d_nope: 2,
        rope: RopeConfig::new(4, 10_000.0, Pairing::Interleaved).with_partial_rotary_factor(0.5),
    };
    assert!(logits(&q, &q, &mla, 1.0).is_err());
    let w = RealMatrix::from_fn(5, 3, |_, _| 1.0);
    assert!(additive_decomposition(&q, &q, &w, &w, None, 1.0).is_err());
    assert!(mla_logits(
        &[],
        &[],
        &q,
        &RopeConfig::new(6, 10_000.0, Pairing::Interleaved),
        1.0
    )
    .is_err());
    // Messages say what went wrong.
    let msg = logits(&odd, &odd, &rope(5), 1.0).unwrap_err().to_string();
    assert!(msg.contains("even"), "{msg}");
}
