//! The E4 encoders (`model_type: "pespectra_e4"`) against an independent NumPy forward pass
//! written from docs/E4_MODEL_FORMAT.md (scripts/make_e4_fixtures.py, float64) on tiny random
//! checkpoints (tests/fixtures/e4): class logits, the captured layer's per-head q, k, logits,
//! content logits and additive bias, the positional kind, and the KL effect of every head
//! ablation. Bound: every value within 1e-5 · (1 + max |golden|) of the golden vector.

use std::path::{Path, PathBuf};

use pespectra_capture::{CaptureModel, HeadCapture, ModelStage, Pairing, Positional};
use pespectra_hf::e4::E4Model;
use pespectra_hf::HfError;
use serde_json::Value;

const FIXTURES: [&str; 12] = [
    "paper-nope",
    "paper-sinusoidal",
    "paper-learned",
    "paper-relative",
    "paper-t5",
    "paper-alibi",
    "standard-alibi",
    "paper-rope-hybrid",
    "paper-partial-rope",
    "standard-rope",
    "standard-mla",
    "standard-mla-paper",
];

const BOUND: f64 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e4")
        .join(name)
}

fn golden(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name).join("golden.json")).unwrap())
        .unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    floats(v).iter().map(|&x| x as u32).collect()
}

/// `Ok(error relative to 1 + max |golden|)` when every value is within [`BOUND`] of the golden
/// vector, else why not.
fn compare(what: &str, got: &[f32], want: &[f64]) -> Result<f64, String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} values, golden {}",
            got.len(),
            want.len()
        ));
    }
    let scale = 1.0 + want.iter().fold(0f64, |m, x| m.max(x.abs()));
    let (i, e) = got
        .iter()
        .zip(want)
        .map(|(&a, &b)| (f64::from(a) - b).abs())
        .enumerate()
        .fold(
            (0, 0f64),
            |(bi, be), (i, e)| if e > be { (i, e) } else { (bi, be) },
        );
    let rel = e / scale;
    if rel <= BOUND {
        Ok(rel)
    } else {
        Err(format!(
            "{what}: [{i}] = {} vs golden {}, off by {rel:e} of 1 + max |golden|",
            got[i], want[i]
        ))
    }
}

fn check(what: &str, got: &[f32], want: &[f64], worst: &mut f64) {
    *worst = worst.max(compare(what, got, want).unwrap_or_else(|e| panic!("{e}")));
}

/// RoPE with interleaved pairs on the capture's leading `2·len(inv_freq)` dims, in f64.
fn rotate(c: &HeadCapture, x: &[f32], inv_freq: &[f64]) -> Vec<f64> {
    let d = c.head_dim;
    let mut y: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    for t in 0..c.n {
        for (f, &w) in inv_freq.iter().enumerate() {
            let (s, co) = (t as f64 * w).sin_cos();
            let (a, b) = (y[t * d + 2 * f], y[t * d + 2 * f + 1]);
            y[t * d + 2 * f] = a * co - b * s;
            y[t * d + 2 * f + 1] = a * s + b * co;
        }
    }
    y
}

fn scaled_dots(c: &HeadCapture, q: &[f64], k: &[f64]) -> Vec<f64> {
    let d = c.head_dim;
    (0..c.n * c.n)
        .map(|x| {
            let (i, j) = (x / c.n, x % c.n);
            (0..d).map(|t| q[i * d + t] * k[j * d + t]).sum::<f64>() * c.scale
        })
        .collect()
}

fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

