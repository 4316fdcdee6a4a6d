//! Provenance and integrity (issue 21): a corrupted cached model is refused at load, every
//! machine-readable output carries a provenance block whose fields are recomputed here
//! independently (git, /proc/cpuinfo, sha2), and `--reproduce` passes on an unchanged setup and
//! reports what changed otherwise. Model tests skip with PESPECTRA_SKIP_MODEL_TESTS=1.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_env(args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pespectra"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-prov-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The repository's HEAD as git reports it (None outside a checkout).
fn git_head() -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn assert_common(p: &serde_json::Value, args: &[&str]) {
    assert_eq!(p["schema"], "pespectra-provenance/1");
    assert_eq!(p["pespectra_version"], env!("CARGO_PKG_VERSION"));
    match git_head() {
        Some(h) => assert_eq!(p["git_commit"], h.as_str()),
        None => assert_eq!(p["git_commit"], "unknown"),
    }
    let cmd: Vec<&str> = p["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&cmd[1..], args);
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown".to_string(), |(_, v)| v.trim().to_string());
    assert_eq!(p["cpu"]["model"], model.as_str());
    assert!(p["threads"].as_u64().unwrap() >= 1);
    let started = p["started_at"].as_str().unwrap();
    assert!(started.len() == 20 && started.ends_with('Z'), "{started}");
    assert!(p["duration_seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn check_eig_and_bench_json_carry_provenance() {
    let d = tmpdir("check");
    let a = pespectra_npy::to_npy_f64(2, 2, &[2.0, 1.0, 1.0, 2.0]);
    let b = pespectra_npy::to_npy_f64(2, 2, &[1.0, 0.5, 0.5, 1.0]);
    let (pa, pb) = (d.join("a.npy"), d.join("b.npy"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();
    let (sa, sb) = (pa.to_str().unwrap(), pb.to_str().unwrap());
    let args = ["check", "T3", "--a", sa, "--b", sb, "--json"];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let p = &v["provenance"];
    assert_common(p, &args);
    assert_eq!(p["input"]["a"]["sha256"], sha(&a).as_str());
    assert_eq!(p["input"]["b"]["sha256"], sha(&b).as_str());
    assert_eq!(p["settings"]["seed"], 42);

    let args = ["eig", "--input", sa, "--json"];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_common(&v["provenance"], &args);
    assert_eq!(
        v["provenance"]["input"]["matrix"]["sha256"],
        sha(&a).as_str()
    );
    assert_eq!(v["provenance"]["settings"]["precision"], "53");
    // which GEMM verified it: the system OpenBLAS where the test script installed one, and faer
    // when it is refused (with a warning when the refusal is a library that does not load)
    let gemm = v["provenance"]["gemm"].as_str().unwrap();
    if std::env::var_os("PESPECTRA_EXPECT_BLAS").is_some() {
        // found by default, it is used unless its kernels are older than the CPU, which the
        // report then says
        assert!(gemm.contains("OpenBLAS"), "{gemm}");
        assert_eq!(
            gemm.starts_with("OpenBLAS"),
            !gemm.contains("not used"),
            "{gemm}"
        );
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            let gemm_with = |core: &str| {
                let r = run_env(&args, &[("OPENBLAS_CORETYPE", Path::new(core))]);
                let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
                v["provenance"]["gemm"].as_str().unwrap().to_string()
            };
            let sse = gemm_with("Prescott");
            assert!(
                sse.starts_with("faer (OpenBLAS") && sse.contains("Prescott"),
                "{sse}"
            );
            let avx2 = gemm_with("Haswell");
            assert!(
                avx2.starts_with("OpenBLAS") && avx2.contains("Haswell"),
                "{avx2}"
            );
        }
    }
    let off = run_env(&args, &[("PESPECTRA_BLAS", Path::new("faer"))]);
    let v: serde_json::Value = serde_json::from_str(&off.stdout).unwrap();
    assert_eq!(v["provenance"]["gemm"], "faer");
    assert!(off.stderr.is_empty(), "{}", off.stderr);
    let missing = run_env(&args, &[("PESPECTRA_BLAS", &d.join("no-such-blas.so"))]);
    assert_eq!(missing.code, 0, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no-such-blas.so"),
        "{}",
        missing.stderr
    );

    let args = [
        "bench-attention",
        "--b",
        "1",
        "--h",
        "1",
        "--s",
        "64",
        "--d",
        "16",
        "--threads",
        "1",
        "--json",
    ];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_common(&v["provenance"], &args);
    assert_eq!(v["provenance"]["threads"], 1);
    let simd = v["provenance"]["cpu"]["simd_path"].as_str().unwrap();
    let expect = if is_x86_feature_detected!("avx512f") {
        "avx512f"
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        "avx2+fma"
    } else {
        "portable"
    };
    assert_eq!(simd, expect);
}

#[test]
fn campaign_reports_reproduce_and_a_tampered_one_does_not() {
    let d = tmpdir("campaign");
    let args = ["campaign", "T3", "--cases", "40", "--max-n", "12", "--json"];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_common(&v["provenance"], &args);
    let report = d.join("report.json");
    std::fs::write(&report, &r.stdout).unwrap();
    let r = run(&["campaign", "--reproduce", report.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("reproduced"), "{}", r.stdout);
    // a hand-edited count is a difference
    let mut t = v.clone();
    t["holds"] = (t["holds"].as_u64().unwrap() - 1).into();
    std::fs::write(&report, t.to_string()).unwrap();
    let r = run(&["campaign", "--reproduce", report.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("DIFFERENCE: holds"), "{}", r.stdout);
}

/// A copy of an installed model in a private cache, so it can be damaged.
fn private_copy(name: &str, tag: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = pespectra_models::fetch_for_tests(name)?;
    let cache = tmpdir(tag);
    let copy = cache.join(name);
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        }
    }
    Some((cache, copy))
}

#[test]
fn audits_record_digests_reproduce_and_refuse_corrupted_weights() {
    let Some((cache, copy)) = private_copy("minilm-l6", "minilm") else {
        return;
    };
    let env = [("PESPECTRA_CACHE", cache.as_path())];
    let out = cache.join("out");
    let text = cache.join("text.txt");
    std::fs::write(&text, pespectra_audit::DEFAULT_TEXT).unwrap();
    let args = [
        "audit",
        "minilm-l6",
        "--n",
        "16",
        "--layers",
        "0",
        "--no-ablation",
        "--text",
        text.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let r = run_env(&args, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    let p = &doc["provenance"];
    assert_common(p, &args);
    let weights = std::fs::read(copy.join("model.safetensors")).unwrap();
    assert_eq!(p["model"]["id"], "minilm-l6");
    assert_eq!(p["model"]["files"][0]["path"], "model.safetensors");
    assert_eq!(p["model"]["files"][0]["sha256"], sha(&weights).as_str());
    assert_eq!(
        p["input"]["text_sha256"],
        sha(pespectra_audit::DEFAULT_TEXT.as_bytes()).as_str()
    );
    assert_eq!(p["input"]["tokens"], 16);
    // heads.csv: the same block as a leading comment
    let csv = std::fs::read_to_string(out.join("heads.csv")).unwrap();
    let first = csv.lines().next().unwrap();
    let from_csv: serde_json::Value = serde_json::from_str(first.trim_start_matches("# ")).unwrap();
    assert_eq!(&from_csv, p);

    // unchanged: reproduced
    let audit_json = out.join("audit.json");
    let rep = ["audit", "--reproduce", audit_json.to_str().unwrap()];
    let r = run_env(&rep, &env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("reproduced"), "{}", r.stdout);
    // the text changed: reported, with the reason
    std::fs::write(&text, format!("Changed. {}", pespectra_audit::DEFAULT_TEXT)).unwrap();
    let r = run_env(&rep, &env);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("differs: input text"), "{}", r.stdout);

    // 64 bytes flipped in the middle of the weights, same size: refused at load
    let mut bad = weights.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0xA5;
    }
    std::fs::write(copy.join("model.safetensors"), &bad).unwrap();
    let corrupted = copy.join("model.safetensors");
    for args in [
        vec![
            "audit",
            "minilm-l6",
            "--n",
            "16",
            "--layers",
            "0",
            "--no-ablation",
        ],
        vec!["models", "verify", "minilm-l6"],
    ] {
        let r = run_env(&args, &env);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        let line = r.stderr.lines().find(|l| l.starts_with("error:")).unwrap();
        assert!(line.contains(corrupted.to_str().unwrap()), "{line}");
        assert!(line.contains(&sha(&weights)), "expected digest: {line}");
        assert!(line.contains(&sha(&bad)), "found digest: {line}");
        assert!(
            line.contains("pespectra models fetch minilm-l6 --force"),
            "{line}"
        );
    }
    // and the reproduction names the model change
    let r = run_env(&rep, &env);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("corrupted"), "{}", r.stderr);
    std::fs::remove_dir_all(&cache).unwrap();
}

/// `--reproduce` on something that is not a usable report exits 2 with one line naming the
/// file and what is wrong, for campaigns and audits alike (they share the reader).
#[test]
fn reproduce_refuses_unusable_reports() {
    let d = tmpdir("bad-reproduce");
    let garbage = d.join("garbage.json");
    std::fs::write(&garbage, "not json").unwrap();
    let bare = d.join("bare.json");
    std::fs::write(&bare, r#"{"provenance": {}}"#).unwrap();
    let unparsable = d.join("unparsable.json");
    std::fs::write(
        &unparsable,
        r#"{"provenance": {"command_line": ["pespectra", "campaign", "--no-such-flag"]}}"#,
    )
    .unwrap();
    let audit_unparsable = d.join("audit-unparsable.json");
    std::fs::write(
        &audit_unparsable,
        r#"{"provenance": {"command_line": ["pespectra", "audit", "--no-such-flag"]}}"#,
    )
    .unwrap();
    let missing = d.join("missing.json");
    let cases: [(&str, &Path, &str); 8] = [
        ("campaign", &garbage, "not a campaign report"),
        (
            "campaign",
            &bare,
            "no provenance command line of a campaign",
        ),
        (
            "campaign",
            &unparsable,
            "the recorded command line does not parse",
        ),
        ("campaign", &missing, "cannot read"),
        ("audit", &garbage, "not an audit.json"),
        ("audit", &bare, "no provenance command line of an audit"),
        (
            "audit",
            &audit_unparsable,
            "the recorded command line does not parse",
        ),
        ("audit", &missing, "cannot read"),
    ];
    for (sub, file, expect) in cases {
        let r = run(&[sub, "--reproduce", file.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{sub} {}: {}", file.display(), r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert!(r.stderr.contains(expect), "{sub}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(file.file_name().unwrap().to_str().unwrap()),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let _ = std::fs::remove_dir_all(&d);
}
