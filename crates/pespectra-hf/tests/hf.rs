//! The HF decoder against transformers' own outputs on tiny random checkpoints of every
//! supported family and RoPE scaling (tests/fixtures, made by make_fixtures.py): per layer and
//! head the pre-softmax logits and the post-RoPE q/k, the final hidden states and the
//! next-token loss. Bound: every value within 1e-5 · (1 + max |golden|) of the golden tensor
//! (f32 on both sides, different summation orders).

use std::path::{Path, PathBuf};

use pespectra_capture::{CaptureModel, HeadCapture, Positional};

mod common;
use common::rel;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Golden {
    bytes: Vec<u8>,
    ids: Vec<u32>,
    loss: f64,
}

impl Golden {
    fn load(dir: &Path) -> Self {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("golden.json")).unwrap())
                .unwrap();
        Self {
            bytes: std::fs::read(dir.join("golden.safetensors")).unwrap(),
            ids: meta["token_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect(),
            loss: meta["loss"].as_f64().unwrap(),
        }
    }
    /// Encoders have no next-token loss.
    fn load_without_loss(dir: &Path) -> Self {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("golden.json")).unwrap())
                .unwrap();
        Self {
            bytes: std::fs::read(dir.join("golden.safetensors")).unwrap(),
            ids: meta["token_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect(),
            loss: f64::NAN,
        }
    }
    fn get(&self, name: &str) -> Vec<f32> {
        let st = safetensors::SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap_or_else(|_| panic!("golden {name}"));
        t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

const BOUND: f64 = 1e-5;

/// RoPE (rotate_half) of the rows of a capture's q or k, in f64, times `a = √(scale/base)`:
/// 1 for the decoders (they fold a RoPE attention factor into q/k), YaRN's a for MLA (whose
/// capture scale carries a²).
fn rotate(c: &HeadCapture, x: &[f32], base: f64) -> Vec<f32> {
    let Positional::Rope { inv_freq, .. } = &c.positional else {
        panic!("RoPE head")
    };
    let (n, d, f) = (c.n, c.head_dim, inv_freq.len());
    let a = (c.scale / base).sqrt();
    let mut y: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for t in 0..n {
        for (i, &w) in inv_freq.iter().enumerate() {
            let (s, co) = (t as f64 * w).sin_cos();
            let (p, q) = (x[t * d + i] as f64, x[t * d + i + f] as f64);
            y[t * d + i] = p * co - q * s;
            y[t * d + i + f] = p * s + q * co;
        }
    }
    y.iter().map(|v| (v * a) as f32).collect()
}

/// The forward pass every checkpoint type offers.
trait Forward: CaptureModel {
    fn run(&self, ids: &[u32], layers: &[usize], sink: &mut dyn FnMut(HeadCapture)) -> Vec<f32>;
    /// The multiplier of q·kᵀ before any RoPE attention factor.
    fn base_scale(&self) -> f64;
}

impl Forward for pespectra_hf::Decoder {
    fn run(&self, ids: &[u32], layers: &[usize], sink: &mut dyn FnMut(HeadCapture)) -> Vec<f32> {
        self.forward(ids, layers, sink, true).unwrap()
    }
    fn base_scale(&self) -> f64 {
        self.config.scale
    }
}

impl Forward for pespectra_hf::Fused {
    fn run(&self, ids: &[u32], layers: &[usize], sink: &mut dyn FnMut(HeadCapture)) -> Vec<f32> {
        self.forward(ids, layers, sink, true).unwrap()
    }
    fn base_scale(&self) -> f64 {
        ((self.config.hidden / self.config.heads) as f64).powf(-0.5)
    }
}

/// Compares everything the golden file has; RoPE q/k are rotated with the capture's own
/// frequencies first, absolute heads also compare their counterfactual content logits.
fn check_model(name: &str, m: &dyn Forward) {
    let dir = fixture(name);
    let g = Golden::load(&dir);
    let layers: Vec<usize> = (0..m.dims().layers).collect();
    let mut caps = Vec::new();
    let hidden = m.run(&g.ids, &layers, &mut |c| caps.push(c));
    let e = rel(&hidden, &g.get("hidden"));
    assert!(e <= BOUND, "{name}: hidden states off by {e:e}");
    assert_eq!(caps.len(), m.dims().layers * m.dims().heads);
    let mut worst = 0f64;
    for c in &caps {
        c.validate().unwrap();
        let key = |t: &str| format!("layer.{}.head.{}.{t}", c.layer, c.head);
        worst = worst.max(rel(&c.logits, &g.get(&key("logits"))));
        let (q, k) = match &c.positional {
            Positional::Rope { .. } => (
                rotate(c, &c.q, m.base_scale()),
                rotate(c, &c.k, m.base_scale()),
            ),
            _ => (c.q.clone(), c.k.clone()),
        };
        worst = worst.max(rel(&q, &g.get(&key("q"))));
        worst = worst.max(rel(&k, &g.get(&key("k"))));
        if let Positional::Absolute = c.positional {
            worst = worst.max(rel(&c.content_logits, &g.get(&key("content_logits"))));
        }
        if let Positional::AdditiveBias { bias } = &c.positional {
            // BLOOM's own form: slope_h · j on every row
            assert_eq!(bias[c.n + 3], bias[3]);
        }
    }
    assert!(worst <= BOUND, "{name}: logits/q/k off by {worst:e}");
    let abl = m.ablation(&g.ids, &[(1, 0)], &mut |_, _| {}).unwrap();
    let clean: f64 = abl
        .metric
        .split("clean loss ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    assert!(
        (clean - g.loss).abs() <= 1e-4,
        "{name}: loss {clean} vs {}",
        g.loss
    );
    assert!(abl.effects[0].is_finite());
    eprintln!("{name}: hidden {e:.1e}, logits/q/k {worst:.1e}");
}

fn check(name: &str) {
    let m = pespectra_hf::Decoder::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    check_model(name, &m);
}

fn check_fused(name: &str) {
    let m = pespectra_hf::Fused::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    check_model(name, &m);
}

#[test]
fn llama() {
    check("llama");
}
#[test]
fn llama_tied_embeddings_and_biases() {
    check("llama-tied-bias");
}
#[test]
fn llama3_scaling() {
    check("llama3-scaled");
}
#[test]
fn linear_scaling_in_the_transformers_4_config_spelling() {
    check("llama-linear");
}
#[test]
fn yarn_scaling_with_its_attention_factor() {
    check("llama-yarn");
}
#[test]
fn dynamic_ntk_past_the_trained_length() {
    check("llama-dynamic");
}
#[test]
fn mistral_sliding_window() {
    check("mistral-window");
}
#[test]
fn qwen2_qkv_biases() {
    check("qwen2");
}
#[test]
fn qwen3_qk_norm_and_wide_heads() {
    check("qwen3");
}
#[test]
fn bf16_weights_in_three_shards() {
    check("llama-bf16-sharded");
}

#[test]
fn tokenizer_json_gives_transformers_ids() {
    let dir = fixture("llama");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("golden.json")).unwrap()).unwrap();
    let want: Vec<u32> = meta["text_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let m = pespectra_hf::Decoder::load(&dir).unwrap();
    assert!(m.has_tokenizer());
    assert_eq!(m.tokenize(meta["text"].as_str().unwrap()).unwrap(), want);
}

