//! Certificates written by the producer are re-verified by the independent exact checker
//! (`pespectra-certcheck`, which shares no numeric code with this crate), and a tampered one is
//! refused.

use pespectra_theorems::{run, Params, Verdict};

#[test]
fn produced_certificates_verify_independently() {
    for id in ["T2", "T8", "R1", "R2", "R3", "R4", "R5", "R6"] {
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
    for id in ["T2", "T8", "R1", "R2", "R3", "R4", "R5", "R6"] {
        assert!(run(id, &Params::new(3, 10)).unwrap().certificate.is_none());
    }
}

/// Edits that make each false reading *true* on the edited instance: the checker must refuse
/// the certificate (it cannot be a counterexample any more), whatever the producer claimed.
#[test]
fn r_certificates_refused_once_the_reading_becomes_true() {
    let cert = |id: &str| {
        run(id, &Params::new(42, 8).with_certificates())
            .unwrap()
            .certificate
            .unwrap_or_else(|| panic!("{id}: no certificate"))
    };
    let refused = |id: &str, c: &serde_json::Value, what: &str| {
        assert!(
            pespectra_certcheck::verify_str(&c.to_string()).is_err(),
            "{id}: accepted after {what}"
        );
    };
    // R2: a symmetric A has ρ(A) = ‖A‖₂ ≥ max |a_ii| = ρ(A∘I)
    let mut c = cert("R2");
    c["matrices"]["A"]["re"][2] = c["matrices"]["A"]["re"][1].clone();
    refused("R2", &c, "symmetrising A");
    // R4: both frequencies at the same angle ⇒ L = Re(C∘ΣE)/F exactly
    let mut c = cert("R4");
    c["matrices"]["W1"] = c["matrices"]["W0"].clone();
    refused("R4", &c, "equal angles");
    // R5: θ = 0 (all-ones phases) ⇒ the RoPE logits are the NoPE logits
    let mut c = cert("R5");
    for w in ["W0", "W1"] {
        let len = c["matrices"][w]["re"].as_array().unwrap().len();
        c["matrices"][w]["re"] = serde_json::json!(vec!["1"; len]);
        c["matrices"][w]["im"] = serde_json::Value::Null;
    }
    refused("R5", &c, "zero angles");
    // R6: W = I ⇒ P W Pᵀ = P Pᵀ, which is Toeplitz
    let mut c = cert("R6");
    let d = c["matrices"]["W"]["rows"].as_u64().unwrap() as usize;
    let eye: Vec<&str> = (0..d * d)
        .map(|t| if t / d == t % d { "1" } else { "0" })
        .collect();
    c["matrices"]["W"]["re"] = serde_json::json!(eye);
    refused("R6", &c, "W = I");
}

/// D₂ attains both T8 bounds (λmax = 1 = (n² − 1)/3 = n(n − 1)/2): no floating-point margin
/// exists, so the check decides it in exact arithmetic and its certificate states the exact
/// bounds, which the checker accepts; shifting a bound by 1/10⁹ makes it refuse.
#[test]
fn t8_equality_case_is_decided_exactly_and_certified() {
    let r = run("T8", &Params::new(1, 2).with_certificates()).unwrap();
    assert_eq!(
        (r.verdict, r.margin),
        (Verdict::Holds, Some(0.0)),
        "{}",
        r.detail
    );
    let cert = r.certificate.expect("certificate");
    let report = pespectra_certcheck::verify_str(&cert.to_string()).unwrap();
    assert_eq!(report.verdict, pespectra_certcheck::Verdict::Holds);
    for (end, value) in [
        ("lo", "1000000001/1000000000"),
        ("hi", "999999999/1000000000"),
    ] {
        let mut bad = cert.clone();
        bad["claims"][1][end] = value.into();
        assert!(
            pespectra_certcheck::verify_str(&bad.to_string()).is_err(),
            "{end} = {value} accepted"
        );
    }
}
