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
        let name = cfg.property.to_uppercase();
        pespectra_campaign::merge::run_documented(&cfg, &["python", "pespectra.campaign"], |pr| {
            p.set(&name, pr.done, pr.total)
        })
        .map(|(_, doc)| doc.to_string())
    })?;
    r.map_err(field)
}