#[test]
fn bloom_alibi_fused_qkv() {
    check_fused("bloom");
}

#[test]
fn bloom_residual_after_the_layernorm_and_eight_heads() {
    check_fused("bloom-post-ln");
}

/// Falcon's ALiBi (falcon-rw layout) with 16 heads: slopes 2^(−k/2), so for odd k neither the
/// slope nor slope·j is a bfloat16 number, and transformers' bf16 rounding of the product
/// must be reproduced for the logits to match; the bias is also scaled by 1/√head_dim.
#[test]
fn falcon_alibi_bf16_slopes_scaled_by_the_head_width() {
    check_fused("falcon");
    let dir = fixture("falcon");
    let g = Golden::load(&dir);
    let m = pespectra_hf::Fused::load(&dir).unwrap();
    let mut caps = Vec::new();
    m.forward(&g.ids, &[0], &mut |c| caps.push(c), false)
        .unwrap();
    let c = &caps[0]; // head 0: slope 2^(−1/2), head_dim 4
    let Positional::AdditiveBias { bias } = &c.positional else {
        panic!("ALiBi is additive")
    };
    let n = c.n;
    // the unrounded slope·j/√hd differs from the bias actually added somewhere on the row
    let slope = 2f64.powf(-0.5);
    let off = (0..n)
        .map(|j| (f64::from(bias[j]) - slope * j as f64 / 2.0).abs())
        .fold(0.0, f64::max);
    assert!(off > 1e-4, "bf16 rounding not visible: {off:e}");
}

