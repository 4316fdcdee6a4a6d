//! End-to-end tests of `pespectra campaign`: JSON shape, exit codes, shards merging into the
//! unsharded report, resumption, and counterexample certificates that `pespectra verify` accepts.

use serde_json::Value;
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

fn campaign_json(args: &[&str]) -> Value {
    let mut all = vec!["campaign"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, out, err) = run(&all);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-campaign-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The fields that must not depend on sharding, resumption or thread count.
fn deterministic(v: &Value) -> Vec<Value> {
    [
        "property",
        "cases",
        "holds",
        "fails",
        "inconclusive",
        "min_margin",
        "min_margin_case",
        "first_counterexample_case",
        "first_counterexample_seed",
    ]
    .iter()
    .map(|k| v[*k].clone())
    .collect()
}

#[test]
fn json_report_shape_and_exit_0_for_a_theorem() {
    let v = campaign_json(&["T3", "--cases", "12", "--seed", "7", "--max-n", "12"]);
    assert_eq!(v["property"], "T3");
    assert_eq!(v["cases"], 12);
    assert_eq!(v["holds"], 12);
    assert_eq!(v["fails"], 0);
    assert_eq!(v["inconclusive"], 0);
    assert!(v["first_counterexample_case"].is_null());
    assert!(v["cases_per_second"].as_f64().unwrap() > 0.0);
    let m: f64 = v["min_margin"].as_str().unwrap().parse().unwrap();
    assert!(m >= 0.0);
    // the human table says OK
    let (code, out, _) = run(&["campaign", "t3", "--cases", "4", "--max-n", "8"]);
    assert_eq!(code, 0);
    assert!(out.contains("HOLDS") && out.contains("OK"), "{out}");
}

#[test]
fn shards_merge_into_the_unsharded_report() {
    let base = ["T2", "--cases", "15", "--seed", "3", "--max-n", "16"];
    let full = campaign_json(&base);
    let parts: Vec<Value> = (0..3)
        .map(|i| {
            let s = format!("{i}/3");
            let mut a = base.to_vec();
            a.extend(["--shard", &s, "--jobs", "1"]);
            campaign_json(&a)
        })
        .collect();
    let sum = |k: &str| parts.iter().map(|p| p[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("cases"), 15);
    assert_eq!(sum("holds"), full["holds"].as_u64().unwrap());
    assert_eq!(sum("inconclusive"), full["inconclusive"].as_u64().unwrap());
    // the smallest margin of the parts is the unsharded one, at the same case
    let best = parts
        .iter()
        .min_by(|a, b| {
            let m = |v: &Value| v["min_margin"].as_str().unwrap().parse::<f64>().unwrap();
            m(a).total_cmp(&m(b))
        })
        .unwrap();
    assert_eq!(best["min_margin"], full["min_margin"]);
    assert_eq!(best["min_margin_case"], full["min_margin_case"]);
    assert_eq!(best["min_margin_case"].as_u64().unwrap() % 3, {
        let i = parts.iter().position(|p| p == best).unwrap();
        i as u64
    });
}

#[test]
fn resumed_campaign_equals_a_single_run() {
    let dir = tmpdir("resume");
    let d = dir.to_str().unwrap();
    let once = campaign_json(&["R3", "--cases", "20", "--max-n", "8"]);
    let first = campaign_json(&["R3", "--cases", "8", "--max-n", "8", "--out", d]);
    assert_eq!(first["cases"], 8);
    let resumed = campaign_json(&["R3", "--cases", "20", "--max-n", "8", "--out", d]);
    assert_eq!(deterministic(&resumed), deterministic(&once));
    // rerunning a finished campaign only reports it
    let again = campaign_json(&["R3", "--cases", "20", "--max-n", "8", "--out", d]);
    assert_eq!(deterministic(&again), deterministic(&once));
    // a different seed in the same directory is refused with one line
    let (code, _, err) = run(&[
        "campaign", "R3", "--cases", "20", "--seed", "1", "--max-n", "8", "--out", d,
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn counterexample_certificate_is_written_and_verifies() {
    for property in ["R3", "R1"] {
        let dir = tmpdir(property);
        let v = campaign_json(&[property, "--cases", "2", "--out", dir.to_str().unwrap()]);
        assert!(v["fails"].as_u64().unwrap() >= 1);
        let k = v["first_counterexample_case"].as_u64().unwrap();
        let cert = dir.join(format!("{property}-case{k}.cert.json"));
        let (code, out, err) = run(&["verify", cert.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.starts_with(&format!("VALID {property} FAILS")), "{out}");
        let desc: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{property}-case{k}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(desc["case"], k);
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["campaign", "T99", "--cases", "3"],
        vec!["campaign", "T3", "--cases", "0"],
        vec!["campaign", "T3", "--cases", "3", "--max-n", "2000"],
        vec!["campaign", "T3", "--cases", "3", "--shard", "2/2"],
        vec!["campaign", "T3", "--cases", "3", "--shard", "x"],
        vec!["campaign", "T3", "--cases", "3", "--jobs", "0"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}
