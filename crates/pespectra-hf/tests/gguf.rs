//! The gemma3-270m GGUF (registry model, fetched once) through the GGUF source, the SentencePiece
//! tokenizer and the llama-family decoder, against transformers' outputs on the same file
//! (fixtures/gemma3-270m-gguf-golden.json, made by scripts/make_gemma3_gguf_golden.py):
//! token ids of four texts exactly; pre-softmax logits of every head of layers 0, 5 and 17, the
//! final hidden states and the loss. Bound: 1e-5 · (1 + max |golden|), as for the tiny
//! fixtures (f32 on both sides, different summation orders; measured ≤ 1.5e-6).

use std::path::Path;

use pespectra_capture::HeadCapture;

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

/// Largest |a − b| relative to 1 + max |b|.
fn rel(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let m = b.iter().fold(0f64, |m, &x| m.max(x.abs() as f64));
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .fold(0.0, f64::max)
        / (1.0 + m)
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
