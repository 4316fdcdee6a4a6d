//! `pespectra audit MODEL`: forward passes with per-head capture, head ablations, and the
//! certified/measured audit of every head (THEOREMS.md E1–E3), written as JSON, CSV and PNGs.

use pespectra_audit::report::{AuditReport, GrowthRow};
use pespectra_audit::Verdict;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `pespectra audit MODEL …` or `pespectra audit merge DIR…`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AuditCmd {
    #[command(subcommand)]
    action: Option<AuditAction>,
    #[command(flatten)]
    run: AuditArgs,
}

#[derive(clap::Subcommand)]
enum AuditAction {
    /// Merges the shards of a sharded audit (`audit … --shard i/N --out DIR`, one DIR each) into
    /// the audit.json, heads.csv and plots one unsharded run writes.
    Merge {
        /// Shard directories (each holding shard.json).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Directory for audit.json, heads.csv and the PNG plots.
        #[arg(long)]
        out: PathBuf,
        /// Print audit.json on stdout instead of the summary.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `audit` or `audit merge`.
pub fn dispatch(cmd: &AuditCmd) -> Result<(), Fail> {
    match &cmd.action {
        Some(AuditAction::Merge { dirs, out, json }) => merge(dirs, out, *json),
        None => run(&cmd.run),
    }
}

#[derive(clap::Args, Clone)]
pub struct AuditArgs {
    /// Registry name (see `pespectra models list`), e.g. minilm-l6, or a HuggingFace
    /// checkpoint directory (config.json + safetensors; llama, mistral, qwen2, qwen3, phi3,
    /// stablelm, gemma3_text, gpt_neox, gpt2, bloom, mpt, t5, deepseek_v2/v3).
    #[arg(required_unless_present_any = ["reproduce", "captures"])]
    pub model: Option<String>,
    /// Token ids instead of text: a comma-separated list such as 3,10,17, or @FILE with one id
    /// per line (for checkpoints without tokenizer.json).
    #[arg(long, conflicts_with = "text")]
    pub token_ids: Option<String>,
    /// Audit a capture directory (docs/CAPTURE_FORMAT.md; `pespectra capture`, or written from
    /// PyTorch/JAX/NumPy) instead of running a model: no ablation and no n-sweep.
    #[arg(long, conflicts_with_all = ["model", "text", "token_ids", "layers", "no_ablation", "growth", "shard", "reproduce"])]
    pub captures: Option<PathBuf>,
    /// Plain-text file to run the model on (default: a built-in English text of ~1300 tokens).
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Tokens audited (the first n tokens of the text, special tokens included; default 256,
    /// or every id of `--token-ids`).
    #[arg(long)]
    pub n: Option<usize>,
    /// Layers to audit: `A..B` (B excluded), `A..=B`, a list `0,3,5`, or one layer (default: all).
    #[arg(long)]
    pub layers: Option<String>,
    /// Skip the head ablations (E3 ablation effects are then absent).
    #[arg(long)]
    pub no_ablation: bool,
    /// Also measure E2 against n = 64…1024 for a RoPE model (always done for the encoders).
    #[arg(long)]
    pub growth: bool,
    /// Print the audit.json document on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Directory for audit.json, heads.csv and the PNG plots (created if missing).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Audit only the heads k ≡ i (mod N) of the (layer, head) order, given as i/N, or `auto`
    /// (from SLURM_ARRAY_TASK_ID/_COUNT, or JOB_COMPLETION_INDEX with --shards); writes
    /// DIR/shard.json for `pespectra audit merge` (needs --out).
    #[arg(long, requires = "out")]
    pub shard: Option<String>,
    /// Number of shards, for `--shard auto` under a scheduler that does not say (Kubernetes).
    #[arg(long)]
    pub shards: Option<u64>,
    /// Re-runs the audit an audit.json describes (its provenance block) and compares: certified
    /// verdicts must be identical, measured figures within the documented tolerance.
    #[arg(long, conflicts_with_all = ["model", "out", "json"])]
    pub reproduce: Option<PathBuf>,
}

/// Only for re-parsing a recorded command line.
#[derive(clap::Parser)]
struct Recorded {
    #[command(flatten)]
    args: AuditArgs,
}

/// A failure: exit code and one-line message.
pub type Fail = (u8, String);

fn bad(msg: impl Into<String>) -> Fail {
    (2, msg.into())
}

/// Parses `--layers` (`None`: every layer); whether the layers exist is the audit's check.
pub fn parse_layers(spec: Option<&str>) -> Result<Option<Vec<usize>>, Fail> {
    let Some(s) = spec else {
        return Ok(None);
    };
    let num = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| bad(format!("--layers: '{t}' is not a layer number (use A..B, A..=B, a list 0,3,5 or one number)")))
    };
    let layers: Vec<usize> = if let Some((a, b)) = s.split_once("..=") {
        (num(a)?..=num(b)?).collect()
    } else if let Some((a, b)) = s.split_once("..") {
        (num(a)?..num(b)?).collect()
    } else {
        s.split(',').map(num).collect::<Result<_, _>>()?
    };
    if layers.is_empty() {
        return Err(bad(format!("--layers '{s}' selects no layer")));
    }
    let mut layers = layers;
    layers.sort_unstable();
    layers.dedup();
    Ok(Some(layers))
}

/// Progress on stderr: a rewritten bar on a terminal, a plain line every few seconds otherwise.
struct Progress {
    tty: bool,
    last: std::sync::Mutex<Option<Instant>>,
}

impl Progress {
    fn new() -> Self {
        use std::io::IsTerminal;
        Self {
            tty: std::io::stderr().is_terminal(),
            last: std::sync::Mutex::new(None),
        }
    }

