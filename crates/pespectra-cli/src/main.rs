//! `pespectra`: verified spectra and positional-encoding analysis from the command line.
//!
//! Exit codes: 0 success, 1 a checked claim fails, 2 bad input or usage (one-line message).

use clap::{Parser, Subcommand, ValueEnum};
use faer::Mat;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, singular_values, EigOptions, Precision, SpectrumEnclosure};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod audit_cmd;
mod capture_cmd;
mod experiments_cmd;
mod models_cmd;
mod train_cmd;

#[derive(Parser)]
#[command(
    name = "pespectra",
    version,
    about = "Proves what positional encodings do to attention spectra"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verified enclosures of every eigenvalue of a real symmetric or complex Hermitian matrix.
    Eig(SpectrumArgs),
    /// Verified enclosures of every singular value of a general square matrix.
    Svd(SpectrumArgs),
    /// Runs theorem checks (all of THEOREMS.md by default) on built-in seeded instances.
    Check(CheckArgs),
    /// Lists the theorem catalogue.
    Theorems,
    /// Re-verifies a certificate with the independent exact checker (exit 0 valid, 1 invalid, 2 unreadable).
    Verify {
        /// Certificate file (pespectra-certificate/1 JSON).
        cert: PathBuf,
        /// Work budget, in the estimate's units (proofs/CERTIFICATE_FORMAT.md); a certificate
        /// estimated above it is refused with exit 2 before it is checked.
        #[arg(long, default_value_t = pespectra_certcheck::DEFAULT_MAX_WORK)]
        max_work: u64,
        /// Wall-clock limit of the check, seconds (exit 2 when reached).
        #[arg(long, default_value_t = pespectra_certcheck::DEFAULT_MAX_SECONDS)]
        max_seconds: f64,
    },
    /// Throughput of the fused attention kernel against the FMA peak measured in the same run.
    BenchAttention(BenchArgs),
    /// Runs one property on many seeded instances on all cores (deterministic, shardable, resumable).
    Campaign(CampaignCmd),
    /// Trained models: list the registry, fetch (download + verify) into the cache.
    Models {
        #[command(subcommand)]
        command: models_cmd::ModelsCommand,
    },
    /// Audits a trained model's heads: certified theorem checks on real logits, contraction, Toeplitz share and ablations (JSON, CSV, PNG).
    Audit(audit_cmd::AuditCmd),
    /// Writes a model's heads on a text as a capture directory (docs/CAPTURE_FORMAT.md) for `audit --captures`.
    Capture(capture_cmd::CaptureArgs),
    /// Trains a synthetic-task encoder of the paper's experiment E4 (docs/E4_MODEL_FORMAT.md), ablates its heads, and writes it for `audit`.
    Train(train_cmd::TrainArgs),
    /// Runs the whole E4 grid (tasks × positional encodings × seeds): training, head ablations, heatmaps, audits and summary tables beside the paper's figures.
    Experiments(experiments_cmd::ExperimentsArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Example {
    /// One RoPE frequency on a rank-4 content Gram matrix (n = 64, θ = π/2): same spectrum as G.
    RopeSingleFrequency,
    /// The ALiBi distance matrix [|i − j|] (n = 64): one positive, 63 negative eigenvalues.
    AlibiDistance,
    /// The Kac–Murdock–Szegő matrix 2^−|i−j| (n = 64), exp of a symmetric ALiBi bias.
    Kms,
}

#[derive(clap::Args)]
struct SpectrumArgs {
    /// Input matrix: NumPy .npy, float64 or complex128, C or Fortran order.
    #[arg(long, required_unless_present = "example", conflicts_with = "example")]
    input: Option<PathBuf>,
    /// A built-in example matrix instead of --input.
    #[arg(long, value_enum)]
    example: Option<Example>,
    /// Working precision: 53 (f64 with verified GEMMs), a number of bits ≥ 54 (MPFR), or auto.
    #[arg(long, default_value = "53")]
    precision: String,
    /// Requested maximal width of every enclosure (auto escalates precision until met).
    #[arg(long)]
    width: Option<f64>,
    /// Largest precision auto may try, in bits.
    #[arg(long, default_value_t = 2048)]
    max_bits: u32,
    /// Time budget of auto, in seconds.
    #[arg(long, default_value_t = 120.0)]
    budget_seconds: f64,
    /// eig only: analyse the Hermitian part (A + Aᴴ)/2 of a non-Hermitian input (enclosed rigorously).
    #[arg(long)]
    hermitian_part: bool,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Catalogue ids to run (default: all), e.g. T3 R1.
    ids: Vec<String>,
    /// Seed of the built-in instances.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Sequence length of the spectral instances (2..=1024).
    #[arg(long, default_value_t = 64)]
    n: usize,
    /// Check user matrices instead of built-in instances (T2, T3, T4, T5, T7, T9, T10): A (.npy).
    #[arg(long)]
    a: Option<PathBuf>,
    /// Second user matrix B (.npy) for T2, T3, T4, T10 and T7 (the additive bias).
    #[arg(long, requires = "a")]
    b: Option<PathBuf>,
    /// Write certificates (instances with n ≤ 16) into this directory.
    #[arg(long)]
    certificates: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    #[arg(long, default_value_t = 8)]
    b: usize,
    #[arg(long, default_value_t = 8)]
    h: usize,
    #[arg(long, default_value_t = 2048)]
    s: usize,
    #[arg(long, default_value_t = 128)]
    d: usize,
    /// Causal mask (FLOPs counted on the unmasked half).
    #[arg(long)]
    causal: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct CampaignCmd {
    #[command(subcommand)]
    action: Option<CampaignAction>,
    #[command(flatten)]
    run: CampaignArgs,
}

#[derive(Subcommand)]
enum CampaignAction {
    /// Merges shard reports (`campaign … --shard i/N --json` outputs) into the whole campaign's
    /// report, exactly; refuses reports of different campaigns, duplicate or missing shards and
    /// edited or truncated files.
    Merge {
        /// Shard report files.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Machine-readable JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Also write the merged JSON report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct CampaignArgs {
    /// Catalogue id, e.g. T3 or R1.
    #[arg(required_unless_present = "reproduce")]
    property: Option<String>,
    /// Number of cases of the whole (unsharded) campaign.
    #[arg(long, required_unless_present = "reproduce")]
    cases: Option<u64>,
    /// Campaign seed: case k runs on the instance seeded by SplitMix64(seed, k).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Largest sequence length; n of each case is uniform in [4, max-n] (≤ 1024).
    #[arg(long, default_value_t = 64)]
    max_n: usize,
    /// Run only the cases k ≡ i (mod N), given as i/N (merged shard reports equal the full
    /// one), or `auto`: i and N from the scheduler (SLURM_ARRAY_TASK_ID/_COUNT/_MIN, or
    /// Kubernetes' JOB_COMPLETION_INDEX with --shards).
    #[arg(long)]
    shard: Option<String>,
    /// Number of shards, for `--shard auto` under a scheduler that does not say (Kubernetes).
    #[arg(long)]
    shards: Option<u64>,
    /// Directory for the resumable state and the first counterexample's certificate.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Machine-readable JSON report on stdout.
    #[arg(long)]
    json: bool,
    /// Re-runs the campaign a `--json` report describes (its provenance) and compares.
    #[arg(long, conflicts_with_all = ["property", "out", "json"])]
    reproduce: Option<PathBuf>,
}

/// Only for re-parsing a recorded campaign command line.
#[derive(Parser)]
struct RecordedCampaign {
    #[command(flatten)]
    args: CampaignArgs,
}

/// A user-facing failure: exit code and one-line message.
struct Failure(u8, String);

fn bad(msg: impl Into<String>) -> Failure {
    Failure(2, msg.into())
}

fn parse_precision(s: &str) -> Result<Precision, Failure> {
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

fn example_matrix(e: Example) -> CMat {
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

fn load_matrix(args: &SpectrumArgs) -> Result<CMat, Failure> {
    if let Some(e) = args.example {
        return Ok(example_matrix(e));
    }
    read_npy(
        args.input
            .as_ref()
            .expect("clap requires --input or --example"),
    )
}

fn read_npy(path: &std::path::Path) -> Result<CMat, Failure> {
    let m = pespectra_npy::read(path).map_err(|e| bad(e.to_string()))?;
    let re = Mat::from_fn(m.rows, m.cols, |i, j| m.re[i * m.cols + j]);
    Ok(match &m.im {
        None => CMat::real(re),
        Some(im) => CMat::complex(re, Mat::from_fn(m.rows, m.cols, |i, j| im[i * m.cols + j])),
    })
}

fn options(args: &SpectrumArgs) -> Result<EigOptions, Failure> {
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
fn digits(prec: u32) -> usize {
    (prec as f64 * std::f64::consts::LOG10_2).ceil() as usize + 2
}

/// The provenance of this process's output, started from its command line.
fn provenance() -> pespectra_provenance::Provenance {
    pespectra_provenance::Provenance::start(&std::env::args().collect::<Vec<_>>())
}

fn report(
    enc: &SpectrumEnclosure,
    key: &str,
    json: bool,
    seconds: f64,
    prov: &pespectra_provenance::Provenance,
) {
    let dg = digits(enc.precision_bits);
    let bounds: Vec<(String, String)> = enc.values.iter().map(|v| v.decimal_bounds(dg)).collect();
    if json {
        let list: Vec<_> = bounds
            .iter()
            .map(|(lo, hi)| json!({"lo": lo, "hi": hi}))
            .collect();
        let out = json!({"n": enc.values.len(), key: list, "precision_bits": enc.precision_bits, "met_width": enc.met_width, "seconds": seconds, "provenance": prov.to_json()});
        println!("{out}");
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

fn run_spectrum(args: &SpectrumArgs, singular: bool) -> Result<(), Failure> {
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

fn run_bench(a: &BenchArgs) -> Result<(), Failure> {
    let max = pespectra_attention::MAX_BENCH_THREADS;
    if a.threads.is_some_and(|t| t == 0 || t > max) {
        return Err(bad(format!(
            "--threads must be between 1 and {max}, got {}",
            a.threads.unwrap_or_default()
        )));
    }
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut prov = provenance();
    let r = pespectra_attention::bench_attention(a.b, a.h, a.s, a.d, a.causal, threads)
        .map_err(|e| bad(e.to_string()))?;
    if a.json {
        for (k, v) in [("b", a.b), ("h", a.h), ("s", a.s), ("d", a.d)] {
            prov.setting(k, v);
        }
        prov.setting("causal", a.causal);
        prov.simd(pespectra_attention::Isa::detect().name());
        prov.threads(threads);
        println!(
            "{}",
            json!({"gflops": r.gflops, "peak_gflops": r.peak_gflops, "ratio": r.ratio, "seconds": r.seconds, "provenance": prov.to_json()})
        );
    } else {
        println!(
            "{:.1} GFLOP/s of a measured {:.1} GFLOP/s FMA peak ({:.0}%), {:.4} s per call",
            r.gflops,
            r.peak_gflops,
            100.0 * r.ratio,
            r.seconds
        );
    }
    Ok(())
}

fn run_check(a: &CheckArgs) -> Result<(), Failure> {
    use pespectra_theorems::{catalogue, entry, run, Params};
    let mut prov = provenance();
    // resolve every id once (the theorems crate owns the lookup and its error message)
    let entries = if a.ids.is_empty() {
        catalogue()
    } else {
        a.ids
            .iter()
            .map(|id| entry(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?
    };
    let ids: Vec<&str> = entries.iter().map(|e| e.id).collect();
    if a.a.is_some() && ids.len() != 1 {
        return Err(bad(
            "with --a, name exactly one theorem id (T2, T3, T4, T5, T7, T9 or T10)",
        ));
    }
    let user = match &a.a {
        Some(pa) => Some((read_npy(pa)?, a.b.as_deref().map(read_npy).transpose()?)),
        None => None,
    };
    for (role, p) in [("a", &a.a), ("b", &a.b)] {
        if let Some(p) = p {
            let bytes = std::fs::read(p).unwrap_or_default();
            prov.input_file(role, &p.display().to_string(), &bytes);
        }
    }
    prov.setting("seed", a.seed);
    prov.setting("n", a.n);
    prov.setting("ids", ids.clone());
    prov.threads(rayon::current_num_threads());
    if let Some(dir) = &a.certificates {
        std::fs::create_dir_all(dir)
            .map_err(|e| bad(format!("cannot create {}: {e}", dir.display())))?;
    }
    let params = Params {
        certificates: a.certificates.is_some(),
        ..Params::new(a.seed, a.n)
    };
    let mut rows = Vec::new();
    let mut all_expected = true;
    if !a.json {
        println!(
            "{:<4} {:<13} {:>22} {:>8}  statement",
            "id", "verdict", "certified margin", "seconds"
        );
    }
    for (id, entry) in ids.iter().copied().zip(&entries) {
        let r = match &user {
            Some((ma, mb)) => pespectra_theorems::run_on(id, ma, mb.as_ref()),
            None => run(id, &params),
        }
        .map_err(|e| bad(format!("{id}: {e}")))?;
        let cert_path = match (&a.certificates, &r.certificate) {
            (Some(dir), Some(c)) => {
                let p = dir.join(format!("{}.json", r.id));
                std::fs::write(&p, serde_json::to_string_pretty(c).expect("JSON"))
                    .map_err(|e| bad(format!("cannot write {}: {e}", p.display())))?;
                Some(p.display().to_string())
            }
            _ => None,
        };
        all_expected &= r.verdict == entry.expected;
        // the margin is a certified lower bound: print it rounded toward −∞
        let margin = r.margin.map(|m| {
            pespectra_arith::mp::decimal(&rug::Float::with_val(53, m), 6, rug::float::Round::Down)
        });
        if a.json {
            rows.push(json!({"id": r.id, "verdict": r.verdict.as_str(), "margin": margin, "certificate": cert_path, "seconds": r.seconds, "detail": r.detail}));
        } else {
            let flag = if r.verdict == entry.expected {
                ""
            } else {
                "  ← UNEXPECTED"
            };
            println!(
                "{:<4} {:<13} {:>22} {:>8.3}  {}{flag}",
                r.id,
                r.verdict.as_str(),
                margin.unwrap_or_else(|| "-".into()),
                r.seconds,
                entry.statement
            );
            if user.is_some() || r.verdict != entry.expected {
                println!("      {}", r.detail);
            }
        }
    }
    if a.json {
        println!("{}", json!({"results": rows, "provenance": prov.to_json()}));
    }
    if all_expected {
        Ok(())
    } else {
        Err(Failure(
            1,
            "some verdicts differ from the expected ones (HOLDS for T*/D*, FAILS for R*)".into(),
        ))
    }
}

/// Progress on stderr: one rewritten line with a bar on a terminal, a plain line at most every
/// few seconds otherwise (logs of CI jobs stay short).
fn campaign_progress(property: &str) -> impl Fn(&pespectra_campaign::Progress) {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let last = std::cell::Cell::new(None::<Instant>);
    let property = property.to_string();
    move |p| {
        let done = p.done == p.total;
        if !tty
            && !done
            && last
                .get()
                .is_some_and(|t| t.elapsed() < Duration::from_secs(5))
        {
            return;
        }
        last.set(Some(Instant::now()));
        let frac = p.done as f64 / p.total.max(1) as f64;
        let counts = format!(
            "{}/{} cases, {:.0} cases/s, ETA {:.0} s, HOLDS {} FAILS {} INCONCLUSIVE {}",
            p.done, p.total, p.cases_per_second, p.eta_seconds, p.holds, p.fails, p.inconclusive
        );
        let mut err = std::io::stderr().lock();
        if tty {
            let fill = (frac * 30.0) as usize;
            let _ = write!(
                err,
                "\r{property} [{}{}] {counts}\x1b[K",
                "#".repeat(fill),
                "-".repeat(30 - fill)
            );
            if done {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{property}: {counts}");
        }
    }
}

fn run_campaign(a: &CampaignArgs) -> Result<(), Failure> {
    if let Some(path) = &a.reproduce {
        return reproduce_campaign(path);
    }
    let argv: Vec<String> = std::env::args().collect();
    let (r, doc) = campaign(a, &argv)?;
    if a.json {
        println!("{doc}");
    } else {
        print!("{}", r.table());
    }
    if r.ok() {
        Ok(())
    } else {
        Err(Failure(
            1,
            format!(
                "{}: not every verdict is the expected {} (HOLDS on every case for T*/D*, at least one certified FAILS for R*)",
                r.property,
                r.expected().as_str()
            ),
        ))
    }
}

/// A campaign error as the command line says it: a configuration field is named by its flag.
fn campaign_error(e: pespectra_campaign::CampaignError) -> Failure {
    use pespectra_campaign::CampaignError;
    match e {
        CampaignError::Field { field, message } => {
            bad(format!("--{} {message}", field.replace('_', "-")))
        }
        CampaignError::Config(m) | CampaignError::Io(m) => bad(m),
    }
}

/// Runs a campaign; returns the report and its JSON document with provenance.
fn campaign(
    a: &CampaignArgs,
    argv: &[String],
) -> Result<(pespectra_campaign::CampaignReport, serde_json::Value), Failure> {
    use pespectra_campaign::{CampaignConfig, Shard};
    let property = a.property.clone().unwrap_or_default();
    let shard = match a.shard.as_deref() {
        Some("auto") => {
            pespectra_campaign::merge::shard_from_env(|k| std::env::var(k).ok(), a.shards)
                .map_err(|e| bad(format!("--shard auto: {e}")))?
        }
        Some(s) => s.parse::<Shard>().map_err(campaign_error)?,
        None => Shard::ALL,
    };
    let cfg = CampaignConfig {
        property: property.clone(),
        cases: a.cases.unwrap_or_default(),
        seed: a.seed,
        jobs: a.jobs,
        max_n: a.max_n,
        shard,
        out: a.out.clone(),
    };
    pespectra_campaign::merge::run_documented(
        &cfg,
        argv,
        campaign_progress(&property.to_uppercase()),
    )
    .map_err(campaign_error)
}

/// `campaign merge REPORT…`: the exact merge of shard reports, as the whole campaign's report.
fn merge_campaign(
    reports: &[PathBuf],
    json_out: bool,
    out: Option<&std::path::Path>,
) -> Result<(), Failure> {
    use pespectra_campaign::merge;
    let mut prov = provenance();
    let mut docs = Vec::new();
    for p in reports {
        let text = std::fs::read_to_string(p)
            .map_err(|e| bad(format!("cannot read {}: {e}", p.display())))?;
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "{}: not a shard report (truncated or not JSON: {e})",
                p.display()
            ))
        })?;
        prov.input_file(
            &format!("report {}", docs.len()),
            &p.display().to_string(),
            text.as_bytes(),
        );
        docs.push((p.display().to_string(), doc));
    }
    let (id, r) = merge::merge(&docs).map_err(|e| bad(e.to_string()))?;
    prov.setting("shards", docs.len());
    let doc = merge::document(
        &id,
        pespectra_campaign::Shard::ALL,
        &r,
        &[("provenance", prov.to_json())],
    );
    if let Some(o) = out {
        std::fs::write(o, doc.to_string())
            .map_err(|e| bad(format!("cannot write {}: {e}", o.display())))?;
    }
    if json_out {
        println!("{doc}");
    } else {
        print!("{}", r.table());
    }
    if r.ok() {
        Ok(())
    } else {
        Err(Failure(
            1,
            format!(
                "{}: not every verdict is the expected {}",
                r.property,
                r.expected().as_str()
            ),
        ))
    }
}

/// `campaign --reproduce report.json`: re-runs the recorded command line (without `--out`) and
/// compares the reports; exit 0 when reproduced, 1 with the differences.
fn reproduce_campaign(path: &std::path::Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let old: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{}: not a campaign report: {e}", path.display())))?;
    let argv: Vec<String> = old["provenance"]["command_line"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let sub = argv.iter().position(|a| a == "campaign").ok_or_else(|| {
        bad(format!(
            "{}: no provenance command line of a campaign",
            path.display()
        ))
    })?;
    let mut recorded = RecordedCampaign::try_parse_from(
        std::iter::once("campaign".to_string()).chain(argv[sub + 1..].iter().cloned()),
    )
    .map_err(|e| {
        bad(format!(
            "{}: the recorded command line does not parse: {}",
            path.display(),
            e.to_string().lines().next().unwrap_or_default()
        ))
    })?
    .args;
    recorded.out = None;
    recorded.json = false;
    eprintln!("re-running: {}", argv.join(" "));
    let (r, new) = campaign(&recorded, &argv)?;
    let diffs = r.differences_from(&old);
    for (what, key) in [("git commit", "git_commit"), ("CPU", "cpu")] {
        if old["provenance"][key] != new["provenance"][key] {
            println!(
                "differs: {what}: recorded {}, now {}",
                old["provenance"][key], new["provenance"][key]
            );
        }
    }
    for d in &diffs {
        println!("DIFFERENCE: {d}");
    }
    if diffs.is_empty() {
        println!(
            "reproduced: {} ({} cases: HOLDS {}, FAILS {}, INCONCLUSIVE {})",
            path.display(),
            r.cases,
            r.holds,
            r.fails,
            r.inconclusive
        );
        Ok(())
    } else {
        Err(Failure(1, format!("{} was not reproduced", path.display())))
    }
}

fn list_theorems() {
    for e in pespectra_theorems::catalogue() {
        println!(
            "{:<4} expected {:<6} {}",
            e.id,
            e.expected.as_str(),
            e.statement
        );
    }
}

/// Output piped into `head` must end the process quietly like other Unix tools: Rust ignores
/// SIGPIPE, so without this every `println!` after the reader closes would panic on EPIPE.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: runs first in main, before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Eig(a) => run_spectrum(a, false),
        Command::Svd(a) => run_spectrum(a, true),
        Command::Check(a) => run_check(a),
        Command::Theorems => {
            list_theorems();
            Ok(())
        }
        Command::Verify {
            cert,
            max_work,
            max_seconds,
        } => {
            if !(*max_seconds > 0.0 && *max_seconds <= 7.0 * 24.0 * 3600.0) {
                eprintln!(
                    "error: --max-seconds must be positive and at most one week, got {max_seconds}"
                );
                return ExitCode::from(2);
            }
            let limits = pespectra_certcheck::Limits {
                max_work: *max_work,
                max_seconds: *max_seconds,
            };
            let r = pespectra_certcheck::verify_file_with(cert, &limits);
            match &r {
                Ok(rep) => print!("{rep}"),
                Err(e) => eprintln!("error: {e}"),
            }
            return ExitCode::from(pespectra_certcheck::exit_code(&r) as u8);
        }
        Command::BenchAttention(a) => run_bench(a),
        Command::Campaign(c) => match &c.action {
            Some(CampaignAction::Merge { reports, json, out }) => {
                merge_campaign(reports, *json, out.as_deref())
            }
            None => run_campaign(&c.run),
        },
        Command::Models { command } => models_cmd::run(command).map_err(bad),
        Command::Audit(a) => audit_cmd::dispatch(a).map_err(|(code, msg)| Failure(code, msg)),
        Command::Capture(a) => capture_cmd::run(a).map_err(bad),
        Command::Train(a) => train_cmd::run(a).map_err(bad),
        Command::Experiments(a) => experiments_cmd::run(a).map_err(bad),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
