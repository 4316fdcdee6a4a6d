//! all-MiniLM-L6-v2 end to end against transformers (float64) on the same safetensors:
//! tokenizer, sentence embeddings, layer-0 logits and position-free content logits, one head
//! ablation; plus padding invariance, semantics and bad input. Downloads the model (84 MB)
//! into `$PESPECTRA_CACHE` through `pespectra_models::fetch` on first run.

mod common;

use approx::assert_abs_diff_eq;
use std::sync::OnceLock;

use common::*;
use pespectra_capture::Positional;
use pespectra_encoders::{Architecture, Encoder, EncoderError};

const NAME: &str = "minilm-l6";

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
    // f32 forward vs the float64 reference: measured max |Δ| ≈ 1e-7 on unit vectors.
    check_embeddings(enc, &reference(NAME), 2e-6);
}

#[test]
fn layer0_logits_and_content_logits_match_transformers() {
    let Some(enc) = enc() else { return };
    let r = reference(NAME);
    let caps = layer0(enc, &r);
    assert_eq!(caps.len(), 12);
    for c in &caps {
        c.validate().unwrap();
        assert_eq!(c.positional, Positional::Absolute);
        assert!(!c.causal && (c.scale - 32f64.powf(-0.5)).abs() < 1e-15);
    }
    let e = check_heads(&caps, &r["layer0_logits"], 5e-6, |c| &c.logits);
    let ec = check_heads(&caps, &r["layer0_content_logits"], 5e-6, |c| {
        &c.content_logits
    });
    eprintln!("layer-0 logits: max relative error {e:.2e}, content logits {ec:.2e}");
    // The counterfactual must differ from the real logits (positions matter in layer 0).
    let moved = caps.iter().any(|c| {
        c.logits
            .iter()
            .zip(&c.content_logits)
            .any(|(a, b)| (a - b).abs() > 0.1)
    });
    assert!(moved, "position-free logits equal the real ones");
}

#[test]
fn far_apart_positions_match_transformers() {
    let Some(enc) = enc() else { return };
    check_long(enc, &reference(NAME), 5e-6);
}

#[test]
fn captured_logits_are_the_scaled_products_of_captured_q_and_k() {
    let Some(enc) = enc() else { return };
    let ids = enc
        .tokenize("Every layer hands out its heads one by one.")
        .unwrap();
    let mut count = 0;
    enc.capture(&ids, &[2, 5], &mut |c| {
        let (n, d) = (c.n, c.head_dim);
        for i in 0..n {
            for j in 0..n {
                let qk: f64 = (0..d)
                    .map(|t| c.q[i * d + t] as f64 * c.k[j * d + t] as f64)
                    .sum();
                let l = c.logits[i * n + j] as f64;
                assert!((c.scale * qk - l).abs() <= 1e-5 * (1.0 + l.abs()));
            }
        }
        assert!(c.layer == 2 || c.layer == 5);
        count += 1;
    })
    .unwrap();
    assert_eq!(count, 24);
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
    let abl = enc.ablation(&ids).unwrap();
    let got = abl.effect(l, h).unwrap();
    let w = want["mean_one_minus_cos"].as_f64().unwrap();
    eprintln!("ablation ({l},{h}): {got:.6e} vs reference {w:.6e}");
    assert!((got - w).abs() <= 1e-3 * w + 1e-7, "{got} vs {w}");
    // The batched all-heads path agrees with the one-head path.
    let mut calls = 0;
    let all = abl
        .all_effects(&mut |_, total| {
            calls += 1;
            assert_eq!(total, 72);
        })
        .unwrap();
    assert!(calls >= 6 && all.len() == 6 && all.iter().all(|r| r.len() == 12));
    assert!(
        (all[l][h] - got).abs() <= 1e-6 * got,
        "{} vs {got}",
        all[l][h]
    );
    assert!((all[0][0] - abl.effect(0, 0).unwrap()).abs() <= 1e-6 * all[0][0]);
    for (a, b) in abl.layer_effects(l).unwrap().iter().zip(&all[l]) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-6));
    }
    assert!(abl.layer_effects(6).is_err());
    // Clean embeddings of the ablation run are the ordinary ones.
    let emb = enc.embed_ids(&ids).unwrap();
    for (a, b) in abl.clean().iter().zip(&emb) {
        assert_abs_diff_eq!(dot(a, b), 1.0, epsilon = 1e-6);
    }
    assert!(matches!(
        abl.effect(6, 0),
        Err(EncoderError::InvalidInput(_))
    ));
    assert!(matches!(
        abl.effect(0, 12),
        Err(EncoderError::InvalidInput(_))
    ));
}

