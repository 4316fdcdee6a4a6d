//! Cross-check against transformers 5.24 (torch 2.15): values in `golden/*.json`, produced once
//! by `golden/make_golden.py` with transformers' own functions and random inputs.
//!
//! Tolerances, and why:
//! - float64 paths (RoPE logits via `apply_rotary_pos_emb`, BLOOM `baddbmm` logits): both sides
//!   are f64 with different operation order, so 64·ε·Σ|q||k|;
//! - transformers computes inv_freq, ALiBi slopes and rotary cos/sin in float32: θ and slopes
//!   within a few f32 ulps (stated per test), logits through f32 cos/sin within
//!   64·n·2^-24·a²·‖q_rot‖₁‖k_rot‖₁ (the f32 angle p·θ and cos/sin roundings, n positions).
//!
//! Any convention error (pairing, sign, offset, missing a², wrong slope order) moves entries by
//! O(|q||k|) and fails by orders of magnitude.

use pespectra_pe::*;
use serde_json::Value;

const F32_ULP: f64 = 1.0 / (1u64 << 23) as f64; // relative spacing of f32 just above 1

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix(v: &Value) -> RealMatrix {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vec_f64).collect();
    RealMatrix::from_rows(&rows).unwrap()
}

fn l1(x: &[f64]) -> f64 {
    x.iter().map(|v| v.abs()).sum()
}

/// Entrywise |a − b| ≤ tol(i, j), with a helpful message.
fn assert_close(a: &RealMatrix, b: &RealMatrix, what: &str, tol: impl Fn(usize, usize) -> f64) {
    assert_eq!((a.rows(), a.cols()), (b.rows(), b.cols()), "{what}");
    for i in 0..a.rows() {
        for j in 0..a.cols() {
            let (x, y, t) = (a.get(i, j), b.get(i, j), tol(i, j));
            assert!(
                approx::abs_diff_eq!(x, y, epsilon = t),
                "{what} ({i},{j}): {x} vs {y}, tol {t}"
            );
        }
    }
}

fn rope_from_json(head_dim: usize, r: &Value) -> RopeConfig {
    let base = r["base"].as_f64().unwrap();
    let f = |k: &str| r[k].as_f64().unwrap();
    let scaling = match r["kind"].as_str().unwrap() {
        "none" => RopeScaling::None,
        "linear" => RopeScaling::Linear {
            factor: f("factor"),
        },
        "dynamic" => RopeScaling::Dynamic {
            factor: f("factor"),
            max_position_embeddings: f("max_pos") as usize,
            seq_len: f("seq_len") as usize,
        },
        "llama3" => RopeScaling::Llama3 {
            factor: f("factor"),
            low_freq_factor: f("low"),
            high_freq_factor: f("high"),
            original_max_position_embeddings: f("orig") as usize,
        },
        "yarn" => {
            let mut y =
                YarnParams::new(f("factor"), f("original_max_position_embeddings") as usize);
            let opt = |k: &str| r.get(k).and_then(Value::as_f64);
            y.beta_fast = opt("beta_fast").unwrap_or(32.0);
            y.beta_slow = opt("beta_slow").unwrap_or(1.0);
            y.mscale = opt("mscale");
            y.mscale_all_dim = opt("mscale_all_dim");
            y.attention_factor = opt("attention_factor");
            y.truncate = r.get("truncate").and_then(Value::as_bool).unwrap_or(true);
            RopeScaling::Yarn(y)
        }
        other => panic!("unknown kind {other}"),
    };
    RopeConfig::new(head_dim, base, Pairing::HalfSplit)
        .with_partial_rotary_factor(r.get("partial").and_then(Value::as_f64).unwrap_or(1.0))
        .with_scaling(scaling)
}

#[test]
fn rope_frequencies_match_rope_init_functions() {
    let g = load("rope_theta.json");
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let rope = rope_from_json(c["head_dim"].as_u64().unwrap() as usize, &c["rust"]);
        let fr = rope.frequencies().unwrap();
        let expected = vec_f64(&c["inv_freq_f32"]);
        assert_eq!(fr.theta.len(), expected.len(), "{name}");
        // f32 pow has relative error ≈ ln(base)·2^-24 from the exponent plus an ulp or two, and
        // the scaled variants add a few f32 operations; observed ≤ 2.8 f32 ulps, allowed 8.
        for (f, (a, b)) in fr.theta.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() <= 8.0 * F32_ULP * b,
                "{name} θ_{f}: {a} vs {b}"
            );
        }
        let af = c["attention_factor"].as_f64().unwrap(); // computed in Python float64
        assert!(
            (fr.attention_factor - af).abs() <= 4.0 * f64::EPSILON * af,
            "{name}"
        );
    }
}

