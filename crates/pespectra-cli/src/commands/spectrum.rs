//! `pespectra eig` and `pespectra svd`: verified enclosures of a matrix from `.npy` or a built-in example.

use super::*;
use clap::ValueEnum;
use faer::Mat;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, singular_values, EigOptions, Precision, SpectrumEnclosure};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Example {
    /// One RoPE frequency on a rank-4 content Gram matrix (n = 64, θ = π/2): same spectrum as G.
    RopeSingleFrequency,
    /// The ALiBi distance matrix [|i − j|] (n = 64): one positive, 63 negative eigenvalues.
    AlibiDistance,
    /// The Kac–Murdock–Szegő matrix 2^−|i−j| (n = 64), exp of a symmetric ALiBi bias.
    Kms,
}

#[derive(clap::Args)]
pub(crate) struct SpectrumArgs {
    /// Input matrix: NumPy .npy, float64 or complex128, C or Fortran order.
    #[arg(long, required_unless_present = "example", conflicts_with = "example")]
    pub(crate) input: Option<PathBuf>,
    /// A built-in example matrix instead of --input.
    #[arg(long, value_enum)]
    pub(crate) example: Option<Example>,
    /// Working precision: 53 (f64 with verified GEMMs), a number of bits ≥ 54 (MPFR), or auto.
    #[arg(long, default_value = "53")]
    pub(crate) precision: String,
    /// Requested maximal width of every enclosure (auto escalates precision until met).
    #[arg(long)]
    pub(crate) width: Option<f64>,
    /// Largest precision auto may try, in bits.
    #[arg(long, default_value_t = 2048)]
    pub(crate) max_bits: u32,
    /// Time budget of auto, in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub(crate) budget_seconds: f64,
    /// eig only: analyse the Hermitian part (A + Aᴴ)/2 of a non-Hermitian input (enclosed rigorously).
    #[arg(long)]
    pub(crate) hermitian_part: bool,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn parse_precision(s: &str) -> Result<Precision, Failure> {
    match s {
        "auto" => Ok(Precision::Auto),
        "53" | "f64" => Ok(Precision::F64),
        _ => match s.parse::<u32>() {
            Ok(b) if b >= 54 => Ok(Precision::Bits(b)),
            _ => Err(bad(format!(
                "--precision must be 53, a number of bits ≥ 54, or auto; got '{s}'"
            ))),
        },
    }
}

pub(crate) fn example_matrix(e: Example) -> CMat {
    let n = 64;
    match e {
        Example::AlibiDistance => CMat::real(Mat::from_fn(n, n, |i, j| i.abs_diff(j) as f64)),
        Example::Kms => CMat::real(Mat::from_fn(n, n, |i, j| 0.5f64.powi(i.abs_diff(j) as i32))),
        Example::RopeSingleFrequency => {
            // G = ZZᵀ with a small integer Z (n×4), Hadamard with E_ij = i^(j−i): exact in binary.
            let z = |i: usize, k: usize| ((i * 7 + k * 3) % 9) as f64 - 4.0;
            let g = |i: usize, j: usize| (0..4).map(|k| z(i, k) * z(j, k)).sum::<f64>();
            let phase = |i: usize, j: usize| (j + 4 - i % 4) % 4;
            let re = Mat::from_fn(n, n, |i, j| match phase(i, j) {
                0 => g(i, j),
                2 => -g(i, j),
                _ => 0.0,
            });
            let im = Mat::from_fn(n, n, |i, j| match phase(i, j) {
                1 => g(i, j),
                3 => -g(i, j),
                _ => 0.0,
            });
            CMat::complex(re, im)
        }
    }
}

pub(crate) fn load_matrix(args: &SpectrumArgs) -> Result<CMat, Failure> {
    if let Some(e) = args.example {
        return Ok(example_matrix(e));
    }
    read_npy(
        args.input
            .as_ref()
            .expect("clap requires --input or --example"),
    )
}

pub(crate) fn read_npy(path: &std::path::Path) -> Result<CMat, Failure> {
    let m = pespectra_npy::read(path).map_err(|e| bad(e.to_string()))?;
    let re = Mat::from_fn(m.rows, m.cols, |i, j| m.re[i * m.cols + j]);
    Ok(match &m.im {
        None => CMat::real(re),
        Some(im) => CMat::complex(re, Mat::from_fn(m.rows, m.cols, |i, j| im[i * m.cols + j])),
    })
}

pub(crate) fn options(args: &SpectrumArgs) -> Result<EigOptions, Failure> {
    if let Some(w) = args.width {
        if w.is_nan() || w < 0.0 || w.is_infinite() {
            return Err(bad(format!(
                "--width must be a finite non-negative number, got {w}"
            )));
        }
    }
    let max_budget = pespectra_spectra::MAX_BUDGET.as_secs_f64();
    if !(args.budget_seconds > 0.0 && args.budget_seconds <= max_budget) {
        return Err(bad(format!(
            "--budget-seconds must be positive and at most {max_budget} (one week), got {}",
            args.budget_seconds
        )));
    }
    let opts = EigOptions {
        precision: parse_precision(&args.precision)?,
        width: args.width,
        max_bits: args.max_bits,
        budget: Duration::from_secs_f64(args.budget_seconds),
    };
    opts.validate().map_err(|e| match opts.precision {
        Precision::Bits(_) if args.max_bits <= pespectra_spectra::MAX_PRECISION_BITS => {
            bad(format!("--precision: {e}"))
        }
        _ => bad(format!("--max-bits: {e}")),
    })?;
    Ok(opts)
}

/// Significant decimal digits that keep the enclosure's own precision.
pub(crate) fn digits(prec: u32) -> usize {
    (prec as f64 * std::f64::consts::LOG10_2).ceil() as usize + 2
}

/// One enclosure in decimal, as `--json` prints it.
#[derive(serde::Serialize)]
struct Bound<'a> {
    lo: &'a str,
    hi: &'a str,
}