    fn update(&self, stage: &str, done: usize, total: usize) {
        use std::io::Write;
        let finished = done >= total;
        let mut last = self.last.lock().expect("progress lock");
        let every = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        if !finished && last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        *last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        if self.tty {
            let fill = done * 30 / total.max(1);
            let _ = write!(
                err,
                "\r{stage:<10} [{}{}] {done}/{total}\x1b[K",
                "#".repeat(fill),
                "-".repeat(30 - fill)
            );
            if finished {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{stage}: {done}/{total}");
        }
    }
}

/// The model's input and where it came from: `--token-ids`, `--text FILE`, or the built-in text.
pub fn read_input(
    text: Option<&std::path::Path>,
    token_ids: Option<&str>,
) -> Result<(pespectra_audit::Input, String), Fail> {
    use pespectra_audit::Input;
    if let Some(spec) = token_ids {
        let (list, label) = match spec.strip_prefix('@') {
            Some(f) => (
                std::fs::read_to_string(f)
                    .map_err(|e| bad(format!("cannot read --token-ids @{f}: {e}")))?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect::<Vec<_>>(),
                f.to_string(),
            ),
            None => (
                spec.split(',').map(|t| t.trim().to_string()).collect(),
                "command line".to_string(),
            ),
        };
        let ids = list
            .iter()
            .map(|t| {
                t.parse::<u32>()
                    .map_err(|_| bad(format!("--token-ids: '{t}' is not a token id")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        if ids.is_empty() {
            return Err(bad("--token-ids: no ids given"));
        }
        return Ok((Input::TokenIds(ids), label));
    }
    let body = match text {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| bad(format!("cannot read --text {}: {e}", p.display())))?,
        None => pespectra_audit::DEFAULT_TEXT.to_string(),
    };
    if body.trim().is_empty() {
        return Err(bad("the text is empty"));
    }
    let label = text.map_or("built-in".to_string(), |p| p.display().to_string());
    Ok((Input::Text(body), label))
}

/// Runs the audit; `Err((code, message))` for exit code 1 (a theorem check FAILS: a bug) or 2.
pub fn run(args: &AuditArgs) -> Result<(), Fail> {
    if let Some(path) = &args.reproduce {
        return reproduce(path);
    }
    let argv: Vec<String> = std::env::args().collect();
    let shard = shard_of(args)?;
    let (report, doc) = audit(args, &argv, shard)?;
    if let (Some((i, n)), Some(out)) = (shard, &args.out) {
        let d = pespectra_audit::shard::document(&report, i, n, doc["provenance"].clone());
        std::fs::create_dir_all(out)
            .map_err(|e| bad(format!("cannot write {}: {e}", out.display())))?;
        let p = out.join("shard.json");
        let tmp = out.join("shard.json.partial");
        std::fs::write(&tmp, serde_json::to_string(&d).expect("JSON"))
            .and_then(|()| std::fs::rename(&tmp, &p))
            .map_err(|e| bad(format!("cannot write {}: {e}", p.display())))?;
        println!(
            "shard {i}/{n}: {} heads audited, wrote {}",
            report.heads.len(),
            p.display()
        );
        return Ok(());
    }
    if let Some(out) = &args.out {
        write_outputs(&report, &doc, out)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    } else {
        print_summary(&report, args.out.as_ref());
    }
    let bug = report
        .heads
        .iter()
        .flat_map(|h| &h.checks)
        .find(|c| c.verdict == Verdict::Fails && !c.id.starts_with('R'));
    match bug {
        Some(c) => Err((
            1,
            format!(
                "a theorem check FAILS on real data ({}: {}) — this is a bug, please report it",
                c.id, c.detail
            ),
        )),
        None => Ok(()),
    }
}

/// The shard `(i, N)` an audit runs, if sharded.
fn shard_of(args: &AuditArgs) -> Result<Option<(usize, usize)>, Fail> {
    use pespectra_campaign::Shard;
    let s = match args.shard.as_deref() {
        None => return Ok(None),
        Some("auto") => {
            pespectra_campaign::merge::shard_from_env(|k| std::env::var(k).ok(), args.shards)
                .map_err(|e| bad(format!("--shard auto: {e}")))?
        }
        Some(s) => s
            .parse::<Shard>()
            .map_err(|e| bad(format!("--shard: {e}")))?,
    };
    Ok(Some((s.index as usize, s.count as usize)))
}

/// `audit merge DIR… --out OUT`.
fn merge(dirs: &[PathBuf], out: &std::path::Path, json_out: bool) -> Result<(), Fail> {
    let mut prov = pespectra_provenance::Provenance::start(&std::env::args().collect::<Vec<_>>());
    let mut docs = Vec::new();
    for d in dirs {
        let p = d.join("shard.json");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| bad(format!("cannot read {}: {e}", p.display())))?;
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "{}: not an audit shard (truncated or not JSON: {e})",
                p.display()
            ))
        })?;
        prov.input_file(
            &format!("shard {}", docs.len()),
            &p.display().to_string(),
            text.as_bytes(),
        );
        docs.push((p.display().to_string(), doc));
    }
    let report = pespectra_audit::shard::merge(&docs).map_err(|e| bad(e.to_string()))?;
    // the run's own provenance (model digests, text, settings) from shard 0, plus the merge's
    let mut doc = report.to_json();
    let run = docs
        .iter()
        .find(|(_, d)| d["shard"].as_str().is_some_and(|s| s.starts_with("0/")))
        .map(|(_, d)| d["provenance"].clone())
        .unwrap_or_default();
    let mut merged = run.clone();
    merged["merge"] = prov.to_json();
    doc["provenance"] = merged;
    write_outputs(&report, &doc, out)?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    } else {
        print_summary(&report, Some(&out.to_path_buf()));
    }
    Ok(())
}

