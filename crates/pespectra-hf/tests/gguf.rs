//! The gemma3-270m GGUF (registry model, fetched once) through the GGUF source, the SentencePiece
//! tokenizer and the llama-family decoder, against transformers' outputs on the same file
//! (fixtures/gemma3-270m-gguf-golden.json, made by scripts/make_gemma3_gguf_golden.py):
//! token ids of four texts exactly; pre-softmax logits of every head of layers 0, 5 and 17, the
//! final hidden states and the loss. Bound: 1e-5 · (1 + max |golden|), as for the tiny
//! fixtures (f32 on both sides, different summation orders; measured ≤ 1.5e-6).

use std::path::Path;

use pespectra_capture::HeadCapture;

mod common;
use common::rel;

const BOUND: f64 = 1e-5;

fn golden() -> serde_json::Value {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gemma3-270m-gguf-golden.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn gemma3() -> Option<pespectra_hf::Decoder> {
    let dir = pespectra_models::fetch_for_tests("gemma3-270m")?;
    Some(pespectra_hf::gguf::open(&dir.join("gemma-3-270m-q4_k_m.gguf")).unwrap())
}

#[test]
fn gemma3_gguf_matches_transformers() {
    let Some(m) = gemma3() else { return };
    let g = golden();
    let c = &m.config;
    assert_eq!(
        (c.layers, c.heads, c.kv_heads, c.head_dim, c.hidden),
        (18, 4, 1, 256, 640)
    );
    assert!((c.scale - 1.0 / 16.0).abs() < 1e-15);
    for t in g["texts"].as_array().unwrap() {
        let text = t["text"].as_str().unwrap();
        assert_eq!(m.encode(text).unwrap(), ids(&t["ids"]), "{text:?}");
    }
    let x = ids(&g["ids"]);
    let n = x.len();
    let mut caps: Vec<HeadCapture> = Vec::new();
    let hidden = m
        .forward(&x, &[0, 5, 17], &mut |h| caps.push(h), true)
        .unwrap();
    let mut worst = 0f64;
    for h in g["heads"].as_array().unwrap() {
        let (l, k) = (
            h["layer"].as_u64().unwrap() as usize,
            h["head"].as_u64().unwrap() as usize,
        );
        let cap = caps.iter().find(|c| c.layer == l && c.head == k).unwrap();
        assert_eq!(cap.n, n);
        let e = rel(&cap.logits, &floats(&h["logits"]));
        assert!(e <= BOUND, "layer {l} head {k}: logits off by {e:.2e}");
        worst = worst.max(e);
    }
    let e = rel(&hidden, &floats(&g["final_hidden"]));
    assert!(e <= BOUND, "final hidden states off by {e:.2e}");
    let (loss, _) = m.ablation_losses(&x, &[], &mut |_, _| {}).unwrap();
    let want = g["loss"].as_f64().unwrap();
    assert!(
        (loss - want).abs() <= BOUND * (1.0 + want),
        "loss {loss} vs {want}"
    );
    eprintln!("worst logits {worst:.2e}, hidden {e:.2e}, loss {loss} vs {want}");
}

/// A minimal GGUF v3 writer for hand-made files: metadata of the kinds the reader parses and
/// F32 tensors (`dims` fastest first, as GGUF lists them).
mod write {
    pub enum V<'a> {
        U32(u32),
        F32(f32),
        Bool(bool),
        Str(&'a str),
        Strs(Vec<&'a str>),
        F32s(Vec<f32>),
        I32s(Vec<i32>),
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }

    pub fn gguf(kv: &[(&str, V)], tensors: &[(&str, Vec<u64>)]) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend((tensors.len() as u64).to_le_bytes());
        out.extend((kv.len() as u64).to_le_bytes());
        for (k, v) in kv {
            string(&mut out, k);
            match v {
                V::U32(x) => {
                    out.extend(4u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                V::F32(x) => {
                    out.extend(6u32.to_le_bytes());
                    out.extend(x.to_le_bytes());
                }
                V::Bool(b) => {
                    out.extend(7u32.to_le_bytes());
                    out.push(*b as u8);
                }
                V::Str(s) => {
                    out.extend(8u32.to_le_bytes());
                    string(&mut out, s);
                }
                V::Strs(a) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(8u32.to_le_bytes());
                    out.extend((a.len() as u64).to_le_bytes());
                    a.iter().for_each(|s| string(&mut out, s));
                }
                V::F32s(a) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(6u32.to_le_bytes());
                    out.extend((a.len() as u64).to_le_bytes());
                    a.iter().for_each(|x| out.extend(x.to_le_bytes()));
                }
                V::I32s(a) => {
                    out.extend(9u32.to_le_bytes());
                    out.extend(5u32.to_le_bytes());
                    out.extend((a.len() as u64).to_le_bytes());
                    a.iter().for_each(|x| out.extend(x.to_le_bytes()));
                }
            }
        }
        let mut offset = 0u64;
        for (name, dims) in tensors {
            string(&mut out, name);
            out.extend((dims.len() as u32).to_le_bytes());
            dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
            out.extend(0u32.to_le_bytes()); // F32
            out.extend(offset.to_le_bytes());
            offset += dims.iter().product::<u64>() * 4;
        }
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
        for (k, (_, dims)) in tensors.iter().enumerate() {
            for i in 0..dims.iter().product::<u64>() {
                // small deterministic values; norms stored as 1 + w come out near 1
                let x = 1.0 + 0.01 * (((i * 7 + k as u64 * 13) % 17) as f32 - 8.0);
                out.extend(x.to_le_bytes());
            }
        }
        out
    }
}

use write::V;

/// Tokens of the hand-made vocabulary, with their scores and GGUF types (1 normal, 3 control,
/// 4 user-defined, 6 byte).
const VOCAB: [(&str, f32, i32); 14] = [
    ("<pad>", 0.0, 3),
    ("<eos>", 0.0, 3),
    ("<bos>", 0.0, 3),
    ("<unk>", 0.0, 2),
    ("  ", 0.0, 4),
    ("▁", -9.0, 1),
    ("a", -5.0, 1),
    ("b", -5.0, 1),
    ("c", -5.0, 1),
    ("ab", -2.0, 1),
    ("bc", -1.0, 1),
    ("▁a", -3.0, 1),
    ("<0xC3>", 0.0, 6),
    ("<0xA9>", 0.0, 6),
];

/// A one-layer GGUF of `arch` with gemma3 tensors and the hand-made vocabulary, without the
/// metadata key `drop_key` (or with it set to 0 when `zero`), and with `attn_q` of GGUF dims
/// `q_dims` (`[16, 16]` is right).
fn tiny_gemma3(arch: &str, drop_key: Option<&str>, q_dims: Vec<u64>) -> Vec<u8> {
    tiny(arch, drop_key, false, q_dims)
}

fn tiny(arch: &str, drop_key: Option<&str>, zero: bool, q_dims: Vec<u64>) -> Vec<u8> {
    let key = |k: &str| format!("{arch}.{k}");
    let keys: Vec<(String, V)> = vec![
        ("general.architecture".into(), V::Str(arch)),
        (key("block_count"), V::U32(1)),
        (key("embedding_length"), V::U32(16)),
        (key("feed_forward_length"), V::U32(32)),
        (key("attention.head_count"), V::U32(2)),
        (key("attention.head_count_kv"), V::U32(1)),
        (key("attention.key_length"), V::U32(8)),
        (key("attention.value_length"), V::U32(8)),
        (key("attention.layer_norm_rms_epsilon"), V::F32(1e-6)),
        (key("attention.sliding_window"), V::U32(4)),
        (key("rope.freq_base"), V::F32(1e6)),
        (key("context_length"), V::U32(32)),
        ("tokenizer.ggml.model".into(), V::Str("llama")),
        (
            "tokenizer.ggml.tokens".into(),
            V::Strs(VOCAB.iter().map(|t| t.0).collect()),
        ),
        (
            "tokenizer.ggml.scores".into(),
            V::F32s(VOCAB.iter().map(|t| t.1).collect()),
        ),
        (
            "tokenizer.ggml.token_type".into(),
            V::I32s(VOCAB.iter().map(|t| t.2).collect()),
        ),
        ("tokenizer.ggml.bos_token_id".into(), V::U32(2)),
        ("tokenizer.ggml.unknown_token_id".into(), V::U32(3)),
        ("tokenizer.ggml.add_space_prefix".into(), V::Bool(false)),
    ];
    let keys: Vec<(&str, V)> = keys
        .into_iter()
        .filter(|(k, _)| zero || Some(k.as_str()) != drop_key)
        .map(|(k, v)| match Some(k.as_str()) == drop_key {
            true => (&*Box::leak(k.into_boxed_str()), V::U32(0)),
            false => (&*Box::leak(k.into_boxed_str()), v),
        })
        .collect();
    let (h, f, v) = (16u64, 32u64, VOCAB.len() as u64);
    let t = |n: &str, d: Vec<u64>| (Box::leak(n.to_string().into_boxed_str()) as &str, d);
    let tensors = vec![
        t("token_embd.weight", vec![h, v]),
        t("output_norm.weight", vec![h]),
        t("blk.0.attn_norm.weight", vec![h]),
        t("blk.0.attn_q.weight", q_dims),
        t("blk.0.attn_k.weight", vec![h, 8]),
        t("blk.0.attn_v.weight", vec![h, 8]),
        t("blk.0.attn_output.weight", vec![16, h]),
        t("blk.0.attn_q_norm.weight", vec![8]),
        t("blk.0.attn_k_norm.weight", vec![8]),
        t("blk.0.post_attention_norm.weight", vec![h]),
        t("blk.0.ffn_norm.weight", vec![h]),
        t("blk.0.post_ffw_norm.weight", vec![h]),
        t("blk.0.ffn_gate.weight", vec![h, f]),
        t("blk.0.ffn_up.weight", vec![h, f]),
        t("blk.0.ffn_down.weight", vec![f, h]),
    ];
    write::gguf(&keys, &tensors)
}

fn save(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pespectra-gguf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("model.gguf");
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn sentencepiece_merges_by_score_cuts_atomic_pieces_and_falls_back_to_bytes() {
    let p = save("spm", &tiny_gemma3("gemma3", None, vec![16, 16]));
    let m = pespectra_hf::gguf::open(&p).unwrap();
    // "abc": bc (−1) beats ab (−2), and "abc" is no piece: a + bc
    assert_eq!(m.encode("abc").unwrap(), [2, 6, 10]);
    // " ab": ▁a (−3) loses to ab (−2): ▁ + ab
    assert_eq!(m.encode(" ab").unwrap(), [2, 5, 9]);
    // "  " is user-defined, cut from the raw text before spaces become ▁; "a" then stands alone
    assert_eq!(m.encode("a  a").unwrap(), [2, 6, 4, 6]);
    // a control piece in the text is one token; é has no piece: its UTF-8 bytes C3 A9
    assert_eq!(m.encode("<eos>é").unwrap(), [2, 1, 12, 13]);
    // no piece and no byte token: unknown
    assert_eq!(m.encode("z").unwrap(), [2, 3]);
    // the model runs on its own tokens
    let mut heads = 0;
    let hidden = m
        .forward(&[2, 6, 10, 4], &[0], &mut |_| heads += 1, true)
        .unwrap();
    assert_eq!((heads, hidden.len()), (2, 4 * 16));
    assert!(hidden.iter().all(|x| x.is_finite()));
    std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
}

#[test]
fn bad_gguf_files_are_refused_naming_the_file_and_the_key_or_tensor() {
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "arch",
            tiny_gemma3("qwen2", None, vec![16, 16]),
            &["general.architecture", "'qwen2'", "gemma3, llama"],
        ),
        (
            "key",
            tiny_gemma3(
                "gemma3",
                Some("gemma3.attention.sliding_window"),
                vec![16, 16],
            ),
            &["gemma3.attention.sliding_window"],
        ),
        (
            "zero heads",
            tiny(
                "gemma3",
                Some("gemma3.attention.head_count"),
                true,
                vec![16, 16],
            ),
            &["gemma3.attention.head_count", "not a positive integer"],
        ),
        (
            "zero llama heads",
            tiny(
                "llama",
                Some("llama.attention.head_count"),
                true,
                vec![16, 16],
            ),
            &["llama.attention.head_count", "not a positive integer"],
        ),
        (
            "shape",
            tiny_gemma3("gemma3", None, vec![16, 12]),
            &[
                "model.layers.0.self_attn.q_proj.weight",
                "blk.0.attn_q.weight",
                "[12, 16]",
            ],
        ),
        (
            "truncated",
            {
                let mut b = tiny_gemma3("gemma3", None, vec![16, 16]);
                b.truncate(b.len() - 100);
                b
            },
            &["model.gguf", "blk.0.ffn_down.weight"],
        ),
        (
            "magic",
            b"GGUX and more".to_vec(),
            &["model.gguf", "not a GGUF file"],
        ),
    ];
    for (name, bytes, want) in cases {
        let p = save(name, &bytes);
        let e = pespectra_hf::gguf::open(&p).err().unwrap().to_string();
        for w in want {
            assert!(e.contains(w), "{name}: {e}");
        }
        assert!(e.contains(&*p.display().to_string()), "{name}: {e}");
        assert_eq!(e.lines().count(), 1, "{name}: {e}");
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }
}

