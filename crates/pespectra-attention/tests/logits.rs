//! Logits mode (f32, SIMD) vs the f64 reference, and the exactness of the per-frequency
//! decomposition `pre_mask = Σ_f Re(G^f e^{iθ_f(i-j)}) + passthrough + bias`.

mod common;
use common::*;
use pespectra_attention::*;

fn configs() -> Vec<AttentionConfig> {
    let mut out = Vec::new();
    let h = 4;
    let pes = vec![
        PositionalEncoding::NoPE,
        PositionalEncoding::Rope(Rope::new(RopePairing::Interleaved, 10000.0)),
        PositionalEncoding::Rope(Rope {
            rotary_fraction: 0.5,
            scaling: RopeScaling::Yarn {
                factor: 8.0,
                original_max_position_embeddings: 16,
                beta_fast: 32.0,
                beta_slow: 1.0,
                attention_factor: None,
            },
            ..Rope::new(RopePairing::HalfSplit, 500000.0)
        }),
        PositionalEncoding::Alibi {
            slopes: alibi_slopes(h),
        },
        PositionalEncoding::T5(T5Bias {
            table: (0..32 * h).map(|x| (x % 13) as f32 - 6.0).collect(),
            num_buckets: 32,
            max_distance: 128,
            bidirectional: false,
        }),
        PositionalEncoding::Mla(Mla {
            nope_dim: 32,
            rope_dim: 32,
            rope: Rope::new(RopePairing::Interleaved, 10000.0),
        }),
    ];
    for pe in pes {
        let mut c = AttentionConfig::new(2, h, 37, 64);
        c.kv_heads = 2;
        c.pe = pe;
        out.push(c);
    }
    out
}

#[test]
fn logits_match_reference_within_bound() {
    for cfg in configs() {
        let p = Problem::random(cfg.clone(), 17, 1.0);
        let inp = p.inputs();
        let req = LogitsRequest::all(&cfg);
        let r = reference_logits(&cfg, &inp, req).unwrap();
        let bounds = error_bounds(&cfg, &inp).unwrap();
        let s = cfg.seq;
        for isa in Isa::available() {
            let l = attention_logits_with(isa, &cfg, &inp, req).unwrap();
            for (name, a, b) in [
                ("pre_mask", &l.pre_mask, &r.pre_mask),
                ("content", &l.content, &r.content),
            ] {
                let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
                for (idx, (&x, &y)) in a.iter().zip(b).enumerate() {
                    // The content bound uses the PE-free norms, which only differ through
                    // rotation (norm-preserving up to the YaRN factor) and biases: reuse
                    // the row bound with a factor 2 margin for those.
                    let bd = 2.0 * bounds.logit[idx / s] + 1e-30;
                    assert!(
                        (x as f64 - y).abs() <= bd,
                        "{} {name} {idx}: {x} vs {y} (bound {bd:e}) {:?}",
                        isa.name(),
                        cfg.pe
                    );
                }
            }
            if let (Some(fa), Some(fr)) = (&l.per_frequency, &r.per_frequency) {
                assert_eq!(fa.inv_freq, fr.inv_freq);
                for (x, y) in fa.g.iter().zip(&fr.g) {
                    let mag = y.norm();
                    let err = ((x.re as f64 - y.re).powi(2) + (x.im as f64 - y.im).powi(2)).sqrt();
                    assert!(err <= 8.0 * F32_UNIT_ROUNDOFF * mag + 1e-30, "{x} vs {y}");
                }
            }
        }
    }
}

#[test]
fn per_frequency_decomposition_reconstructs_pre_mask_logits() {
    for cfg in configs() {
        if !matches!(
            cfg.pe,
            PositionalEncoding::Rope(_) | PositionalEncoding::Mla(_)
        ) {
            continue;
        }
        let p = Problem::random(cfg.clone(), 23, 1.0);
        let r = reference_logits(&cfg, &p.inputs(), LogitsRequest::all(&cfg)).unwrap();
        let pf = r.per_frequency.unwrap();
        let pre = r.pre_mask.unwrap();
        let (s, f) = (cfg.seq, pf.inv_freq.len());
        for bh in 0..cfg.batch * cfg.heads {
            for i in 0..s {
                for j in 0..s {
                    let mut acc = pf.passthrough[(bh * s + i) * s + j];
                    for (fi, &th) in pf.inv_freq.iter().enumerate() {
                        let g = pf.g[((bh * f + fi) * s + i) * s + j];
                        let ang = th * (i as f64 - j as f64);
                        acc += g.re * ang.cos() - g.im * ang.sin();
                    }
                    let want = pre[(bh * s + i) * s + j];
                    assert!(
                        (acc - want).abs() < 1e-10 * (1.0 + want.abs()),
                        "{acc} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn content_logits_ignore_the_encoding() {
    let mut nope = AttentionConfig::new(1, 2, 20, 32);
    let p0 = Problem::random(nope.clone(), 5, 1.0);
    let base = reference_logits(&nope, &p0.inputs(), LogitsRequest::all(&nope)).unwrap();
    nope.pe = PositionalEncoding::Rope(Rope::new(RopePairing::HalfSplit, 10000.0));
    let withpe = reference_logits(&nope, &p0.inputs(), LogitsRequest::all(&nope)).unwrap();
    assert_eq!(base.content, withpe.content);
    assert_eq!(base.pre_mask, base.content);
    assert_ne!(withpe.pre_mask, withpe.content);
}

/// T5 buckets equal the table measured from transformers (research note §C.4).
#[test]
fn t5_buckets_match_transformers() {
    let enc = |r: i64| t5_bucket(r, true, 32, 128);
    let dec = |r: i64| t5_bucket(r, false, 32, 128);
    assert_eq!(enc(0), 0);
    assert_eq!((enc(-1), enc(-7)), (1, 7));
    assert_eq!((enc(-8), enc(-11), enc(-12), enc(-15)), (8, 8, 9, 9));
    assert_eq!((enc(-16), enc(-22), enc(-23), enc(-31)), (10, 10, 11, 11));
    assert_eq!((enc(-32), enc(-45), enc(-46), enc(-63)), (12, 12, 13, 13));
    assert_eq!((enc(-64), enc(-90), enc(-91), enc(-1000)), (14, 14, 15, 15));
    assert_eq!(
        (enc(1), enc(7), enc(8), enc(11), enc(91)),
        (17, 23, 24, 24, 31)
    );
    assert_eq!((dec(0), dec(5), dec(-1), dec(-15)), (0, 0, 1, 15));
    assert_eq!((dec(-16), dec(-18), dec(-113), dec(-112)), (16, 16, 31, 30));
}

#[test]
fn alibi_slopes_follow_bloom() {
    let s8 = alibi_slopes(8);
    for (k, s) in s8.iter().enumerate() {
        assert!((s - 2f64.powf(-(k as f64 + 1.0))).abs() < 1e-15);
    }
    let s12 = alibi_slopes(12);
    assert_eq!(s12.len(), 12);
    assert!((s12[8] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    assert!((s12[11] - 0.08838834764831845).abs() < 1e-12);
}
