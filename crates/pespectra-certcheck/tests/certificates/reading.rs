//! What the reader refuses as UNREADABLE (garbage, truncation, schema violations, size limits),
//! and what it must read right (every derived op, complex values, a 32 × 32 complex inertia).

use super::{assert_invalid, assert_unreadable, cert_dir, check, f64_exact, load};
use num_rational::BigRational;
use pespectra_certcheck::inertia::inertia;
use pespectra_certcheck::matrix::CMat;
use pespectra_certcheck::scalar::parse_scalar;
use pespectra_certcheck::{verify_file, verify_str, CertError};
use serde_json::{json, Value};
use std::path::Path;

// -------------------------------------------------------------- unreadable

#[test]
fn garbage_and_truncated_json_is_unreadable() {
    for text in [
        "",
        "{",
        "null",
        "[]",
        "{\"format\": 1}",
        "not json",
        "\u{0}\u{1}",
    ] {
        let e = verify_str(text).unwrap_err();
        assert!(e.is_unreadable(), "{text:?}: {e}");
    }
    let text = std::fs::read_to_string(cert_dir().join("R3.json")).unwrap();
    // Every proper prefix is unreadable (none of them panics).
    for cut in 0..text.trim_end().len() {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let e = verify_str(&text[..cut]).unwrap_err();
        assert!(e.is_unreadable(), "prefix {cut}: {e}");
    }
    // Duplicate keys: which one wins differs between JSON readers.
    let dup_matrix = text.replacen(
        "\"B\": {",
        "\"B\": {\"rows\": 1, \"cols\": 1, \"re\": [\"1\"]},\n  \"B\": {",
        1,
    );
    assert!(dup_matrix.len() > text.len());
    assert!(verify_str(&dup_matrix).unwrap_err().is_unreadable());
    let dup_field = text.replacen(
        "\"verdict\": \"FAILS\",",
        "\"verdict\": \"HOLDS\", \"verdict\": \"FAILS\",",
        1,
    );
    assert!(verify_str(&dup_field).unwrap_err().is_unreadable());
    let dup_claim_field = text.replacen("\"lo\": \"6\",", "\"lo\": \"7\", \"lo\": \"6\",", 1);
    assert!(dup_claim_field.len() > text.len());
    assert!(verify_str(&dup_claim_field).unwrap_err().is_unreadable());
    let missing = verify_file(Path::new("/nonexistent/cert.json")).unwrap_err();
    assert_eq!(missing.exit_code(), 2);
}

#[test]
pub(super) fn schema_violations_are_unreadable() {
    let base = load("R3.json");
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<Edit> = vec![
        Box::new(|v| v["format"] = json!("pespectra-certificate/2")),
        Box::new(|v| v["verdict"] = json!("INCONCLUSIVE")),
        Box::new(|v| v["extra"] = json!(1)),
        Box::new(|v| v["claims"][0]["kind"] = json!("spectral_norm")),
        Box::new(|v| v["claims"][0]["matrix"] = json!("Nope")),
        Box::new(|v| v["claims"][0]["typo"] = json!("x")),
        Box::new(|v| v["claims"][2]["index"] = json!(0)),
        Box::new(|v| v["claims"][2]["index"] = json!(3)),
        Box::new(|v| v["claims"][2]["index"] = json!(-1)),
        Box::new(|v| v["claims"][2]["lo"] = json!(6)),
        Box::new(|v| v["claims"][2]["lo"] = json!("6.0.0")),
        Box::new(|v| v["claims"][2]["lo"] = json!("1e999999")),
        Box::new(|v| v["matrices"]["A"]["rows"] = json!(3)),
        Box::new(|v| v["matrices"]["A"]["rows"] = json!(0)),
        Box::new(|v| v["matrices"]["A"]["im"] = json!(["0"])),
        Box::new(|v| v["matrices"]["A"]["re"][0] = json!("one")),
        Box::new(|v| v["matrices"]["A"]["re"][0] = json!("1/0")),
        Box::new(|v| v["derived"][0]["op"] = json!("kron")),
        Box::new(|v| v["derived"][0]["args"] = json!(["A"])),
        Box::new(|v| v["derived"][0]["args"] = json!(["A", "Z"])),
        Box::new(|v| v["derived"][0]["name"] = json!("A")),
        Box::new(|v| v["derived"][0]["scalar"] = json!("2")),
        Box::new(|v| v["conclusion"]["rel"] = json!("ge")),
        Box::new(|v| v["conclusion"]["lhs"] = json!({"claim": 0, "end": "lo"})),
        Box::new(|v| v["conclusion"]["lhs"] = json!({"claim": 99, "end": "lo"})),
        Box::new(|v| v["conclusion"]["lhs"]["end"] = json!("mid")),
        Box::new(|v| v["conclusion"]["lhs"] = json!({"value": "1", "claim": 2})),
        Box::new(|v| {
            v["matrices"]["X"] = json!({"rows": 2, "cols": 3, "re": ["1","2","3","4","5","6"]});
            v["claims"][0]["matrix"] = json!("X");
        }),
    ];
    for (k, edit) in edits.iter().enumerate() {
        let mut v = base.clone();
        edit(&mut v);
        match check(&v) {
            Err(CertError::Unreadable(_)) => {}
            other => panic!("edit {k}: expected Unreadable, got {other:?}"),
        }
    }
}

