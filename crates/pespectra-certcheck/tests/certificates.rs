//! Every certificate in `proofs/certificates/` verifies, and tampered copies
//! of them are rejected with the right error class.

use std::path::{Path, PathBuf};

use num_rational::BigRational;
use pespectra_certcheck::inertia::inertia;
use pespectra_certcheck::matrix::CMat;
use pespectra_certcheck::scalar::parse_scalar;
use pespectra_certcheck::{exit_code, verify_file, verify_str, CertError, Verdict};
use serde_json::{json, Value};

fn cert_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs/certificates")
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(cert_dir().join(name)).expect("certificate present");
    serde_json::from_str(&text).expect("certificate is JSON")
}

fn check(v: &Value) -> Result<pespectra_certcheck::Report, CertError> {
    verify_str(&serde_json::to_string(v).unwrap())
}

#[track_caller]
fn assert_invalid(v: &Value, claim: Option<usize>) {
    match check(v) {
        Err(CertError::Invalid { claim: c, message }) => {
            assert_eq!(c, claim, "wrong failing claim ({message})")
        }
        other => panic!("expected Invalid at {claim:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_unreadable(v: &Value) {
    match check(v) {
        Err(e @ CertError::Unreadable(_)) => assert_eq!(e.exit_code(), 2),
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

/// Exact `p/q` string of a finite f64 (test helper, independent of the crate).
fn f64_exact(x: f64) -> String {
    assert!(x.is_finite());
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let e = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, exp) = if e == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, e - 1075)
    };
    let (mut m, mut exp) = (m as u128, exp);
    while m != 0 && m % 2 == 0 && exp < 0 {
        m /= 2;
        exp += 1;
    }
    let sign = if neg { "-" } else { "" };
    if exp >= 0 {
        format!("{sign}{}", num_bigint::BigInt::from(m) << exp as usize)
    } else {
        format!(
            "{sign}{m}/{}",
            num_bigint::BigInt::from(1u8) << (-exp) as usize
        )
    }
}

fn next_up(x: f64) -> f64 {
    f64::from_bits(x.to_bits() + 1) // x > 0
}

fn next_down(x: f64) -> f64 {
    f64::from_bits(x.to_bits() - 1) // x > 0
}

#[test]
fn every_certificate_in_proofs_verifies() {
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(cert_dir())
        .expect("proofs/certificates exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let result = verify_file(&path);
        match &result {
            Ok(r) => {
                assert!(r.claims_checked > 0, "{}: no claims", path.display());
                // the default work budget is meant to admit every real certificate with a
                // hundredfold reserve (issue 14)
                assert!(
                    r.work <= pespectra_certcheck::DEFAULT_MAX_WORK / 100,
                    "{}: estimated work {} is too close to the default budget",
                    path.display(),
                    r.work
                );
                println!(
                    "{}: {} {} margin {} work {}",
                    path.display(),
                    r.id,
                    r.verdict,
                    r.margin,
                    r.work
                );
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
        assert_eq!(exit_code(&result), 0);
        seen += 1;
    }
    assert!(
        seen > 0,
        "no certificates found in {}",
        cert_dir().display()
    );
}

#[test]
fn expected_verdicts_and_margins() {
    let r3 = verify_file(&cert_dir().join("R3.json")).unwrap();
    assert_eq!(
        (r3.verdict, r3.margin.to_string()),
        (Verdict::Fails, "4".into())
    );
    let r2 = verify_file(&cert_dir().join("R2.json")).unwrap();
    assert_eq!(
        (r2.verdict, r2.margin.to_string()),
        (Verdict::Fails, "1/2".into())
    );
    let t10 = verify_file(&cert_dir().join("T10-additive.json")).unwrap();
    assert_eq!(t10.verdict, Verdict::Fails);
    let t1 = verify_file(&cert_dir().join("T1.json")).unwrap();
    assert_eq!(
        (t1.verdict, t1.margin.to_string()),
        (Verdict::Holds, "0".into())
    );
    for name in ["T2.json", "T2-complex.json", "T8-D4.json", "T8-D16.json"] {
        let r = verify_file(&cert_dir().join(name)).unwrap();
        assert_eq!(r.verdict, Verdict::Holds, "{name}");
        assert!(r.margin > BigRational::from_integer(0.into()), "{name}");
    }
}

// ------------------------------------------------------------- bound moved

#[test]
fn exact_eigenvalue_bound_moved_one_ulp_is_rejected() {
    let base = load("R3.json");
    assert_eq!(base["claims"][2]["lo"], "6");
    // lo = next_up(6) = 6 + 2^-50: now two eigenvalues (-4 and 6) lie below lo.
    let mut v = base.clone();
    v["claims"][2]["lo"] = json!(f64_exact(next_up(6.0)));
    assert_eq!(v["claims"][2]["lo"], "6755399441055745/1125899906842624");
    assert_invalid(&v, Some(2));
    // hi = next_down(6): no eigenvalue of the top slot is <= hi.
    let mut v = base.clone();
    v["claims"][2]["hi"] = json!(f64_exact(next_down(6.0)));
    assert_invalid(&v, Some(2));
    // The same ulp as an exact decimal is equally rejected.
    let mut v = base.clone();
    v["claims"][2]["lo"] = json!("6.00000000000000088817841970012523233890533447265625");
    assert_invalid(&v, Some(2));
    // Moving bounds the *right* way (wider) keeps the claim true but the
    // FAILS margin no longer matches.
    let mut v = base.clone();
    v["claims"][2]["lo"] = json!(f64_exact(next_down(6.0)));
    assert_invalid(&v, None);
    // ... and with the margin recomputed, it is valid again.
    v["conclusion"]["margin"] = json!(f64_exact(next_down(6.0) - 2.0));
    check(&v).unwrap();
}

#[test]
fn t1_exact_spectrum_moved_one_ulp_is_rejected() {
    let base = load("T1.json");
    assert_eq!(base["claims"][8]["hi"], "3");
    let mut v = base.clone();
    v["claims"][8]["hi"] = json!(f64_exact(next_down(3.0)));
    assert_invalid(&v, Some(8));
    let mut v = base;
    v["claims"][10]["lo"] = json!(f64_exact(-next_down(2.0)));
    assert_invalid(&v, Some(10));
}

#[test]
fn enclosure_that_misses_the_eigenvalue_is_rejected() {
    // T2's top enclosure of A∘B, shifted wholesale above the eigenvalue.
    let mut v = load("T2.json");
    let hi = v["claims"][3]["hi"].as_str().unwrap().to_string();
    v["claims"][3]["lo"] = json!(hi.clone());
    v["claims"][3]["hi"] = json!(format!("{hi}1"));
    assert_invalid(&v, Some(3));
    // lo > hi is never true.
    let mut v = load("T2.json");
    v["claims"][4]["lo"] = json!("4");
    v["claims"][4]["hi"] = json!("3");
    assert_invalid(&v, Some(4));
}

// --------------------------------------------------------- changed entries

#[test]
fn changed_matrix_entry_is_rejected() {
    // B = [[1,5],[5,1]] -> [[1,4],[4,1]]: A∘B now has top eigenvalue 5.
    let mut v = load("R3.json");
    v["matrices"]["B"]["re"] = json!(["1", "4", "4", "1"]);
    assert_invalid(&v, Some(2));
    // A one-sided change breaks Hermitian symmetry: the inertia claim fails.
    let mut v = load("R3.json");
    v["matrices"]["B"]["re"][1] = json!("5.000000000000001");
    assert_invalid(&v, Some(1));
    // T2: an off-diagonal entry moved by one f64 ulp (symmetrically) leaves
    // every claim true (the 2^-40-wide enclosures still contain the moved
    // eigenvalues), so the certificate rightly stays valid for that input...
    let mut v = load("T2.json");
    let bumped = f64_exact(next_up(3.0));
    v["matrices"]["A"]["re"][5] = json!(bumped.clone());
    v["matrices"]["A"]["re"][7] = json!(bumped);
    check(&v).unwrap();
    // ... while a diagonal entry moved by one ulp breaks the exact trace claim.
    let mut v = load("T2.json");
    v["matrices"]["A"]["re"][0] = json!(f64_exact(next_up(2.0)));
    assert_invalid(&v, Some(7));
    // T1: change the imaginary part of one entry of X (keeping X Hermitian
    // would need two edits; one edit must already fail).
    let mut v = load("T1.json");
    let old = v["matrices"]["X"]["im"][1].as_str().unwrap().to_string();
    v["matrices"]["X"]["im"][1] = json!(format!("{old}1"));
    assert!(check(&v).unwrap_err().is_invalid());
    // T2-complex: change u1's last entry; B loses its unit diagonal.
    let mut v = load("T2-complex.json");
    v["matrices"]["u1"]["re"][3] = json!("1");
    assert!(check(&v).unwrap_err().is_invalid());
}

// ---------------------------------------------------- verdicts and margins

#[test]
fn swapped_verdict_is_rejected() {
    let mut v = load("R3.json");
    v["verdict"] = json!("HOLDS");
    assert_invalid(&v, None);
    // Even with the ends swapped to suit HOLDS, 6 <= 2 is false... and the
    // lhs hi end of [6,6] is 6, the rhs lo end of [2,2] is 2.
    v["conclusion"]["lhs"]["end"] = json!("hi");
    v["conclusion"]["rhs"]["end"] = json!("lo");
    v["conclusion"]["margin"] = json!("-4");
    assert_invalid(&v, None);
    let mut v = load("T2.json");
    v["verdict"] = json!("FAILS");
    assert_invalid(&v, None);
}

#[test]
fn wrong_margin_is_rejected() {
    for m in ["5", "-4", "3.9999999999999996", "4.000000000000001", "0"] {
        let mut v = load("R3.json");
        v["conclusion"]["margin"] = json!(m);
        assert_invalid(&v, None);
    }
    let mut v = load("R3.json");
    v["conclusion"]["margin"] = json!("8/2.0");
    assert_unreadable(&v);
    v["conclusion"]["margin"] = json!("16/4");
    check(&v).unwrap();
    // T2: the margin moved by 2^-60.
    let mut v = load("T2.json");
    let m = v["conclusion"]["margin"].as_str().unwrap().to_string();
    v["conclusion"]["margin"] = json!(format!("{m}"));
    check(&v).unwrap();
    let (p, q) = m.split_once('/').unwrap();
    let p: i128 = p.parse().unwrap();
    let q: i128 = q.parse().unwrap();
    v["conclusion"]["margin"] = json!(format!("{}/{}", p * (1 << 20) + 1, q * (1 << 20)));
    assert_invalid(&v, None);
}

#[test]
fn unsound_choice_of_enclosure_end_is_rejected() {
    // HOLDS lambda_max(C) <= lambda_max(A) argued with C's *lower* end.
    let mut v = load("T2.json");
    v["conclusion"]["lhs"]["end"] = json!("lo");
    assert_invalid(&v, None);
}

// ------------------------------------------------------------ false claims

#[test]
fn non_psd_claimed_psd_is_rejected() {
    let mut v = load("R3.json");
    v["claims"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "psd", "matrix": "B"}));
    assert_invalid(&v, Some(6));
    let mut v = load("R3.json");
    v["claims"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "pd", "matrix": "A"}));
    assert_invalid(&v, Some(6));
    // D_16 is indefinite.
    let mut v = load("T8-D16.json");
    v["claims"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"kind": "psd", "matrix": "D"}));
    assert_invalid(&v, Some(0));
}

