//! The capture directory format: round trip, and every malformed input refused with an error
//! naming the file and field (never a panic, never a half-written directory).

use std::path::{Path, PathBuf};

use pespectra_capture::store::{read, write, CaptureSet, StoreError};
use pespectra_capture::{HeadCapture, Pairing, Positional};

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-store-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn head(layer: usize, head: usize, n: usize, d: usize, positional: Positional) -> HeadCapture {
    let q: Vec<f32> = (0..n * d)
        .map(|x| (x % 7) as f32 - 3.0 + layer as f32)
        .collect();
    let k: Vec<f32> = (0..n * d)
        .map(|x| (x % 5) as f32 * 0.5 - head as f32)
        .collect();
    let content: Vec<f32> = (0..n * n)
        .map(|x| {
            (0..d)
                .map(|t| q[(x / n) * d + t] * k[(x % n) * d + t])
                .sum()
        })
        .collect();
    let logits = match &positional {
        Positional::AdditiveBias { bias } => content.iter().zip(bias).map(|(c, b)| c + b).collect(),
        _ => content.iter().map(|c| c * 0.75).collect(),
    };
    HeadCapture {
        layer,
        head,
        kv_head: head / 2,
        n,
        head_dim: d,
        scale: 0.25,
        causal: layer == 0,
        window: None,
        softcap: None,
        q,
        k,
        logits,
        content_logits: content,
        positional,
    }
}

fn set(n: usize) -> CaptureSet {
    let bias: Vec<f32> = (0..n * n)
        .map(|x| -((x / n).abs_diff(x % n) as f32))
        .collect();
    CaptureSet {
        model: "toy".into(),
        n,
        token_ids: Some((0..n as u32).map(|i| i * 3).collect()),
        captures: vec![
            head(
                0,
                0,
                n,
                4,
                Positional::Rope {
                    pairing: Pairing::HalfSplit,
                    inv_freq: vec![1.0, 0.01],
                },
            ),
            head(
                0,
                1,
                n,
                4,
                Positional::Rope {
                    pairing: Pairing::Interleaved,
                    inv_freq: vec![0.5],
                },
            ),
            HeadCapture {
                window: Some(3),
                softcap: Some(50.0),
                ..head(1, 0, n, 4, Positional::AdditiveBias { bias })
            },
            head(1, 1, n, 4, Positional::Absolute),
        ],
    }
}

#[test]
fn round_trip_is_exact() {
    let d = tmp("round");
    let s = set(5);
    write(&d, &s).unwrap();
    let back = read(&d).unwrap();
    assert_eq!((back.model.as_str(), back.n), ("toy", 5));
    assert_eq!(back.token_ids, s.token_ids);
    assert_eq!(back.captures.len(), 4);
    assert_eq!(
        (back.captures[2].window, back.captures[2].softcap),
        (Some(3), Some(50.0))
    );
    for (a, b) in s.captures.iter().zip(&back.captures) {
        assert_eq!(
            (a.layer, a.head, a.kv_head, a.head_dim, a.causal, a.window),
            (b.layer, b.head, b.kv_head, b.head_dim, b.causal, b.window)
        );
        assert_eq!(a.softcap, b.softcap);
        assert_eq!(a.scale, b.scale);
        assert_eq!(a.q, b.q);
        assert_eq!(a.k, b.k);
        assert_eq!(a.logits, b.logits);
        assert_eq!(a.content_logits, b.content_logits);
        assert_eq!(a.positional, b.positional);
    }
    // an existing directory is never overwritten, and no temporary sibling is left behind
    assert!(matches!(write(&d, &s), Err(StoreError::Exists { .. })));
    let parent = d.parent().unwrap();
    let leftovers = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(&format!("store-round-{}.partial", std::process::id()))
        })
        .count();
    assert_eq!(leftovers, 0);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A valid directory, then `edit` applied to the manifest JSON.
fn with_manifest(tag: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let d = tmp(tag);
    write(&d, &set(4)).unwrap();
    let p = d.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&p, m.to_string()).unwrap();
    d
}

fn err(d: &Path) -> String {
    let e = read(d).unwrap_err().to_string();
    std::fs::remove_dir_all(d).unwrap();
    e
}

