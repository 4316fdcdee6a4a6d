//! Cross-check against Arb (FLINT 3.6 via python-flint 0.9.0), an independent rigorous library:
//! every pespectra enclosure must intersect Arb's enclosure of the same eigenvalue.
//!
//! Needs `python-flint` in the project venv (`scripts/test.sh` installs it). Set
//! `PESPECTRA_PYTHON` to use another interpreter; `PESPECTRA_SKIP_ARB=1` skips (loudly).

use faer::Mat;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;
use pespectra_arith::exact::rational_from_mpfr;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, EigOptions, Precision};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::process::Command;

fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PESPECTRA_PYTHON") {
        return Some(p.into());
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    venv.exists().then_some(venv)
}

fn dyadic(m: &str, e: &str) -> BigRational {
    let m: BigInt = m.parse().unwrap();
    let e: i64 = e.parse().unwrap();
    let two = BigRational::from_integer(BigInt::from(2));
    let scale = if e >= 0 {
        num_traits::pow(two, e as usize)
    } else {
        BigRational::one() / num_traits::pow(two, (-e) as usize)
    };
    BigRational::from_integer(m) * scale
}

fn random_input(rng: &mut impl Rng, n: usize, complex: bool) -> HermitianInput {
    let m = Mat::from_fn(n, n, |_, _| rng.gen_range(-1.0..1.0));
    let re = Mat::from_fn(n, n, |i, j| if i <= j { m[(i, j)] } else { m[(j, i)] });
    let c = if complex {
        let w = Mat::from_fn(n, n, |_, _| rng.gen_range(-1.0..1.0));
        CMat::complex(
            re,
            Mat::from_fn(n, n, |i, j| {
                if i < j {
                    w[(i, j)]
                } else if i > j {
                    -w[(j, i)]
                } else {
                    0.0
                }
            }),
        )
    } else {
        CMat::real(re)
    };
    HermitianInput::new(c).unwrap()
}

/// Arb's enclosures (as exact rationals) of the eigenvalues of every input, decreasing; `None`
/// when the oracle is deliberately skipped.
fn arb_eigenvalues(
    inputs: &[HermitianInput],
    prec: u32,
) -> Option<Vec<Vec<(BigRational, BigRational)>>> {
    let Some(py) = python() else {
        if std::env::var("PESPECTRA_SKIP_ARB").is_ok() {
            eprintln!("SKIPPED: Arb cross-check (PESPECTRA_SKIP_ARB set)");
            return None;
        }
        panic!("python-flint venv not found: run scripts/test.sh (or set PESPECTRA_PYTHON / PESPECTRA_SKIP_ARB=1)");
    };
    let mats: Vec<serde_json::Value> = inputs
        .iter()
        .map(|h| {
            let n = h.n();
            let flat = |f: &dyn Fn(usize, usize) -> f64| {
                (0..n * n)
                    .map(|t| format!("{:?}", f(t / n, t % n)))
                    .collect::<Vec<_>>()
            };
            let re = flat(&|i, j| h.center.re[(i, j)]);
            let im = h.center.im.as_ref().map(|m| flat(&|i, j| m[(i, j)]));
            serde_json::json!({"n": n, "re": re, "im": im})
        })
        .collect();
    let dir = std::env::temp_dir().join(format!(
        "pespectra-arb-{}-{prec}-{}",
        std::process::id(),
        inputs.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, out) = (dir.join("in.json"), dir.join("out.json"));
    std::fs::write(
        &inp,
        serde_json::json!({"prec": prec, "matrices": mats}).to_string(),
    )
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/arb_eig.py");
    let status = Command::new(&py)
        .arg(script)
        .arg(&inp)
        .arg(&out)
        .status()
        .expect("run python");
    assert!(status.success(), "Arb script failed");
    let res: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    Some(
        inputs
            .iter()
            .enumerate()
            .map(|(t, h)| {
                let arb = res["results"][t].as_array().unwrap();
                assert_eq!(arb.len(), h.n());
                arb.iter()
                    .map(|b| {
                        let s: Vec<&str> = b
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_str().unwrap())
                            .collect();
                        (dyadic(s[0], s[1]), dyadic(s[2], s[3]))
                    })
                    .collect()
            })
            .collect(),
    )
}

fn ours(h: &HermitianInput, p: Precision) -> Vec<(BigRational, BigRational)> {
    eigenvalues(
        h,
        &EigOptions {
            precision: p,
            ..EigOptions::default()
        },
    )
    .unwrap()
    .values
    .iter()
    .map(|v| {
        (
            rational_from_mpfr(v.lo()).unwrap(),
            rational_from_mpfr(v.hi()).unwrap(),
        )
    })
    .collect()
}

