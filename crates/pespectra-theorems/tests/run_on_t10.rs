//! T10 on user matrices (`run_on`): its hypotheses are verified, never assumed.

use faer::Mat;
use pespectra_spectra::matrix::CMat;
use pespectra_theorems::{run_on, Verdict};

fn mat(rows: &[&[f64]]) -> CMat {
    let n = rows.len();
    CMat::real(Mat::from_fn(n, n, |i, j| rows[i][j]))
}

/// Kac–Murdock–Szegő kernel ρ^|i−j|: PSD (ρ ∈ (−1, 1)), unit diagonal, exact for ρ = 1/2.
fn kms(n: usize) -> CMat {
    CMat::real(Mat::from_fn(n, n, |i, j| 0.5f64.powi(i.abs_diff(j) as i32)))
}

/// f64 eigenvalues, increasing (faer; an oracle independent of the verified engine's claims).
fn eigs(m: &CMat) -> Vec<f64> {
    m.re.self_adjoint_eigenvalues(faer::Side::Lower).unwrap()
}

#[test]
fn positive_definite_a_and_a_psd_unit_diagonal_kernel_hold() {
    // A tridiagonal with 4 on the diagonal and 1 beside it: λ ∈ [2, 6] (Gershgorin), A ≻ 0
    let n = 6;
    let a = CMat::real(Mat::from_fn(n, n, |i, j| match i.abs_diff(j) {
        0 => 4.0,
        1 => 1.0,
        _ => 0.0,
    }));
    let b = kms(n);
    let r = run_on("T10", &a, Some(&b)).unwrap();
    assert_eq!(r.verdict, Verdict::Holds, "{}", r.detail);
    // the certified margin bounds every slack from below: compare with f64 eigenvalues
    let c = CMat::real(Mat::from_fn(n, n, |i, j| a.re[(i, j)] * b.re[(i, j)]));
    let (ea, ec) = (eigs(&a), eigs(&c));
    let slack = ec[0]
        .min(ec[0] - ea[0])
        .min(ea[n - 1] - ec[n - 1])
        .min(ea[n - 1] / ea[0] - ec[n - 1] / ec[0]);
    let m = r.margin.unwrap();
    assert!(
        (0.0..=slack + 1e-12).contains(&m),
        "margin {m} vs slack {slack}"
    );
}

#[test]
fn a_not_positive_definite_is_inconclusive() {
    let b = kms(2);
    // indefinite (λ = 3, −1): the hypothesis is certified false
    let r = run_on("T10", &mat(&[&[1.0, 2.0], &[2.0, 1.0]]), Some(&b)).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
    assert!(r.detail.contains("not positive definite"), "{}", r.detail);
    // singular PSD (λ = 2, 0): λmin > 0 cannot be certified
    let r = run_on("T10", &mat(&[&[1.0, 1.0], &[1.0, 1.0]]), Some(&b)).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
    // not Hermitian
    let r = run_on("T10", &mat(&[&[2.0, 1.0], &[0.0, 2.0]]), Some(&b)).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
}

#[test]
fn b_without_unit_diagonal_or_not_psd_is_inconclusive() {
    let a = mat(&[&[2.0, 1.0], &[1.0, 2.0]]);
    // PSD but diagonal 2: A∘B = 2A, κ unchanged but λmax doubles — T10 does not apply
    let r = run_on("T10", &a, Some(&mat(&[&[2.0, 0.0], &[0.0, 2.0]]))).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
    assert!(r.detail.contains("diagonal"), "{}", r.detail);
    // unit diagonal, not PSD (R3's kernel): A∘B has λ = 2 ± 5, indefinite
    let r = run_on("T10", &a, Some(&mat(&[&[1.0, 5.0], &[5.0, 1.0]]))).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
    assert!(r.detail.contains("negative eigenvalue"), "{}", r.detail);
    // B is required
    assert!(run_on("T10", &a, None).is_err());
}

#[test]
fn equality_is_never_a_violation() {
    // B = 11ᵀ (PSD, unit diagonal, singular): A∘B = A, every claim holds with equality, so no
    // positive slack can be certified and no violation either
    let a = mat(&[&[3.0, 1.0, 0.5], &[1.0, 2.0, 0.25], &[0.5, 0.25, 1.0]]);
    let ones = mat(&[&[1.0; 3], &[1.0; 3], &[1.0; 3]]);
    let r = run_on("T10", &a, Some(&ones)).unwrap();
    assert_ne!(r.verdict, Verdict::Fails, "{}", r.detail);
    assert!(r.margin.is_none_or(|m| m <= 0.0), "{:?}", r.margin);
}