/// Everything the golden file holds, for one fixture; returns the worst relative error.
fn check_fixture(name: &str) -> f64 {
    let dir = fixture(name);
    let g = golden(name);
    let m = E4Model::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dims = m.dims();
    assert_eq!(
        (dims.layers, dims.heads, dims.context),
        (2, 2, 12),
        "{name}"
    );
    let input = ids(&g["ids"]);
    let mut worst = 0f64;
    check(
        &format!("{name}: class logits"),
        &m.logits(&input).unwrap(),
        &floats(&g["logits"]),
        &mut worst,
    );
    // the same model through open(), as the CLI reaches it
    let ckpt = pespectra_hf::open(&dir).unwrap();
    assert!(ckpt.files.iter().any(|f| f.ends_with("model.safetensors")));

    let layer = g["layer"].as_u64().unwrap() as usize;
    let mut caps = Vec::new();
    ckpt.model
        .capture(&input, &[layer], &mut |c| caps.push(c))
        .unwrap();
    let heads = g["heads"].as_array().unwrap();
    assert_eq!(caps.len(), heads.len(), "{name}");
    let n = g["n"].as_u64().unwrap() as usize;
    for (c, gh) in caps.iter().zip(heads) {
        let what = |t: &str| format!("{name}: layer {} head {} {t}", c.layer, c.head);
        c.validate().unwrap();
        assert_eq!(
            (c.layer, c.n, c.causal),
            (layer, n, false),
            "{}",
            what("shape")
        );
        assert_eq!(c.kv_head, c.head);
        // the golden's floats carry 7 significant digits
        assert!((c.scale - gh["scale"].as_f64().unwrap()).abs() <= 1e-6 * c.scale);
        check(&what("q"), &c.q, &floats(&gh["q"]), &mut worst);
        check(&what("k"), &c.k, &floats(&gh["k"]), &mut worst);
        check(
            &what("logits"),
            &c.logits,
            &floats(&gh["logits"]),
            &mut worst,
        );
        check(
            &what("content_logits"),
            &c.content_logits,
            &floats(&gh["content_logits"]),
            &mut worst,
        );
        match (&c.positional, gh["kind"].as_str().unwrap()) {
            (Positional::Rope { pairing, inv_freq }, "rope") => {
                assert_eq!(*pairing, Pairing::Interleaved);
                let want = floats(&gh["inv_freq"]);
                assert_eq!(inv_freq.len(), want.len());
                for (a, b) in inv_freq.iter().zip(&want) {
                    assert!((a - b).abs() <= 1e-7 * b.abs(), "{}", what("inv_freq"));
                }
                // the capture's own convention reproduces the model's logits and content
                let rot = scaled_dots(c, &rotate(c, &c.q, inv_freq), &rotate(c, &c.k, inv_freq));
                let rot: Vec<f32> = rot.iter().map(|&v| v as f32).collect();
                check(&what("rotated q·k"), &rot, &widen(&c.logits), &mut worst);
                let plain: Vec<f32> = scaled_dots(c, &widen(&c.q), &widen(&c.k))
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                check(
                    &what("scale q·k"),
                    &plain,
                    &widen(&c.content_logits),
                    &mut worst,
                );
            }
            (Positional::AdditiveBias { bias }, "bias") => {
                check(&what("bias"), bias, &floats(&gh["bias"]), &mut worst);
                for ((l, cl), b) in c.logits.iter().zip(&c.content_logits).zip(bias) {
                    assert_eq!(*l, cl + b, "{}", what("logits = content + bias"));
                }
            }
            (Positional::Absolute, "absolute") => {}
            (p, k) => panic!("{}: captured {p:?}, golden kind {k}", what("positional")),
        }
    }

    // every head's ablation against the reference's KL
    let all: Vec<(usize, usize)> = (0..2).flat_map(|l| (0..2).map(move |h| (l, h))).collect();
    let abl = ckpt.model.ablation(&input, &all, &mut |_, _| {}).unwrap();
    assert!(abl.metric.contains("KL") && abl.metric.contains("nats"));
    let want: Vec<f64> = g["ablation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kl"].as_f64().unwrap())
        .collect();
    let got: Vec<f32> = abl.effects.iter().map(|&e| e as f32).collect();
    check(&format!("{name}: ablation KL"), &got, &want, &mut worst);
    assert!(
        abl.effects.iter().all(|&e| e > 0.0),
        "{name}: {:?}",
        abl.effects
    );

    if let Some(padded) = g.get("padded_ids") {
        // standard arch: trailing pad tokens are padding, as in training
        check(
            &format!("{name}: padded logits"),
            &m.logits(&ids(padded)).unwrap(),
            &floats(&g["padded_logits"]),
            &mut worst,
        );
    }
    eprintln!("{name}: worst {worst:.2e} of 1 + max |golden|");
    worst
}

#[test]
fn every_fixture_matches_the_numpy_reference() {
    let worst = FIXTURES
        .iter()
        .map(|n| check_fixture(n))
        .fold(0f64, f64::max);
    eprintln!("all E4 fixtures: worst {worst:.2e}");
}

