//! Fused flash path vs the f64 reference, with the stated a-priori bound
//! (`error_bounds`), on every dispatch path this CPU supports.

mod common;
use common::*;
use pespectra_attention::*;

fn cfg(b: usize, h: usize, s: usize, d: usize) -> AttentionConfig {
    AttentionConfig::new(b, h, s, d)
}

#[test]
fn odd_sizes_and_head_dims() {
    for &s in &[1usize, 7, 33, 130] {
        for &d in &[16usize, 64, 96, 128, 256] {
            for causal in [false, true] {
                let mut c = cfg(1, 2, s, d);
                c.mask.causal = causal;
                check_flash(&Problem::random(c, (s * 1000 + d) as u64, 1.0));
            }
        }
    }
}

#[test]
fn long_sequence_1000() {
    for causal in [false, true] {
        let mut c = cfg(1, 1, 1000, 64);
        c.mask.causal = causal;
        let ratio = check_flash(&Problem::random(c, 7, 1.0));
        // The bound must not be vacuous: errors are a visible fraction of it.
        assert!(ratio > 1e-4, "bound looks vacuous: worst ratio {ratio:e}");
    }
}

#[test]
fn bound_is_meaningful() {
    // The bound itself is small relative to the output scale for ordinary inputs.
    let p = Problem::random(cfg(1, 2, 64, 64), 3, 1.0);
    let b = error_bounds(&p.cfg, &p.inputs()).unwrap();
    let worst = b.output.iter().fold(0.0f64, |m, &x| m.max(x));
    assert!(worst < 1e-4, "bound {worst:e} too loose to detect bugs");
}

#[test]
fn gqa_and_mqa() {
    for kv in [1usize, 2, 4] {
        for causal in [false, true] {
            let mut c = cfg(2, 8, 45, 64);
            c.kv_heads = kv;
            c.mask.causal = causal;
            check_flash(&Problem::random(c, kv as u64, 1.0));
        }
    }
}

#[test]
fn value_dim_differs_from_head_dim() {
    let mut c = cfg(1, 2, 50, 48);
    c.value_dim = 40;
    check_flash(&Problem::random(c, 11, 1.0));
}

#[test]
fn padding_and_sliding_window() {
    for causal in [false, true] {
        for w in [None, Some(1), Some(5), Some(200)] {
            let mut c = cfg(3, 2, 150, 32);
            c.mask = Mask {
                causal,
                key_lengths: Some(vec![150, 97, 1]),
            };
            c.sliding_window = w;
            check_flash(&Problem::random(c, 5, 1.0));
        }
    }
}

/// The window keeps exactly `w` keys including the query itself on causal rows
/// (HF/llama.cpp convention): read the attention weights through one-hot values.
#[test]
fn sliding_window_off_by_one_convention() {
    let (s, w) = (20usize, 4usize);
    let mut c = cfg(1, 1, s, 8);
    c.value_dim = s;
    c.mask = Mask::causal();
    c.sliding_window = Some(w);
    let mut p = Problem::random(c, 1, 1.0);
    p.v = (0..s * s)
        .map(|x| if x / s == x % s { 1.0 } else { 0.0 })
        .collect();
    let out = flash_attention(&p.cfg, &p.inputs()).unwrap();
    for i in 0..s {
        let support: Vec<usize> = (0..s).filter(|&j| out[i * s + j] > 0.0).collect();
        let expect: Vec<usize> = ((i + 1).saturating_sub(w)..=i).collect();
        assert_eq!(support, expect, "row {i}");
    }
}

fn rope(pairing: RopePairing, fraction: f64, scaling: RopeScaling) -> PositionalEncoding {
    PositionalEncoding::Rope(Rope {
        pairing,
        base: 10000.0,
        rotary_fraction: fraction,
        scaling,
    })
}

