//! The bad-input suite (issue 14): one case per class of hostile input, across every subcommand.
//!
//! Each case asserts the exit code, the one-line message shape (`error: …` on a single stderr
//! line, naming the problem), that nothing panicked or aborted, and — where the command writes
//! files — that no output that looks complete is left behind. The near-overflow and equality
//! cases at the end are the inputs that used to fail although they are ordinary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pespectra"));
    // never touch the user's model cache; an empty one makes every model "not installed"
    c.env("PESPECTRA_CACHE", dir().join("empty-cache"));
    c
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-bad-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tmp(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

fn npy(name: &str, n: usize, m: usize, data: &[f64]) -> String {
    tmp(name, &pespectra_npy::to_npy_f64(n, m, data))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    seconds: f64,
}

fn run(args: &[&str]) -> Run {
    let t = Instant::now();
    let out = bin().args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        seconds: t.elapsed().as_secs_f64(),
    }
}

/// Exit 2 with one `error:` line that contains `needle`, no panic, no abort.
fn refused(args: &[&str], needle: &str) -> Run {
    let r = run(args);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(r.code, 2, "{args:?}: exit {} — {}", r.code, r.stderr);
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "{args:?}: {}",
        r.stderr
    );
    // one `error:` line (clap's usage errors add a usage hint below it, nothing else does)
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{args:?}: not one error line: {}",
        r.stderr
    );
    let last = errors[0];
    assert!(
        last.to_lowercase().contains(&needle.to_lowercase()),
        "{args:?}: '{needle}' not in {last}"
    );
    r
}

fn assert_no_output(d: &Path) {
    let left: Vec<_> = std::fs::read_dir(d)
        .map(|it| it.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "output left behind: {left:?}");
}

#[test]
fn eig_and_svd_bad_inputs() {
    let sym = npy("sym.npy", 2, 2, &[2.0, 1.0, 1.0, 2.0]);
    let nonsym = npy("ns.npy", 2, 2, &[1.0, 2.0, 3.0, 4.0]);
    let nan = npy("nan.npy", 1, 1, &[f64::NAN]);
    let inf = npy("inf.npy", 2, 2, &[1.0, f64::INFINITY, f64::INFINITY, 1.0]);
    let rect = npy("rect.npy", 2, 3, &[0.0; 6]);
    let empty = npy("empty.npy", 0, 0, &[]);
    let good = pespectra_npy::to_npy_f64(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    let trunc = tmp("trunc.npy", &good[..good.len() - 3]);
    let f32 = tmp(
        "f32.npy",
        &pespectra_npy::replace_bytes(&good, "<f8", "<f4"),
    );
    let huge = tmp(
        "huge.npy",
        &pespectra_npy::replace_bytes(&good, "(2, 2)", "(4000000000, 4000000000)"),
    );
    let three_d = tmp(
        "3d.npy",
        &pespectra_npy::replace_bytes(&good, "(2, 2)", "(1, 2, 2)"),
    );
    let garbage = tmp("garbage.npy", b"this is not a numpy file at all");
    let header_only = tmp("magic.npy", b"\x93NUMPY");
    let d = dir().to_str().unwrap().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["eig", "--input", &nonsym], "not Hermitian"),
        (&["eig", "--input", &nan], "NaN"),
        (&["eig", "--input", &inf], "infinite"),
        (&["eig", "--input", &rect], "not square"),
        (&["svd", "--input", &rect], "not square"),
        (&["eig", "--input", &empty], "empty"),
        (&["eig", "--input", &trunc], "truncated"),
        (&["eig", "--input", &f32], "dtype"),
        (&["eig", "--input", &huge], "npy"),
        (&["eig", "--input", &three_d], "npy"),
        (&["eig", "--input", &garbage], "npy"),
        (&["eig", "--input", &header_only], "npy"),
        (&["eig", "--input", "/nonexistent/x.npy"], "cannot read"),
        (&["eig", "--input", &d], "cannot read"),
        (&["eig", "--input", &sym, "--precision", "12"], "precision"),
        (
            &["eig", "--input", &sym, "--precision", "4294967295"],
            "precision",
        ),
        (
            &["eig", "--input", &sym, "--precision", "many"],
            "precision",
        ),
        (&["eig", "--input", &sym, "--width=-1"], "width"),
        (&["eig", "--input", &sym, "--width", "NaN"], "width"),
        (
            &["eig", "--input", &sym, "--budget-seconds", "1e308"],
            "budget",
        ),
        (&["eig", "--input", &sym, "--budget-seconds", "0"], "budget"),
        (
            &["eig", "--input", &sym, "--budget-seconds", "NaN"],
            "budget",
        ),
        (
            &[
                "eig",
                "--input",
                &sym,
                "--precision",
                "auto",
                "--max-bits",
                "4294967295",
            ],
            "max-bits",
        ),
        (&["svd", "--input", &sym, "--hermitian-part"], "eig only"),
        (&["eig"], "required"),
    ];
    for (args, needle) in cases {
        refused(args, needle);
    }
}