/// A Falcon RoPE fixture against its goldens, and the layout its config was read as.
fn check_falcon(name: &str, layout: pespectra_hf::QkvLayout, kv_heads: usize, shared_norm: bool) {
    check_fused(name);
    let c = pespectra_hf::Fused::load(&fixture(name)).unwrap().config;
    assert_eq!(
        (c.layout, c.kv_heads, c.shared_norm),
        (layout, kv_heads, shared_norm),
        "{name}"
    );
}

/// Falcon-7B's block: multi-query (one key/value head after all query heads in the fused
/// output), parallel attention and MLP fed by one shared LayerNorm, RoPE, no biases.
#[test]
fn falcon_rope_multi_query_parallel_shared_norm() {
    check_falcon("falcon-rope-mqa", pespectra_hf::QkvLayout::Blocks, 1, true);
}

/// Falcon-40B/180B's `new_decoder_architecture`: per key/value group `[q… | k | v]`, two
/// heads per group, ln_attn and ln_mlp, linear RoPE scaling, biases.
#[test]
fn falcon_rope_grouped_new_architecture_two_norms() {
    check_falcon(
        "falcon-rope-new-arch",
        pespectra_hf::QkvLayout::Grouped,
        2,
        false,
    );
}

/// Falcon2-11B's variant: the new architecture with `num_ln_in_parallel_attn = 1` (one
/// group: every query head shares one key), untied output head.
#[test]
fn falcon_rope_new_architecture_one_norm() {
    check_falcon(
        "falcon-rope-new-arch-one-ln",
        pespectra_hf::QkvLayout::Grouped,
        1,
        true,
    );
}

/// Falcon's multi-head sequential layout with RoPE instead of ALiBi.
#[test]
fn falcon_rope_multi_head_sequential() {
    check_falcon(
        "falcon-rope-mha",
        pespectra_hf::QkvLayout::PerHead,
        4,
        false,
    );
}

