//! What happens to a failing case: proptest's persisted regressions, the certificate of a
//! minimal T2–T5 failure re-decided by the independent checker, and the runner every theorem
//! property shares.

use super::generators::Gen;
use super::WELL_HOLDS;
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;
use pespectra_spectra::{eigenvalues, EigOptions};
use pespectra_theorems::certificate::{self as cert, Bound, Certificate, Claim, End, Op, Rel};
use pespectra_theorems::{run_on, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::Value;
use std::cell::Cell;
use std::path::{Path, PathBuf};

/// The committed regression file of the T* properties (proptest replays its seeds first).
pub(super) const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/properties.txt"
);

/// `cases` random cases whose shrunk failures are persisted to `regressions`.
pub(super) fn persisted(cases: u32, regressions: &'static str) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

/// Verified eigenvalue enclosures (decreasing) of every Hermitian matrix in a ball.
pub(super) fn eig_ball(b: &Ball) -> Vec<Interval> {
    let h = b.hermitian_input().unwrap();
    eigenvalues(&h, &EigOptions::default())
        .unwrap()
        .values
        .iter()
        .map(|v| Interval::new(v.lo_f64(), v.hi_f64()).unwrap())
        .collect()
}

/// The real matrix with every entry `x` (exact).
pub(super) fn constant(n: usize, x: f64) -> Ball {
    Ball::exact(CMat::real(Mat::from_fn(n, n, |_, _| x)))
}

/// Finishes `c`, a `FAILS` certificate of a reading broken at an extreme eigenvalue (or
/// singular value): `big ≥ small` is claimed for the top (`top`) or bottom eigenvalues of two
/// of its matrices, and enclosures show the opposite; `balls` gives enclosures of `small` and
/// `big`.
pub(super) fn extreme_certificate(
    mut c: Certificate,
    (small, small_ball): (&str, &Ball),
    (big, big_ball): (&str, &Ball),
    top: bool,
) -> Value {
    let (es, eb) = (eig_ball(small_ball), eig_ball(big_ball));
    let n = es.len();
    let k = if top { 1 } else { n };
    let (s, b) = (es[k - 1], eb[k - 1]);
    // top: "λ1(small) ≤ λ1(big)" is the reading; bottom: "λn(big) ≤ λn(small)"
    let (lhs, rhs, margin) = if top {
        let lhs = c.claim(Claim::eigenvalue(small, k, s));
        let rhs = c.claim(Claim::eigenvalue(big, k, b));
        (lhs, rhs, cert::margin(s.lo(), b.hi()))
    } else {
        let lhs = c.claim(Claim::eigenvalue(big, k, b));
        let rhs = c.claim(Claim::eigenvalue(small, k, s));
        (lhs, rhs, cert::margin(b.lo(), s.hi()))
    };
    c.finish(
        Bound::Claim(lhs, End::Lo),
        Rel::Le,
        Bound::Claim(rhs, End::Hi),
        margin,
    )
    .unwrap()
}

/// The certificate of a T2–T5 failure on (A, B), at whichever extreme end is violated
/// (majorization violations at an intermediate partial sum cannot be written in
/// `pespectra-certificate/1`; their top-end certificate is then refused by the checker).
pub(super) fn failure_certificate(id: &str, a: &CMat, b: Option<&CMat>) -> Value {
    let n = a.nrows();
    let ab = Ball::exact(a.clone());
    let document = |statement: &str| {
        let mut c = Certificate::new(id, statement, Verdict::Fails);
        c.matrix("A", cert::cmat_matrix(a));
        if let Some(b) = b {
            c.matrix("B", cert::cmat_matrix(b));
        }
        c
    };
    match (id, b) {
        ("T5", _) => {
            let re = ab.real_part();
            let top = eig_ball(&re)[0].lo() > eig_ball(&ab)[0].hi();
            let mut c = document("FALSE (T5 broken): lambda(Re H) majorized by lambda(H)");
            c.derive("R", Op::RealPart, &["A"]);
            extreme_certificate(c, ("R", &re), ("A", &ab), top)
        }
        (_, Some(b)) => {
            let bb = Ball::exact(b.clone());
            let c = ab.hadamard(&bb);
            let diag: Vec<f64> = (0..n).map(|i| b.re[(i, i)]).collect();
            let (bmin, bmax) = diag
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                    (l.min(x), h.max(x))
                });
            let scaled = |beta: f64| ab.hadamard(&constant(n, beta));
            let scale = |beta: f64| Op::Scale(cert::f64_scalar(beta));
            match id {
                "T4" => {
                    let jw = |m: &Ball| {
                        let h = pespectra_spectra::jordan_wielandt(&m.center);
                        let r = &m.radius;
                        Ball {
                            center: h.center,
                            radius: Mat::from_fn(2 * n, 2 * n, |i, j| match (i < n, j < n) {
                                (true, false) => r[(i, j - n)],
                                (false, true) => r[(j, i - n)],
                                _ => 0.0,
                            }),
                        }
                    };
                    let mut doc =
                        document("FALSE (T4 broken): sigma_1(A o B) <= max b_ii * sigma_1(A)");
                    doc.derive("C", Op::Hadamard, &["A", "B"]);
                    doc.derive("S", scale(bmax), &["A"]);
                    doc.derive("JC", Op::JordanWielandt, &["C"]);
                    doc.derive("JS", Op::JordanWielandt, &["S"]);
                    extreme_certificate(doc, ("JC", &jw(&c)), ("JS", &jw(&scaled(bmax))), true)
                }
                _ => {
                    let (ea, ec) = (eig_ball(&ab), eig_ball(&c));
                    // T3: B unit-diagonal, bounds λ1(A), λn(A); T2: λ1(A)·β, λn(A)·β at the
                    // binding end of the diagonal range
                    let top_beta = if ea[0].lo() >= 0.0 { bmax } else { bmin };
                    let bottom_beta = if ea[n - 1].hi() >= 0.0 { bmin } else { bmax };
                    let top = ec[0].lo() > (ea[0] * Interval::point(top_beta)).hi();
                    let beta = if top { top_beta } else { bottom_beta };
                    let mut doc = document(
                        "FALSE (T2/T3 broken): spec(A o B) inside the scaled spectral range of A",
                    );
                    doc.derive("C", Op::Hadamard, &["A", "B"]);
                    doc.derive("S", scale(beta), &["A"]);
                    extreme_certificate(doc, ("C", &c), ("S", &scaled(beta)), top)
                }
            }
        }
        _ => panic!("{id}: no certificate for a missing B"),
    }
}

