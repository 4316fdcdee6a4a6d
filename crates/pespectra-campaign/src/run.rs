//! Running a campaign: configuration, progress and the parallel loop over chunks of cases.

use crate::error::io_err;
use crate::state::{state_path, write_atomic, write_counterexample, State, STATE_FORMAT};
use crate::{case_params, CampaignError, CampaignReport, Counterexample, MarginCase, Shard};
use pespectra_theorems::{entry, run, Verdict};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// What to run.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    /// Catalogue id (case-insensitive), e.g. `T3`.
    pub property: String,
    /// Total number of cases of the (unsharded) campaign.
    pub cases: u64,
    /// Campaign seed.
    pub seed: u64,
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Largest sequence length, `4 ≤ max_n ≤ 1024`.
    pub max_n: usize,
    /// Which slice of the cases to run.
    pub shard: Shard,
    /// Directory for the resumable state and counterexample certificates.
    pub out: Option<PathBuf>,
}

impl CampaignConfig {
    /// Defaults: 1000 cases, `max_n = 64`, all cores, unsharded, no output directory.
    pub fn new(property: &str, seed: u64) -> Self {
        Self {
            property: property.to_string(),
            cases: 1000,
            seed,
            jobs: None,
            max_n: 64,
            shard: Shard::ALL,
            out: None,
        }
    }
}

/// Reported to the progress callback after every chunk of cases.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Cases of this shard completed so far (including earlier, resumed runs).
    pub done: u64,
    /// Cases of this shard in total.
    pub total: u64,
    /// HOLDS so far.
    pub holds: u64,
    /// FAILS so far.
    pub fails: u64,
    /// INCONCLUSIVE so far.
    pub inconclusive: u64,
    /// Cases per second of this run (resumed cases excluded).
    pub cases_per_second: f64,
    /// Estimated seconds to completion at that rate.
    pub eta_seconds: f64,
}

/// Runs one case (without certificate) and returns its one-case report (margin recorded only
/// for the expected verdict).
fn run_case(
    property: &str,
    expected: Verdict,
    seed: u64,
    case: u64,
    max_n: usize,
    t0: (Instant, f64),
) -> CampaignReport {
    let p = case_params(seed, case, max_n);
    let mut r = CampaignReport::empty(property);
    r.cases = 1;
    match run(property, &p) {
        Err(e) => {
            r.inconclusive = 1;
            r.errors = 1;
            r.first_error = Some((case, e.to_string()));
        }
        Ok(c) => {
            match c.verdict {
                Verdict::Holds => r.holds = 1,
                Verdict::Fails => r.fails = 1,
                Verdict::Inconclusive => r.inconclusive = 1,
            }
            if c.verdict == expected {
                r.min_margin = c.margin.filter(|m| m.is_finite()).map(|margin| MarginCase {
                    margin,
                    case,
                    n: p.n,
                });
            }
            if c.verdict == Verdict::Fails {
                r.first_counterexample = Some(Counterexample {
                    case,
                    seed: p.seed,
                    n: p.n,
                    margin: c.margin.filter(|m| m.is_finite()),
                    detail: c.detail,
                    seconds: t0.1 + t0.0.elapsed().as_secs_f64(),
                    certificate: None,
                });
            }
        }
    }
    r
}

/// Most worker threads a campaign starts (far above any core count it targets; a typo'd huge
/// value fails at once instead of spending seconds creating threads).
pub const MAX_JOBS: usize = 1024;