#[test]
fn enclosures_intersect_arbs() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let inputs: Vec<HermitianInput> = [(6, false), (17, false), (9, true), (24, true), (40, false)]
        .iter()
        .map(|&(n, c)| random_input(&mut rng, n, c))
        .collect();
    let Some(arb) = arb_eigenvalues(&inputs, 128) else {
        return;
    };
    for (t, h) in inputs.iter().enumerate() {
        for p in [Precision::F64, Precision::Bits(128)] {
            for (k, ((lo, hi), (alo, ahi))) in ours(h, p).iter().zip(&arb[t]).enumerate() {
                assert!(
                    lo <= ahi && alo <= hi,
                    "matrix {t}, {p:?}, eigenvalue {k}: disjoint from Arb"
                );
            }
        }
    }
}

/// Adversarial families (issue 14): clusters, exact multiplicities, graded, Hilbert,
/// near-overflow, subnormal and complex Hermitian matrices. Every pespectra enclosure (f64 and
/// 128-bit) must *contain* Arb's 256-bit enclosure of the same eigenvalue.
#[test]
fn adversarial_enclosures_contain_arbs() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let sym = |n: usize, f: &dyn Fn(usize, usize) -> f64| {
        HermitianInput::new(CMat::real(Mat::from_fn(n, n, |i, j| f(i.min(j), i.max(j))))).unwrap()
    };
    let scaled = |h: &HermitianInput, s: f64| {
        HermitianInput::new(CMat {
            re: Mat::from_fn(h.n(), h.n(), |i, j| h.center.re[(i, j)] * s),
            im: h
                .center
                .im
                .as_ref()
                .map(|m| Mat::from_fn(h.n(), h.n(), |i, j| m[(i, j)] * s)),
        })
        .unwrap()
    };
    // a cluster: Q·diag(1, 1 + 1e−12, …)·Qᵀ for a random orthogonal Q (Householder)
    let n = 12;
    let v: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let vv: f64 = v.iter().map(|x| x * x).sum();
    let q = |i: usize, j: usize| f64::from(u8::from(i == j)) - 2.0 * v[i] * v[j] / vv;
    let d = |k: usize| {
        if k < 6 {
            1.0 + k as f64 * 1e-12
        } else {
            -2.0 - k as f64
        }
    };
    let cluster = sym(n, &|i, j| (0..n).map(|k| q(i, k) * d(k) * q(j, k)).sum());
    let random = random_input(&mut rng, 10, false);
    let inputs = vec![
        cluster,
        // exact multiplicities: J (n, 0 × 15) and I + J (17, 1 × 15)
        sym(16, &|_, _| 1.0),
        sym(16, &|i, j| if i == j { 2.0 } else { 1.0 }),
        // graded: entries from 1 down to 2^−60
        sym(10, &|i, j| {
            2f64.powi(-(3 * (i + j) as i32)) * (1.0 + ((i * 7 + j) % 5) as f64)
        }),
        // Hilbert, rounded to f64
        sym(10, &|i, j| 1.0 / (i + j + 1) as f64),
        // near overflow and subnormal: the same random matrix scaled by 2^1020 and 2^−1060
        scaled(&random, 2f64.powi(1020)),
        scaled(&random, 2f64.powi(-1060)),
        // complex Hermitian, and complex clusters: [[c, 𝐢], [−𝐢, c]] blocks with c = 2 and
        // c = 2 + 2^−30 have eigenvalues c ± 1, pairwise 2^−30 apart
        random_input(&mut rng, 11, true),
        HermitianInput::new(CMat::complex(
            Mat::from_fn(4, 4, |i, j| match (i == j, i < 2) {
                (true, true) => 2.0,
                (true, false) => 2.0 + 2f64.powi(-30),
                _ => 0.0,
            }),
            Mat::from_fn(4, 4, |i, j| match (i, j) {
                (0, 1) | (2, 3) => 1.0,
                (1, 0) | (3, 2) => -1.0,
                _ => 0.0,
            }),
        ))
        .unwrap(),
    ];
    let Some(arb) = arb_eigenvalues(&inputs, 256) else {
        return;
    };
    for (t, h) in inputs.iter().enumerate() {
        for p in [Precision::F64, Precision::Bits(128)] {
            for (k, ((lo, hi), (alo, ahi))) in ours(h, p).iter().zip(&arb[t]).enumerate() {
                assert!(
                    lo <= alo && ahi <= hi,
                    "family {t}, {p:?}, eigenvalue {k}: [{lo}, {hi}] does not contain Arb's [{alo}, {ahi}]"
                );
            }
        }
    }
}
