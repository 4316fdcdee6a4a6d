//! What a downstream crate does with only `pespectra` (and its re-exported nalgebra): an
//! integration test is compiled as a separate crate, so nothing here reaches an internal crate
//! except through the facade.
use approx::assert_abs_diff_eq;
use pespectra::nalgebra::{DMatrix, Matrix4};
use pespectra::{
    check, check_matrices, eigenvalues, singular_values, verify_certificate, CMat, EigOptions,
    HermitianInput, Params, SpectraError, Verdict,
};

/// Tridiagonal Toeplitz [−1, 2, −1] of size n: eigenvalues 2 − 2cos(kπ/(n + 1)) in closed form.
fn laplacian(n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, n, |i, j| match i.abs_diff(j) {
        0 => 2.0,
        1 => -1.0,
        _ => 0.0,
    })
}

#[test]
fn dmatrix_enclosures_contain_the_closed_form() {
    let n = 40;
    let enc = eigenvalues(
        &HermitianInput::try_from(&laplacian(n)).unwrap(),
        &EigOptions::default(),
    )
    .unwrap();
    let (lo, hi) = enc.bounds();
    for k in 0..n {
        // decreasing order: the (k+1)-th largest is 2 − 2cos((n − k)π/(n + 1))
        let exact = 2.0 - 2.0 * ((n - k) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        assert!(
            lo[k] <= exact && exact <= hi[k],
            "k = {k}: {exact} ∉ [{}, {}]",
            lo[k],
            hi[k]
        );
        assert_abs_diff_eq!(hi[k], lo[k], epsilon = 1e-12); // sanity: the enclosure is narrow
    }
}

#[test]
fn static_matrices_and_singular_values_work_too() {
    // diag(4, −3, 2, −1): singular values 4, 3, 2, 1 exactly
    let a = Matrix4::from_diagonal(&pespectra::nalgebra::Vector4::new(4.0, -3.0, 2.0, -1.0));
    let (lo, hi) = singular_values(&CMat::from(&a), &EigOptions::default())
        .unwrap()
        .bounds();
    for (k, s) in [4.0, 3.0, 2.0, 1.0].into_iter().enumerate() {
        assert!(lo[k] <= s && s <= hi[k], "σ_{k}");
    }
}

#[test]
fn t3_holds_on_nalgebra_matrices_and_bad_hypotheses_are_reported() {
    let n = 8;
    let q = DMatrix::from_fn(n, 3, |i, j| ((5 * i + 3 * j) % 11) as f64 / 11.0 - 0.5);
    let a = &q * q.transpose();
    // B = (I + C)/2 with C_ij = cos((i − j)·0.4): unit diagonal and PSD with margin
    let b = DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            0.5 * ((i as f64 - j as f64) * 0.4).cos()
        }
    });
    let r = check_matrices("T3", &CMat::from(&a), Some(&CMat::from(&b))).unwrap();
    assert_eq!(r.verdict, Verdict::Holds, "{}", r.detail);
    // an indefinite B breaks the hypothesis: never HOLDS, and the reason is named
    let mut bad = b.clone();
    bad[(0, 1)] = 3.0;
    bad[(1, 0)] = 3.0;
    let r = check_matrices("T3", &CMat::from(&a), Some(&CMat::from(&bad))).unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.detail);
    assert!(r.detail.contains("hypothesis"), "{}", r.detail);
}

#[test]
fn typed_errors_for_bad_nalgebra_input() {
    assert_eq!(
        HermitianInput::try_from(&DMatrix::<f64>::zeros(3, 2)).unwrap_err(),
        SpectraError::NotSquare { rows: 3, cols: 2 }
    );
    let mut m = laplacian(3);
    m[(2, 0)] = 0.5;
    assert_eq!(
        HermitianInput::try_from(&m).unwrap_err(),
        SpectraError::NotHermitian { row: 2, col: 0 }
    );
}

#[test]
fn certificates_round_trip_through_the_independent_checker() {
    let r = check("T2", &Params::new(3, 8).with_certificates()).unwrap();
    let cert = r
        .certificate
        .expect("n = 8 instances carry a certificate")
        .to_string();
    let report = verify_certificate(&cert).unwrap();
    assert_eq!(format!("{:?}", report.verdict), format!("{:?}", r.verdict));
    // move one claimed eigenvalue enclosure entirely above its true place: the checker refuses
    let mut v: serde_json::Value = serde_json::from_str(&cert).unwrap();
    claim_above(&mut v);
    let tampered = serde_json::to_string(&v).unwrap();
    assert!(
        verify_certificate(&tampered).is_err(),
        "a false enclosure was accepted"
    );
}

/// Replaces the first eigenvalue claim's enclosure by [hi + 1, hi + 2], which cannot contain it.
fn claim_above(v: &mut serde_json::Value) {
    let claim = v["claims"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["kind"] == "eigenvalue")
        .unwrap();
    let hi = claim["hi"].as_str().unwrap().to_owned();
    let (num, den) = hi.split_once('/').unwrap_or((&hi, "1"));
    let (num, den): (i128, i128) = (num.parse().unwrap(), den.parse().unwrap());
    claim["lo"] = serde_json::Value::String(format!("{}/{den}", num + den));
    claim["hi"] = serde_json::Value::String(format!("{}/{den}", num + 2 * den));
}

/// The README's library example, verbatim (keep the two in step).
#[test]
fn readme_library_example() -> Result<(), Box<dyn std::error::Error>> {
    let a = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
    let enc = eigenvalues(&HermitianInput::try_from(&a)?, &EigOptions::default())?;
    let (lo, hi) = enc.bounds(); // DVector<f64>s: lo[k] ≤ λ_k ≤ hi[k]
    assert!(lo[0] <= 3.0 && 3.0 <= hi[0]);
    let b = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.5, 1.0]); // unit diagonal, PSD
    let r = check_matrices("T3", &CMat::from(&a), Some(&CMat::from(&b)))?;
    assert_eq!(r.verdict, Verdict::Holds);
    Ok(())
}
