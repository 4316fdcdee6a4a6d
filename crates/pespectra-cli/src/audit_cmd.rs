//! `pespectra audit MODEL`: forward passes with per-head capture, head ablations, and the
//! certified/measured audit of every head (THEOREMS.md E1–E3), written as JSON, CSV and PNGs.

use pespectra_audit::report::{AuditReport, GrowthRow, Timing};
use pespectra_audit::{audit_heads, HeadAudit, HeadCapture, Verdict};
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
    /// Registry name (see `pespectra models list`), e.g. minilm-l6.
    #[arg(required_unless_present = "reproduce")]
    pub model: Option<String>,
    /// Plain-text file to run the model on (default: a built-in English text of ~1300 tokens).
    #[arg(long)]
    pub text: Option<PathBuf>,
    /// Tokens audited (the first n tokens of the text, special tokens included).
    #[arg(long, default_value_t = 256)]
    pub n: usize,
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

/// Parses `--layers` against the model's layer count.
fn parse_layers(spec: Option<&str>, total: usize) -> Result<Vec<usize>, Fail> {
    let Some(s) = spec else {
        return Ok((0..total).collect());
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
    if let Some(l) = layers.iter().find(|&&l| l >= total) {
        return Err(bad(format!(
            "--layers: layer {l} does not exist (the model has {total} layers: 0..{total})"
        )));
    }
    let mut layers = layers;
    layers.sort_unstable();
    layers.dedup();
    Ok(layers)
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

/// What a model's forward pass gives the audit.
struct ModelRun {
    tokens: Vec<u32>,
    captures: Vec<HeadCapture>,
    ablation: Option<(String, Vec<Vec<f64>>)>,
    growth: Vec<GrowthRow>,
    timing: Timing,
}

/// The longest prefix of `words` (joined by spaces) that `tokenize` accepts, by bisection on
/// the word count (the encoders refuse inputs longer than their position table).
fn longest_prefix<E>(
    text: &str,
    tokenize: impl Fn(&str) -> Result<Vec<u32>, E>,
) -> Option<Vec<u32>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Ok(ids) = tokenize(text) {
        return Some(ids);
    }
    let (mut lo, mut hi) = (0usize, words.len()); // lo: known ok (0 = none yet), hi: known too long
    let mut best = None;
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match tokenize(&words[..mid].join(" ")) {
            Ok(ids) => {
                best = Some(ids);
                lo = mid;
            }
            Err(_) => hi = mid,
        }
    }
    best
}

/// The first `n` ids of `ids`, keeping the final special token (e.g. `[SEP]`) at the end.
fn prefix_keep_last(ids: &[u32], n: usize) -> Vec<u32> {
    if ids.len() <= n {
        return ids.to_vec();
    }
    let mut v = ids[..n - 1].to_vec();
    v.push(*ids.last().expect("non-empty"));
    v
}

/// Whether head `h` of the `li`-th audited layer belongs to the shard (same order as the
/// sorted captures: layer-major).
fn in_shard(shard: Option<(usize, usize)>, li: usize, h: usize, heads: usize) -> bool {
    shard.is_none_or(|(i, n)| pespectra_audit::shard::owns(li * heads + h, i, n))
}