#[test]
fn mpfr_memory_is_bounded_before_allocation() {
    // 64×64 at 65536 bits is within the precision limit; its matrices would need ≈ 3 GiB…
    let n = 512;
    let a: Vec<f64> = (0..n * n)
        .map(|k| ((k / n) as f64 - (k % n) as f64).abs())
        .collect();
    let p = npy("big.npy", n, n, &a);
    // …at n = 512, ≈ 22 GiB: refused at once, not aborted by the allocator
    let r = refused(&["eig", "--input", &p, "--precision", "65536"], "bytes");
    assert!(r.seconds < 30.0, "took {} s", r.seconds);
}

#[test]
fn check_bad_inputs() {
    let a2 = npy("a2.npy", 2, 2, &[2.0, 1.0, 1.0, 2.0]);
    let a3 = npy(
        "a3.npy",
        3,
        3,
        &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    );
    let rect = npy("crect.npy", 2, 3, &[0.0; 6]);
    let file = tmp("plain-file", b"x");
    let cert_dir = dir().join("certs-never");
    let cases: &[(&[&str], &str)] = &[
        (&["check", "T99"], "unknown"),
        (&["check", "T3", "--n", "1"], "n must be"),
        (&["check", "T3", "--n", "100000"], "n must be"),
        (&["check", "T3", "--a", &rect, "--b", &a2], "not square"),
        (&["check", "T3", "--a", &a2, "--b", &a3], "B is 3×3"),
        (&["check", "T1", "--a", &a2, "--b", &a2], "not supported"),
        (&["check", "T3", "--a", &a2], "needs"),
        (
            &["check", "T3", "T2", "--a", &a2, "--b", &a2],
            "exactly one",
        ),
        (
            &["check", "T3", "--a", "/nonexistent.npy", "--b", &a2],
            "cannot read",
        ),
        (
            &["check", "T2", "--certificates", &format!("{file}/sub")],
            "cannot create",
        ),
    ];
    for (args, needle) in cases {
        refused(args, needle);
    }
    assert!(!cert_dir.exists());
}

fn cert_json(matrices: &str, derived: &str, claims: &str) -> String {
    format!(
        r#"{{"format": "pespectra-certificate/1", "id": "X", "statement": "s", "verdict": "HOLDS",
  "matrices": {{{matrices}}}, "derived": [{derived}], "claims": [{claims}],
  "conclusion": {{"lhs": {{"value": "0"}}, "rel": "le", "rhs": {{"value": "0"}}, "margin": "0"}}}}"#
    )
}

fn matrix_json(name: &str, n: usize, entry: impl Fn(usize, usize) -> String) -> String {
    let re: Vec<String> = (0..n * n)
        .map(|k| format!("\"{}\"", entry(k / n, k % n)))
        .collect();
    format!(
        "\"{name}\": {{\"rows\": {n}, \"cols\": {n}, \"re\": [{}]}}",
        re.join(",")
    )
}

