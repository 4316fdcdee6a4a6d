//! Shared by the model tests: the fetched model, the committed transformers reference and the
//! comparisons against it.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::Mutex;

use pespectra_capture::HeadCapture;
use pespectra_encoders::Encoder;
use serde_json::Value;

/// The model directory, downloaded and verified into `$PESPECTRA_CACHE` on first use; `None`
/// only with `PESPECTRA_SKIP_MODEL_TESTS=1` (see `pespectra_models::fetch_for_tests`).
/// Serialised: tests run on threads of one process, and two concurrent installs of the same
/// model would share one staging directory.
pub fn model_dir(name: &str) -> Option<PathBuf> {
    static FETCH: Mutex<()> = Mutex::new(());
    let _guard = FETCH.lock().unwrap_or_else(|p| p.into_inner());
    pespectra_models::fetch_for_tests(name)
}

pub fn load(name: &str) -> Option<Encoder> {
    let dir = model_dir(name)?;
    Some(Encoder::load(&dir).unwrap_or_else(|e| panic!("cannot load {}: {e}", dir.display())))
}

/// `tests/golden/<name>.json`, made by `tests/golden/make_reference.py` (transformers, float64).
pub fn reference(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

pub fn matrix(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(floats).collect()
}

pub fn max_abs_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - y).abs())
        .fold(0.0, f64::max)
}

pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Tokenizer ids of every reference text equal transformers'.
pub fn check_tokenizer(enc: &Encoder, r: &Value) {
    for case in r["tokenizer"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(enc.tokenize(text).unwrap(), ids(&case["ids"]), "{text:?}");
    }
}

/// Embeddings of the reference sentences (batched with padding): every coordinate within
/// `tol` of transformers' float64 values, and the cosine matrix within `tol` too.
/// Returns the largest coordinate error seen.
pub fn check_embeddings(enc: &Encoder, r: &Value, tol: f64) -> f64 {
    let sentences: Vec<&str> = r["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let want_ids: Vec<Vec<u32>> = r["input_ids"].as_array().unwrap().iter().map(ids).collect();
    let got_ids: Vec<Vec<u32>> = sentences.iter().map(|s| enc.tokenize(s).unwrap()).collect();
    assert_eq!(got_ids, want_ids);
    let emb = enc.embed(&sentences).unwrap();
    let mut worst = 0.0f64;
    for (e, w) in emb.iter().zip(r["embeddings"].as_array().unwrap()) {
        worst = worst.max(max_abs_diff(e, &floats(w)));
    }
    let cos = matrix(&r["cosine"]);
    let n = emb.len();
    for i in 0..n {
        for j in 0..n {
            let c = dot(&emb[i], &emb[j]);
            assert!(
                (c - cos[i * n + j]).abs() <= tol,
                "cos[{i}][{j}] = {c}, reference {}",
                cos[i * n + j]
            );
        }
    }
    eprintln!("embeddings: max |Δ| = {worst:.3e} (tolerance {tol:e})");
    assert!(
        worst <= tol,
        "embedding coordinate off by {worst:e} > {tol:e}"
    );
    worst
}

/// Layer-0 captures of the reference logit sentence.
pub fn layer0(enc: &Encoder, r: &Value) -> Vec<HeadCapture> {
    let ids = ids(&r["logit_ids"]);
    assert_eq!(
        enc.tokenize(r["logit_sentence"].as_str().unwrap()).unwrap(),
        ids
    );
    let mut caps = Vec::new();
    enc.capture(&ids, &[0], &mut |c| caps.push(c)).unwrap();
    caps
}

/// Every head's `got(capture)` within `tol·max|reference|` of `want[head]`; returns the
/// largest relative error.
pub fn check_heads(
    caps: &[HeadCapture],
    want: &Value,
    tol: f64,
    got: impl Fn(&HeadCapture) -> &[f32],
) -> f64 {
    let want = want.as_array().unwrap();
    assert_eq!(caps.len(), want.len());
    let mut worst = 0.0f64;
    for (c, w) in caps.iter().zip(want) {
        let w = matrix(w);
        let scale = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let rel = max_abs_diff(got(c), &w) / scale;
        assert!(
            rel <= tol,
            "layer {} head {}: relative error {rel:e} > {tol:e}",
            c.layer,
            c.head
        );
        worst = worst.max(rel);
    }
    worst
}

/// Layer-0 logits of the ~300-token reference input at the recorded (query, key) pairs: far
/// positions (MiniLM's table rows, MPNet's logarithmic and saturated buckets). Each head within
/// `tol·max|reference|` over its pairs; returns the largest relative error.
pub fn check_long(enc: &Encoder, r: &Value, tol: f64) -> f64 {
    let ids = ids(&r["long_ids"]);
    assert_eq!(enc.tokenize(r["long_text"].as_str().unwrap()).unwrap(), ids);
    let pairs: Vec<(usize, usize)> = r["long_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_u64().unwrap() as usize,
                p[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let want = r["long_layer0_logits"].as_array().unwrap();
    let mut worst = 0.0f64;
    let mut heads = 0;
    enc.capture(&ids, &[0], &mut |c| {
        let w = floats(&want[c.head]);
        let scale = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for (&(i, j), w) in pairs.iter().zip(&w) {
            let rel = (c.logits[i * c.n + j] as f64 - w).abs() / scale;
            assert!(
                rel <= tol,
                "head {} ({i},{j}): relative error {rel:e}",
                c.head
            );
            worst = worst.max(rel);
        }
        heads += 1;
    })
    .unwrap();
    assert_eq!(heads, want.len());
    eprintln!(
        "long input ({} tokens): max relative error {worst:.2e}",
        ids.len()
    );
    worst
}
