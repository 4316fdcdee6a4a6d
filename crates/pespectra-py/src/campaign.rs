//! Property campaigns: the mergeable shard document the CLI's `campaign --json` prints.

use pespectra_campaign::{CampaignConfig, CampaignError, Shard};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::blocking;

/// Runs `property` on `cases` seeded instances (shard `i/N` or all); `progress(stage, done,
/// total)` as cases finish. Returns the report document as JSON text.
#[pyfunction]
#[pyo3(signature = (property, cases, seed, max_n, jobs, shard, out, progress))]
#[allow(clippy::too_many_arguments)]
pub fn campaign(
    py: Python<'_>,
    property: String,
    cases: u64,
    seed: u64,
    max_n: usize,
    jobs: Option<usize>,
    shard: Option<String>,
    out: Option<std::path::PathBuf>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let field = |e: CampaignError| match e {
        CampaignError::Field { field, message } => {
            PyValueError::new_err(format!("{field} {message}"))
        }
        CampaignError::Config(m) => PyValueError::new_err(m),
        CampaignError::Io(m) => PyOSError::new_err(m),
    };
    let shard = match shard {
        Some(s) => s.parse::<Shard>().map_err(field)?,
        None => Shard::ALL,
    };
    let cfg = CampaignConfig {
        property,
        cases,
        seed,
        jobs,
        max_n,
        shard,
        out,
    };
    let r = blocking::run(py, progress.as_ref(), move |p| {
        let mut prov = pespectra_provenance::Provenance::start(&["python", "pespectra.campaign"]);
        let r = pespectra_campaign::run_campaign(&cfg, |pr| {
            p.set(&cfg.property.to_uppercase(), pr.done, pr.total)
        })?;
        prov.setting("property", r.property.clone());
        prov.setting("cases", cfg.cases);
        prov.setting("seed", cfg.seed);
        prov.setting("max_n", cfg.max_n);
        prov.setting("shard", cfg.shard.to_string());
        prov.threads(
            cfg.jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        );
        let id = pespectra_campaign::merge::CampaignId {
            property: r.property.clone(),
            seed: cfg.seed,
            cases: cfg.cases,
            max_n: cfg.max_n,
        };
        Ok::<_, CampaignError>(
            pespectra_campaign::merge::document(
                &id,
                cfg.shard,
                &r,
                &[("provenance", prov.to_json())],
            )
            .to_string(),
        )
    })?;
    r.map_err(field)
}
