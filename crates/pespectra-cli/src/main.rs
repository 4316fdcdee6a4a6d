//! `pespectra`: verified spectra and positional-encoding analysis from the command line.
//!
//! Exit codes: 0 success, 1 a checked claim fails, 2 bad input or usage (one-line message).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod commands;

use commands::bench::{run_bench, BenchArgs};
use commands::campaign::{merge_campaign, run_campaign, CampaignAction, CampaignCmd};
use commands::check::{list_theorems, run_check, CheckArgs};
use commands::spectrum::{run_spectrum, SpectrumArgs};
use commands::{audit, bad, capture, experiments, models, train, Failure};

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
        command: models::ModelsCommand,
    },
    /// Audits a trained model's heads: certified theorem checks on real logits, contraction, Toeplitz share and ablations (JSON, CSV, PNG).
    Audit(audit::AuditCmd),
    /// Writes a model's heads on a text as a capture directory (docs/CAPTURE_FORMAT.md) for `audit --captures`.
    Capture(capture::CaptureArgs),
    /// Trains a synthetic-task encoder of the paper's experiment E4 (docs/E4_MODEL_FORMAT.md), ablates its heads, and writes it for `audit`.
    Train(train::TrainArgs),
    /// Runs the whole E4 grid (tasks × positional encodings × seeds): training, head ablations, heatmaps, audits and summary tables beside the paper's figures.
    Experiments(experiments::ExperimentsArgs),
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
        Command::Models { command } => models::run(command).map_err(bad),
        Command::Audit(a) => audit::dispatch(a).map_err(|(code, msg)| Failure(code, msg)),
        Command::Capture(a) => capture::run(a).map_err(bad),
        Command::Train(a) => train::run(a).map_err(bad),
        Command::Experiments(a) => experiments::run(a).map_err(bad),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(code)
        }
    }
}