/// SmolLM2-135M-Instruct's llama GGUF (registry model), loaded once for the tests below, against
/// transformers on the same file (fixtures/smollm2-gguf-golden.json, made by
/// scripts/make_smollm2_gguf_golden.py): tokenizer, greedy continuation, per-head logits of
/// layers 0, 14 and 29, next-token logits, loss and single-head ablations.
fn smollm2() -> Option<&'static pespectra_hf::Decoder> {
    static MODEL: std::sync::OnceLock<Option<pespectra_hf::Decoder>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = pespectra_models::fetch_for_tests("smollm2-135m")?;
            let spec = pespectra_models::lookup("smollm2-135m").unwrap();
            Some(pespectra_hf::gguf::open(&spec.weight_path(&dir)).unwrap())
        })
        .as_ref()
}

fn smollm2_golden() -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2-gguf-golden.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn argmax(v: &[f32]) -> u32 {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0 as u32
}

#[test]
fn smollm2_tokenizer_and_greedy_continuation_match_transformers() {
    let Some(m) = smollm2() else { return };
    let g = smollm2_golden();
    for case in g["tokenize"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(m.encode(text).unwrap(), ids(&case["ids"]), "{text:?}");
    }
    let greedy = &g["greedy"];
    let mut x = m.encode("The capital of France is").unwrap();
    assert_eq!(x, ids(&greedy["prompt_ids"]));
    let prompt = x.len();
    for _ in 0..8 {
        let next = argmax(&m.next_token_logits(&x).unwrap());
        x.push(next);
    }
    // " Paris." and what follows
    assert_eq!(x[prompt..], ids(&greedy["new_ids"]));
}

