//! The saved state that lets an interrupted campaign resume, written atomically.

use crate::error::io_err;
use crate::{decimal_down, CampaignError, CampaignReport, Counterexample, Shard};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the state file remembers: the campaign's identity and the completed prefix.
#[derive(Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format: String,
    pub(crate) property: String,
    pub(crate) seed: u64,
    pub(crate) max_n: usize,
    pub(crate) shard: Shard,
    /// Shard-local cases completed (a prefix: cases `shard.case(0..done)`).
    pub(crate) done: u64,
    pub(crate) report: CampaignReport,
}

pub(crate) const STATE_FORMAT: &str = "pespectra-campaign-state/1";

pub(crate) fn state_path(dir: &Path, property: &str, shard: Shard) -> PathBuf {
    dir.join(format!(
        "{property}-shard{}of{}.state.json",
        shard.index, shard.count
    ))
}

/// Writes `text` to `path` atomically (temporary file + rename), so an interrupted campaign
/// never leaves a torn state file.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<(), CampaignError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Writes the counterexample's certificate (re-verifiable with `pespectra verify`) and a small
/// description of the case next to the state file.
pub(crate) fn write_counterexample(
    dir: &Path,
    property: &str,
    c: &Counterexample,
) -> Result<(), CampaignError> {
    let mut cert_file = None;
    if let Some(cert) = &c.certificate {
        let p = dir.join(format!("{property}-case{}.cert.json", c.case));
        write_atomic(&p, &serde_json::to_string_pretty(cert).expect("JSON"))?;
        cert_file = Some(p);
    }
    /// The description written beside a counterexample.
    #[derive(serde::Serialize)]
    struct CaseJson<'a> {
        property: &'a str,
        case: u64,
        seed: u64,
        n: usize,
        margin: Option<String>,
        detail: &'a str,
        certificate: Option<String>,
    }
    // through a Value: sorted keys, as the file has always been written
    let desc = serde_json::to_value(CaseJson {
        property,
        case: c.case,
        seed: c.seed,
        n: c.n,
        margin: c.margin.map(decimal_down),
        detail: &c.detail,
        certificate: cert_file.map(|p| p.display().to_string()),
    })
    .map_err(|e| CampaignError::Io(format!("cannot describe case {}: {e}", c.case)))?;
    write_atomic(
        &dir.join(format!("{property}-case{}.json", c.case)),
        &serde_json::to_string_pretty(&desc).expect("JSON"),
    )
}
