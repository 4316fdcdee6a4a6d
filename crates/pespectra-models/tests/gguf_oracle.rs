//! The GGUF reader against an independent implementation: the `gguf` Python package (llama.cpp's
//! gguf-py, installed into `.venv` by `scripts/test.sh`), on random blocks of every supported type
//! and on the real SmolLM2 file (metadata, tensor table, dequantized tensors). Bit-exact: both
//! sides do the same f32 operations per element.

use pespectra_models::gguf::{dequantize, GgmlType, Gguf, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("PESPECTRA_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "the gguf oracle needs {} with the gguf package: run scripts/test.sh (or set PESPECTRA_PYTHON)",
        venv.display()
    );
    venv
}

fn oracle(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gguf_oracle.py");
    let out = Command::new(python())
        .arg(&script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gguf oracle failed (is the gguf package installed? scripts/test.sh does it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-gguf-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_f32(p: &Path) -> Vec<f32> {
    std::fs::read(p)
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn assert_bits_eq(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.to_bits(), w.to_bits(), "{what}[{i}]: {g} vs {w}");
    }
}

/// Byte offsets of the f16 scale fields of one block (everything else is free bits).
fn f16_fields(ty: GgmlType) -> Vec<usize> {
    match ty {
        GgmlType::Q4_0 | GgmlType::Q5_0 | GgmlType::Q8_0 => vec![0],
        GgmlType::Q4_1 | GgmlType::Q5_1 | GgmlType::Q4K | GgmlType::Q5K => vec![0, 2],
        GgmlType::Q6K => vec![208],
        _ => vec![],
    }
}

/// Random blocks whose floats are all finite (NaN payloads are not worth comparing).
fn random_blocks(ty: GgmlType, n_blocks: usize, seed: &mut u64) -> Vec<u8> {
    let (_, bb) = ty.block();
    let mut b: Vec<u8> = (0..n_blocks * bb)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed >> 32) as u8
        })
        .collect();
    for blk in b.chunks_exact_mut(bb) {
        match ty {
            GgmlType::F32 if blk[3] & 0x7F == 0x7F && blk[2] & 0x80 != 0 => blk[3] &= 0xBF,
            GgmlType::F16 if (blk[1] >> 2) & 0x1F == 0x1F => blk[1] &= 0xBF,
            GgmlType::BF16 if blk[1] & 0x7F == 0x7F && blk[0] & 0x80 != 0 => blk[1] &= 0xBF,
            _ => {
                for at in f16_fields(ty) {
                    if (blk[at + 1] >> 2) & 0x1F == 0x1F {
                        blk[at + 1] &= 0xBF;
                    }
                }
            }
        }
    }
    b
}

const TYPES: [GgmlType; 11] = [
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q5_1,
    GgmlType::Q8_0,
    GgmlType::Q4K,
    GgmlType::Q5K,
    GgmlType::Q6K,
];

#[test]
fn random_blocks_of_every_type_match_gguf_py() {
    let dir = scratch("blocks");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut inputs = Vec::new();
    for ty in TYPES {
        let b = random_blocks(ty, 64, &mut seed);
        std::fs::write(dir.join(format!("{}.bin", ty.name())), &b).unwrap();
        inputs.push((ty, b));
    }
    oracle(&["blocks", dir.to_str().unwrap()]);
    for (ty, b) in inputs {
        let want = read_f32(&dir.join(format!("{}.f32", ty.name())));
        assert_bits_eq(ty.name(), &dequantize(ty, &b).unwrap(), &want);
    }
}

/// The oracle's summary of a metadata value (scalars as-is, arrays as length + first 3 + last).
fn summarize(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::U64(x) => json!(x),
        Value::I64(x) => json!(x),
        Value::F64(x) => json!(x),
        Value::Bool(x) => json!(x),
        Value::Str(s) => json!(s),
        Value::Array(a) => json!({
            "len": a.len(),
            "head": a.iter().take(3).map(summarize).collect::<Vec<_>>(),
            "last": a.last().map(summarize),
        }),
    }
}

#[test]
fn smollm2_file_matches_gguf_py() {
    let Some(dir) = pespectra_models::fetch_for_tests("smollm2-135m") else {
        return;
    };
    let path = pespectra_models::lookup("smollm2-135m")
        .unwrap()
        .weight_path(&dir);
    let g = Gguf::open(&path).unwrap();
    // Q8_0 (the only one), Q4_1 of both shapes, F32.
    let names = [
        "token_embd.weight",
        "blk.0.attn_q.weight",
        "blk.29.ffn_down.weight",
        "output_norm.weight",
    ];
    let out = scratch("smollm2");
    let mut args = vec!["file", path.to_str().unwrap(), out.to_str().unwrap()];
    args.extend(names);
    oracle(&args);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let meta = summary["metadata"].as_object().unwrap();
    assert_eq!(meta.len(), g.metadata.len());
    for (k, v) in &g.metadata {
        assert_eq!(&summarize(v), &meta[k], "metadata {k}");
    }
    let tensors = summary["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 272);
    assert_eq!(tensors.len(), g.tensors.len());
    for (t, o) in g.tensors.iter().zip(tensors) {
        assert_eq!(t.name, o["name"].as_str().unwrap());
        let dims: Vec<u64> = o["dims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .collect();
        assert_eq!(t.dims, dims, "{}", t.name);
        assert_eq!(t.type_id as u64, o["type"].as_u64().unwrap(), "{}", t.name);
        assert_eq!(t.start as u64, o["start"].as_u64().unwrap(), "{}", t.name);
        assert_eq!(t.len as u64, o["len"].as_u64().unwrap(), "{}", t.name);
    }
    for n in names {
        let want = read_f32(&out.join(format!("{n}.f32")));
        assert_bits_eq(n, &g.tensor_f32(n).unwrap(), &want);
    }
    let _ = std::fs::remove_dir_all(&out);
}