/// Largest |a − b| relative to the largest |b| of the matrix.
fn rel_max(a: &[f32], b: &[f32]) -> f64 {
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    let err = a
        .iter()
        .zip(b)
        .fold(0f64, |m, (x, y)| m.max((*x as f64 - *y as f64).abs()));
    err / scale
}

#[test]
fn smollm2_head_logits_and_next_token_logits_match_transformers() {
    let Some(m) = smollm2() else { return };
    let g = smollm2_golden();
    let n = g["n_logits"].as_u64().unwrap() as usize;
    let tokens = &ids(&g["text_ids"])[..n];
    let mut caps: Vec<HeadCapture> = Vec::new();
    m.forward(tokens, &[0, 14, 29], &mut |c| caps.push(c), true)
        .unwrap();
    assert_eq!(caps.len(), 27);
    for c in &caps {
        c.validate().unwrap();
        assert!(c.causal && c.n == n && c.head_dim == 64 && c.scale == 0.125);
        assert_eq!(c.kv_head, c.head / 3);
        match &c.positional {
            pespectra_capture::Positional::Rope { pairing, inv_freq } => {
                assert_eq!(*pairing, pespectra_capture::Pairing::HalfSplit);
                assert_eq!(inv_freq.len(), 32);
                assert_eq!(inv_freq[0], 1.0);
                assert!((inv_freq[1] - 100000f64.powf(-2.0 / 64.0)).abs() < 1e-15);
            }
            p => panic!("{p:?}"),
        }
    }
    for h in g["heads"].as_array().unwrap() {
        let (l, head) = (
            h["layer"].as_u64().unwrap() as usize,
            h["head"].as_u64().unwrap() as usize,
        );
        let c = caps
            .iter()
            .find(|c| c.layer == l && c.head == head)
            .unwrap();
        // Stated tolerance, relative to the head's largest |logit|: 1e-5 at layer 0, 1e-4 deeper
        // (f32 activations through up to 29 layers, other GEMM summation orders).
        let tol = if l == 0 { 1e-5 } else { 1e-4 };
        let e = rel_max(&c.logits, &floats(&h["logits"]));
        let ec = rel_max(&c.content_logits, &floats(&h["content_logits"]));
        eprintln!("layer {l} head {head}: rel err logits {e:.2e}, content {ec:.2e}");
        assert!(
            e < tol && ec < tol,
            "layer {l} head {head}: {e:.2e} {ec:.2e}"
        );
    }
    let last = m.next_token_logits(tokens).unwrap();
    let top = &g["last_logits_top5"];
    for (id, v) in ids(&top["ids"]).iter().zip(floats(&top["values"])) {
        let got = last[*id as usize];
        assert!((got - v).abs() < 1e-4, "logit of {id}: {got} vs {v}");
    }
    assert_eq!(argmax(&last), ids(&top["ids"])[0]);
}

