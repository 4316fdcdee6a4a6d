//! Every certificate in `proofs/certificates/` verifies, and tampered copies
//! of them are rejected with the right error class.

mod reading;
mod tampered;

use num_rational::BigRational;
use pespectra_certcheck::{exit_code, verify_file, verify_str, CertError, Verdict};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
