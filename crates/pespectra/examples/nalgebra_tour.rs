//! From a nalgebra matrix to an independently checked certificate, as a user reads it:
//! eigenvalue enclosures → a catalogue check on nalgebra matrices → a certified built-in
//! instance → the independent checker.
//!
//! `cargo run --release -p pespectra --example nalgebra_tour`
use pespectra::nalgebra::DMatrix;
use pespectra::{
    check, check_matrices, eigenvalues, verify_certificate, CMat, EigOptions, HermitianInput,
    Params,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = 6;
    // Content Gram matrix A = QQᵀ of rank 2 and B = (I + C)/2 with C the single-frequency RoPE
    // kernel cos((i − j)θ): unit diagonal and λmin(B) ≥ 1/2, so PSD even after rounding (C
    // alone has rank 2, and its f64 rounding is typically a hair indefinite, which the checks
    // would report as an unverifiable hypothesis).
    let q = DMatrix::from_fn(n, 2, |i, j| ((3 * i + 5 * j) % 7) as f64 / 7.0 - 0.4);
    let a = &q * q.transpose();
    let theta = 0.7;
    let b = DMatrix::from_fn(n, n, |i, j| {
        0.5 * f64::from(u8::from(i == j)) + 0.5 * ((i as f64 - j as f64) * theta).cos()
    });

    let enc = eigenvalues(&HermitianInput::try_from(&a)?, &EigOptions::default())?;
    let (lo, hi) = enc.bounds();
    println!("eigenvalues of A = QQᵀ (n = {n}, rank 2), each interval proved:");
    for k in 0..n {
        println!("  λ_{} ∈ [{:+.17e}, {:+.17e}]", k + 1, lo[k], hi[k]);
    }

    let hadamard = a.component_mul(&b);
    let enc = eigenvalues(
        &HermitianInput::try_from(&hadamard)?,
        &EigOptions::default(),
    )?;
    let (_, hi_ab) = enc.bounds();
    println!(
        "largest eigenvalue of A∘B (damped RoPE kernel, θ = {theta}) ≤ {:.17e}",
        hi_ab[0]
    );

    for id in ["T2", "T3"] {
        let r = check_matrices(id, &CMat::from(&a), Some(&CMat::from(&b)))?;
        println!("{id} on these matrices: {:?} — {}", r.verdict, r.detail);
    }

    // Certificates are written for the catalogue's own small instances.
    let r = check("T2", &Params::new(7, 8).with_certificates())?;
    let cert = r.certificate.ok_or("T2 at n = 8 writes a certificate")?;
    let report = verify_certificate(&cert.to_string())?;
    println!(
        "T2 built-in instance: {:?}; independent checker: {:?} ({})",
        r.verdict, report.verdict, report.statement
    );
    Ok(())
}
