//! Certificates written by the producer are re-verified by the independent exact checker
//! (`pespectra-certcheck`, which shares no numeric code with this crate), and a tampered one is
//! refused.

use pespectra_theorems::{run, Params, Verdict};

#[test]
fn produced_certificates_verify_independently() {
    for id in ["T2", "T8", "R1", "R3"] {
        let r = run(id, &Params::new(42, 12).with_certificates()).unwrap();
        let cert = r
            .certificate
            .unwrap_or_else(|| panic!("{id}: no certificate at n = 12"));
        let report = pespectra_certcheck::verify_str(&cert.to_string())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let expected = if r.verdict == Verdict::Holds {
            "HOLDS"
        } else {
            "FAILS"
        };
        assert_eq!(
            format!("{:?}", report.verdict).to_uppercase(),
            expected,
            "{id}"
        );
    }
}

#[test]
fn tampered_produced_certificate_is_refused() {
    let r = run("T2", &Params::new(3, 10).with_certificates()).unwrap();
    let mut cert = r.certificate.unwrap();
    // collapse the enclosure of λmax(A∘B) (claim 2) onto its lower end
    let lo = cert["claims"][2]["lo"].clone();
    cert["claims"][2]["hi"] = lo;
    let tightened = pespectra_certcheck::verify_str(&cert.to_string());
    assert!(
        tightened.is_err(),
        "a collapsed enclosure of an irrational eigenvalue must be refused"
    );
    // no certificate beyond the size limit, nor unless asked for
    assert!(run("T2", &Params::new(3, 40).with_certificates())
        .unwrap()
        .certificate
        .is_none());
    for id in ["T2", "T8", "R1", "R3"] {
        assert!(run(id, &Params::new(3, 10)).unwrap().certificate.is_none());
    }
}
