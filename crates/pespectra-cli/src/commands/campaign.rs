//! `pespectra campaign`: property campaigns, their merge and their reproduction.

use super::*;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct CampaignCmd {
    #[command(subcommand)]
    pub(crate) action: Option<CampaignAction>,
    #[command(flatten)]
    pub(crate) run: CampaignArgs,
}

#[derive(Subcommand)]
pub(crate) enum CampaignAction {
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
pub(crate) struct CampaignArgs {
    /// Catalogue id, e.g. T3 or R1.
    #[arg(required_unless_present = "reproduce")]
    pub(crate) property: Option<String>,
    /// Number of cases of the whole (unsharded) campaign.
    #[arg(long, required_unless_present = "reproduce")]
    pub(crate) cases: Option<u64>,
    /// Campaign seed: case k runs on the instance seeded by SplitMix64(seed, k).
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// Largest sequence length; n of each case is uniform in [4, max-n] (≤ 1024).
    #[arg(long, default_value_t = 64)]
    pub(crate) max_n: usize,
    /// Run only the cases k ≡ i (mod N), given as i/N (merged shard reports equal the full
    /// one), or `auto`: i and N from the scheduler (SLURM_ARRAY_TASK_ID/_COUNT/_MIN, or
    /// Kubernetes' JOB_COMPLETION_INDEX with --shards).
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Number of shards, for `--shard auto` under a scheduler that does not say (Kubernetes).
    #[arg(long)]
    pub(crate) shards: Option<u64>,
    /// Directory for the resumable state and the first counterexample's certificate.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Machine-readable JSON report on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Re-runs the campaign a `--json` report describes (its provenance) and compares.
    #[arg(long, conflicts_with_all = ["property", "out", "json"])]
    pub(crate) reproduce: Option<PathBuf>,
}

/// Only for re-parsing a recorded campaign command line.
#[derive(Parser)]
pub(crate) struct RecordedCampaign {
    #[command(flatten)]
    pub(crate) args: CampaignArgs,
}

/// Progress on stderr: one rewritten line with a bar on a terminal, a plain line at most every
/// few seconds otherwise (logs of CI jobs stay short).
pub(crate) fn campaign_progress(property: &str) -> impl Fn(&pespectra_campaign::Progress) {
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

pub(crate) fn run_campaign(a: &CampaignArgs) -> Result<(), Failure> {
    if let Some(path) = &a.reproduce {
        return reproduce_campaign(path);
    }
    let argv: Vec<String> = std::env::args().collect();
    let (r, doc) = campaign(a, &argv)?;
    show(
        &r,
        &doc,
        a.json,
        " (HOLDS on every case for T*/D*, at least one certified FAILS for R*)",
    )
}

/// A campaign error as the command line says it: a configuration field is named by its flag.
pub(crate) fn campaign_error(e: pespectra_campaign::CampaignError) -> Failure {
    use pespectra_campaign::CampaignError;
    match e {
        CampaignError::Field { field, message } => {
            bad(format!("--{} {message}", field.replace('_', "-")))
        }
        CampaignError::Config(m) | CampaignError::Io(m) => bad(m),
    }
}

/// Runs a campaign; returns the report and its JSON document with provenance.
pub(crate) fn campaign(
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
pub(crate) fn merge_campaign(
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
    show(&r, &doc, json_out, "")
}

/// Prints a report (its JSON document or its table) and turns a verdict other than the expected
/// one into exit 1; `hint` ends that message.
fn show(
    r: &pespectra_campaign::CampaignReport,
    doc: &serde_json::Value,
    json: bool,
    hint: &str,
) -> Result<(), Failure> {
    if json {
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
                "{}: not every verdict is the expected {}{hint}",
                r.property,
                r.expected().as_str()
            ),
        ))
    }
}

/// `campaign --reproduce report.json`: re-runs the recorded command line (without `--out`) and
/// compares the reports; exit 0 when reproduced, 1 with the differences.
pub(crate) fn reproduce_campaign(path: &std::path::Path) -> Result<(), Failure> {
    let super::Recording { old, argv, parsed } = super::read_recording::<RecordedCampaign>(
        path,
        "campaign",
        "a campaign report",
        "a campaign",
    )
    .map_err(bad)?;
    let mut recorded = parsed.args;
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