#[test]
fn every_positional_encoding() {
    let h = 4;
    let yarn = RopeScaling::Yarn {
        factor: 4.0,
        original_max_position_embeddings: 32,
        beta_fast: 32.0,
        beta_slow: 1.0,
        attention_factor: None,
    };
    let llama3 = RopeScaling::Llama3 {
        factor: 8.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_max_position_embeddings: 64,
    };
    let ntk = RopeScaling::DynamicNtk {
        factor: 2.0,
        original_max_position_embeddings: 40,
    };
    let s = 70;
    let d = 64;
    let mut rng_table = Problem::random(cfg(1, 1, s, d), 99, 1.0);
    let pes = vec![
        PositionalEncoding::NoPE,
        rope(RopePairing::Interleaved, 1.0, RopeScaling::None),
        rope(RopePairing::HalfSplit, 1.0, RopeScaling::None),
        rope(RopePairing::HalfSplit, 0.25, RopeScaling::None),
        rope(
            RopePairing::Interleaved,
            0.5,
            RopeScaling::Linear { factor: 2.0 },
        ),
        rope(RopePairing::HalfSplit, 1.0, ntk),
        rope(RopePairing::HalfSplit, 1.0, yarn),
        rope(RopePairing::Interleaved, 1.0, llama3),
        PositionalEncoding::Alibi {
            slopes: alibi_slopes(h),
        },
        PositionalEncoding::T5(T5Bias {
            table: (0..32 * h)
                .map(|x| ((x * 7919) % 97) as f32 / 20.0 - 2.0)
                .collect(),
            num_buckets: 32,
            max_distance: 128,
            bidirectional: true,
        }),
        PositionalEncoding::KeyBias {
            bias: (0..h * s)
                .map(|x| ((x * 4099) % 89) as f32 / 15.0 - 3.0)
                .collect(),
        },
        PositionalEncoding::AbsoluteAdditive {
            q_table: std::mem::take(&mut rng_table.q),
            k_table: std::mem::take(&mut rng_table.k),
        },
        PositionalEncoding::Mla(Mla {
            nope_dim: 48,
            rope_dim: 16,
            rope: Rope::new(RopePairing::Interleaved, 10000.0),
        }),
    ];
    for pe in pes {
        for causal in [false, true] {
            let mut c = cfg(2, h, s, d);
            c.kv_heads = 2;
            c.mask.causal = causal;
            c.pe = pe.clone();
            check_flash(&Problem::random(c, 42, 1.0));
        }
    }
}

/// Logits of magnitude ~1e4 must not overflow the softmax: the output stays finite,
/// within the bound, and equals the value of the dominant key when one dominates.
#[test]
fn extreme_logits_do_not_overflow() {
    let (s, d) = (40, 16);
    let mut c = cfg(1, 1, s, d);
    c.scale = 1.0;
    let mut p = Problem::random(c, 8, 1.0);
    // q_i = 25·e_0, k_j = (±25 or 24)·e_0 → logits up to 625·... scaled to ~1e4 below.
    for i in 0..s {
        for t in 0..d {
            p.q[i * d + t] = if t == 0 { 100.0 } else { 0.0 };
            p.k[i * d + t] = if t == 0 { 100.0 - (i % 5) as f32 } else { 0.0 };
        }
    }
    check_flash(&p);
    let out = flash_attention(&p.cfg, &p.inputs()).unwrap();
    assert!(out.iter().all(|x| x.is_finite()));
    // Key logits are 1e4 - 100·(j % 5): keys with j % 5 == 0 dominate by 100 nats.
    let dom: Vec<usize> = (0..s).filter(|j| j % 5 == 0).collect();
    for (c, &o) in out[..d].iter().enumerate() {
        let mean = dom.iter().map(|&j| p.v[j * d + c]).sum::<f32>() / dom.len() as f32;
        assert!((o - mean).abs() < 1e-5, "{o} vs {mean}");
    }
    // Random inputs with logits of scale 1e4 and a causal mask.
    let mut c = cfg(1, 2, 33, 16);
    c.mask = Mask::causal();
    c.scale = 400.0;
    let p = Problem::random(c, 9, 3.0);
    check_flash(&p);
    let out = flash_attention(&p.cfg, &p.inputs()).unwrap();
    assert!(out.iter().all(|x| x.is_finite()));
}

#[test]
fn explicit_threads_match() {
    let p = Problem::random(cfg(2, 3, 200, 64), 4, 1.0);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| flash_attention(&p.cfg, &p.inputs()).unwrap());
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| flash_attention(&p.cfg, &p.inputs()).unwrap());
    assert_eq!(one, two, "results must not depend on the thread count");
}

#[test]
fn workspace_reuse_and_release_do_not_change_results() {
    let small = Problem::random(cfg(1, 2, 37, 40), 12, 1.0);
    let big = Problem::random(cfg(2, 3, 150, 64), 13, 1.0);
    let first = flash_attention(&small.cfg, &small.inputs()).unwrap();
    flash_attention(&big.cfg, &big.inputs()).unwrap();
    // Stale, larger buffers from the previous call must not leak into this one.
    assert_eq!(first, flash_attention(&small.cfg, &small.inputs()).unwrap());
    release_workspace();
    assert_eq!(first, flash_attention(&small.cfg, &small.inputs()).unwrap());
}