/// The audit and its `audit.json` document (provenance included), through the same library
/// call the Python package makes. With `shard = Some((i, N))` only the heads k ≡ i (mod N) are
/// audited and ablated.
fn audit(
    args: &AuditArgs,
    argv: &[String],
    shard: Option<(usize, usize)>,
) -> Result<(AuditReport, serde_json::Value), Fail> {
    use pespectra_audit::{AuditOptions, AuditRunError};
    use pespectra_sources::SourceError;
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    if let Some(dir) = &args.captures {
        let progress = Progress::new();
        let run = pespectra_sources::audit_capture_dir(dir, &argv, &|stage, d, n| {
            progress.update(stage, d, n)
        })
        .map_err(|e| bad(e.to_string()))?;
        return Ok((run.report, run.document));
    }
    let name = args.model.as_deref().unwrap_or_default();
    let source = pespectra_sources::Source::parse(name).map_err(|e| bad(e.to_string()))?;
    if let pespectra_sources::Source::Registry(r) = &source {
        pespectra_models::lookup(r).map_err(|e| bad(e.to_string()))?;
    }
    let (input, label) = read_input(args.text.as_deref(), args.token_ids.as_deref())?;
    let n = args.n.unwrap_or(match &input {
        pespectra_audit::Input::TokenIds(ids) => ids.len(),
        pespectra_audit::Input::Text(_) => 256,
    });
    if n < 2 {
        return Err(bad(format!("--n must be at least 2, got {n}")));
    }
    let opts = AuditOptions {
        n,
        layers: parse_layers(args.layers.as_deref())?,
        ablation: !args.no_ablation,
        growth: args.growth,
        shard,
    };
    let progress = Progress::new();
    let run = pespectra_sources::audit(
        &source,
        &input,
        &label,
        &opts,
        &argv,
        &mut |l| eprintln!("{l}"),
        &|stage, d, n| progress.update(stage, d, n),
    )
    .map_err(|e| match e {
        SourceError::Registry(e) => bad(crate::models::describe(&e)),
        SourceError::Run(AuditRunError::BeyondContext { model, n, context }) => bad(format!(
            "--n {n} is larger than the context of {model} ({context} tokens)"
        )),
        SourceError::Run(AuditRunError::ShortText { tokens, n }) => bad(format!(
            "the input has only {tokens} tokens, fewer than --n {n}"
        )),
        SourceError::Run(e @ AuditRunError::NoSuchLayer { .. }) => bad(format!("--layers: {e}")),
        e => bad(e.to_string()),
    })?;
    Ok((run.report, run.document))
}

