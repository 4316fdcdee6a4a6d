//! `pespectra train`: one E4 model per seed (docs/E4_MODEL_FORMAT.md), with its metrics and
//! its head ablations, ready for `pespectra audit DIR`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use pespectra_train::data::Task;
use pespectra_train::train::{Overrides, Progress};
use pespectra_train::{Arch, Preset, TrainRequest};

/// Arguments of `pespectra train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// Task 1 `distance` (trigger-word distance, 70 classes) or Task 2 `count`.
    #[arg(long)]
    pub task: String,
    /// Positional encoding: nope, sinusoidal, learned, relative, t5, alibi, alibi-standard, rope,
    /// rope-hybrid, partial-rope:K, mla, mla-paper.
    #[arg(long)]
    pub pe: String,
    /// `paper` (the authors' encoder) or `standard` (pre-LN); default: standard for mla*,
    /// paper otherwise.
    #[arg(long)]
    pub arch: Option<String>,
    /// smoke (seconds), small (minutes), paper (the authors' sizes; days on 2 cores).
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// Seeds of the weights and batch order, e.g. 1,2,3 (one model each).
    #[arg(long, default_value = "1")]
    pub seeds: String,
    /// Epochs instead of the preset's.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Generated sentences instead of the preset's.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Batch size instead of the preset's.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Peak learning rate instead of the preset's.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Also ablate on train+test, the authors' evaluation set (ablation-train+test.json).
    #[arg(long)]
    pub ablate_all: bool,
    /// Output directory (one seed), or the parent of seed-N/ directories (several seeds).
    #[arg(long)]
    pub out: PathBuf,
}

impl TrainArgs {
    /// The schedule flags.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            samples: self.samples,
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
        }
    }
}

/// Seeds from `1,2,3`.
pub fn parse_seeds(spec: &str) -> Result<Vec<u64>, String> {
    let seeds: Vec<u64> = spec
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("--seeds: {s:?} is not a seed"))
        })
        .collect::<Result<_, _>>()?;
    if seeds.is_empty() || seeds.len() > 1000 {
        return Err("--seeds takes 1 to 1000 seeds".into());
    }
    Ok(seeds)
}

/// The requests of `a`, one per seed, and where each goes.
pub fn requests(a: &TrainArgs) -> Result<Vec<(TrainRequest, PathBuf)>, String> {
    let task: Task = a.task.parse()?;
    let preset: Preset = a
        .preset
        .parse()
        .map_err(|e: pespectra_train::TrainError| e.to_string())?;
    let seeds = parse_seeds(&a.seeds)?;
    let mut out = Vec::new();
    for &seed in &seeds {
        let mut r = match &a.arch {
            Some(arch) => {
                let arch: Arch = arch
                    .parse()
                    .map_err(|e: pespectra_train::TrainError| e.to_string())?;
                TrainRequest::with_arch(task, &a.pe, arch, preset, seed)
            }
            None => TrainRequest::new(task, &a.pe, preset, seed),
        }
        .map_err(|e| e.to_string())?;
        a.overrides().apply(&mut r).map_err(|e| e.to_string())?;
        let dir = if seeds.len() == 1 {
            a.out.clone()
        } else {
            a.out.join(format!("seed-{seed}"))
        };
        if dir.join("config.json").exists() {
            return Err(format!("{} already holds a model", dir.display()));
        }
        out.push((r, dir));
    }
    Ok(out)
}

/// Runs `pespectra train`; `Err` is a one-line message for exit code 2.
pub fn run(a: &TrainArgs) -> Result<(), String> {
    super::keep_freed_memory();
    for (req, dir) in requests(a)? {
        let m = train_one(&req, &dir, a.ablate_all)?;
        println!("{m}");
    }
    Ok(())
}

/// Progress lines on stderr for the run called `label`: a rewritten line on a terminal, one
/// line every 30 s otherwise, and one line per epoch either way.
pub fn progress_printer(label: String, epochs: usize) -> impl FnMut(Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last = Instant::now();
    move |p: Progress| {
        let mut err = std::io::stderr().lock();
        match p {
            Progress::Step {
                epoch,
                step,
                steps,
                loss,
                eta,
                ..
            } => {
                let every = if tty { 0.2 } else { 30.0 };
                if last.elapsed().as_secs_f64() >= every {
                    last = Instant::now();
                    let msg = format!(
                        "{label}: epoch {epoch}/{epochs} step {step}/{steps} loss {loss:.3} ETA {eta:.0} s"
                    );
                    if tty {
                        let _ = write!(err, "\r{msg}\x1b[K");
                    } else {
                        let _ = writeln!(err, "{msg}");
                    }
                }
            }
            Progress::Epoch(r) => {
                let msg = format!(
                    "{label}: epoch {}/{} loss {:.4} train {:.2} % test {:.2} % ({:.0} s)",
                    r.epoch,
                    r.epochs,
                    r.loss,
                    100.0 * r.train_accuracy,
                    100.0 * r.test_accuracy,
                    r.seconds
                );
                let _ = writeln!(err, "{}{msg}", if tty { "\r\x1b[K" } else { "" });
            }
        }
    }
}

/// One line naming a run.
pub fn label(req: &TrainRequest) -> String {
    format!(
        "{} {} {:?} seed {}",
        req.config.task.as_str(),
        req.config.pe,
        req.config.arch,
        req.seed
    )
    .to_lowercase()
}

/// Trains, ablates and writes one model; returns its one-line summary.
pub fn train_one(req: &TrainRequest, dir: &Path, ablate_all: bool) -> Result<String, String> {
    let label = label(req);
    let mut progress = progress_printer(label.clone(), req.epochs);
    let rec = pespectra_train::train_to_dir(req, dir, ablate_all, &mut progress)
        .map_err(|e| e.to_string())?;
    let (l, h, drop) = rec.ablation.deposit();
    Ok(format!(
        "{label}: test accuracy {:.2} % ({} s); largest ablation drop {drop:.1} points (layer {l} head {h}, next {:.1}); written to {}",
        100.0 * rec.test_accuracy,
        rec.seconds.round(),
        rec.ablation.runner_up_drop(),
        dir.display()
    ))
}