/// Falcon layouts transformers itself cannot run, and ALiBi outside the falcon-rw layout, are
/// refused at load, naming the field.
#[test]
fn falcon_impossible_layouts_are_refused_naming_the_field() {
    let src = fixture("falcon-rope-new-arch");
    for (edit, field) in [
        (
            serde_json::json!({"parallel_attn": false, "num_ln_in_parallel_attn": 1}),
            "num_ln_in_parallel_attn",
        ),
        (
            serde_json::json!({"num_ln_in_parallel_attn": 3}),
            "num_ln_in_parallel_attn",
        ),
        (serde_json::json!({"num_kv_heads": 3}), "num_kv_heads"),
        (serde_json::json!({"alibi": true}), "alibi"),
    ] {
        let dir = std::env::temp_dir().join(format!("pespectra-falcon-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        }
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        for (k, v) in edit.as_object().unwrap() {
            cfg[k] = v.clone();
        }
        std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
        let e = match pespectra_hf::Fused::load(&dir) {
            Ok(_) => panic!("{edit} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(field) && !e.contains('\n'), "{edit}: {e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn gpt_neox_partial_rotary_parallel_residual_old_config_names() {
    check_fused("gpt-neox");
}

#[test]
fn gpt_neox_sequential_residual_tied_half_rotary() {
    check_fused("gpt-neox-sequential");
}

#[test]
fn gpt2_learned_positions_and_the_position_free_counterfactual() {
    check_fused("gpt2");
}

#[test]
fn gemma3_local_global_rope_sandwich_norms_and_pre_attn_scalar() {
    check("gemma3");
}

/// Gemma 2 soft-caps every attention score at 0.05 in this fixture, well inside the scores'
/// range (|x| ≈ 0.1), so the hidden states and loss only match with the cap applied; the
/// captures record the pre-cap scores (transformers' `scaling·q·kᵀ`) and the cap, and the
/// even layer its sliding window.
#[test]
fn gemma2_soft_capped_attention_and_alternating_windows() {
    check("gemma2");
    let m = pespectra_hf::Decoder::load(&fixture("gemma2")).unwrap();
    let mut caps = Vec::new();
    m.forward(&[1, 17, 200, 45], &[0, 1], &mut |c| caps.push(c), false)
        .unwrap();
    for c in &caps {
        assert_eq!(c.softcap, Some(0.05));
        assert_eq!(c.window, if c.layer == 0 { Some(6) } else { None });
    }
    assert!(caps.iter().any(|c| c.logits.iter().any(|x| x.abs() > 0.05)));
}

impl Forward for pespectra_hf::T5Encoder {
    fn run(&self, ids: &[u32], layers: &[usize], sink: &mut dyn FnMut(HeadCapture)) -> Vec<f32> {
        self.forward(ids, layers, sink, true).unwrap()
    }
    fn base_scale(&self) -> f64 {
        1.0
    }
}

fn check_t5(name: &str) {
    let dir = fixture(name);
    let g = Golden::load_without_loss(&dir);
    let m = pespectra_hf::T5Encoder::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let layers: Vec<usize> = (0..m.dims().layers).collect();
    let mut caps = Vec::new();
    let hidden = m.run(&g.ids, &layers, &mut |c| caps.push(c));
    let e = rel(&hidden, &g.get("hidden"));
    assert!(e <= BOUND, "{name}: hidden states off by {e:e}");
    let mut worst = 0f64;
    for c in &caps {
        c.validate().unwrap();
        let key = |t: &str| format!("layer.{}.head.{}.{t}", c.layer, c.head);
        worst = worst.max(rel(&c.logits, &g.get(&key("logits"))));
        worst = worst.max(rel(&c.q, &g.get(&key("q"))));
        worst = worst.max(rel(&c.k, &g.get(&key("k"))));
        let Positional::AdditiveBias { bias } = &c.positional else {
            panic!("T5 is additive")
        };
        // bidirectional relative buckets: a Toeplitz bias
        assert_eq!(bias[c.n + 1], bias[0]);
    }
    assert!(worst <= BOUND, "{name}: logits/q/k off by {worst:e}");
    let abl = m
        .ablation(&g.ids, &[(0, 1), (1, 3)], &mut |_, _| {})
        .unwrap();
    assert!(
        abl.effects.iter().all(|e| e.is_finite() && *e >= -1e-12),
        "{:?}",
        abl.effects
    );
    eprintln!("{name}: hidden {e:.1e}, logits/q/k {worst:.1e}");
}

#[test]
fn t5_encoder_relative_buckets_relu() {
    check_t5("t5");
}

#[test]
fn t5_encoder_gated_gelu_other_buckets() {
    check_t5("t5-gated");
}

impl Forward for pespectra_hf::MlaModel {
    fn run(&self, ids: &[u32], layers: &[usize], sink: &mut dyn FnMut(HeadCapture)) -> Vec<f32> {
        self.forward(ids, layers, sink, true).unwrap()
    }
    fn base_scale(&self) -> f64 {
        self.config.scale
    }
}

/// MLA: hidden states, logits (independent of how the rotary slice is laid out) and the loss;
/// q/k are not compared entry by entry because transformers' interleaved rotation returns the
/// rotated pairs de-interleaved while the capture keeps the model's layout.
fn check_mla(name: &str) {
    let dir = fixture(name);
    let g = Golden::load(&dir);
    let m = pespectra_hf::MlaModel::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let layers: Vec<usize> = (0..m.dims().layers).collect();
    let mut caps = Vec::new();
    let hidden = m.run(&g.ids, &layers, &mut |c| caps.push(c));
    let e = rel(&hidden, &g.get("hidden"));
    assert!(e <= BOUND, "{name}: hidden states off by {e:e}");
    let mut worst = 0f64;
    for c in &caps {
        c.validate().unwrap();
        let key = format!("layer.{}.head.{}.logits", c.layer, c.head);
        worst = worst.max(rel(&c.logits, &g.get(&key)));
    }
    assert!(worst <= BOUND, "{name}: logits off by {worst:e}");
    let abl = m.ablation(&g.ids, &[(1, 2)], &mut |_, _| {}).unwrap();
    let clean: f64 = abl
        .metric
        .split("clean loss ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    assert!(
        (clean - g.loss).abs() <= 1e-4,
        "{name}: loss {clean} vs {}",
        g.loss
    );
    eprintln!("{name}: hidden {e:.1e}, logits {worst:.1e}");
}

#[test]
fn deepseek_v3_mla_low_rank_q_interleaved_rope() {
    check_mla("deepseek-v3");
}

#[test]
fn deepseek_v3_full_q_rotate_half_yarn_mscale() {
    check_mla("deepseek-v3-half-yarn");
}

#[test]
fn deepseek_v2_mla() {
    check_mla("deepseek-v2");
}

#[test]
fn phi3_fused_projections_partial_rotary_sliding_window() {
    check("phi3");
}

/// Phi-3 LongRoPE past the pre-training length (8 < 18 tokens): the long factors and the
/// attention factor √2 in cos/sin (the capture's scale carries its square).
#[test]
fn phi3_longrope_long_factors_and_attention_factor() {
    check("phi3-longrope");
    let m = pespectra_hf::Decoder::load(&fixture("phi3-longrope")).unwrap();
    let mut caps = Vec::new();
    let ids: Vec<u32> = (1..=18).collect();
    m.forward(&ids, &[0], &mut |c| caps.push(c), false).unwrap();
    let Positional::Rope { inv_freq, .. } = &caps[0].positional else {
        panic!("RoPE head")
    };
    // rot = 8 dimensions: inv_freq_i = 1 / (long_i · 10000^(2i/8))
    for (i, (&w, l)) in inv_freq.iter().zip([1.5, 2.5, 4.0, 8.0]).enumerate() {
        let want = 1.0 / (l * 10000f64.powf(2.0 * i as f64 / 8.0));
        assert!((w - want).abs() <= 1e-12 * want, "{i}: {w} vs {want}");
    }
    // the attention factor √2 is folded into the 8 rotated dimensions of q (not the rest)
    assert_eq!(caps[0].scale, m.config.scale);
    // up to the pre-training length the short factors apply (and the same attention factor)
    caps.clear();
    m.forward(&ids[..8], &[0], &mut |c| caps.push(c), false)
        .unwrap();
    let Positional::Rope { inv_freq, .. } = &caps[0].positional else {
        panic!("RoPE head")
    };
    let want = 1.0 / (1.1 * 10000f64.powf(2.0 / 8.0));
    assert!((inv_freq[1] - want).abs() <= 1e-12 * want);
}

/// StableLM 2's per-head q/k LayerNorms (their own weights per head, perturbed so a shared or
/// misassigned weight shows) and the parallel residual with a single LayerNorm.
#[test]
fn stablelm_per_head_qk_layernorm_and_parallel_residual() {
    check("stablelm-qk-parallel");
}

#[test]
fn stablelm_layernorm_with_biases_partial_rotary() {
    check("stablelm");
}

#[test]
fn mpt_alibi_from_the_last_key_without_biases() {
    check_fused("mpt");
}

#[test]
fn mpt_six_heads_interleaved_slopes() {
    check_fused("mpt-six-heads");
}

/// DeepSeek-V2 mixture of experts from layer 1: softmax router, group-limited greedy top-3 of
/// 8 experts inside the best of 2 groups, weights × 1.5, one shared expert.
#[test]
fn deepseek_v2_moe_group_limited_greedy() {
    check_mla("deepseek-v2-moe");
}

/// DeepSeek-V3 mixture of experts from layer 1: sigmoid router with a nonzero correction bias
/// (choosing, not weighting), groups ranked by their two best, renormalised weights × 2.5.
#[test]
fn deepseek_v3_moe_sigmoid_router_with_correction_bias() {
    check_mla("deepseek-v3-moe");
}