/// `--reproduce audit.json`: re-runs the recorded command line (without its outputs) and
/// compares; exit 0 when reproduced, 1 with the differences (and their likely reasons).
fn reproduce(path: &std::path::Path) -> Result<(), Fail> {
    let super::Recording { old, argv, parsed } = super::read_recording::<Recorded>(
        path,
        "audit",
        "an audit.json",
        "an audit (written by an older pespectra?)",
    )
    .map_err(bad)?;
    let mut recorded = parsed.args;
    recorded.out = None;
    recorded.json = false;
    eprintln!("re-running: {}", argv.join(" "));
    let shard = shard_of(&recorded)?;
    if shard.is_some() {
        return Err(bad(format!(
            "{}: a sharded run writes shard.json; reproduce the merged audit.json instead",
            path.display()
        )));
    }
    let (_, new) = audit(&recorded, &argv, None)?;
    let c = pespectra_audit::reproduce::compare(&old, &new);
    for d in &c.provenance_differences {
        println!("differs: {d}");
    }
    for d in c
        .shape_differences
        .iter()
        .chain(&c.verdict_differences)
        .chain(&c.measured_differences)
    {
        println!("DIFFERENCE: {d}");
    }
    println!(
        "{} certified verdicts compared ({} differ); {} measured figures compared ({} outside the tolerance, largest relative difference {:.2e}, tolerance {:e})",
        c.verdicts,
        c.verdict_differences.len(),
        c.measured,
        c.measured_differences.len(),
        c.max_relative,
        pespectra_audit::reproduce::MEASURED_RTOL
    );
    if c.reproduced() {
        println!("reproduced: {}", path.display());
        Ok(())
    } else {
        Err((
            1,
            format!(
                "{} was not reproduced{}",
                path.display(),
                if c.provenance_differences.is_empty() {
                    String::new()
                } else {
                    format!(" (likely reason: {})", c.provenance_differences.join("; "))
                }
            ),
        ))
    }
}

