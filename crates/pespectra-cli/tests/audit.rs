//! `pespectra audit`: bad input exits 2 with one line; a small real audit of MiniLM writes its
//! JSON, CSV and plots (model tests skip with PESPECTRA_SKIP_MODEL_TESTS=1).

use std::path::PathBuf;
use std::process::Command;

fn run_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pespectra"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_env(args, &[])
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-audit-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Exit 2 and exactly one line on stderr containing `needle`.
fn assert_bad(r: (i32, String, String), needle: &str) {
    let (code, _, err) = r;
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn bad_input_without_a_model() {
    assert_bad(
        run(&["audit", "no-such-model"]),
        "unknown model 'no-such-model'",
    );
    let d = tmpdir("empty");
    let empty = d.join("empty.txt");
    std::fs::write(&empty, " \n\t\n").unwrap();
    assert_bad(
        run(&["audit", "minilm-l6", "--text", empty.to_str().unwrap()]),
        "the text is empty",
    );
    assert_bad(
        run(&[
            "audit",
            "minilm-l6",
            "--text",
            d.join("missing.txt").to_str().unwrap(),
        ]),
        "cannot read --text",
    );
    assert_bad(
        run(&["audit", "minilm-l6", "--n", "1"]),
        "--n must be at least 2",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn model_not_installed_and_fetch_failing() {
    // empty cache, and no python3 on PATH: pip cannot run
    let d = tmpdir("nofetch");
    let (code, _, err) = run_env(
        &["audit", "minilm-l6", "--n", "16"],
        &[
            ("PESPECTRA_CACHE", d.to_str().unwrap()),
            ("PATH", d.to_str().unwrap()),
            ("PESPECTRA_PYTHON", "python3"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("error: model minilm-l6 is not installed and fetching it failed"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(&d).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("minilm-l6")),
        "nothing half-installed"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn minilm_bad_n_and_layers_then_a_small_audit() {
    if pespectra_models::fetch_for_tests("minilm-l6").is_none() {
        return;
    }
    assert_bad(
        run(&["audit", "minilm-l6", "--n", "600"]),
        "larger than the context of minilm-l6 (512 tokens)",
    );
    assert_bad(
        run(&["audit", "minilm-l6", "--n", "16", "--layers", "0..9"]),
        "layer 6 does not exist",
    );
    let d = tmpdir("minilm");
    let (code, out, err) = run(&[
        "audit",
        "minilm-l6",
        "--n",
        "48",
        "--layers",
        "1",
        "--out",
        d.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["n"], 48);
    assert_eq!(v["heads"].as_array().unwrap().len(), 12);
    // Weyl is a theorem: every head HOLDS; the absolute positional part is never Toeplitz
    assert_eq!(v["verdict_counts"]["T7"]["HOLDS"], 12);
    assert_eq!(v["verdict_counts"]["R6"]["FAILS"], 12);
    for h in v["heads"].as_array().unwrap() {
        assert_eq!(h["layer"], 1);
        let share = h["e3"]["toeplitz_share"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&share));
        assert!(h["e3"]["ablation"].as_f64().unwrap().is_finite());
    }
    assert_eq!(
        v["growth"].as_array().unwrap().len(),
        4,
        "n = 64, 128, 256, 512"
    );
    for f in [
        "audit.json",
        "heads.csv",
        "toeplitz_share.png",
        "toeplitz_share_centred.png",
        "ablation.png",
        "spectra_top3.png",
        "growth.png",
    ] {
        assert!(d.join(f).is_file(), "{f} missing");
    }
    let csv = std::fs::read_to_string(d.join("heads.csv")).unwrap();
    // the provenance comment line, the header, 12 heads
    assert_eq!(csv.lines().count(), 14);
    assert!(csv.starts_with("# {"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn smollm2_bad_n_then_a_small_certified_audit() {
    if pespectra_models::fetch_for_tests("smollm2-135m").is_none() {
        return;
    }
    assert_bad(
        run(&["audit", "smollm2-135m", "--n", "9000"]),
        "larger than the context of smollm2-135m (8192 tokens)",
    );
    let (code, out, err) = run(&[
        "audit",
        "smollm2-135m",
        "--n",
        "64",
        "--layers",
        "29",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["heads"].as_array().unwrap().len(), 9);
    // every catalogue theorem holds, certified, on every real head; R1 may go either way
    for id in ["D1", "T1", "T2", "T3", "T4"] {
        assert_eq!(
            v["verdict_counts"][id]["HOLDS"], 9,
            "{id}: {}",
            v["verdict_counts"]
        );
    }
    for h in v["heads"].as_array().unwrap() {
        assert!(
            h["rope"]["capture_deviation"].as_f64().unwrap() < 1e-5,
            "forward-pass logits = f64 RoPE reference"
        );
        assert_eq!(h["rope"]["frequencies"], 32);
        assert!(h["e3"]["ablation"].as_f64().unwrap().is_finite());
    }
    assert!(v["conventions"]["ablation"]
        .as_str()
        .unwrap()
        .starts_with("next-token loss increase"));
}