/// Runs the campaign (or its shard) and returns the report; `progress` is called on the
/// calling thread after every chunk of cases.
pub fn run_campaign(
    cfg: &CampaignConfig,
    progress: impl Fn(&Progress),
) -> Result<CampaignReport, CampaignError> {
    let entry = entry(&cfg.property).map_err(|_| {
        CampaignError::Config(format!(
            "unknown property '{}' (see `pespectra theorems`)",
            cfg.property
        ))
    })?;
    let property = entry.id;
    if !(4..=1024).contains(&cfg.max_n) {
        return Err(CampaignError::Field {
            field: "max_n",
            message: format!("must be between 4 and 1024, got {}", cfg.max_n),
        });
    }
    if cfg.cases == 0 {
        return Err(CampaignError::Field {
            field: "cases",
            message: "must be at least 1".into(),
        });
    }
    if cfg.shard.count == 0 || cfg.shard.index >= cfg.shard.count {
        return Err(CampaignError::Field {
            field: "shard",
            message: format!("must be i/N with 0 ≤ i < N, got {}", cfg.shard),
        });
    }
    let jobs = match cfg.jobs {
        Some(0) => {
            return Err(CampaignError::Field {
                field: "jobs",
                message: "must be at least 1".into(),
            })
        }
        Some(j) if j > MAX_JOBS => {
            return Err(CampaignError::Field {
                field: "jobs",
                message: format!("must be at most {MAX_JOBS}, got {j}"),
            })
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let total = cfg.shard.len(cfg.cases);
    let mut state = State {
        format: STATE_FORMAT.into(),
        property: property.into(),
        seed: cfg.seed,
        max_n: cfg.max_n,
        shard: cfg.shard,
        done: 0,
        report: CampaignReport::empty(property),
    };
    let path = match &cfg.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
            let p = state_path(dir, property, cfg.shard);
            if p.exists() {
                let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
                let old: State = serde_json::from_str(&text).map_err(|e| io_err(&p, e))?;
                if old.format != STATE_FORMAT
                    || old.seed != cfg.seed
                    || old.max_n != cfg.max_n
                    || old.shard != cfg.shard
                {
                    return Err(CampaignError::Config(format!("{} belongs to another campaign (seed {}, max-n {}, shard {}); choose another output directory", p.display(), old.seed, old.max_n, old.shard)));
                }
                if old.done > total {
                    return Err(CampaignError::Config(format!(
                        "{} has {} cases done, more than the {total} requested; choose another output directory",
                        p.display(),
                        old.done
                    )));
                }
                state = old;
            }
            Some(p)
        }
        None => None,
    };
    let expected = state.report.expected();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CampaignError::Config(format!("cannot start {jobs} threads: {e}")))?;
    let start = Instant::now();
    let resumed = (state.done, state.report.seconds);
    // Chunks aim at ~0.5 s so progress, state saves and interruption stay responsive.
    let mut chunk = (4 * jobs) as u64;
    while state.done < total {
        let (lo, hi) = (state.done, (state.done + chunk).min(total));
        let t = Instant::now();
        let part = pool.install(|| {
            (lo..hi)
                .into_par_iter()
                .map(|j| {
                    run_case(
                        property,
                        expected,
                        cfg.seed,
                        cfg.shard.case(j),
                        cfg.max_n,
                        (start, resumed.1),
                    )
                })
                .reduce(|| CampaignReport::empty(property), CampaignReport::merge)
        });
        let rate = (hi - lo) as f64 / t.elapsed().as_secs_f64().max(1e-9);
        chunk = ((rate * 0.5) as u64).clamp(jobs as u64, 1 << 16);
        let first_new =
            state.report.first_counterexample.is_none() && part.first_counterexample.is_some();
        let mut part = part;
        if let Some(c) = part.first_counterexample.as_mut().filter(|_| first_new) {
            // the case is deterministic: re-run it once, now with its certificate
            let p = case_params(cfg.seed, c.case, cfg.max_n).with_certificates();
            c.certificate = run(property, &p)
                .ok()
                .filter(|r| r.verdict == Verdict::Fails)
                .and_then(|r| r.certificate);
        }
        let mut report =
            std::mem::replace(&mut state.report, CampaignReport::empty(property)).merge(part);
        report.seconds = resumed.1 + start.elapsed().as_secs_f64();
        state.report = report;
        state.done = hi;
        if let (Some(p), Some(dir)) = (&path, &cfg.out) {
            if first_new {
                let c = state
                    .report
                    .first_counterexample
                    .as_ref()
                    .expect("just set");
                write_counterexample(dir, property, c)?;
            }
            write_atomic(p, &serde_json::to_string(&state).expect("JSON"))?;
        }
        let run_rate = (state.done - resumed.0) as f64 / start.elapsed().as_secs_f64().max(1e-9);
        progress(&Progress {
            done: state.done,
            total,
            holds: state.report.holds,
            fails: state.report.fails,
            inconclusive: state.report.inconclusive,
            cases_per_second: run_rate,
            eta_seconds: (total - state.done) as f64 / run_rate.max(1e-9),
        });
    }
    Ok(state.report)
}