fn run_encoder(
    dir: &std::path::Path,
    args: &AuditArgs,
    text: &str,
    progress: &Progress,
    shard: Option<(usize, usize)>,
) -> Result<ModelRun, Fail> {
    use pespectra_encoders::Encoder;
    let enc = Encoder::load(dir).map_err(|e| {
        bad(format!(
            "{}: {e}",
            args.model.as_deref().unwrap_or_default()
        ))
    })?;
    let cfg = enc.config();
    let max = cfg.max_tokens();
    if args.n > max {
        return Err(bad(format!(
            "--n {} is larger than the context of {} ({max} tokens)",
            args.n,
            args.model.as_deref().unwrap_or_default()
        )));
    }
    let layers = parse_layers(args.layers.as_deref(), cfg.layers)?;
    let ids = longest_prefix(text, |t| enc.tokenize(t))
        .ok_or_else(|| bad("the text produces no tokens"))?;
    if ids.len() < args.n {
        return Err(bad(format!(
            "the text has only {} tokens, fewer than --n {}",
            ids.len(),
            args.n
        )));
    }
    let mut timing = Timing::default();
    let capture_at = |n: usize| -> Result<Vec<HeadCapture>, Fail> {
        let mut caps = Vec::new();
        enc.capture(&prefix_keep_last(&ids, n), &layers, &mut |c| caps.push(c))
            .map_err(|e| bad(format!("forward pass: {e}")))?;
        Ok(caps)
    };
    let t = Instant::now();
    let captures = capture_at(args.n)?;
    timing.forward = t.elapsed().as_secs_f64();
    let ablation = if args.no_ablation {
        None
    } else {
        let t = Instant::now();
        let abl = enc
            .ablation(&[prefix_keep_last(&ids, args.n)])
            .map_err(|e| bad(format!("ablation: {e}")))?;
        let total = layers.len() * cfg.heads;
        let mut effects = vec![vec![f64::NAN; cfg.heads]; cfg.layers];
        for (i, &l) in layers.iter().enumerate() {
            for (h, e) in effects[l].iter_mut().enumerate() {
                if in_shard(shard, i, h, cfg.heads) {
                    *e = abl
                        .effect(l, h)
                        .map_err(|e| bad(format!("ablation: {e}")))?;
                }
                progress.update("ablation", i * cfg.heads + h + 1, total);
            }
        }
        timing.ablation = t.elapsed().as_secs_f64();
        Some((
            "1 − cos(sentence embedding) when the head is zeroed".to_string(),
            effects,
        ))
    };
    let t = Instant::now();
    let growth = growth_sweep(args.n, max.min(ids.len()), &captures, &capture_at, progress)?;
    timing.growth = t.elapsed().as_secs_f64();
    Ok(ModelRun {
        tokens: prefix_keep_last(&ids, args.n),
        captures,
        ablation,
        growth,
        timing,
    })
}

/// E2 medians at n = 64, 128, …, 1024 (those ≤ `limit`), reusing the captures at `n`.
fn growth_sweep(
    n: usize,
    limit: usize,
    captures: &[HeadCapture],
    capture_at: &dyn Fn(usize) -> Result<Vec<HeadCapture>, Fail>,
    progress: &Progress,
) -> Result<Vec<GrowthRow>, Fail> {
    let sizes: Vec<usize> = [64, 128, 256, 512, 1024]
        .into_iter()
        .filter(|&m| m <= limit)
        .collect();
    let mut rows = Vec::new();
    for (i, &m) in sizes.iter().enumerate() {
        rows.push(if m == n {
            GrowthRow::from_captures(m, captures)
        } else {
            GrowthRow::from_captures(m, &capture_at(m)?)
        });
        progress.update("growth", i + 1, sizes.len());
    }
    Ok(rows)
}

fn run_llama(
    dir: &std::path::Path,
    spec: &pespectra_models::ModelSpec,
    args: &AuditArgs,
    text: &str,
    progress: &Progress,
    shard: Option<(usize, usize)>,
) -> Result<ModelRun, Fail> {
    use pespectra_llama::{ForwardOptions, Llama};
    let t = Instant::now();
    let model =
        Llama::load(&spec.weight_path(dir)).map_err(|e| bad(format!("{}: {e}", spec.name)))?;
    let cfg = &model.config;
    if args.n > cfg.context {
        return Err(bad(format!(
            "--n {} is larger than the context of {} ({} tokens)",
            args.n, spec.name, cfg.context
        )));
    }
    let layers = parse_layers(args.layers.as_deref(), cfg.n_layers)?;
    let ids = model
        .encode(text)
        .map_err(|e| bad(format!("tokenizer: {e}")))?;
    if ids.len() < args.n {
        return Err(bad(format!(
            "the text has only {} tokens, fewer than --n {}",
            ids.len(),
            args.n
        )));
    }
    let tokens = &ids[..args.n];
    let capture_at = |m: usize| -> Result<Vec<HeadCapture>, Fail> {
        let mut caps = Vec::new();
        let mut sink = |c: HeadCapture| caps.push(c);
        let mut opts = ForwardOptions {
            capture_layers: layers.clone(),
            sink: Some(&mut sink),
            loss: false,
        };
        model
            .forward(&ids[..m], &mut opts)
            .map_err(|e| bad(format!("forward pass: {e}")))?;
        Ok(caps)
    };
    let captures = capture_at(args.n)?;
    let mut timing = Timing {
        forward: t.elapsed().as_secs_f64(),
        ..Timing::default()
    };
    let ablation = if args.no_ablation {
        None
    } else {
        let t = Instant::now();
        let heads: Vec<(usize, usize)> = layers
            .iter()
            .enumerate()
            .flat_map(|(li, &l)| (0..cfg.n_heads).map(move |h| (li, l, h)))
            .filter(|&(li, _, h)| in_shard(shard, li, h, cfg.n_heads))
            .map(|(_, l, h)| (l, h))
            .collect();
        let abl = model
            .ablation_losses(tokens, &heads, &mut |d, n| {
                progress.update("ablation", d, n)
            })
            .map_err(|e| bad(format!("ablation: {e}")))?;
        let mut effects = vec![vec![f64::NAN; cfg.n_heads]; cfg.n_layers];
        for (&(l, h), loss) in heads.iter().zip(&abl.losses) {
            effects[l][h] = loss - abl.clean_loss;
        }
        timing.ablation = t.elapsed().as_secs_f64();
        Some((
            format!(
                "next-token loss increase (nats; clean loss {:.4})",
                abl.clean_loss
            ),
            effects,
        ))
    };
    let t = Instant::now();
    let growth = if args.growth {
        growth_sweep(
            args.n,
            cfg.context.min(ids.len()),
            &captures,
            &capture_at,
            progress,
        )?
    } else {
        Vec::new()
    };
    timing.growth = t.elapsed().as_secs_f64();
    Ok(ModelRun {
        tokens: tokens.to_vec(),
        captures,
        ablation,
        growth,
        timing,
    })
}