#[test]
fn rope_logits_match_apply_rotary_pos_emb_both_pairings_and_partial() {
    let g = load("rope_logits.json");
    for c in g["cases"].as_array().unwrap() {
        let (d, partial) = (
            c["d"].as_u64().unwrap() as usize,
            c["partial"].as_f64().unwrap(),
        );
        let (q, k, theta) = (matrix(&c["q"]), matrix(&c["k"]), vec_f64(&c["theta"]));
        // Our default θ is the same f64 formula.
        let own = RopeConfig::new(d, c["base"].as_f64().unwrap(), Pairing::HalfSplit)
            .with_partial_rotary_factor(partial)
            .frequencies()
            .unwrap()
            .theta;
        for (a, b) in own.iter().zip(&theta) {
            assert!((a - b).abs() <= 4.0 * f64::EPSILON * b);
        }
        for (pairing, key) in [
            (Pairing::HalfSplit, "half_split"),
            (Pairing::Interleaved, "interleaved"),
        ] {
            let rope = RopeConfig::explicit(d, theta.clone(), 1.0, pairing)
                .with_partial_rotary_factor(partial);
            let ours = logits(&q, &k, &PositionalEncoding::Rope(rope.clone()), 1.0).unwrap();
            let reference = matrix(&c[key]);
            let tol = |i: usize, j: usize| 64.0 * f64::EPSILON * l1(q.row(i)) * l1(k.row(j));
            assert_close(&ours, &reference, &format!("{key} d={d} p={partial}"), tol);
            let d1 = rope_decomposition(&q, &k, &rope, 1.0)
                .unwrap()
                .reconstruct();
            assert_close(&d1, &reference, &format!("D1 {key} d={d} p={partial}"), tol);
        }
    }
}

#[test]
fn yarn_attention_factor_multiplies_cos_and_sin_like_llama_rotary_embedding() {
    let g = load("rope_logits.json");
    let y = &g["yarn"];
    let n = g["n"].as_u64().unwrap() as usize;
    let (q, k) = (matrix(&y["q"]), matrix(&y["k"]));
    let a = y["attention_factor"].as_f64().unwrap();
    assert_eq!(a, 1.25);
    let rope = RopeConfig::explicit(8, vec_f64(&y["inv_freq_f32"]), a, Pairing::HalfSplit);
    let ours = logits(&q, &k, &PositionalEncoding::Rope(rope), 1.0).unwrap();
    let tol =
        |i: usize, j: usize| 64.0 * n as f64 * F32_ULP / 2.0 * a * a * l1(q.row(i)) * l1(k.row(j));
    assert_close(&ours, &matrix(&y["half_split"]), "yarn end to end", tol);
}

#[test]
fn alibi_matches_bloom_build_alibi_tensor_and_mpt() {
    let g = load("alibi.json");
    let n = g["n"].as_u64().unwrap() as usize;
    for c in g["bloom"].as_array().unwrap() {
        let h = c["heads"].as_u64().unwrap() as usize;
        let ours = alibi_slopes_bloom(h).unwrap();
        let theirs = vec_f64(&c["slopes_f32"]);
        let bias_rows = matrix(&c["bias_row"]);
        for head in 0..h {
            // transformers: float32 torch.pow(base, k) — a few f32 ulps.
            assert!(
                (ours[head] - theirs[head]).abs() <= 4.0 * F32_ULP * theirs[head],
                "H={h}"
            );
            let pe = PositionalEncoding::Alibi {
                slope: ours[head],
                form: AlibiForm::BloomRowOffset,
            };
            let b = bias_matrix(n, &pe).unwrap().unwrap().value;
            for i in 0..n {
                for j in 0..n {
                    let want = bias_rows.get(head, j); // same for every query row
                    assert!(
                        (b.get(i, j) - want).abs() <= 4.0 * F32_ULP * want.abs(),
                        "H={h}"
                    );
                }
            }
            // BloomAttention's scores: alibi.baddbmm(q, kᵀ, beta=1, alpha=1/√d), float64.
            let (q, k) = (matrix(&c["q"][head]), matrix(&c["k"][head]));
            let s = 1.0 / (q.cols() as f64).sqrt();
            let ours_l = logits(&q, &k, &pe, s).unwrap();
            let tol = |i: usize, j: usize| {
                64.0 * f64::EPSILON * l1(q.row(i)) * l1(k.row(j))
                    + 4.0 * F32_ULP * ours[head] * j as f64
            };
            assert_close(
                &ours_l,
                &matrix(&c["logits"][head]),
                &format!("BLOOM H={h}"),
                tol,
            );
        }
    }
    for c in g["mpt"].as_array().unwrap() {
        let h = c["heads"].as_u64().unwrap() as usize;
        let max = c["alibi_bias_max"].as_f64().unwrap();
        let ours = alibi_slopes_mpt(h, max).unwrap();
        let theirs = vec_f64(&c["slopes_f32"]);
        let bias_rows = matrix(&c["bias_row"]);
        for head in 0..h {
            assert!(
                (ours[head] - theirs[head]).abs() <= 4.0 * F32_ULP * theirs[head],
                "MPT H={h}"
            );
            let pe = PositionalEncoding::Alibi {
                slope: ours[head],
                form: AlibiForm::MptOffset,
            };
            let b = bias_matrix(n, &pe).unwrap().unwrap().value;
            for j in 0..n {
                let want = bias_rows.get(head, j);
                assert!(
                    (b.get(n - 1, j) - want).abs() <= 4.0 * F32_ULP * want.abs(),
                    "MPT H={h}"
                );
            }
        }
    }
}

