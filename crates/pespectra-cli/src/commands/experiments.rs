//! `pespectra experiments`: the E4 grid (every task × positional encoding × seed), trained,
//! ablated, audited and summarised into one directory (pespectra-experiments).

use std::path::PathBuf;

use pespectra_train::data::Task;
use pespectra_train::train::{Overrides, Preset};

/// Arguments of `pespectra experiments`.
#[derive(clap::Args)]
pub struct ExperimentsArgs {
    /// smoke (seconds per run), small (minutes per run), paper (the authors' sizes).
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// Seeds per (task, variant).
    #[arg(long, default_value = "1,2,3")]
    pub seeds: String,
    /// Tasks: distance,count.
    #[arg(long, default_value = "distance,count")]
    pub tasks: String,
    /// Variants (comma-separated; default: all, plus partial-rope:1..3 on distance).
    #[arg(long)]
    pub variants: Option<String>,
    /// Runs trained at once, one thread each (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Skip the audits of the trained models.
    #[arg(long)]
    pub no_audit: bool,
    /// Also ablate on train+test (the authors' evaluation set).
    #[arg(long)]
    pub ablate_all: bool,
    /// Generated sentences per run instead of the preset's.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Epochs instead of the preset's.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Output directory; finished runs found there are reused, so an interrupted grid resumes.
    #[arg(long, default_value = "e4-results")]
    pub out: PathBuf,
}

/// Runs `pespectra experiments`; `Err` is a one-line message for exit code 2.
pub fn run(a: &ExperimentsArgs) -> Result<(), String> {
    let preset: Preset = a
        .preset
        .parse()
        .map_err(|e: pespectra_train::TrainError| e.to_string())?;
    let seeds = crate::train::parse_seeds(&a.seeds)?;
    let tasks: Vec<Task> = a
        .tasks
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<Task>()
                .map_err(|e| format!("--tasks: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let grid: Vec<(Task, String)> = match &a.variants {
        None => pespectra_experiments::default_grid(preset)
            .into_iter()
            .filter(|(t, _)| tasks.contains(t))
            .collect(),
        Some(list) => tasks
            .iter()
            .flat_map(|&t| list.split(',').map(move |v| (t, v.trim().to_string())))
            .collect(),
    };
    // refuse an unknown variant before anything trains
    for (t, v) in &grid {
        pespectra_train::TrainRequest::new(*t, v, preset, 0).map_err(|e| e.to_string())?;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = a.jobs.unwrap_or(cores);
    if !(1..=256).contains(&jobs) {
        return Err("--jobs must be 1..=256".into());
    }
    let plan = pespectra_experiments::Plan {
        preset,
        seeds,
        grid,
        jobs,
        ablate_all: a.ablate_all,
        audit: !a.no_audit,
        overrides: Overrides {
            samples: a.samples,
            epochs: a.epochs,
            ..Overrides::default()
        },
    };
    crate::commands::keep_freed_memory();
    if jobs > 1 {
        // each run on its own thread: candle's elementwise pool and its rayon GEMMs would
        // otherwise wait for the core the other run holds (measured with two runs on 2 cores:
        // 132 % CPU with the default pools, 194 % with these)
        for var in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
            if std::env::var_os(var).is_none() {
                std::env::set_var(var, "1");
            }
        }
    }
    let log = |l: &str| eprintln!("{l}");
    let s = pespectra_experiments::run(&plan, &a.out, &log).map_err(|e| e.to_string())?;
    print!("{}", pespectra_experiments::summary::markdown(&s));
    eprintln!("wrote {}/summary.md and summary.json", a.out.display());
    Ok(())
}