fn text_of(args: &AuditArgs) -> Result<String, Fail> {
    let text = match &args.text {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| bad(format!("cannot read --text {}: {e}", p.display())))?,
        None => pespectra_audit::DEFAULT_TEXT.to_string(),
    };
    if text.trim().is_empty() {
        return Err(bad("the text is empty"));
    }
    Ok(text)
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

/// The audit and its `audit.json` document (provenance included). The weights are re-hashed
/// against their pinned SHA-256 while the model runs; nothing is returned from corrupted ones.
/// With `shard = Some((i, N))` only the heads k ≡ i (mod N) are audited and ablated.
fn audit(
    args: &AuditArgs,
    argv: &[String],
    shard: Option<(usize, usize)>,
) -> Result<(AuditReport, serde_json::Value), Fail> {
    let start = Instant::now();
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let name = args.model.as_deref().unwrap_or_default();
    let spec = pespectra_models::lookup(name).map_err(|e| bad(e.to_string()))?;
    if args.n < 2 {
        return Err(bad(format!("--n must be at least 2, got {}", args.n)));
    }
    let text = text_of(args)?;
    if !matches!(spec.architecture, "bert" | "mpnet" | "llama") {
        return Err(bad(format!("model {} is not yet supported by `pespectra audit` (no forward pass for architecture '{}')", spec.name, spec.architecture)));
    }
    let progress = Progress::new();
    let dir = match pespectra_models::installed(spec.name).map_err(|e| bad(e.to_string()))? {
        Some(d) => d,
        None => {
            eprintln!("{} is not installed: fetching it", spec.name);
            pespectra_models::fetch(spec.name, &mut |l| eprintln!("{l}")).map_err(|e| {
                bad(format!(
                    "model {} is not installed and fetching it failed: {e}",
                    spec.name
                ))
            })?
        }
    };
    let integrity = pespectra_models::BackgroundVerification::start(spec.name, &dir)
        .map_err(|e| bad(e.to_string()))?;
    let run = if spec.architecture == "llama" {
        run_llama(&dir, spec, args, &text, &progress, shard)
    } else {
        run_encoder(&dir, args, &text, &progress, shard)
    };
    // corrupted weights explain any failure of the forward pass: report that first
    let files = integrity
        .wait()
        .map_err(|e| bad(crate::models_cmd::describe(&e)))?;
    let mut run = run?;
    if let Some((i, n)) = shard {
        run.captures.sort_by_key(|c| (c.layer, c.head));
        let mut k = 0;
        run.captures.retain(|_| {
            k += 1;
            pespectra_audit::shard::owns(k - 1, i, n)
        });
    }
    let mut timing = run.timing;
    let t = Instant::now();
    let mut heads: Vec<HeadAudit> =
        audit_heads(&run.captures, &|d, n| progress.update("audit", d, n))
            .map_err(|e| bad(format!("audit: {e}")))?;
    timing.audit = t.elapsed().as_secs_f64();
    timing.audit_head_sum = heads.iter().map(|h| h.seconds).sum();
    let metric = run.ablation.map(|(metric, effects)| {
        for h in &mut heads {
            h.ablation = effects
                .get(h.layer)
                .and_then(|r| r.get(h.head))
                .copied()
                .filter(|v| v.is_finite());
        }
        metric
    });
    timing.total = start.elapsed().as_secs_f64();
    let report = AuditReport {
        model: spec.name.to_string(),
        n: args.n,
        ablation_metric: metric,
        heads,
        growth: run.growth,
        timing,
    };
    prov.model(spec.name, files);
    prov.input_text(&text);
    prov.token_ids(&run.tokens);
    prov.setting("n", args.n);
    prov.setting("layers", args.layers.clone());
    prov.setting("ablation", !args.no_ablation);
    prov.setting("growth", args.growth);
    prov.setting(
        "text",
        args.text
            .as_ref()
            .map_or("built-in".to_string(), |p| p.display().to_string()),
    );
    prov.simd(pespectra_attention::Isa::detect().name());
    prov.threads(rayon::current_num_threads());
    let mut doc = report.to_json();
    doc["provenance"] = prov.to_json();
    Ok((report, doc))
}