#[test]
fn verify_bad_and_hostile_certificates() {
    let not_json = tmp("c1.json", b"{not json");
    let wrong_format = tmp(
        "c2.json",
        cert_json(
            &matrix_json("A", 1, |_, _| "1".into()),
            "",
            r#"{"kind": "psd", "matrix": "A"}"#,
        )
        .replace("pespectra-certificate/1", "other/9")
        .as_bytes(),
    );
    let too_big = tmp(
        "c3.json",
        cert_json(&matrix_json("A", 300, |_, _| "0".into()), "", "").as_bytes(),
    );
    // 64×64 symmetric, every entry a fraction with its own 300-digit denominator: well within
    // the size and digit limits, hours of exact elimination
    let big_den = |i: usize, j: usize| {
        let (i, j) = (i.min(j), i.max(j));
        format!("{}/{}{:06}", 1 + i + j, "7".repeat(294), i * 64 + j)
    };
    let hostile_psd = tmp(
        "c4.json",
        cert_json(
            &matrix_json("A", 64, big_den),
            "",
            r#"{"kind": "psd", "matrix": "A"}"#,
        )
        .as_bytes(),
    );
    // a 256×256 product of 1000-digit integers, then a claim on it
    let long = |i: usize, j: usize| format!("{}{}", 1 + (i * 7 + j * 3) % 9, "3".repeat(999));
    let hostile_product = tmp(
        "c5.json",
        cert_json(
            &matrix_json("A", 256, long),
            r#"{"name": "C", "op": "matmul", "args": ["A", "A"]}"#,
            r#"{"kind": "trace", "matrix": "C", "value": "0"}"#,
        )
        .as_bytes(),
    );
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs/certificates/T2.json"),
    )
    .unwrap();
    let good = tmp("good.json", good.as_bytes());
    let cases: &[(&[&str], &str)] = &[
        (&["verify", "/nonexistent/cert.json"], "unreadable"),
        (&["verify", &not_json], "JSON"),
        (&["verify", &wrong_format], "format"),
        (&["verify", &too_big], "outside"),
        (&["verify", &hostile_psd], "too costly"),
        (&["verify", &hostile_product], "too costly"),
        (&["verify", &good, "--max-work", "0"], "too costly"),
        (&["verify", &good, "--max-seconds=-1"], "max-seconds"),
    ];
    for (args, needle) in cases {
        let r = refused(args, needle);
        assert!(r.seconds < 20.0, "{args:?} took {} s", r.seconds);
    }
    // the default budget admits the real certificate
    let r = run(&["verify", &good]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn campaign_bad_inputs() {
    let out = dir().join("campaign-never");
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["campaign", "T42", "--cases", "10"], "unknown property"),
        (&["campaign", "T3", "--cases", "0"], "at least 1"),
        (
            &["campaign", "T3", "--cases", "10", "--shard", "3/2"],
            "shard",
        ),
        (
            &["campaign", "T3", "--cases", "10", "--shard", "abc"],
            "shard",
        ),
        (
            &["campaign", "T3", "--cases", "10", "--max-n", "100000"],
            "max-n",
        ),
        (&["campaign", "T3", "--cases", "10", "--jobs", "0"], "jobs"),
        (
            &[
                "campaign",
                "T3",
                "--cases",
                "10",
                "--jobs",
                "1000000000",
                "--out",
                o,
            ],
            "jobs",
        ),
    ];
    for (args, needle) in cases {
        let r = refused(args, needle);
        assert!(r.seconds < 20.0, "{args:?} took {} s", r.seconds);
    }
    assert!(!out.exists(), "a refused campaign left {out:?}");
}

#[test]
fn audit_models_and_bench_bad_inputs() {
    let out = dir().join("audit-never");
    let o = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["audit", "no-such-model", "--out", o], "unknown model"),
        (&["models", "fetch", "no-such-model"], "unknown model"),
        (
            &[
                "models",
                "fetch",
                "smollm2-135m",
                "--from",
                "/nonexistent/wheels",
            ],
            "nonexistent",
        ),
        (&["bench-attention", "--s", "1000000000000"], "bytes"),
        (&["bench-attention", "--threads", "1000000000"], "threads"),
        (&["bench-attention", "--threads", "0"], "threads"),
        (&["bench-attention", "--d", "0"], "head_dim"),
        (&["bench-attention", "--b", "0"], "batch"),
    ];
    for (args, needle) in cases {
        let r = refused(args, needle);
        assert!(r.seconds < 20.0, "{args:?} took {} s", r.seconds);
    }
    assert_no_output(&dir().join("empty-cache"));
    assert!(!out.exists(), "a refused audit left {out:?}");
}

fn bounds(stdout: &str, key: &str) -> Vec<(rug::Float, rug::Float)> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let p = |s: &serde_json::Value| {
                rug::Float::with_val(
                    256,
                    rug::Float::parse(s.as_str().unwrap()).expect("decimal bound"),
                )
            };
            (p(&e["lo"]), p(&e["hi"]))
        })
        .collect()
}

