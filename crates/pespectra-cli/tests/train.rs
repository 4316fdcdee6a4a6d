//! `pespectra train`, `pespectra audit` on what it wrote, and `pespectra experiments` on the
//! smoke preset; bad requests exit 2 with one line and train nothing.

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
    let d = std::env::temp_dir().join(format!("pespectra-train-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn assert_bad((code, _, err): (i32, String, String), needle: &str) {
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn a_trained_alibi_model_is_audited_as_additive_with_its_sentence() {
    let dir = tmp("alibi");
    let d = dir.to_str().unwrap();
    let (code, out, err) = run(&[
        "train", "--task", "count", "--pe", "alibi", "--preset", "smoke", "--out", d,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("test accuracy"), "{out}");
    for f in [
        "config.json",
        "model.safetensors",
        "metrics.json",
        "ablation-test.json",
        "test-sentence.txt",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["history"].as_array().unwrap().len(), 3);
    let ids = format!("@{}", dir.join("test-sentence.txt").display());
    let report = dir.join("audit");
    let (code, _, err) = run(&[
        "audit",
        d,
        "--token-ids",
        &ids,
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("audit.json")).unwrap()).unwrap();
    let heads = doc["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 2, "smoke: 1 layer × 2 heads");
    for h in heads {
        assert_eq!(h["family"], "additive");
        assert_eq!(
            h["n"], 128,
            "the paper arch is audited on its padded length"
        );
    }
    // a second train into the same directory is refused
    assert_bad(
        run(&[
            "train", "--task", "count", "--pe", "alibi", "--preset", "smoke", "--out", d,
        ]),
        "already holds a model",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_train_requests_exit_2_before_training() {
    let dir = tmp("bad");
    let d = dir.to_str().unwrap();
    let base = [
        "train", "--task", "distance", "--preset", "smoke", "--out", d,
    ];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        run(&a)
    };
    assert_bad(with(&["--pe", "rope3"]), "unknown positional encoding");
    assert_bad(with(&["--pe", "partial-rope:9"]), "K must be a head count");
    assert_bad(with(&["--pe", "rope", "--epochs", "0"]), "epoch count");
    assert_bad(with(&["--pe", "rope", "--lr=-1"]), "learning rate");
    assert_bad(with(&["--pe", "rope", "--seeds", "1,x"]), "not a seed");
    assert_bad(
        with(&["--pe", "rope", "--arch", "encoder"]),
        "unknown architecture",
    );
    assert_bad(
        run(&["train", "--task", "sorting", "--pe", "rope", "--out", d]),
        "unknown task",
    );
    assert!(!dir.exists(), "nothing is written for a refused request");
}

#[test]
fn the_smoke_grid_writes_its_summary_heatmaps_and_audits_and_resumes() {
    let dir = tmp("grid");
    let d = dir.to_str().unwrap();
    let args = [
        "experiments",
        "--preset",
        "smoke",
        "--seeds",
        "1,2",
        "--tasks",
        "distance",
        "--variants",
        "rope,mla",
        "--jobs",
        "2",
        "--out",
        d,
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("| `rope` |") && out.contains("| `mla` |"),
        "{out}"
    );
    for f in [
        "summary.md",
        "summary.json",
        "distance/rope/ablation.png",
        "distance/mla/audit/audit.json",
        "distance/rope/seed-2/model.safetensors",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let rows = s["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["accuracy"].as_array().unwrap().len(), 2);
    assert_eq!(
        rows[1]["audit"]["family"], "rope",
        "MLA's decoupled path is a RoPE head"
    );
    // run again: every model is read back, none retrained
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("(earlier run)").count(), 4, "{err}");
    assert_bad(
        run(&[
            "experiments",
            "--preset",
            "smoke",
            "--variants",
            "rope9",
            "--out",
            d,
        ]),
        "unknown positional encoding",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