/// `--reproduce audit.json`: re-runs the recorded command line (without its outputs) and
/// compares; exit 0 when reproduced, 1 with the differences (and their likely reasons).
fn reproduce(path: &std::path::Path) -> Result<(), Fail> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let old: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("{}: not an audit.json: {e}", path.display())))?;
    let argv: Vec<String> = old["provenance"]["command_line"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let sub = argv.iter().position(|a| a == "audit").ok_or_else(|| {
        bad(format!(
            "{}: no provenance command line of an audit (written by an older pespectra?)",
            path.display()
        ))
    })?;
    let mut recorded = <Recorded as clap::Parser>::try_parse_from(
        std::iter::once("audit".to_string()).chain(argv[sub + 1..].iter().cloned()),
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
    let io =
        |p: &std::path::Path, e: std::io::Error| bad(format!("cannot write {}: {e}", p.display()));
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let j = out.join("audit.json");
    std::fs::write(&j, serde_json::to_string_pretty(doc).expect("JSON")).map_err(|e| io(&j, e))?;
    let c = out.join("heads.csv");
    // the provenance as one leading comment line (`pandas.read_csv(…, comment="#")`)
    let csv = format!("# {}\n{}", doc["provenance"], report.to_csv());
    std::fs::write(&c, csv).map_err(|e| io(&c, e))?;
    pespectra_audit::plot::write_all(report, out).map_err(|e| bad(e.to_string()))?;
    Ok(())
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
        assert_eq!(parse_layers(Some("0..3"), 6).unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_layers(Some("1..=2"), 6).unwrap(), vec![1, 2]);
        assert_eq!(parse_layers(Some("5,1,1"), 6).unwrap(), vec![1, 5]);
        assert_eq!(parse_layers(None, 2).unwrap(), vec![0, 1]);
        assert!(parse_layers(Some("0..7"), 6)
            .unwrap_err()
            .1
            .contains("layer 6 does not exist"));
        assert!(parse_layers(Some("3..3"), 6)
            .unwrap_err()
            .1
            .contains("selects no layer"));
        assert!(parse_layers(Some("x"), 6)
            .unwrap_err()
            .1
            .contains("not a layer number"));
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix_keep_last(&[101, 1, 2, 3, 102], 3), vec![101, 1, 102]);
        assert_eq!(prefix_keep_last(&[101, 1, 102], 5), vec![101, 1, 102]);
        // a tokenizer that refuses more than 4 words
        let tok = |t: &str| {
            let n = t.split_whitespace().count();
            if n > 4 {
                Err(())
            } else {
                Ok((0..n as u32).collect::<Vec<_>>())
            }
        };
        assert_eq!(longest_prefix("a b c d e f g", tok).unwrap().len(), 4);
        assert_eq!(longest_prefix("a b", tok).unwrap().len(), 2);
    }
}