/// [[a, b], [b, a]]·s has eigenvalues (a ± b)·s and, for a > b > 0, singular values the same:
/// entries near 1e308 (and subnormal ones) are verified through the exact power-of-two
/// rescaling, with enclosures that contain the exact values and are relatively tight.
#[test]
fn near_overflow_and_subnormal_matrices_verify() {
    for (name, s) in [("over", 2f64.powi(1020)), ("sub", 2f64.powi(-1070))] {
        let (a, b) = (3.0 * s, 1.0 * s);
        let p = npy(&format!("{name}.npy"), 2, 2, &[a, b, b, a]);
        for (cmd, key) in [("eig", "eigenvalues"), ("svd", "singular_values")] {
            let r = run(&[cmd, "--input", &p, "--json"]);
            assert_eq!(r.code, 0, "{cmd} {name}: {}", r.stderr);
            let e = bounds(&r.stdout, key);
            let exact = |k: f64| rug::Float::with_val(256, k) * rug::Float::with_val(256, s);
            for ((lo, hi), t) in e.iter().zip([exact(4.0), exact(2.0)]) {
                assert!(*lo <= t && t <= *hi, "{cmd} {name}: {lo} {hi} vs {t}");
                let rel = rug::Float::with_val(64, hi - lo) / &t;
                let tol = if name == "sub" { 1e-3 } else { 1e-12 };
                assert!(rel < tol, "{cmd} {name}: relative width {rel}");
            }
        }
    }
    // a Toeplitz matrix near overflow: T9 holds, certified
    let n: usize = 8;
    let t: Vec<f64> = (0..n).map(|k| 1e307 / (1.0 + k as f64)).collect();
    let a: Vec<f64> = (0..n * n).map(|k| t[(k / n).abs_diff(k % n)]).collect();
    let p = npy("toep.npy", n, n, &a);
    let r = run(&["check", "T9", "--a", &p, "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\"HOLDS\""), "{}", r.stdout);
}

/// Bounds attained with equality are decided exactly (HOLDS, margin 0), not INCONCLUSIVE.
#[test]
fn equality_cases_hold_with_margin_zero() {
    let a = npy("one-a.npy", 1, 1, &[3.5]);
    let b = npy("one-b.npy", 1, 1, &[1.0]);
    let da = npy("diag-a.npy", 2, 2, &[3.0, 0.0, 0.0, 0.5]);
    let cb = npy("scalar-b.npy", 2, 2, &[0.25, 0.0, 0.0, 0.25]);
    let sym = npy("sym-a.npy", 2, 2, &[2.0, 1.0, 1.0, -1.0]);
    let cases: &[&[&str]] = &[
        &["check", "T7", "--a", &a, "--b", &b, "--json"],
        &["check", "T9", "--a", &a, "--json"],
        &["check", "T10", "--a", &a, "--b", &b, "--json"],
        &["check", "T2", "--a", &a, "--b", &b, "--json"],
        &["check", "T3", "--a", &a, "--b", &b, "--json"],
        &["check", "T4", "--a", &a, "--b", &b, "--json"],
        &[
            "check",
            "T3",
            "--a",
            &da,
            "--b",
            &npy("id.npy", 2, 2, &[1.0, 0.0, 0.0, 1.0]),
            "--json",
        ],
        &["check", "T7", "--a", &sym, "--b", &cb, "--json"],
    ];
    for args in cases {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            v["results"][0]["verdict"], "HOLDS",
            "{args:?}: {}",
            r.stdout
        );
        let m: f64 = v["results"][0]["margin"].as_str().unwrap().parse().unwrap();
        assert_eq!(m, 0.0, "{args:?}: {}", r.stdout);
    }
    // a bound false by a hair stays refused: T7 with λ(A + B) claimed through B = 0.25·I is an
    // identity, but B = diag(0.25, 0.25 + 2^-40) is not a scalar matrix and must not be HOLDS
    // with margin 0 by the shortcut
    let near = npy("near-b.npy", 2, 2, &[0.25, 0.0, 0.0, 0.25 + 2f64.powi(-40)]);
    let r = run(&["check", "T7", "--a", &sym, "--b", &near, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(!v["results"][0]["detail"]
        .as_str()
        .unwrap_or("")
        .contains("exactly"));
}

#[test]
fn huge_thread_counts_fail_fast() {
    let t = Instant::now();
    refused(
        &["bench-attention", "--threads", "18446744073709551615"],
        "threads",
    );
    assert!(t.elapsed() < Duration::from_secs(10));
}
