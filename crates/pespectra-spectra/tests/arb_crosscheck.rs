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

#[test]
fn enclosures_intersect_arbs() {
    let Some(py) = python() else {
        if std::env::var("PESPECTRA_SKIP_ARB").is_ok() {
            eprintln!("SKIPPED: Arb cross-check (PESPECTRA_SKIP_ARB set)");
            return;
        }
        panic!("python-flint venv not found: run scripts/test.sh (or set PESPECTRA_PYTHON / PESPECTRA_SKIP_ARB=1)");
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let inputs: Vec<HermitianInput> = [(6, false), (17, false), (9, true), (24, true), (40, false)]
        .iter()
        .map(|&(n, c)| random_input(&mut rng, n, c))
        .collect();
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
    let dir = std::env::temp_dir().join(format!("pespectra-arb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, out) = (dir.join("in.json"), dir.join("out.json"));
    std::fs::write(
        &inp,
        serde_json::json!({"prec": 128, "matrices": mats}).to_string(),
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
    for (t, h) in inputs.iter().enumerate() {
        let arb = res["results"][t].as_array().unwrap();
        assert_eq!(arb.len(), h.n());
        for p in [Precision::F64, Precision::Bits(128)] {
            let enc = eigenvalues(
                h,
                &EigOptions {
                    precision: p,
                    ..EigOptions::default()
                },
            )
            .unwrap();
            for (k, (ours, theirs)) in enc.values.iter().zip(arb).enumerate() {
                let s: Vec<&str> = theirs
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                let (alo, ahi) = (dyadic(s[0], s[1]), dyadic(s[2], s[3]));
                let (lo, hi) = (
                    rational_from_mpfr(ours.lo()).unwrap(),
                    rational_from_mpfr(ours.hi()).unwrap(),
                );
                assert!(
                    lo <= ahi && alo <= hi,
                    "matrix {t}, {p:?}, eigenvalue {k}: disjoint from Arb"
                );
            }
        }
    }
}
