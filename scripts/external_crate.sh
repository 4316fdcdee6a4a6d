#!/usr/bin/env bash
# A throw-away downstream crate that depends only on the pespectra facade (by path) and
# nalgebra: it must compute a verified enclosure of a DMatrix<f64> and check T3 on nalgebra
# matrices (issue 20). Reuses the workspace's lock file and target directory, so it only
# compiles the little crate itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "pespectra-downstream"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
pespectra = { path = "$root/crates/pespectra" }
nalgebra = { version = "0.34", default-features = false, features = ["std"] }

[workspace]
TOML
cat > "$dir/src/main.rs" <<'RS'
use nalgebra::DMatrix;
use pespectra::{check_matrices, eigenvalues, CMat, EigOptions, HermitianInput, Verdict};

fn main() {
    let n = 12;
    // [−1, 2, −1] tridiagonal: eigenvalues 2 − 2cos(kπ/(n+1))
    let a = DMatrix::from_fn(n, n, |i, j| match i.abs_diff(j) { 0 => 2.0, 1 => -1.0, _ => 0.0 });
    let (lo, hi) = eigenvalues(&HermitianInput::try_from(&a).unwrap(), &EigOptions::default())
        .unwrap()
        .bounds();
    for k in 0..n {
        let exact = 2.0 - 2.0 * ((n - k) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        assert!(lo[k] <= exact && exact <= hi[k]);
    }
    // KMS kernel 0.4^|i−j| (unit diagonal, positive definite), from one table so B is exactly
    // symmetric (powi may round differently in vectorised and scalar code)
    let t: Vec<f64> = (0..n).scan(1.0, |p, _| { let v = *p; *p *= 0.4; Some(v) }).collect();
    let b = DMatrix::from_fn(n, n, |i, j| t[i.abs_diff(j)]);
    let r = check_matrices("T3", &CMat::from(&a), Some(&CMat::from(&b))).unwrap();
    assert_eq!(r.verdict, Verdict::Holds, "{}", r.detail);
    println!("downstream crate: {n} enclosures contain the closed form; T3 {:?}", r.verdict);
}
RS
cp "$root/Cargo.lock" "$dir/Cargo.lock"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" cargo run -q --release --manifest-path "$dir/Cargo.toml"