#[test]
fn the_fixture_list_is_the_fixture_directory() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn the_comparison_refuses_a_value_a_hair_outside_the_bound() {
    let name = "paper-alibi";
    let g = golden(name);
    let m = E4Model::load(&fixture(name)).unwrap();
    let got = m.logits(&ids(&g["ids"])).unwrap();
    let mut want = floats(&g["logits"]);
    assert!(compare("clean", &got, &want).is_ok());
    // perturb the element of smallest magnitude (so 1 + max |golden| stays put) away from ours
    let i = (0..want.len())
        .min_by(|&a, &b| want[a].abs().total_cmp(&want[b].abs()))
        .unwrap();
    let scale = 1.0 + want.iter().fold(0f64, |m, x| m.max(x.abs()));
    let now = f64::from(got[i]) - want[i];
    let hair = BOUND * scale * 1.001 - now.abs();
    want[i] -= now.signum() * hair;
    let e = compare("perturbed", &got, &want).unwrap_err();
    assert!(e.contains("off by"), "{e}");
    // and just inside the bound it passes
    want[i] += now.signum() * 0.002 * BOUND * scale;
    assert!(compare("inside", &got, &want).is_ok());
}

#[test]
fn paper_alibi_ablations_are_nonnegative_kl_and_change_the_output() {
    let name = "paper-alibi";
    let g = golden(name);
    let m = E4Model::load(&fixture(name)).unwrap();
    let input = ids(&g["ids"]);
    let heads = [(0, 0), (0, 1), (1, 0), (1, 1)];
    let mut calls = 0;
    let abl = m
        .ablation(&input, &heads, &mut |done, total| {
            calls += 1;
            assert!(done <= total && total == 4);
        })
        .unwrap();
    assert_eq!(calls, 4);
    assert_eq!(abl.effects.len(), 4);
    // a KL divergence, and every head matters
    assert!(abl.effects.iter().all(|&e| e >= 0.0), "{:?}", abl.effects);
    assert!(abl.effects.iter().all(|&e| e > 1e-6), "{:?}", abl.effects);
    // an ablation of a head that does not exist is refused
    assert!(m.ablation(&input, &[(0, 2)], &mut |_, _| {}).is_err());
}

#[test]
fn paper_arch_pads_to_max_len_and_standard_does_not() {
    let m = E4Model::load(&fixture("paper-nope")).unwrap();
    let mut n = 0;
    m.capture(&[3, 4, 5], &[0], &mut |c| n = c.n).unwrap();
    assert_eq!(n, 12);
    // explicit trailing pads are the same input
    assert_eq!(
        m.logits(&[3, 4, 5]).unwrap(),
        m.logits(&[3, 4, 5, 0, 0]).unwrap()
    );
    let s = E4Model::load(&fixture("standard-alibi")).unwrap();
    s.capture(&[3, 4, 5], &[1], &mut |c| n = c.n).unwrap();
    assert_eq!(n, 3);
    // the standard arch refuses an input that is all padding
    assert!(matches!(s.logits(&[0, 0]), Err(HfError::Request(_))));
}

#[test]
fn absolute_heads_without_an_input_pe_have_content_equal_to_logits() {
    for name in ["paper-nope", "paper-partial-rope"] {
        let m = E4Model::load(&fixture(name)).unwrap();
        let mut caps = Vec::new();
        m.capture(&[1, 2, 3, 4], &[0, 1], &mut |c| caps.push(c))
            .unwrap();
        let absolute: Vec<&HeadCapture> = caps
            .iter()
            .filter(|c| c.positional == Positional::Absolute)
            .collect();
        assert!(!absolute.is_empty(), "{name}");
        for c in absolute {
            assert_eq!(c.logits, c.content_logits, "{name}");
        }
        if name == "paper-partial-rope" {
            // rope_heads = 1: head 0 rotates, head 1 does not
            assert!(matches!(caps[0].positional, Positional::Rope { .. }));
            assert_eq!(caps[1].positional, Positional::Absolute);
        }
    }
    // with an input PE the counterfactual differs
    let m = E4Model::load(&fixture("paper-learned")).unwrap();
    let mut caps = Vec::new();
    m.capture(&[1, 2, 3, 4], &[1], &mut |c| caps.push(c))
        .unwrap();
    assert!(caps.iter().all(|c| c.logits != c.content_logits));
}

#[test]
fn requests_the_model_cannot_serve_are_typed_errors() {
    let m = E4Model::load(&fixture("paper-t5")).unwrap();
    let too_long: Vec<u32> = vec![1; 13];
    assert!(matches!(m.logits(&too_long), Err(HfError::Request(_))));
    assert!(matches!(m.logits(&[]), Err(HfError::Request(_))));
    assert!(matches!(m.logits(&[20]), Err(HfError::Request(_))));
    let e = m.capture(&[1, 2], &[2], &mut |_| {}).unwrap_err();
    assert_eq!(e.stage, ModelStage::Forward);
    // no tokenizer.json: token ids, as for every HF model without one
    let e = m.tokenize("a b c").unwrap_err();
    assert_eq!(e.stage, ModelStage::Tokenize);
    let src = e
        .source
        .downcast_ref::<HfError>()
        .expect("an HfError inside");
    assert!(
        matches!(src, HfError::Tokenizer { message, .. } if message.contains("token ids")),
        "{src}"
    );
}