#[test]
pub(super) fn size_limits_are_unreadable() {
    let mut v = load("R3.json");
    v["matrices"]["A"] = json!({"rows": 257, "cols": 1, "re": vec!["0"; 257]});
    assert_unreadable(&v);
    let mut v = load("R3.json");
    v["claims"] = json!(vec![json!({"kind": "hermitian", "matrix": "A"}); 10_001]);
    assert_unreadable(&v);
    let mut v = load("R3.json");
    v["matrices"]["A"]["re"][0] = json!("9".repeat(100_001));
    assert_unreadable(&v);
    // jordan_wielandt of a 200x200 matrix would be 400x400.
    let mut v = load("R3.json");
    v["matrices"]["Big"] = json!({"rows": 200, "cols": 200, "re": vec!["0"; 40_000]});
    v["derived"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "J", "op": "jordan_wielandt", "args": ["Big"]}));
    assert_unreadable(&v);
    // Repeated squaring of a 1x1 matrix with a large entry: refused by the
    // per-entry bit cap long before it exhausts memory.
    let mut v = load("R3.json");
    v["matrices"]["S"] = json!({"rows": 1, "cols": 1, "re": ["3e999"]});
    let mut prev = "S".to_string();
    for k in 0..40 {
        let name = format!("S{k}");
        v["derived"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": name, "op": "matmul", "args": [prev, prev]}));
        prev = name;
    }
    assert_unreadable(&v);
}

#[test]
pub(super) fn all_derived_ops_and_complex_values_roundtrip() {
    // A hand-checkable certificate using every op once.
    let v = json!({
        "format": "pespectra-certificate/1", "id": "ops", "statement": "ops", "verdict": "HOLDS",
        "matrices": {
            "X": {"rows": 2, "cols": 2, "re": ["1", "2", "3", "4"], "im": ["0", "1", "-1", "0"]},
            "Y": {"rows": 2, "cols": 2, "re": ["1", "0", "0", "1"], "im": null}
        },
        "derived": [
            {"name": "H", "op": "hadamard", "args": ["X", "Y"]},
            {"name": "S", "op": "add", "args": ["X", "Y"]},
            {"name": "D", "op": "sub", "args": ["S", "Y"]},
            {"name": "M", "op": "matmul", "args": ["X", "Y"]},
            {"name": "XH", "op": "adjoint", "args": ["X"]},
            {"name": "R", "op": "real_part", "args": ["X"]},
            {"name": "HP", "op": "hermitian_part", "args": ["X"]},
            {"name": "K", "op": "scale", "args": ["X"], "scalar": "-1/2"},
            {"name": "J", "op": "jordan_wielandt", "args": ["Y"]},
            {"name": "L", "op": "mask_lower", "args": ["X"]}
        ],
        "claims": [
            {"kind": "trace", "matrix": "H", "value": "5"},
            {"kind": "entry", "matrix": "D", "row": 0, "col": 1, "re": "2", "im": "1"},
            {"kind": "entry", "matrix": "M", "row": 1, "col": 0, "re": "3", "im": "-1"},
            {"kind": "entry", "matrix": "XH", "row": 1, "col": 0, "re": "2", "im": "-1"},
            {"kind": "entry", "matrix": "R", "row": 0, "col": 1, "re": "2", "im": "0"},
            {"kind": "entry", "matrix": "HP", "row": 0, "col": 1, "re": "5/2", "im": "1"},
            {"kind": "hermitian", "matrix": "HP"},
            {"kind": "entry", "matrix": "K", "row": 1, "col": 1, "re": "-2"},
            {"kind": "inertia", "matrix": "J", "shift": "0", "neg": 2, "zero": 0, "pos": 2},
            {"kind": "eigenvalue", "matrix": "J", "index": 1, "lo": "1", "hi": "1"},
            {"kind": "entry", "matrix": "L", "row": 0, "col": 1, "re": "0", "im": "0"},
            {"kind": "entry", "matrix": "L", "row": 1, "col": 0, "re": "3", "im": "-1"},
            {"kind": "diagonal_bounds", "matrix": "HP", "lo": "1", "hi": "4"}
        ],
        "conclusion": {"lhs": {"value": "1/3"}, "rel": "lt", "rhs": {"claim": 9, "end": "lo"}, "margin": "2/3"}
    });
    let r = check(&v).unwrap();
    assert_eq!(r.claims_checked, 13);
    assert_eq!(r.claim_summaries.len(), 13);
    // FAILS with lt: lhs >= rhs is the refutation, margin may be zero.
    let mut w = v.clone();
    w["verdict"] = json!("FAILS");
    w["conclusion"] = json!({"lhs": {"value": "1"}, "rel": "lt", "rhs": {"claim": 9, "end": "hi"}, "margin": "0"});
    check(&w).unwrap();
    w["conclusion"]["rel"] = json!("le");
    assert_invalid(&w, None);
}

