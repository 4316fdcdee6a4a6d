//! Cross-check against the independent NumPy float64 implementation in
//! `tests/golden/make_golden.py` (committed output: `tests/golden/golden.json`).
//!
//! - f64 reference vs NumPy: agreement to 1e-10 (both are f64 evaluations of the same
//!   formulas; the difference is summation order and libm).
//! - f32 flash path (every available ISA) vs NumPy: within the stated `error_bounds`
//!   plus that 1e-10.
//! - f32 logits mode vs NumPy pre-mask logits: within twice the stated logit bound.

use pespectra_attention::*;
use serde_json::Value;

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().expect("integer") as usize
}

fn rope_of(r: &Value) -> Rope {
    let pairing = match r["pairing"].as_str().unwrap() {
        "half" => RopePairing::HalfSplit,
        _ => RopePairing::Interleaved,
    };
    let sc = &r["scaling"];
    let scaling = match sc["kind"].as_str().unwrap_or("none") {
        "none" => RopeScaling::None,
        "linear" => RopeScaling::Linear {
            factor: sc["factor"].as_f64().unwrap(),
        },
        "dynamic" => RopeScaling::DynamicNtk {
            factor: sc["factor"].as_f64().unwrap(),
            original_max_position_embeddings: usize_of(&sc["orig"]),
        },
        "yarn" => RopeScaling::Yarn {
            factor: sc["factor"].as_f64().unwrap(),
            original_max_position_embeddings: usize_of(&sc["orig"]),
            beta_fast: sc["beta_fast"].as_f64().unwrap(),
            beta_slow: sc["beta_slow"].as_f64().unwrap(),
            attention_factor: None,
        },
        "llama3" => RopeScaling::Llama3 {
            factor: sc["factor"].as_f64().unwrap(),
            low_freq_factor: sc["low"].as_f64().unwrap(),
            high_freq_factor: sc["high"].as_f64().unwrap(),
            original_max_position_embeddings: usize_of(&sc["orig"]),
        },
        k => panic!("unknown scaling {k}"),
    };
    Rope {
        pairing,
        base: r["base"].as_f64().unwrap(),
        rotary_fraction: r["fraction"].as_f64().unwrap(),
        scaling,
    }
}

fn config_of(c: &Value) -> AttentionConfig {
    let mut cfg = AttentionConfig::new(
        usize_of(&c["batch"]),
        usize_of(&c["heads"]),
        usize_of(&c["seq"]),
        usize_of(&c["head_dim"]),
    );
    cfg.kv_heads = usize_of(&c["kv_heads"]);
    cfg.value_dim = usize_of(&c["value_dim"]);
    cfg.scale = c["scale"].as_f64().unwrap();
    cfg.mask.causal = c["causal"].as_bool().unwrap();
    cfg.mask.key_lengths = c["key_lengths"]
        .as_array()
        .map(|a| a.iter().map(usize_of).collect());
    cfg.sliding_window = c["window"].as_u64().map(|w| w as usize);
    let pe = &c["pe"];
    cfg.pe = match pe["kind"].as_str().unwrap() {
        "nope" => PositionalEncoding::NoPE,
        "rope" => PositionalEncoding::Rope(rope_of(&pe["rope"])),
        "alibi" => PositionalEncoding::Alibi {
            slopes: alibi_slopes(cfg.heads),
        },
        "t5" => PositionalEncoding::T5(T5Bias {
            table: f32s(&pe["table"]),
            num_buckets: usize_of(&pe["num_buckets"]),
            max_distance: usize_of(&pe["max_distance"]),
            bidirectional: pe["bidirectional"].as_bool().unwrap(),
        }),
        "absolute" => PositionalEncoding::AbsoluteAdditive {
            q_table: f32s(&pe["q_table"]),
            k_table: f32s(&pe["k_table"]),
        },
        "mla" => PositionalEncoding::Mla(Mla {
            nope_dim: usize_of(&pe["nope_dim"]),
            rope_dim: usize_of(&pe["rope_dim"]),
            rope: rope_of(&pe["rope"]),
        }),
        k => panic!("unknown pe {k}"),
    };
    cfg
}

#[test]
fn numpy_golden_cases() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/golden.json"
    ))
    .expect("golden.json (regenerate with tests/golden/make_golden.py)");
    let root: Value = serde_json::from_str(&text).expect("valid JSON");
    let cases = root["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let cfg = config_of(c);
        let (q, k, v) = (f32s(&c["q"]), f32s(&c["k"]), f32s(&c["v"]));
        let rk = c.get("rope_key").map(f32s);
        let inp = AttentionInputs {
            q: &q,
            k: &k,
            v: &v,
            rope_key: rk.as_deref(),
        };
        let want = f64s(&c["out"]);
        let want_logits = f64s(&c["pre_mask"]);
        let reference = reference_attention(&cfg, &inp).unwrap();
        for (idx, (&r, &w)) in reference.iter().zip(&want).enumerate() {
            assert!(
                (r - w).abs() <= 1e-10,
                "{name}: reference[{idx}] {r} vs numpy {w}"
            );
        }
        let bounds = error_bounds(&cfg, &inp).unwrap();
        for isa in Isa::available() {
            let out = flash_attention_with(isa, &cfg, &inp).unwrap();
            for (idx, ((&o, &w), &bd)) in out.iter().zip(&want).zip(&bounds.output).enumerate() {
                assert!(
                    (o as f64 - w).abs() <= bd + 1e-10,
                    "{name} {}: out[{idx}] {o} vs numpy {w} (bound {bd:e})",
                    isa.name()
                );
            }
            let req = LogitsRequest {
                pre_mask: true,
                content: false,
                per_frequency: false,
            };
            let l = attention_logits_with(isa, &cfg, &inp, req).unwrap();
            let s = cfg.seq;
            for (idx, (&x, &w)) in l.pre_mask.unwrap().iter().zip(&want_logits).enumerate() {
                let bd = 2.0 * bounds.logit[idx / s] + 1e-10;
                assert!(
                    (x as f64 - w).abs() <= bd,
                    "{name} {}: logit[{idx}] {x} vs numpy {w}",
                    isa.name()
                );
            }
        }
    }
}