/// A copy of fixture `name` in a fresh directory with its config edited by `edit`.
fn edited(name: &str, tag: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pespectra-e4-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = fixture(name);
    std::fs::copy(src.join("model.safetensors"), dir.join("model.safetensors")).unwrap();
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    dir
}

fn config_error(name: &str, tag: &str, edit: impl FnOnce(&mut Value)) -> (String, String) {
    let dir = edited(name, tag, edit);
    let r = E4Model::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    match r {
        Err(HfError::Config { field, message, .. }) => (field, message),
        Err(e) => panic!("{tag}: not a config error: {e}"),
        Ok(_) => panic!("{tag}: loaded"),
    }
}

#[test]
fn bad_configs_are_typed_errors_naming_the_field() {
    let (f, m) = config_error("paper-relative", "unknown-pe", |c| {
        c["attention_pe"] = "xpos".into()
    });
    assert_eq!(f, "attention_pe");
    assert!(m.contains("'xpos'") && m.contains("\"alibi\""), "{m}");
    let (f, m) = config_error("paper-nope", "heads", |c| c["heads"] = 3.into());
    assert_eq!(f, "heads");
    assert!(m.contains("does not divide d_model 8"), "{m}");
    let (f, _) = config_error("paper-nope", "no-arch", |c| {
        c.as_object_mut().unwrap().remove("arch");
    });
    assert_eq!(f, "arch");
    let (f, _) = config_error("paper-nope", "pad", |c| c["pad_id"] = 20.into());
    assert_eq!(f, "pad_id");
    let (f, _) = config_error("paper-nope", "no-len", |c| c["max_len"] = Value::Null);
    assert_eq!(f, "max_len");
    let (f, _) = config_error("paper-alibi", "slopes", |c| {
        c["alibi_slopes"] = "linear".into()
    });
    assert_eq!(f, "alibi_slopes");
    let (f, _) = config_error("paper-partial-rope", "rope-heads", |c| {
        c["rope_heads"] = 3.into()
    });
    assert_eq!(f, "rope_heads");
    let (f, _) = config_error("standard-mla", "mla-rotation", |c| {
        c["mla"]["rotation"] = "yarn".into()
    });
    assert_eq!(f, "mla.rotation");
    let (f, _) = config_error("standard-mla", "mla-odd", |c| {
        c["mla"]["rope_dim"] = 5.into()
    });
    assert_eq!(f, "mla.rope_dim");
    let (f, _) = config_error("standard-mla", "mla-bias", |c| {
        c["attention_pe"] = "alibi".into()
    });
    assert_eq!(f, "attention_pe");
    // a config that asks for tensors the file does not have: tensor errors, not panics
    let dir = edited("paper-nope", "wants-learned", |c| {
        c["input_pe"] = "learned".into()
    });
    let r = E4Model::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(&r, Err(HfError::Tensor { name, message, .. }) if name == "pos_embed.weight" && message == "missing"),
        "{:?}",
        r.err()
    );
    // and a model_type that is not this one
    let dir = edited("paper-nope", "other-type", |c| {
        c["model_type"] = "t5".into()
    });
    let r = E4Model::load(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(r, Err(HfError::Unsupported { .. })));
}

#[test]
fn a_missing_tensor_is_a_typed_error() {
    let src = fixture("standard-mla");
    let dir = std::env::temp_dir().join(format!("pespectra-e4-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "layers.1.attn.kr.weight")
        .collect();
    std::fs::write(
        dir.join("model.safetensors"),
        safetensors::tensor::serialize(kept, None).unwrap(),
    )
    .unwrap();
    let r = E4Model::load(&dir);
    let opened = pespectra_hf::open(&dir).map(|_| ());
    std::fs::remove_dir_all(&dir).unwrap();
    for r in [r.map(|_| ()), opened] {
        match r {
            Err(HfError::Tensor { name, message, .. }) => {
                assert_eq!(name, "layers.1.attn.kr.weight");
                assert_eq!(message, "missing");
            }
            other => panic!("{other:?}"),
        }
    }
}