#[test]
fn other_false_claims_are_rejected() {
    let cases = [
        json!({"kind": "inertia", "matrix": "B", "shift": "0", "neg": 0, "zero": 0, "pos": 2}),
        json!({"kind": "pd", "matrix": "C"}),
        json!({"kind": "hermitian", "matrix": "X"}),
        json!({"kind": "diagonal_bounds", "matrix": "B", "lo": "1.5", "hi": "2"}),
        json!({"kind": "trace", "matrix": "B", "value": "3"}),
        json!({"kind": "trace", "matrix": "B", "value": "2", "im": "1"}),
        json!({"kind": "entry", "matrix": "C", "row": 0, "col": 1, "re": "4"}),
        json!({"kind": "eigenvalue", "matrix": "C", "index": 2, "lo": "-3.99", "hi": "-3.9"}),
        json!({"kind": "eigenvalue", "matrix": "C", "index": 2, "lo": "-3.9", "hi": "0"}),
    ];
    for c in cases {
        let mut v = load("R3.json");
        v["matrices"]["X"] = json!({"rows": 2, "cols": 2, "re": ["0", "1", "2", "0"]});
        v["claims"].as_array_mut().unwrap().push(c.clone());
        match check(&v) {
            Err(CertError::Invalid { claim: Some(6), .. }) => {}
            other => panic!("{c}: {other:?}"),
        }
    }
    // True variants of the same kinds pass.
    let ok = [
        json!({"kind": "diagonal_bounds", "matrix": "B", "lo": "1", "hi": "1"}),
        json!({"kind": "trace", "matrix": "B", "value": "2"}),
        json!({"kind": "entry", "matrix": "C", "row": 1, "col": 0, "re": "5", "im": "0"}),
        json!({"kind": "eigenvalue", "matrix": "C", "index": 2, "lo": "-4.5", "hi": "-3.9"}),
        json!({"kind": "inertia", "matrix": "C", "shift": "6", "neg": 1, "zero": 1, "pos": 0}),
        json!({"kind": "hermitian", "matrix": "C"}),
    ];
    for c in ok {
        let mut v = load("R3.json");
        v["claims"].as_array_mut().unwrap().push(c.clone());
        check(&v).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
}

#[test]
fn eigenvalue_claim_on_non_hermitian_matrix_is_invalid() {
    // R2's A is not symmetric: an eigenvalue claim on it is invalid even
    // though its eigenvalues (3/2, 1/2) are real.
    let mut v = load("R2.json");
    v["claims"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "eigenvalue", "matrix": "A", "index": 1, "lo": "1.5", "hi": "1.5"}));
    let err = check(&v).unwrap_err();
    assert!(
        matches!(
            err,
            CertError::Invalid {
                claim: Some(11),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("not Hermitian"), "{err}");
}

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
fn schema_violations_are_unreadable() {
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
fn size_limits_are_unreadable() {
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
fn all_derived_ops_and_complex_values_roundtrip() {
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
fn hermitian_complex_32x32_inertia_is_fast_and_matches_real_embedding() {
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