fn write_outputs(
    report: &AuditReport,
    doc: &serde_json::Value,
    out: &std::path::Path,
) -> Result<(), Fail> {
    pespectra_sources::write_outputs(report, doc, out).map_err(|e| bad(e.to_string()))
}

fn print_summary(r: &AuditReport, out: Option<&PathBuf>) {
    use pespectra_audit::report::{layer_summaries, most_positional, verdict_counts};
    println!(
        "{}: {} heads audited at n = {}",
        r.model,
        r.heads.len(),
        r.n
    );
    println!(
        "E1 (certified)   {:<4} {:>6} {:>6} {:>13}",
        "id", "HOLDS", "FAILS", "INCONCLUSIVE"
    );
    for (id, [h, f, i]) in verdict_counts(&r.heads) {
        let note = if id.starts_with('R') {
            "  (FAILS = the false reading is refuted on real data: a finding)"
        } else {
            ""
        };
        println!("                 {id:<4} {h:>6} {f:>6} {i:>13}{note}");
    }
    println!("E3 per layer (measured): max Toeplitz share (head), Gini; the same with rows centred; max ablation effect (head), Gini");
    for l in layer_summaries(&r.heads) {
        let abl = l
            .max_ablation
            .map_or("-".to_string(), |(v, h)| format!("{v:.4} ({h})"));
        let deposit = if l.single_head_deposit() {
            "  single-head deposit"
        } else {
            ""
        };
        println!(
            "  layer {:>2}: {:.3} ({}), Gini {:.3}; centred {:.3} ({}), Gini {:.3}; {abl}, Gini {}{deposit}",
            l.layer,
            l.max_share.0,
            l.max_share.1,
            l.gini_share,
            l.max_share_centred.0,
            l.max_share_centred.1,
            l.gini_share_centred,
            l.gini_ablation.map_or("-".into(), |g| format!("{g:.3}"))
        );
    }
    let top: Vec<String> = most_positional(&r.heads, 3)
        .iter()
        .map(|h| {
            format!(
                "layer {} head {} ({:.3})",
                h.layer, h.head, h.toeplitz_share
            )
        })
        .collect();
    println!("most positional heads: {}", top.join(", "));
    let med = GrowthRow::new(
        r.n,
        &r.heads.iter().map(|h| h.e2.clone()).collect::<Vec<_>>(),
    );
    println!("E2 medians over heads (measured, floating point): ‖L‖₂/‖L_content‖₂ {:.3}, spread ratio {:.3}, stable rank {:.2} (logits) vs {:.2} (content)", med.norm_ratio, med.spread_ratio, med.stable_rank_logits, med.stable_rank_content);
    if !r.growth.is_empty() {
        println!("E2 against n (medians): n, norm ratio, spread ratio, stable rank logits/content");
        for g in &r.growth {
            println!(
                "  {:>5}  {:.3}  {:.3}  {:.2}/{:.2}",
                g.n, g.norm_ratio, g.spread_ratio, g.stable_rank_logits, g.stable_rank_content
            );
        }
    }
    let t = &r.timing;
    println!("time: forward {:.1} s, ablation {:.1} s, audit {:.1} s (Σ per head {:.1} s), growth {:.1} s, total {:.1} s", t.forward, t.ablation, t.audit, t.audit_head_sum, t.growth, t.total);
    if let Some(o) = out {
        println!("wrote {}/{{audit.json, heads.csv, *.png}}", o.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_specs() {
        assert_eq!(parse_layers(Some("0..3")).unwrap(), Some(vec![0, 1, 2]));
        assert_eq!(parse_layers(Some("1..=2")).unwrap(), Some(vec![1, 2]));
        assert_eq!(parse_layers(Some("5,1,1")).unwrap(), Some(vec![1, 5]));
        assert_eq!(parse_layers(None).unwrap(), None);
        assert!(parse_layers(Some("3..3"))
            .unwrap_err()
            .1
            .contains("selects no layer"));
        assert!(parse_layers(Some("x"))
            .unwrap_err()
            .1
            .contains("not a layer number"));
    }
}
