//! `pespectra audit PATH` on HF checkpoints: every family's tiny checkpoint audits with
//! certified per-frequency RoPE verdicts, and every class of bad checkpoint exits 2 with one
//! line naming the file and the field, leaving no output directory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pespectra"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pespectra-hf/tests/fixtures")
        .join(name)
}

fn assert_bad((code, _, err): (i32, String, String), needles: &[&str]) {
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "expected '{n}' in: {err}");
    }
}

/// A copy of fixture `name` in a fresh directory, for mutation.
fn copy(name: &str, tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-hf-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.join(e.file_name())).unwrap();
    }
    d
}

fn edit_config(d: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = d.join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(p, v.to_string()).unwrap();
}

const IDS: &str = "1,17,200,45,3,99,128,7,255,64,12,180,33,90,2,150";

#[test]
fn every_family_audits_with_certified_rope_verdicts() {
    for name in [
        "llama",
        "llama-tied-bias",
        "llama3-scaled",
        "llama-linear",
        "llama-yarn",
        "llama-dynamic",
        "mistral-window",
        "qwen2",
        "qwen3",
        "llama-bf16-sharded",
    ] {
        let dir = fixture(name);
        let (code, out, err) = run(&[
            "audit",
            dir.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "16",
            "--json",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["heads"].as_array().unwrap().len(), 8, "{name}");
        for id in ["D1", "T1", "T2", "T3", "T4"] {
            assert_eq!(
                v["verdict_counts"][id]["HOLDS"], 8,
                "{name} {id}: {}",
                v["verdict_counts"]
            );
        }
        for h in v["heads"].as_array().unwrap() {
            // the audit recomputes every RoPE logit from q, k and inv_freq: the capture agrees
            let dev = h["rope"]["capture_deviation"].as_f64().unwrap();
            assert!(dev < 1e-4, "{name}: capture deviation {dev}");
            assert!(h["e3"]["ablation"].as_f64().unwrap().is_finite());
        }
        let files = v["provenance"]["model"]["files"].to_string();
        assert!(
            files.contains("config.json") && files.contains("safetensors"),
            "{name}: {files}"
        );
    }
}

#[test]
fn bloom_alibi_heads_get_weyl_and_an_honest_t9() {
    for name in ["bloom", "bloom-post-ln", "mpt", "mpt-six-heads"] {
        let dir = fixture(name);
        let (code, out, err) = run(&[
            "audit",
            dir.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "16",
            "--json",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let heads = v["heads"].as_array().unwrap().len();
        assert_eq!(v["verdict_counts"]["T7"]["HOLDS"], heads, "{name}");
        // BLOOM adds slope·j and MPT slope·(j − (n − 1)), not −slope·|i − j|: the bias is not Toeplitz, so T9's
        // hypothesis is not met and the audit says so instead of deciding
        assert_eq!(v["verdict_counts"]["T9"]["INCONCLUSIVE"], heads, "{name}");
        let t9 = v["heads"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "T9")
            .unwrap()
            .clone();
        assert!(
            t9["detail"]
                .as_str()
                .unwrap()
                .contains("not exactly Toeplitz"),
            "{t9}"
        );
        assert!(v["heads"][0]["family"]
            .as_str()
            .unwrap()
            .contains("additive"));
    }
}

#[test]
fn gpt2_absolute_heads_get_weyl_and_the_toeplitz_reading_refuted() {
    let dir = fixture("gpt2");
    let (code, out, err) = run(&[
        "audit",
        dir.to_str().unwrap(),
        "--token-ids",
        IDS,
        "--n",
        "16",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict_counts"]["T7"]["HOLDS"], 8);
    // a learned table's positional part of the logits is not Toeplitz: R6 is refuted
    assert_eq!(v["verdict_counts"]["R6"]["FAILS"], 8);
    assert_eq!(v["heads"][0]["family"], "absolute");
}

#[test]
fn t5_encoder_heads_get_weyl_and_a_certified_szego_bound() {
    for name in ["t5", "t5-gated"] {
        let dir = fixture(name);
        let (code, out, err) = run(&[
            "audit",
            dir.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "16",
            "--json",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        // relative buckets give a Toeplitz bias: T9 is decided, and it holds
        assert_eq!(v["verdict_counts"]["T7"]["HOLDS"], 8, "{name}");
        assert_eq!(
            v["verdict_counts"]["T9"]["HOLDS"], 8,
            "{name}: {}",
            v["verdict_counts"]
        );
        assert!(v["heads"][0]["e3"]["ablation"].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn bad_checkpoints_exit_2_with_one_line() {
    let d = copy("llama", "type");
    edit_config(&d, |v| v["model_type"] = "gpt_bigcode".into());
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &[
            "config.json",
            "gpt_bigcode",
            "supported: llama",
            "bloom",
            "gpt_neox",
            "gpt2",
        ],
    );

    let d = copy("llama", "field");
    edit_config(&d, |v| {
        v.as_object_mut().unwrap().remove("num_attention_heads");
    });
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["config.json", "num_attention_heads"],
    );

    let d = copy("llama", "shape");
    edit_config(&d, |v| v["intermediate_size"] = 96.into());
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["model.safetensors", "gate_proj.weight", "shape"],
    );

    let d = copy("llama", "missing");
    edit_config(&d, |v| v["tie_word_embeddings"] = false.into());
    edit_config(&d, |v| v["attention_bias"] = true.into());
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["q_proj.bias", "missing"],
    );

    let d = copy("llama", "trunc");
    let w = d.join("model.safetensors");
    let b = std::fs::read(&w).unwrap();
    std::fs::write(&w, &b[..b.len() - 100]).unwrap();
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["model.safetensors", "not a readable safetensors file"],
    );
    std::fs::write(&w, [0xffu8; 16]).unwrap();
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["not a readable safetensors file"],
    );

    let d = copy("llama-bf16-sharded", "shard");
    std::fs::remove_file(d.join("model-00002-of-00003.safetensors")).unwrap();
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["model-00002-of-00003.safetensors"],
    );

    // MPT: an alibi_bias_max that transformers would ignore is refused
    let d = copy("mpt", "biasmax");
    edit_config(&d, |v| v["attn_config"]["alibi_bias_max"] = 6.into());
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["attn_config.alibi_bias_max", "only 8"],
    );

    // DeepSeek: a config whose layer 1 is a mixture-of-experts layer, on a checkpoint without
    // its expert tensors, is refused at load naming the first missing tensor
    let d = copy("deepseek-v3", "moe");
    edit_config(&d, |v| v["first_k_dense_replace"] = 1.into());
    assert_bad(
        run(&[
            "audit",
            d.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--no-ablation",
        ]),
        &[
            "model.safetensors",
            "model.layers.1.mlp.gate.weight",
            "missing",
        ],
    );
    // and a real MoE checkpoint audits its MoE layer
    let (code, out, err) = run(&[
        "audit",
        fixture("deepseek-v2-moe").to_str().unwrap(),
        "--token-ids",
        IDS,
        "--n",
        "8",
        "--layers",
        "1",
        "--no-ablation",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\"T3\""),
        "layer 1 (mixture of experts) audits"
    );

    let d = copy("llama", "notok");
    std::fs::remove_file(d.join("tokenizer.json")).unwrap();
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--n", "8"]),
        &["tokenizer.json", "missing: give token ids"],
    );
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", "1,2,x"]),
        &["--token-ids: 'x' is not a token id"],
    );
    assert_bad(
        run(&[
            "audit",
            d.to_str().unwrap(),
            "--token-ids",
            "1,2,999",
            "--n",
            "3",
        ]),
        &["token id 999 is outside the vocabulary of 256"],
    );
    assert_bad(
        run(&[
            "audit",
            d.to_str().unwrap(),
            "--token-ids",
            "1,2,3",
            "--n",
            "8",
        ]),
        &["only 3 tokens, fewer than --n 8"],
    );
    assert_bad(
        run(&[
            "audit",
            d.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "65",
        ]),
        &["--n 65 is larger than the context", "(64 tokens)"],
    );

    let out = d.join("caps");
    assert_bad(
        run(&[
            "capture",
            d.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "65",
            "--out",
            out.to_str().unwrap(),
        ]),
        &["larger than the context"],
    );
    assert!(!out.exists(), "a refused capture leaves no directory");
    assert_bad(
        run(&["audit", "/nonexistent/ckpt"]),
        &["/nonexistent/ckpt", "not a model checkpoint"],
    );
    for t in [
        "type", "field", "shape", "missing", "trunc", "shard", "notok",
    ] {
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("pespectra-hf-cli-{t}-{}", std::process::id())),
        );
    }
}