/// Writes the certificate of a minimal failing case into `dir` (named by a hash of its text)
/// and re-decides it with the independent checker.
pub(super) fn write_failure(
    id: &str,
    a: &CMat,
    b: Option<&CMat>,
    dir: &Path,
) -> (PathBuf, Result<pespectra_certcheck::Verdict, String>) {
    use std::hash::{Hash, Hasher};
    let text = serde_json::to_string_pretty(&failure_certificate(id, a, b)).unwrap();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{id}-{:016x}.cert.json", h.finish()));
    std::fs::write(&path, &text).unwrap();
    let verdict = pespectra_certcheck::verify_file(&path)
        .map(|r| r.verdict)
        .map_err(|e| e.to_string());
    (path, verdict)
}

/// Runs `id` on generated (A, B) pairs: never FAILS, and HOLDS on ≥ WELL_HOLDS of the
/// well-conditioned ones that are not `tight` (the claim holds with equality there, e.g.
/// `‖A∘B‖_* = tr A = ‖A‖_*` for PSD A and unit-diagonal B, which no margin can certify).
/// A FAILS is shrunk, its seed stored in [`REGRESSIONS`] and the minimal case written as a
/// certificate beside it (see [`report_failure`]).
pub(super) fn check_theorem<S>(
    id: &'static str,
    cases: u32,
    pairs: S,
    tight: impl Fn(&Gen, Option<&Gen>) -> bool,
) where
    S: Strategy<Value = (Gen, Option<Gen>)>,
{
    let config = persisted(cases, REGRESSIONS);
    let (well, well_holds, inconclusive) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let result = TestRunner::new(config).run(&pairs, |(a, b)| {
        let r = run_on(id, &a.m, b.as_ref().map(|b| &b.m))
            .map_err(|e| TestCaseError::fail(format!("{id}: engine error {e}")))?;
        if r.verdict == Verdict::Fails {
            return Err(TestCaseError::fail(format!(
                "BUG: {id} FAILS on A = {} ({:?}), B = {:?}: {}",
                a.family,
                a.m,
                b.map(|b| (b.family, b.m)),
                r.detail
            )));
        }
        let is_well = a.well && b.as_ref().is_none_or(|b| b.well) && !tight(&a, b.as_ref());
        if is_well {
            well.set(well.get() + 1);
            if r.verdict == Verdict::Holds {
                well_holds.set(well_holds.get() + 1);
            }
        }
        if r.verdict == Verdict::Inconclusive {
            inconclusive.set(inconclusive.get() + 1);
            if is_well && std::env::var_os("PESPECTRA_PROPTEST_VERBOSE").is_some() {
                eprintln!(
                    "{id} INCONCLUSIVE n = {} A {} B {:?}: {}",
                    a.m.nrows(),
                    a.family,
                    b.as_ref().map(|b| b.family),
                    r.detail
                );
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (a, b))) => {
            let (path, verdict) = write_failure(
                id,
                &a.m,
                b.as_ref().map(|b| &b.m),
                Path::new(REGRESSIONS).parent().unwrap(),
            );
            panic!("{id}: {reason}\nshrunk seed stored in {REGRESSIONS}; certificate {}: independent checker: {verdict:?}", path.display());
        }
        Err(e) => panic!("{id}: {e}"),
    }
    let (w, h) = (well.get(), well_holds.get());
    eprintln!(
        "{id}: {cases} cases, {w} well-conditioned ({h} HOLDS), {} INCONCLUSIVE overall",
        inconclusive.get()
    );
    assert!(
        w > 0 && h as f64 >= WELL_HOLDS * w as f64,
        "{id}: only {h} of {w} well-conditioned cases HOLD"
    );
}
