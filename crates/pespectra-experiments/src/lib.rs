//! The paper's experiment E4 end to end (paper-notes §4): every (task, positional encoding,
//! seed) of a [`Plan`] trained with `pespectra-train` (resumable: finished runs are read back),
//! an ablation heatmap per model, the certified audit of each model's first seed on a test
//! sentence (`pespectra-sources`), and `summary.json` / `summary.md` with the paper's figures
//! beside the measured ones.
//!
//! Layout under the output directory: `<task>/<pe>/seed-<s>/` (the model, `metrics.json`,
//! `ablation-test.json`), `<task>/<pe>/ablation.png`, `<task>/<pe>/audit/` (the audit's JSON,
//! CSV and plots), `summary.json`, `summary.md`.

#![warn(missing_docs)]

pub mod paper;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use pespectra_train::data::Task;
use pespectra_train::train::{Overrides, Preset, Progress};
use pespectra_train::{RunRecord, TrainError, TrainRequest};

pub use summary::{Summary, VariantRow};

/// Why an experiment run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A run could not be set up, trained, written or read back.
    #[error("{run}: {source}")]
    Train {
        /// Which run.
        run: String,
        /// Why.
        source: TrainError,
    },
    /// A model's audit failed.
    #[error("audit of {run}: {source}")]
    Audit {
        /// Which model.
        run: String,
        /// Why.
        source: Box<pespectra_sources::SourceError>,
    },
    /// Writing an audit's outputs failed.
    #[error("audit outputs of {run}: {source}")]
    AuditOutput {
        /// Which model.
        run: String,
        /// Why.
        source: pespectra_sources::WriteError,
    },
    /// A plot could not be drawn.
    #[error("{0}")]
    Plot(#[from] pespectra_audit::AuditError),
    /// Writing the summary failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Sizes and schedules of every run.
    pub preset: Preset,
    /// Seeds per (task, variant).
    pub seeds: Vec<u64>,
    /// The (task, variant) cells.
    pub grid: Vec<(Task, String)>,
    /// Runs trained at once (each on one thread).
    pub jobs: usize,
    /// Also ablate on train+test (the authors' evaluation set).
    pub ablate_all: bool,
    /// Audit the first seed of every cell.
    pub audit: bool,
    /// Changes to every request's schedule after the preset.
    pub overrides: Overrides,
}

/// Every variant on both tasks, plus the minimum-RoPE-heads experiment on Task 1
/// (`partial-rope:K` for K = 1, 2, 3 beside `nope` = K 0 and `rope` = all heads).
pub fn default_grid(preset: Preset) -> Vec<(Task, String)> {
    let heads = TrainRequest::new(Task::Distance, "rope", preset, 0)
        .map(|r| r.config.heads)
        .unwrap_or(4);
    let variants: Vec<String> = pespectra_train::config::VARIANTS
        .iter()
        .filter(|v| !v.contains(":K"))
        .map(|v| v.to_string())
        .collect();
    let mut grid: Vec<(Task, String)> = Vec::new();
    let partial: Vec<String> = (1..heads.min(4))
        .map(|k| format!("partial-rope:{k}"))
        .collect();
    for task in [Task::Distance, Task::Count] {
        for v in &variants {
            grid.push((task, v.clone()));
        }
        if task == Task::Distance {
            grid.extend(partial.iter().map(|p| (task, p.clone())));
        }
    }
    grid
}

/// `<out>/<task>/<pe>` (the `:` of `partial-rope:K` becomes `-`, for portable file names).
pub fn cell_dir(out: &Path, task: Task, pe: &str) -> PathBuf {
    out.join(task.as_str()).join(pe.replace(':', "-"))
}

/// `<out>/<task>/<pe>/seed-<s>`.
pub fn run_dir(out: &Path, task: Task, pe: &str, seed: u64) -> PathBuf {
    cell_dir(out, task, pe).join(format!("seed-{seed}"))
}

/// One finished run.
#[derive(Clone, Debug)]
pub struct Finished {
    /// Task.
    pub task: Task,
    /// Variant.
    pub pe: String,
    /// Seed.
    pub seed: u64,
    /// What it measured.
    pub record: RunRecord,
    /// Whether it was read back from an earlier invocation instead of trained now.
    pub resumed: bool,
}

/// Messages for the user while the plan runs: one line each.
pub type Log<'a> = &'a (dyn Fn(&str) + Sync);

/// Runs `plan` into `out`: trains what is missing, then draws, audits and summarises.
pub fn run(plan: &Plan, out: &Path, log: Log) -> Result<Summary, ExperimentError> {
    // seed-major, so an interrupted grid has whole seeds of every cell
    let jobs: Vec<(Task, String, u64)> = plan
        .seeds
        .iter()
        .flat_map(|&s| plan.grid.iter().map(move |(t, v)| (*t, v.clone(), s)))
        .collect();
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<Finished, ExperimentError>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.clamp(1, total.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((task, pe, seed)) = jobs.get(i).cloned() else {
                    break;
                };
                let r = run_one(plan, out, task, &pe, seed, log);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                match &r {
                    Ok(f) => log(&format!(
                        "[{d}/{total}] {} {pe} seed {seed}: test accuracy {:.2} %{}",
                        task.as_str(),
                        100.0 * f.record.test_accuracy,
                        if f.resumed { " (earlier run)" } else { "" }
                    )),
                    Err(e) => log(&format!("[{d}/{total}] failed: {e}")),
                }
                results.lock().expect("results lock").push(r);
            });
        }
    });
    // a run that fails (a diverged loss, say) is reported and left out; the rest still count
    let mut finished = Vec::new();
    let mut failed = Vec::new();
    for r in results.into_inner().expect("results lock") {
        match r {
            Ok(f) => finished.push(f),
            Err(e) => failed.push(e.to_string()),
        }
    }
    finished
        .sort_by(|a, b| (a.task.as_str(), &a.pe, a.seed).cmp(&(b.task.as_str(), &b.pe, b.seed)));
    summary::build(plan, out, &finished, failed, log)
}

fn run_one(
    plan: &Plan,
    out: &Path,
    task: Task,
    pe: &str,
    seed: u64,
    log: Log,
) -> Result<Finished, ExperimentError> {
    let dir = run_dir(out, task, pe, seed);
    let name = format!("{} {pe} seed {seed}", task.as_str());
    let err = |source| ExperimentError::Train {
        run: name.clone(),
        source,
    };
    if let Some(record) = pespectra_train::read_run(&dir).map_err(err)? {
        return Ok(Finished {
            task,
            pe: pe.into(),
            seed,
            record,
            resumed: true,
        });
    }
    let mut req = TrainRequest::new(task, pe, plan.preset, seed).map_err(err)?;
    plan.overrides.apply(&mut req).map_err(err)?;
    let mut last_epoch = 0;
    let mut progress = |p: Progress| {
        if let Progress::Epoch(r) = p {
            if r.epoch > last_epoch {
                last_epoch = r.epoch;
                log(&format!(
                    "{name}: epoch {}/{} loss {:.4} test {:.2} % ({:.0} s)",
                    r.epoch,
                    r.epochs,
                    r.loss,
                    100.0 * r.test_accuracy,
                    r.seconds
                ));
            }
        }
    };
    let record =
        pespectra_train::train_to_dir(&req, &dir, plan.ablate_all, &mut progress).map_err(err)?;
    Ok(Finished {
        task,
        pe: pe.into(),
        seed,
        record,
        resumed: false,
    })
}
