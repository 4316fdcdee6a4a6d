//! End-to-end tests of the `pespectra` binary: JSON shape, outward decimal bounds, exit codes.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pespectra"))
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pespectra-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn eig_json_shape_and_outward_bounds() {
    // [[2, 1], [1, 2]]: eigenvalues exactly 3 and 1
    let p = tmp(
        "a.npy",
        &pespectra_npy::to_npy_f64(2, 2, &[2.0, 1.0, 1.0, 2.0]),
    );
    let (code, out, err) = run(&["eig", "--input", p.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["n"], 2);
    assert_eq!(v["precision_bits"], 53);
    assert_eq!(v["met_width"], true);
    assert!(v["seconds"].as_f64().unwrap() >= 0.0);
    let eig = v["eigenvalues"].as_array().unwrap();
    for (e, truth) in eig.iter().zip([3.0, 1.0]) {
        let lo: f64 = e["lo"].as_str().unwrap().parse().unwrap();
        let hi: f64 = e["hi"].as_str().unwrap().parse().unwrap();
        assert!(lo <= truth && truth <= hi, "{lo} {hi}");
    }
}

#[test]
fn precision_auto_meets_width_and_reports_bits() {
    let p = tmp(
        "b.npy",
        &pespectra_npy::to_npy_f64(3, 3, &[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0, 1.0, 2.0]),
    );
    let (code, out, _) = run(&[
        "eig",
        "--input",
        p.to_str().unwrap(),
        "--precision",
        "auto",
        "--width",
        "1e-45",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["precision_bits"].as_u64().unwrap() > 53);
    assert_eq!(v["met_width"], true);
    // 2 + √2 = 3.41421356237309504880168872420969807856967187537694…
    let top = &v["eigenvalues"][0];
    assert!(
        top["lo"]
            .as_str()
            .unwrap()
            .starts_with("3.41421356237309504880168872420969807"),
        "{top}"
    );
}

#[test]
fn svd_complex_fortran_order() {
    // complex diag(3i, −4): singular values 4 and 3
    let p = tmp(
        "c.npy",
        &pespectra_npy::to_npy_c128(2, 2, &[0.0, 0.0, 0.0, -4.0], &[3.0, 0.0, 0.0, 0.0]),
    );
    let (code, out, err) = run(&["svd", "--input", p.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = v["singular_values"].as_array().unwrap();
    for (e, truth) in s.iter().zip([4.0, 3.0]) {
        let lo: f64 = e["lo"].as_str().unwrap().parse().unwrap();
        let hi: f64 = e["hi"].as_str().unwrap().parse().unwrap();
        assert!(lo <= truth && truth <= hi);
    }
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let nonsym = tmp(
        "ns.npy",
        &pespectra_npy::to_npy_f64(2, 2, &[1.0, 2.0, 3.0, 4.0]),
    );
    let nan = tmp("nan.npy", &pespectra_npy::to_npy_f64(1, 1, &[f64::NAN]));
    let rect = tmp("rect.npy", &pespectra_npy::to_npy_f64(2, 3, &[0.0; 6]));
    let empty = tmp("empty.npy", &pespectra_npy::to_npy_f64(0, 0, &[]));
    let good = pespectra_npy::to_npy_f64(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    let trunc = tmp("trunc.npy", &good[..good.len() - 3]);
    let f32 = tmp(
        "f32.npy",
        &pespectra_npy::replace_bytes(&good, "<f8", "<f4"),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["eig", "--input", nonsym.to_str().unwrap()],
            "not Hermitian",
        ),
        (vec!["eig", "--input", nan.to_str().unwrap()], "NaN"),
        (vec!["eig", "--input", rect.to_str().unwrap()], "not square"),
        (vec!["svd", "--input", rect.to_str().unwrap()], "not square"),
        (vec!["eig", "--input", empty.to_str().unwrap()], "empty"),
        (vec!["eig", "--input", trunc.to_str().unwrap()], "truncated"),
        (vec!["eig", "--input", f32.to_str().unwrap()], "dtype"),
        (vec!["eig", "--input", "/nonexistent/x.npy"], "cannot read"),
        (
            vec![
                "eig",
                "--input",
                nonsym.to_str().unwrap(),
                "--precision",
                "12",
            ],
            "precision",
        ),
        (
            vec!["eig", "--input", nonsym.to_str().unwrap(), "--width=-1"],
            "width",
        ),
        (vec!["eig"], "--input"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // the Hermitian part of the non-symmetric matrix is accepted: (A + Aᵀ)/2 = [[1, 2.5], [2.5, 4]]
    let (code, out, _) = run(&[
        "eig",
        "--input",
        nonsym.to_str().unwrap(),
        "--hermitian-part",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lo: f64 = v["eigenvalues"][0]["lo"].as_str().unwrap().parse().unwrap();
    let hi: f64 = v["eigenvalues"][0]["hi"].as_str().unwrap().parse().unwrap();
    let truth = 2.5 + (2.25f64 + 6.25).sqrt();
    assert!(lo <= truth && truth <= hi);
}

#[test]
fn builtin_example_runs() {
    let (code, out, err) = run(&["eig", "--example", "alibi-distance", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let e = v["eigenvalues"].as_array().unwrap();
    assert_eq!(e.len(), 64);
    // T8: exactly one positive eigenvalue
    let positive = e
        .iter()
        .filter(|x| x["lo"].as_str().unwrap().parse::<f64>().unwrap() > 0.0)
        .count();
    let negative = e
        .iter()
        .filter(|x| x["hi"].as_str().unwrap().parse::<f64>().unwrap() < 0.0)
        .count();
    assert_eq!((positive, negative), (1, 63));
}

#[test]
fn check_catalogue_json_and_exit_codes() {
    let (code, out, err) = run(&["check", "T3", "R3", "--n", "16", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        (r[0]["id"].as_str(), r[0]["verdict"].as_str()),
        (Some("T3"), Some("HOLDS"))
    );
    assert_eq!(
        (r[1]["id"].as_str(), r[1]["verdict"].as_str()),
        (Some("R3"), Some("FAILS"))
    );
    assert!(r[0]["margin"].as_str().unwrap().parse::<f64>().unwrap() >= 0.0);
    assert!(r[0]["certificate"].is_null() && r[0]["seconds"].as_f64().is_some());
    let (code, _, err) = run(&["check", "T42"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown theorem id"));
    let (code, out, _) = run(&["theorems"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 18);
}

#[test]
fn check_user_matrices_verifies_hypotheses() {
    let n: usize = 6;
    let a: Vec<f64> = (0..n * n)
        .map(|t| ((t / n + t % n) % 5) as f64 - 2.0)
        .collect();
    let kms: Vec<f64> = (0..n * n)
        .map(|t| 0.5f64.powi((t / n).abs_diff(t % n) as i32))
        .collect();
    let mut not_psd = kms.clone();
    not_psd[1] = 3.0;
    not_psd[n] = 3.0;
    let pa = tmp("ua.npy", &pespectra_npy::to_npy_f64(n, n, &a));
    let pb = tmp("ub.npy", &pespectra_npy::to_npy_f64(n, n, &kms));
    let pbad = tmp("ubad.npy", &pespectra_npy::to_npy_f64(n, n, &not_psd));
    let (code, out, err) = run(&[
        "check",
        "T3",
        "--a",
        pa.to_str().unwrap(),
        "--b",
        pb.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"HOLDS\""));
    // the PSD hypothesis fails: reported, never assumed; exit 1 (not the expected verdict)
    let (code, out, _) = run(&[
        "check",
        "T3",
        "--a",
        pa.to_str().unwrap(),
        "--b",
        pbad.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("INCONCLUSIVE") && out.contains("negative eigenvalue"));
    let (code, _, err) = run(&["check", "T3", "R3", "--a", pa.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn verify_produced_certificate_and_tampered_one() {
    let dir = std::env::temp_dir().join(format!("pespectra-certs-{}", std::process::id()));
    let (code, out, err) = run(&[
        "check",
        "T8",
        "--n",
        "8",
        "--certificates",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let path = v["results"][0]["certificate"].as_str().unwrap().to_string();
    let (code, _, err) = run(&["verify", &path]);
    assert_eq!(code, 0, "{err}");
    // tamper: claim the inertia has one more positive eigenvalue
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"pos\": 1", "\"pos\": 2", 1);
    let bad = tmp("tampered.json", text.as_bytes());
    let (code, _, _) = run(&["verify", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    let junk = tmp("junk.json", b"{not json");
    assert_eq!(run(&["verify", junk.to_str().unwrap()]).0, 2);
}

/// Output piped into a reader that has gone away (`pespectra check | head -1`) ends the process
/// quietly instead of panicking in `println!`.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    use std::process::Stdio;
    let mut child = bin()
        .args(["check", "T1", "R2", "R4", "R6", "--n", "8"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader exits before the first line is written
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_t10_on_user_matrices() {
    let n: usize = 5;
    // A = 3I + 11ᵀ ≻ 0 (λ = 3, 8), B = 0.5^|i−j| (PSD, unit diagonal)
    let a: Vec<f64> = (0..n * n)
        .map(|t| if t / n == t % n { 4.0 } else { 1.0 })
        .collect();
    let kms: Vec<f64> = (0..n * n)
        .map(|t| 0.5f64.powi((t / n).abs_diff(t % n) as i32))
        .collect();
    let twice: Vec<f64> = kms.iter().map(|v| 2.0 * v).collect();
    let pa = tmp("t10a.npy", &pespectra_npy::to_npy_f64(n, n, &a));
    let pb = tmp("t10b.npy", &pespectra_npy::to_npy_f64(n, n, &kms));
    let p2 = tmp("t10b2.npy", &pespectra_npy::to_npy_f64(n, n, &twice));
    let check = |b: &PathBuf| {
        run(&[
            "check",
            "T10",
            "--a",
            pa.to_str().unwrap(),
            "--b",
            b.to_str().unwrap(),
            "--json",
        ])
    };
    let (code, out, err) = check(&pb);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"HOLDS\""), "{out}");
    // B = 2·KMS is PSD but its diagonal is 2: the hypothesis fails, reported, exit 1
    let (code, out, _) = check(&p2);
    assert_eq!(code, 1);
    assert!(
        out.contains("INCONCLUSIVE") && out.contains("diagonal"),
        "{out}"
    );
}
