//! Certificates edited by a hair (an enclosure end moved one ulp, an entry, the verdict, the
//! margin, a hypothesis) must be refused as INVALID.

use super::{assert_invalid, assert_unreadable, check, f64_exact, load, next_down, next_up};
use pespectra_certcheck::CertError;
use serde_json::json;

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
pub(super) fn t1_exact_spectrum_moved_one_ulp_is_rejected() {
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
pub(super) fn enclosure_that_misses_the_eigenvalue_is_rejected() {
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
pub(super) fn wrong_margin_is_rejected() {
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
pub(super) fn unsound_choice_of_enclosure_end_is_rejected() {
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
pub(super) fn other_false_claims_are_rejected() {
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
pub(super) fn eigenvalue_claim_on_non_hermitian_matrix_is_invalid() {
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