#[test]
fn padding_does_not_change_an_embedding() {
    let Some(enc) = enc() else { return };
    let short = "Short one.";
    let long = "A considerably longer sentence forces the short one to be padded in the batch.";
    let alone = enc.embed(&[short]).unwrap();
    let batched = enc.embed(&[long, short]).unwrap();
    assert!(dot(&alone[0], &batched[1]) > 1.0 - 1e-6);
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    let Some(enc) = enc() else { return };
    let e = enc
        .embed(&[
            "The cat sleeps on the sofa.",
            "A feline naps on the couch.",
            "Interest rates rose again in March.",
        ])
        .unwrap();
    let (near, far1, far2) = (dot(&e[0], &e[1]), dot(&e[0], &e[2]), dot(&e[1], &e[2]));
    eprintln!("cat/feline {near:.3}, unrelated {far1:.3} {far2:.3}");
    assert!(near > 0.5 && far1 < 0.2 && far2 < 0.2);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let Some(e) = enc() else { return };
    assert_eq!(e.config().arch, Architecture::Bert);
    for text in ["", "   \n\t "] {
        assert!(
            matches!(e.tokenize(text), Err(EncoderError::EmptyText)),
            "{text:?}"
        );
    }
    let long = "word ".repeat(600);
    match e.tokenize(&long) {
        Err(EncoderError::TooLong {
            tokens: 602,
            max: 512,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(e.embed(&["fine", &long]).is_err());
    // Exactly the maximum runs (the last row of the position table is used).
    let full: Vec<u32> = std::iter::once(101)
        .chain(std::iter::repeat_n(2773, 510))
        .chain([102])
        .collect();
    assert_eq!(
        e.embed_ids(std::slice::from_ref(&full)).unwrap()[0].len(),
        384
    );
    let mut over = full;
    over.push(102);
    assert!(matches!(
        e.embed_ids(&[over]),
        Err(EncoderError::TooLong {
            tokens: 513,
            max: 512
        })
    ));
    assert!(matches!(
        e.embed_ids(&[]),
        Err(EncoderError::InvalidInput(_))
    ));
    assert!(matches!(
        e.embed_ids(&[vec![]]),
        Err(EncoderError::InvalidInput(_))
    ));
    assert!(matches!(
        e.embed_ids(&[vec![101, 30522, 102]]),
        Err(EncoderError::InvalidInput(_))
    ));
    let err = e.capture(&[101, 2773, 102], &[6], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("layer 6 does not exist"), "{err}");
}

#[test]
fn broken_model_directories_give_clear_errors() {
    let Some(src) = model_dir(NAME) else { return };
    let tmp = std::env::temp_dir().join(format!("pespectra-enc-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let msg = |e: EncoderError| e.to_string();
    // Nothing there.
    let e = msg(Encoder::load(&tmp).err().unwrap());
    assert!(e.contains("config.json"), "{e}");
    // Truncated weights.
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), tmp.join(f)).unwrap();
    }
    let weights = std::fs::read(src.join("model.safetensors")).unwrap();
    std::fs::write(tmp.join("model.safetensors"), &weights[..weights.len() / 2]).unwrap();
    let e = msg(Encoder::load(&tmp).err().unwrap());
    assert!(
        e.contains("not a readable safetensors file") && e.contains("model.safetensors"),
        "{e}"
    );
    // Weights that do not fit the config.
    std::fs::write(tmp.join("model.safetensors"), &weights).unwrap();
    let cfg = std::fs::read_to_string(src.join("config.json")).unwrap();
    std::fs::write(
        tmp.join("config.json"),
        cfg.replace("\"intermediate_size\": 1536", "\"intermediate_size\": 1024"),
    )
    .unwrap();
    let e = msg(Encoder::load(&tmp).err().unwrap());
    assert!(
        e.contains("intermediate.dense.weight") && e.contains("[1536, 384]"),
        "{e}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