/// The `pespectra eig/svd --json` document; `values` holds one list under "eigenvalues" or
/// "singular_values".
#[derive(serde::Serialize)]
struct SpectrumJson<'a> {
    n: usize,
    #[serde(flatten)]
    values: std::collections::BTreeMap<&'a str, Vec<Bound<'a>>>,
    precision_bits: u32,
    met_width: bool,
    seconds: f64,
    provenance: serde_json::Value,
}

pub(crate) fn report(
    enc: &SpectrumEnclosure,
    key: &str,
    json: bool,
    seconds: f64,
    prov: &pespectra_provenance::Provenance,
) {
    let dg = digits(enc.precision_bits);
    let bounds: Vec<(String, String)> = enc.values.iter().map(|v| v.decimal_bounds(dg)).collect();
    if json {
        let list: Vec<Bound> = bounds.iter().map(|(lo, hi)| Bound { lo, hi }).collect();
        print_json(&SpectrumJson {
            n: enc.values.len(),
            values: [(key, list)].into_iter().collect(),
            precision_bits: enc.precision_bits,
            met_width: enc.met_width,
            seconds,
            provenance: prov.to_json(),
        });
    } else {
        println!("{:>5}  {:>28}  {:>28}", "k", "lower bound", "upper bound");
        for (k, (lo, hi)) in bounds.iter().enumerate() {
            println!("{:>5}  {lo:>28}  {hi:>28}", k + 1);
        }
        println!(
            "precision {} bits, max width ≤ {:.3e}, width target {}, {seconds:.3} s",
            enc.precision_bits,
            enc.max_width,
            if enc.met_width { "met" } else { "NOT met" }
        );
    }
    if !enc.met_width {
        eprintln!("warning: the requested width was not reached; the enclosures above are valid but wider");
    }
}

pub(crate) fn run_spectrum(args: &SpectrumArgs, singular: bool) -> Result<(), Failure> {
    super::keep_freed_memory();
    let mut prov = provenance();
    let opts = options(args)?;
    let m = load_matrix(args)?;
    if let Some(p) = &args.input {
        let bytes = std::fs::read(p).unwrap_or_default();
        prov.input_file("matrix", &p.display().to_string(), &bytes);
    }
    prov.setting("precision", args.precision.clone());
    prov.setting("width", args.width);
    prov.setting("max_bits", args.max_bits);
    prov.setting("budget_seconds", args.budget_seconds);
    prov.setting("hermitian_part", args.hermitian_part);
    prov.threads(rayon::current_num_threads());
    // which GEMM the f64 verification products run on (loading the system BLAS, if any, here)
    prov.gemm(&pespectra_arith::gemm::gemm_description());
    if let Some(e) = pespectra_arith::gemm::requested_blas_error() {
        eprintln!("pespectra: warning: {e}; the products run on faer");
    }
    let start = Instant::now();
    let err = |e: pespectra_spectra::SpectraError| match e {
        pespectra_spectra::SpectraError::NotHermitian { .. } if !singular => {
            bad(format!("{e}; pass --hermitian-part to do so"))
        }
        e => bad(e.to_string()),
    };
    let enc = if singular {
        if args.hermitian_part {
            return Err(bad("--hermitian-part applies to eig only"));
        }
        singular_values(&m, &opts).map_err(err)?
    } else {
        let input = if args.hermitian_part {
            HermitianInput::hermitian_part(m)
        } else {
            HermitianInput::new(m)
        }
        .map_err(err)?;
        eigenvalues(&input, &opts).map_err(err)?
    };
    report(
        &enc,
        if singular {
            "singular_values"
        } else {
            "eigenvalues"
        },
        args.json,
        start.elapsed().as_secs_f64(),
        &prov,
    );
    Ok(())
}
