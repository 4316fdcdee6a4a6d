//! `pespectra capture` then `pespectra audit --captures`: the verdicts of a captured run equal
//! those of the direct audit on the same tokens; bad capture directories exit 2 with one line.

use std::path::PathBuf;
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

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pespectra-capture-cli-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn assert_bad((code, _, err): (i32, String, String), needle: &str) {
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

fn verdicts(doc: &serde_json::Value) -> Vec<(u64, u64, String, String)> {
    let mut v = Vec::new();
    for h in doc["heads"].as_array().unwrap() {
        for c in h["checks"].as_array().unwrap() {
            v.push((
                h["layer"].as_u64().unwrap(),
                h["head"].as_u64().unwrap(),
                c["id"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            ));
        }
    }
    v.sort();
    v
}

#[test]
fn bad_capture_directories() {
    assert_bad(
        run(&["audit", "--captures", "/nonexistent/dir"]),
        "/nonexistent/dir/manifest.json",
    );
    let d = tmp("bad");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("manifest.json"),
        "{\"format\": \"pespectra-captures/1\"",
    )
    .unwrap();
    assert_bad(
        run(&["audit", "--captures", d.to_str().unwrap()]),
        "not JSON",
    );
    std::fs::remove_dir_all(&d).unwrap();
    let (code, _, err) = run(&["audit", "minilm-l6", "--captures", "x"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn smollm2_capture_round_trip() {
    if pespectra_models::fetch_for_tests("smollm2-135m").is_none() {
        return;
    }
    let d = tmp("smollm2");
    let (code, out, err) = run(&[
        "capture",
        "smollm2-135m",
        "--n",
        "24",
        "--layers",
        "2",
        "--out",
        d.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("captured 9 heads"), "{out}");
    assert!(d.join("manifest.json").is_file() && d.join("captures.safetensors").is_file());
    // an existing directory is never overwritten
    assert_bad(
        run(&[
            "capture",
            "smollm2-135m",
            "--n",
            "24",
            "--layers",
            "2",
            "--out",
            d.to_str().unwrap(),
        ]),
        "exists already",
    );
    let (code, captured, err) = run(&["audit", "--captures", d.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let captured: serde_json::Value = serde_json::from_str(&captured).unwrap();
    let (code, direct, err) = run(&[
        "audit",
        "smollm2-135m",
        "--n",
        "24",
        "--layers",
        "2",
        "--no-ablation",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let direct: serde_json::Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(captured["n"], 24);
    assert_eq!(captured["heads"].as_array().unwrap().len(), 9);
    assert_eq!(verdicts(&captured), verdicts(&direct));
    // the capture's files are named in the provenance
    let files = captured["provenance"]["input"].to_string();
    assert!(files.contains("captures.safetensors"), "{files}");
    std::fs::remove_dir_all(&d).unwrap();
    assert_bad(
        run(&[
            "capture",
            "smollm2-135m",
            "--n",
            "1",
            "--out",
            d.to_str().unwrap(),
        ]),
        "n must be at least 2",
    );
    assert!(!d.exists(), "a refused capture leaves no directory");
}