#[test]
fn t5_buckets_match_relative_position_bucket_exactly() {
    let g = load("t5_buckets.json");
    let rel: Vec<i64> = g["relative_positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let b = T5Buckets {
            bidirectional: c["bidirectional"].as_bool().unwrap(),
            num_buckets: c["num_buckets"].as_u64().unwrap() as usize,
            max_distance: c["max_distance"].as_u64().unwrap() as usize,
        };
        for (r, want) in rel.iter().zip(c["buckets"].as_array().unwrap()) {
            assert_eq!(
                b.bucket(*r).unwrap() as u64,
                want.as_u64().unwrap(),
                "{b:?} rel {r}"
            );
        }
    }
}

#[test]
fn mla_matches_deepseek_v3_attention_with_random_weights() {
    let g = load("mla.json");
    let (n, heads) = (
        g["n"].as_u64().unwrap() as usize,
        g["heads"].as_u64().unwrap() as usize,
    );
    let (dn, dr) = (
        g["d_nope"].as_u64().unwrap() as usize,
        g["d_rope"].as_u64().unwrap() as usize,
    );
    let theta = vec_f64(&g["inv_freq_f32"]);
    let a = g["attention_factor"].as_f64().unwrap();
    // Our YaRN θ and softmax scale for the tiny config (factor 40, original 4096, mscales 1).
    let mut y = YarnParams::new(40.0, 4096);
    y.mscale = Some(1.0);
    y.mscale_all_dim = Some(1.0);
    let own = RopeConfig::new(dr, 10_000.0, Pairing::Interleaved)
        .with_scaling(RopeScaling::Yarn(y.clone()));
    let fr = own.frequencies().unwrap();
    for (x, t) in fr.theta.iter().zip(&theta) {
        assert!((x - t).abs() <= 16.0 * F32_ULP * t);
    }
    assert_eq!(fr.attention_factor, a);
    let scale = g["scaling"].as_f64().unwrap();
    assert!((mla_softmax_scale(dn, dr, Some(&y)) - scale).abs() <= 4.0 * f64::EPSILON * scale);
    for (key, pairing) in [
        ("interleaved", Pairing::Interleaved),
        ("half_split", Pairing::HalfSplit),
    ] {
        let c = &g["cases"][key];
        let rope = RopeConfig::explicit(dr, theta.clone(), a, pairing);
        let q: Vec<RealMatrix> = (0..heads).map(|h| matrix(&c["q"][h])).collect();
        let k_nope: Vec<RealMatrix> = (0..heads).map(|h| matrix(&c["k_nope"][h])).collect();
        let k_rope = matrix(&c["k_rope"]);
        let ours = mla_logits(&q, &k_nope, &k_rope, &rope, scale).unwrap();
        for h in 0..heads {
            let tol = |i: usize, j: usize| {
                let nope = l1(&q[h].row(i)[..dn]) * l1(k_nope[h].row(j));
                let rot = l1(&q[h].row(i)[dn..]) * l1(k_rope.row(j));
                scale
                    * (64.0 * f64::EPSILON * (nope + rot)
                        + 64.0 * n as f64 * F32_ULP / 2.0 * a * a * rot)
            };
            assert_close(
                &ours[h],
                &matrix(&c["logits"][h]),
                &format!("MLA {key} head {h}"),
                tol,
            );
        }
    }
}

#[test]
fn sinusoidal_tables_match_xlm_and_marian() {
    let g = load("sinusoidal.json");
    for (key, layout) in [
        ("interleaved_xlm", SinusoidalLayout::Interleaved),
        ("split_marian", SinusoidalLayout::Split),
    ] {
        let reference = matrix(&g[key]);
        let ours = sinusoidal_table(reference.rows(), reference.cols(), 10_000.0, layout).unwrap();
        // transformers evaluates in float64 NumPy and stores float32: half an f32 ulp of 1.
        assert_close(&ours, &reference, key, |_, _| F32_ULP / 2.0);
    }
}