/// An edit of a manifest document.
type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

#[test]
fn malformed_manifests_name_the_field() {
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "format",
            Box::new(|m| m["format"] = "other".into()),
            "format",
        ),
        ("n", Box::new(|m| m["n"] = 1.into()), "n: must be"),
        (
            "n-huge",
            Box::new(|m| m["n"] = 1_000_000_000u64.into()),
            "n: must be",
        ),
        (
            "heads",
            Box::new(|m| m["heads"] = serde_json::json!([])),
            "heads: missing",
        ),
        (
            "scale",
            Box::new(|m| m["heads"][1]["scale"] = (-1.0).into()),
            "heads[1].scale",
        ),
        (
            "kind",
            Box::new(|m| m["heads"][0]["positional"]["kind"] = "magic".into()),
            "heads[0].positional.kind",
        ),
        (
            "freq",
            Box::new(|m| m["heads"][0]["positional"]["inv_freq"] = serde_json::json!([1, 2, 3])),
            "inv_freq",
        ),
        (
            "dup",
            Box::new(|m| m["heads"][1]["head"] = 0.into()),
            "appears twice",
        ),
        (
            "softcap",
            Box::new(|m| m["heads"][2]["softcap"] = (-30.0).into()),
            "heads[2].softcap: not a positive number",
        ),
        (
            "softcap-text",
            Box::new(|m| m["heads"][1]["softcap"] = "50".into()),
            "heads[1].softcap",
        ),
        (
            "window",
            Box::new(|m| m["heads"][2]["window"] = 0.into()),
            "heads[2].window: not a positive integer",
        ),
        (
            "ids",
            Box::new(|m| m["token_ids"] = serde_json::json!([1, 2])),
            "token_ids",
        ),
        // n larger than the stored tensors: the shape check names the tensor
        (
            "shape",
            Box::new(|m| {
                m["n"] = 5.into();
                m["token_ids"] = serde_json::Value::Null;
            }),
            "shape [4, 4], expected [5, 4]",
        ),
    ];
    for (tag, edit, needle) in cases {
        let d = with_manifest(tag, edit);
        let e = err(&d);
        assert!(e.contains(needle), "{tag}: {e}");
        assert!(
            e.contains("manifest.json") || e.contains("captures.safetensors"),
            "{tag}: {e}"
        );
    }
}

#[test]
fn malformed_tensor_files_are_refused() {
    // truncated
    let d = tmp("trunc");
    write(&d, &set(4)).unwrap();
    let t = d.join("captures.safetensors");
    let bytes = std::fs::read(&t).unwrap();
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    assert!(err(&d).contains("not a readable safetensors file"));
    // a header claiming a huge size
    let d = tmp("header");
    write(&d, &set(4)).unwrap();
    std::fs::write(d.join("captures.safetensors"), u64::MAX.to_le_bytes()).unwrap();
    assert!(err(&d).contains("not a readable safetensors file"));
    // a tensor missing, and one of the wrong dtype
    let d = tmp("missing");
    write(&d, &set(4)).unwrap();
    let t = d.join("captures.safetensors");
    let one = vec![0u8; 4 * 4 * 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![4, 4], &one).unwrap();
    safetensors::serialize_to_file([("layer.0.head.0.q", view)], None, &t).unwrap();
    let e = err(&d);
    assert!(e.contains("layer.0.head.0.q': dtype F64"), "{e}");
    let d = tmp("missing2");
    write(&d, &set(4)).unwrap();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0u8; 4]).unwrap();
    safetensors::serialize_to_file([("other", view)], None, &d.join("captures.safetensors"))
        .unwrap();
    assert!(err(&d).contains("'layer.0.head.0.q': missing"));
    // no directory at all
    let e = read(Path::new("/nonexistent/captures"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/captures/manifest.json"), "{e}");
}

#[test]
fn non_finite_values_are_refused() {
    let d = tmp("nan");
    let mut s = set(4);
    s.captures[2].logits[5] = f32::NAN;
    write(&d, &s).unwrap();
    let e = err(&d);
    assert!(
        e.contains("layer.1.head.0.logits") && e.contains("not finite at (1, 1)"),
        "{e}"
    );
}