#[test]
fn text_through_the_checkpoints_tokenizer() {
    let dir = fixture("llama");
    let text = std::env::temp_dir().join(format!("pespectra-hf-text-{}.txt", std::process::id()));
    std::fs::write(
        &text,
        "Rotary position embeddings multiply; additive biases add. ".repeat(3),
    )
    .unwrap();
    let (code, out, err) = run(&[
        "audit",
        dir.to_str().unwrap(),
        "--text",
        text.to_str().unwrap(),
        "--n",
        "24",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["n"], 24);
    assert_eq!(
        v["provenance"]["input"]["token_ids_sha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    std::fs::remove_file(&text).unwrap();
}

/// A copy of fixture `name` whose tensor names lose `prefix` (checkpoints saved from the bare
/// model class, like bigscience/bloom-560m or openai-community/gpt2).
fn without_prefix(name: &str, prefix: &str, tag: &str) -> PathBuf {
    let d = copy(name, tag);
    let w = d.join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| {
            (
                n.strip_prefix(prefix).unwrap_or(&n).to_string(),
                t.dtype(),
                t.shape().to_vec(),
                t.data().to_vec(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, dt, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*dt, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, &w).unwrap();
    d
}

#[test]
fn bare_model_checkpoints_without_the_transformer_prefix() {
    for (name, tag) in [("bloom", "bare-bloom"), ("gpt2", "bare-gpt2")] {
        let d = without_prefix(name, "transformer.", tag);
        let (code, out, err) = run(&[
            "audit",
            d.to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "16",
            "--json",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let direct = run(&[
            "audit",
            fixture(name).to_str().unwrap(),
            "--token-ids",
            IDS,
            "--n",
            "16",
            "--json",
        ])
        .1;
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&out).unwrap(),
            serde_json::from_str(&direct).unwrap(),
        );
        assert_eq!(a["verdict_counts"], b["verdict_counts"], "{name}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}

#[test]
fn unsupported_dtype_is_named() {
    // a checkpoint whose norm weight is stored as F64
    let d = copy("llama", "dtype");
    let w = d.join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    for t in &mut owned {
        if t.0 == "model.norm.weight" {
            t.1 = safetensors::Dtype::F64;
            t.3 = t
                .3
                .chunks(4)
                .flat_map(|c| (f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).to_le_bytes())
                .collect();
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, dt, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*dt, s.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, &w).unwrap();
    assert_bad(
        run(&["audit", d.to_str().unwrap(), "--token-ids", IDS]),
        &["model.norm.weight", "F64", "not supported"],
    );
    std::fs::remove_dir_all(&d).unwrap();
}
