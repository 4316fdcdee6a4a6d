//! `pespectra audit MODEL`: forward passes with per-head capture, head ablations, and the
//! certified/measured audit of every head (THEOREMS.md E1–E3), written as JSON, CSV and PNGs.

mod report;
mod reproduce;

use pespectra_audit::report::AuditReport;
use pespectra_audit::Verdict;
use report::{print_summary, write_outputs, Progress};
use reproduce::{merge, reproduce};
use std::path::PathBuf;

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
    /// stablelm, gemma2, gemma3_text, gpt_neox, gpt2, bloom, falcon, mpt, t5, deepseek_v2/v3),
    /// or a gemma3 GGUF file.
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
    // the forward passes and ablations allocate and free activations of a few MB per layer
    crate::commands::keep_freed_memory();
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
