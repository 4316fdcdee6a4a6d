//! `pespectra audit --reproduce FILE` and `pespectra audit merge DIR…`: re-running a recorded
//! audit and comparing, and merging the shards of a sharded one.

use super::report::{print_summary, write_outputs};
use super::{audit, bad, shard_of, Fail, Recorded};
use std::path::PathBuf;

/// `audit merge DIR… --out OUT`.
pub(super) fn merge(dirs: &[PathBuf], out: &std::path::Path, json_out: bool) -> Result<(), Fail> {
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

/// `--reproduce audit.json`: re-runs the recorded command line (without its outputs) and
/// compares; exit 0 when reproduced, 1 with the differences (and their likely reasons).
pub(super) fn reproduce(path: &std::path::Path) -> Result<(), Fail> {
    let super::super::Recording { old, argv, parsed } = super::super::read_recording::<Recorded>(
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