#[test]
fn smollm2_loss_and_single_head_ablations_match_transformers() {
    let Some(m) = smollm2() else { return };
    let g = smollm2_golden();
    let tokens = ids(&g["text_ids"]);
    let abl = g["ablations"].as_array().unwrap();
    let heads: Vec<(usize, usize)> = abl
        .iter()
        .map(|a| {
            (
                a["layer"].as_u64().unwrap() as usize,
                a["head"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let mut reports = Vec::new();
    let (clean, losses) = m
        .ablation_losses(&tokens, &heads, &mut |done, total| {
            reports.push((done, total))
        })
        .unwrap();
    assert_eq!(reports.last(), Some(&(4, 4)));
    // Ablating a head moves the loss by 4e-3 to 4e-2; measured differences ≤ 2e-6 nats.
    let tol = 2e-5;
    let want = g["loss"].as_f64().unwrap();
    assert!((clean - want).abs() < tol, "{clean} vs {want}");
    for (got, a) in losses.iter().zip(abl) {
        let want = a["loss"].as_f64().unwrap();
        assert!((got - want).abs() < tol, "{a}: {got}");
    }
    // The order of the request does not change a head's loss.
    let (_, again) = m
        .ablation_losses(&tokens, &[(15, 2), (3, 5)], &mut |_, _| {})
        .unwrap();
    assert!((again[0] - losses[2]).abs() < 1e-9 && (again[1] - losses[1]).abs() < 1e-9);
}

#[test]
fn smollm2_bad_requests_are_clear_errors() {
    let Some(m) = smollm2() else { return };
    let e = m.next_token_logits(&[]).unwrap_err().to_string();
    assert!(e.contains("0 tokens"), "{e}");
    let e = m
        .next_token_logits(&vec![1u32; 8193])
        .unwrap_err()
        .to_string();
    assert!(e.contains("8193 tokens") && e.contains("8192"), "{e}");
    let e = m.next_token_logits(&[5, 49152]).unwrap_err().to_string();
    assert!(e.contains("token id 49152"), "{e}");
    let e = m
        .forward(&[5, 6], &[30], &mut |_| {}, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("30"), "{e}");
    let e = m
        .ablation_losses(&[5, 6], &[(0, 9)], &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("9"), "{e}");
    assert!(m.ablation_losses(&[5], &[(0, 0)], &mut |_, _| {}).is_err());
}