#[test]
fn bench_attention_reports_sane_numbers() {
    let r = bench_attention(1, 2, 64, 32, true, 1).unwrap();
    assert!(r.gflops > 0.0 && r.peak_gflops > 0.0 && r.seconds > 0.0);
    assert!((r.ratio - r.gflops / r.peak_gflops).abs() < 1e-12);
    let json = r.to_json();
    for key in ["\"gflops\"", "\"peak_gflops\"", "\"ratio\"", "\"seconds\""] {
        assert!(json.contains(key), "{json}");
    }
    assert!(bench_attention(1, 1, 8, 8, false, 0).is_err());
    assert_eq!(
        attention_flops(8, 8, 2048, 128, true) * 2.0,
        attention_flops(8, 8, 2048, 128, false)
    );
}

/// Soft-capping (Gemma 2) against an independent f64 computation written out here: logits
/// from the raw q·k (no PE), `c·tanh(x/c)`, causal mask, softmax, weighted sum.
#[test]
fn soft_capped_attention_matches_the_definition() {
    let (s, d, cap) = (13usize, 8usize, 0.7f64);
    let mut c = cfg(1, 2, s, d);
    c.mask = Mask::causal();
    c.softcap = Some(cap);
    let p = Problem::random(c, 21, 3.0);
    let scale = 1.0 / (d as f64).sqrt();
    let mut capped_somewhere = false;
    for isa in Isa::available() {
        let out = flash_attention_with(isa, &p.cfg, &p.inputs()).unwrap();
        for h in 0..2 {
            for i in 0..s {
                let at = |x: &[f32], r: usize, t: usize| f64::from(x[(h * s + r) * d + t]);
                let logit: Vec<f64> = (0..=i)
                    .map(|j| {
                        let raw: f64 = (0..d).map(|t| at(&p.q, i, t) * at(&p.k, j, t)).sum();
                        capped_somewhere |= (raw * scale).abs() > cap;
                        cap * (raw * scale / cap).tanh()
                    })
                    .collect();
                let m = logit.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let w: Vec<f64> = logit.iter().map(|x| (x - m).exp()).collect();
                let z: f64 = w.iter().sum();
                for t in 0..d {
                    let want: f64 = (0..=i).map(|j| w[j] * at(&p.v, j, t)).sum::<f64>() / z;
                    let got = f64::from(out[(h * s + i) * d + t]);
                    assert!(
                        (got - want).abs() <= 1e-6 * (1.0 + want.abs()),
                        "{isa:?} h{h} i{i} t{t}: {got} vs {want}"
                    );
                }
            }
        }
    }
    assert!(
        capped_somewhere,
        "the cap never bit: the test would not see a missing tanh"
    );
    let mut bad = p.cfg.clone();
    bad.softcap = Some(0.0);
    assert!(flash_attention(&bad, &p.inputs()).is_err());
}

/// A per-key bias `slope·j` (BLOOM's ALiBi as formed) and the core's `−slope·|i − j|`
/// differ on causal rows by the per-row constant `slope·i`, which the softmax ignores: the
/// two outputs agree to f32 rounding, and the logits differ by exactly that constant.
#[test]
fn key_bias_alibi_equals_relative_alibi_on_causal_rows() {
    let (h, s, d) = (4usize, 40usize, 16usize);
    let slopes = alibi_slopes(h);
    let mut rel = cfg(1, h, s, d);
    rel.mask = Mask::causal();
    rel.pe = PositionalEncoding::Alibi {
        slopes: slopes.clone(),
    };
    let mut key = rel.clone();
    key.pe = PositionalEncoding::KeyBias {
        bias: (0..h * s)
            .map(|x| (slopes[x / s] * (x % s) as f64) as f32)
            .collect(),
    };
    let p = Problem::random(rel.clone(), 8, 1.0);
    let inp = p.inputs();
    for isa in Isa::available() {
        let a = flash_attention_with(isa, &rel, &inp).unwrap();
        let b = flash_attention_with(isa, &key, &inp).unwrap();
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{isa:?}: {worst}");
    }
    let req = LogitsRequest::all(&rel);
    let (lr, lk) = (
        reference_logits(&rel, &inp, req).unwrap().pre_mask.unwrap(),
        reference_logits(&key, &inp, req).unwrap().pre_mask.unwrap(),
    );
    for (hh, &slope) in slopes.iter().enumerate() {
        for i in 0..s {
            for j in 0..=i {
                let at = (hh * s + i) * s + j;
                let shift = lk[at] - lr[at];
                assert!(
                    (shift - slope * i as f64).abs() < 1e-5,
                    "h{hh} i{i} j{j}: {shift}"
                );
            }
        }
    }
    let mut short = key.clone();
    short.pe = PositionalEncoding::KeyBias { bias: vec![0.0; 3] };
    assert!(flash_attention(&short, &inp).is_err());
}