#[test]
pub(super) fn hermitian_complex_32x32_inertia_is_fast_and_matches_real_embedding() {
    // Deterministic "f64-like" dyadic entries: 53-bit mantissas, mixed scales.
    let n = 32;
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let m = (state >> 11) as i64 - (1i64 << 52);
        let e = (state % 8) as i32;
        (m as f64) * 2f64.powi(-52 - e)
    };
    let mut re = vec![0.0f64; n * n];
    let mut im = vec![0.0f64; n * n];
    for i in 0..n {
        re[i * n + i] = next();
        for j in i + 1..n {
            let (a, b) = (next(), next());
            re[i * n + j] = a;
            re[j * n + i] = a;
            im[i * n + j] = b;
            im[j * n + i] = -b;
        }
    }
    let strs = |v: &[f64]| v.iter().map(|&x| f64_exact(x)).collect::<Vec<_>>();
    // Real symmetric embedding [[Re, -Im], [Im, Re]].
    let m = 2 * n;
    let mut emb = vec![0.0f64; m * m];
    for i in 0..n {
        for j in 0..n {
            emb[i * m + j] = re[i * n + j];
            emb[(i + n) * m + (j + n)] = re[i * n + j];
            emb[i * m + (j + n)] = -im[i * n + j];
            emb[(i + n) * m + j] = im[i * n + j];
        }
    }
    let v = json!({
        "format": "pespectra-certificate/1", "id": "perf", "statement": "perf", "verdict": "HOLDS",
        "matrices": {
            "H": {"rows": n, "cols": n, "re": strs(&re), "im": strs(&im)},
            "E": {"rows": m, "cols": m, "re": strs(&emb), "im": null}
        },
        "claims": [ {"kind": "hermitian", "matrix": "H"} ],
        "conclusion": {"lhs": {"value": "0"}, "rel": "le", "rhs": {"value": "0"}, "margin": "0"}
    });
    check(&v).unwrap();
    // Inertia at 0 of H (complex path) must be half that of the embedding.
    let parse = |v: &[f64]| -> Vec<BigRational> {
        v.iter()
            .map(|&x| parse_scalar(&f64_exact(x)).unwrap())
            .collect()
    };
    let h = CMat::new(n, n, parse(&re), Some(parse(&im)));
    let e = CMat::new(m, m, parse(&emb), None);
    let zero = BigRational::from_integer(0.into());
    let t = std::time::Instant::now();
    let ih = inertia(&h, &zero);
    let t_complex = t.elapsed();
    let t = std::time::Instant::now();
    let ie = inertia(&e, &zero);
    let t_embed = t.elapsed();
    println!("complex 32x32 inertia {t_complex:?}, real 64x64 embedding {t_embed:?}: {ih:?}");
    assert_eq!(
        (2 * ih.neg, 2 * ih.zero, 2 * ih.pos),
        (ie.neg, ie.zero, ie.pos)
    );
    assert_eq!(ih.neg + ih.zero + ih.pos, n);
    // Shifted to a point with eigenvalues on both sides, through a claim.
    let shift = "1/3";
    let is = inertia(&h, &parse_scalar(shift).unwrap());
    let mut w = v.clone();
    w["claims"] = json!([{"kind": "inertia", "matrix": "H", "shift": shift, "neg": is.neg, "zero": is.zero, "pos": is.pos}]);
    check(&w).unwrap();
    w["claims"][0]["neg"] = json!(is.neg + 1);
    assert_invalid(&w, Some(0));
}
