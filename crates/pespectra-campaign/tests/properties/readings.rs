//! The false readings (R1, R3, R2/R4–R6): counterexamples found, shrunk, stored and certified.

use super::failures::{persisted, write_failure};
use super::generators::dot;
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, EigOptions};
use pespectra_theorems::certificate::{self as cert, Bound, Certificate, Claim, End, Op, Rel};
use pespectra_theorems::{run, Params, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

/// Runs a false reading as a property and returns proptest's minimal counterexample; panics if
/// none was found.
pub(super) fn find_counterexample<S: Strategy>(
    what: &str,
    cases: u32,
    strategy: S,
    reading: impl Fn(&S::Value) -> Result<(), TestCaseError>,
) -> S::Value
where
    S::Value: std::fmt::Debug,
{
    // Expected failures must not be persisted as regressions: no failure file.
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    match TestRunner::new(config).run(&strategy, |v| reading(&v)) {
        Err(TestError::Fail(_, minimal)) => minimal,
        other => panic!("{what}: no counterexample found ({other:?})"),
    }
}

pub(super) fn eig(m: &CMat) -> Vec<Interval> {
    eigenvalues(
        &HermitianInput::new(m.clone()).unwrap(),
        &EigOptions::default(),
    )
    .unwrap()
    .values
    .iter()
    .map(|v| Interval::new(v.lo_f64(), v.hi_f64()).unwrap())
    .collect()
}

/// R3 reading: "any unit-diagonal Toeplitz kernel contracts", spec(A∘B) ⊂ [λmin(A), λmax(A)].
/// Over A = 11ᵀ or a content Gram matrix and B unit-diagonal integer Toeplitz kernels, proptest
/// must find a certified violation; the shrunk one is written as a certificate and re-verified
/// independently.
/// A = 11ᵀ or a small content Gram matrix, B a unit-diagonal integer Toeplitz kernel (often not
/// PSD), n ≤ 6: exact small integers everywhere.
pub(super) fn r3_pairs() -> impl Strategy<Value = (Mat<f64>, Mat<f64>)> {
    (2usize..=6).prop_flat_map(|n| {
        (
            prop::collection::vec(-6i32..=6, n - 1),
            prop::collection::vec(-3i32..=3, n * 2),
            any::<bool>(),
        )
            .prop_map(move |(t, x, ones)| {
                let t: Vec<f64> = std::iter::once(1.0)
                    .chain(t.iter().map(|&v| v as f64))
                    .collect();
                let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
                let a = Mat::from_fn(n, n, |i, j| if ones { 1.0 } else { dot(&x, &x, 2, i, j) });
                (a, Mat::from_fn(n, n, |i, j| t[i.abs_diff(j)]))
            })
    })
}

/// Certified amounts by which spec(A∘B) leaves [λmin(A), λmax(A)] at the top and the bottom
/// (> 0: certified violation), and the enclosures of λ(A), λ(B), λ(A∘B).
pub(super) type R3Check = (f64, f64, Vec<Interval>, Vec<Interval>, Vec<Interval>);

pub(super) fn r3_violation((a, b): &(Mat<f64>, Mat<f64>)) -> R3Check {
    let n = a.nrows();
    let c = Mat::from_fn(n, n, |i, j| a[(i, j)] * b[(i, j)]); // small integers: exact
    let (ea, eb, ec) = (
        eig(&CMat::real(a.clone())),
        eig(&CMat::real(b.clone())),
        eig(&CMat::real(c)),
    );
    let top = (ec[0] - ea[0]).lo();
    let bottom = (ea[n - 1] - ec[n - 1]).lo();
    (top, bottom, ea, eb, ec)
}

/// The reading "spec(A∘B) ⊂ [λmin(A), λmax(A)]" as a property (false without PSD).
pub(super) fn r3_reading(ab: &(Mat<f64>, Mat<f64>)) -> Result<(), TestCaseError> {
    let (top, bottom, ..) = r3_violation(ab);
    if top > 0.0 || bottom > 0.0 {
        Err(TestCaseError::fail(
            "spectrum of A∘B leaves [λmin(A), λmax(A)]",
        ))
    } else {
        Ok(())
    }
}

/// The failure pipeline of the T* properties, on a property that is false on purpose (T3
/// without its PSD hypothesis): proptest shrinks the failure and stores its seed in the
/// regression file, and the minimal case's certificate is accepted by the independent checker
/// as a certified FAILS.
#[test]
pub(super) fn failures_are_shrunk_stored_and_certified() {
    let dir = std::env::temp_dir().join(format!("pespectra-regressions-{}", std::process::id()));
    let file: &'static str = Box::leak(
        dir.join("false-t3.txt")
            .display()
            .to_string()
            .into_boxed_str(),
    );
    let result = TestRunner::new(persisted(256, file)).run(&r3_pairs(), |ab| r3_reading(&ab));
    let Err(TestError::Fail(_, (a, b))) = result else {
        panic!("the false property was not refuted: {result:?}")
    };
    let stored = std::fs::read_to_string(file).unwrap();
    assert!(
        stored.lines().any(|l| l.starts_with("cc ")),
        "no seed stored in {file}: {stored}"
    );
    for id in ["T2", "T3"] {
        let (path, verdict) = write_failure(
            id,
            &CMat::real(a.clone()),
            Some(&CMat::real(b.clone())),
            &dir,
        );
        assert_eq!(
            verdict,
            Ok(pespectra_certcheck::Verdict::Fails),
            "{}",
            path.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
pub(super) fn r3_non_psd_toeplitz_kernels_expand_the_spectrum() {
    let minimal = find_counterexample("R3", 256, r3_pairs(), r3_reading);
    let (a, b) = &minimal;
    let n = a.nrows();
    let (top, _, ea, eb, ec) = r3_violation(&minimal);
    assert!(
        n <= 3,
        "shrinking should reach a tiny kernel, got n = {n}: {b:?}"
    );
    let mut c = Certificate::new(
        "R3",
        "FALSE reading: every unit-diagonal Toeplitz kernel contracts (proptest's minimal counterexample)",
        Verdict::Fails,
    );
    c.matrix("A", cert::real_matrix(a))
        .matrix("B", cert::real_matrix(b));
    c.derive("C", Op::Hadamard, &["A", "B"]);
    c.claim(Claim::unit_diagonal("B"));
    let (above, below, margin) = if top > 0.0 {
        let above = c.claim(Claim::eigenvalue("C", 1, ec[0]));
        let below = c.claim(Claim::eigenvalue("A", 1, ea[0]));
        (above, below, cert::margin(ec[0].lo(), ea[0].hi()))
    } else {
        let above = c.claim(Claim::eigenvalue("A", n, ea[n - 1]));
        let below = c.claim(Claim::eigenvalue("C", n, ec[n - 1]));
        (above, below, cert::margin(ea[n - 1].lo(), ec[n - 1].hi()))
    };
    let doc = c
        .finish(
            Bound::Claim(above, End::Lo),
            Rel::Le,
            Bound::Claim(below, End::Hi),
            margin,
        )
        .unwrap();
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let path = std::env::temp_dir().join(format!(
        "pespectra-proptest-R3-{}.cert.json",
        std::process::id()
    ));
    std::fs::write(&path, &text).unwrap();
    let report = pespectra_certcheck::verify_file(&path).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(report.verdict, pespectra_certcheck::Verdict::Fails);
    // B is indeed not PSD (the hypothesis R3 drops)
    assert!(eb[n - 1].hi() < 0.0);
    eprintln!(
        "R3 minimal counterexample: A = {a:?}, B = {b:?}, certificate {}",
        path.display()
    );
}

/// R1 reading: "RoPE lowers λmax compared with NoPE" — over seeds of the built-in phase-aligned
/// instances, proptest must find (and shrink) a seed where `run("R1")` certifies the opposite,
/// and the check's certificate must pass the independent checker.
#[test]
pub(super) fn r1_phase_aligned_content_raises_the_top_eigenvalue() {
    let seed = find_counterexample("R1", 16, any::<u64>(), |&seed| {
        let r =
            run("R1", &Params::new(seed, 16)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if r.verdict == Verdict::Fails {
            Err(TestCaseError::fail(r.detail))
        } else {
            Ok(())
        }
    });
    let r = run("R1", &Params::new(seed, 16).with_certificates()).unwrap();
    assert_eq!(r.verdict, Verdict::Fails);
    let text = serde_json::to_string(r.certificate.as_ref().expect("R1 certificate")).unwrap();
    let path = std::env::temp_dir().join(format!(
        "pespectra-proptest-R1-{}.cert.json",
        std::process::id()
    ));
    std::fs::write(&path, &text).unwrap();
    let report = pespectra_certcheck::verify_file(&path).unwrap();
    assert_eq!(report.verdict, pespectra_certcheck::Verdict::Fails);
    eprintln!("R1 minimal seed {seed}: certificate {}", path.display());
}

/// R2, R4, R5, R6 (decided in exact rational arithmetic) as properties over seeds: proptest must
/// find a seed whose instance refutes the reading, and the shrunk seed must reproduce it with a
/// certificate that the independent checker accepts as FAILS (R2: ρ(A) bounded by ‖V⁻¹AV‖₂;
/// R4/R6: a non-zero difference matrix through its Jordan–Wielandt top eigenvalue; R5: a zero
/// diagonal difference of two triangular matrices).
#[test]
pub(super) fn exact_readings_are_refuted() {
    for id in ["R2", "R4", "R5", "R6"] {
        let fails = |seed: u64| {
            run(id, &Params::new(seed, 8)).map(|r| (r.verdict == Verdict::Fails, r.detail))
        };
        let seed = find_counterexample(id, 16, any::<u64>(), |&seed| {
            match fails(seed).map_err(|e| TestCaseError::fail(e.to_string()))? {
                (true, detail) => Err(TestCaseError::fail(detail)),
                (false, _) => Ok(()),
            }
        });
        let r = run(id, &Params::new(seed, 8).with_certificates()).unwrap();
        assert_eq!(
            r.verdict,
            Verdict::Fails,
            "{id}: shrunk seed {seed} no longer refutes"
        );
        let text = serde_json::to_string(r.certificate.as_ref().expect("certificate")).unwrap();
        let path = std::env::temp_dir().join(format!(
            "pespectra-proptest-{id}-{}.cert.json",
            std::process::id()
        ));
        std::fs::write(&path, &text).unwrap();
        let report = pespectra_certcheck::verify_file(&path)
            .unwrap_or_else(|e| panic!("{id} seed {seed}: certificate refused: {e}"));
        assert_eq!(report.verdict, pespectra_certcheck::Verdict::Fails, "{id}");
        eprintln!("{id} minimal seed {seed}: certificate {}", path.display());
    }
}
