//! Shard reports as files, and their exact merge (`pespectra campaign merge`).
//!
//! A shard's report document carries what it is a shard *of* (property, seed, total cases,
//! max-n, `i/N`), the exact [`CampaignReport`] (serde, so margins survive bit for bit) and a
//! SHA-256 `digest` of everything else in the document. Merging checks every document against
//! its digest (a truncated or hand-edited file is refused), that all come from the same campaign,
//! and that the shard indices are exactly `0..N` once each; then it folds the reports with the
//! monoid [`CampaignReport::merge`], whose result equals the unsharded run's (timing aside).
//! The scheduler's task index becomes a shard with [`shard_from_env`].

use crate::{run_campaign, CampaignConfig, CampaignError, CampaignReport, Progress, Shard};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Layout version of a campaign report document.
pub const FORMAT: &str = "pespectra-campaign-report/1";

/// What a shard report belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignId {
    /// Canonical catalogue id.
    pub property: String,
    /// Campaign seed.
    pub seed: u64,
    /// Cases of the whole (unsharded) campaign.
    pub cases: u64,
    /// Largest n.
    pub max_n: usize,
}

/// Why shard reports cannot be merged; each names the files involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Not a campaign report document (or a field is missing or malformed).
    #[error("{file}: not a shard report: {why}")]
    Malformed {
        /// File.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// The content does not match its digest: truncated or edited.
    #[error("{file}: content does not match its digest (truncated or edited)")]
    Digest {
        /// File.
        file: String,
    },
    /// Two reports of different campaigns (property, seed, cases, max-n or shard count).
    #[error("{} and {} are shards of different campaigns ({field} differs)", files.0, files.1)]
    Mismatch {
        /// The field that differs.
        field: &'static str,
        /// The two files.
        files: (String, String),
    },
    /// The same shard index twice.
    #[error("{} and {} are both shard {index}", files.0, files.1)]
    Duplicate {
        /// Index `i` of `i/N`.
        index: u64,
        /// The two files.
        files: (String, String),
    },
    /// Shard indices absent from the inputs.
    #[error("missing shard(s) {}", shard_list(indices, *count))]
    Missing {
        /// The missing indices.
        indices: Vec<u64>,
        /// `N`.
        count: u64,
    },
    /// No report given.
    #[error("no shard report given")]
    Empty,
}

/// `i/N, j/N, …`.
fn shard_list(indices: &[u64], count: u64) -> String {
    let list: Vec<String> = indices.iter().map(|i| format!("{i}/{count}")).collect();
    list.join(", ")
}

fn digest_of(doc: &Value) -> String {
    let mut body = doc.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("digest");
    }
    // serde_json's map is ordered by key: the text is canonical
    let text = serde_json::to_string(&body).expect("a JSON value serialises");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the campaign `cfg` and returns its report with the shard document the CLI's
/// `campaign --json` prints (provenance from `argv`, the settings and the thread count), so
/// every caller writes the same document.
pub fn run_documented<S: AsRef<str>>(
    cfg: &CampaignConfig,
    argv: &[S],
    progress: impl Fn(&Progress),
) -> Result<(CampaignReport, Value), CampaignError> {
    let mut prov = pespectra_provenance::Provenance::start(argv);
    let r = run_campaign(cfg, progress)?;
    prov.setting("property", r.property.clone());
    prov.setting("cases", cfg.cases);
    prov.setting("seed", cfg.seed);
    prov.setting("max_n", cfg.max_n);
    prov.setting("shard", cfg.shard.to_string());
    prov.threads(
        cfg.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    );
    let id = CampaignId {
        property: r.property.clone(),
        seed: cfg.seed,
        cases: cfg.cases,
        max_n: cfg.max_n,
    };
    let doc = document(&id, cfg.shard, &r, &[("provenance", prov.to_json())]);
    Ok((r, doc))
}

/// The report document of a run (a shard or the whole campaign): the summary fields of
/// [`CampaignReport::to_json`], the campaign it belongs to, the exact report, any `extra`
/// fields (provenance), and the digest of all of it.
pub fn document(
    id: &CampaignId,
    shard: Shard,
    r: &CampaignReport,
    extra: &[(&str, Value)],
) -> Value {
    let mut doc = r.to_json();
    /// The campaign a report belongs to.
    #[derive(serde::Serialize)]
    struct CampaignJson<'a> {
        property: &'a str,
        seed: u64,
        cases: u64,
        max_n: usize,
        shard: String,
    }
    doc["format"] = FORMAT.into();
    doc["campaign"] = serde_json::to_value(CampaignJson {
        property: &id.property,
        seed: id.seed,
        cases: id.cases,
        max_n: id.max_n,
        shard: shard.to_string(),
    })
    .unwrap_or(Value::Null);
    doc["report"] = serde_json::to_value(r).unwrap_or(Value::Null);
    for (k, v) in extra {
        doc[*k] = v.clone();
    }
    let d = digest_of(&doc);
    doc["digest"] = d.into();
    doc
}

fn field<'a>(file: &str, doc: &'a Value, path: &[&str]) -> Result<&'a Value, MergeError> {
    let mut v = doc;
    for p in path {
        v = v.get(p).ok_or_else(|| MergeError::Malformed {
            file: file.into(),
            why: format!("no \"{}\"", path.join(".")),
        })?;
    }
    Ok(v)
}

/// Checks one document (format, digest) and reads what it is.
pub fn read(file: &str, doc: &Value) -> Result<(CampaignId, Shard, CampaignReport), MergeError> {
    let malformed = |why: String| MergeError::Malformed {
        file: file.into(),
        why,
    };
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(malformed(format!("format is not {FORMAT}")));
    }
    let claimed = field(file, doc, &["digest"])?.as_str().unwrap_or_default();
    if claimed != digest_of(doc) {
        return Err(MergeError::Digest { file: file.into() });
    }
    let c = field(file, doc, &["campaign"])?;
    let num = |k: &str| {
        field(file, c, &[k])?
            .as_u64()
            .ok_or_else(|| malformed(format!("campaign.{k} is not a count")))
    };
    let id = CampaignId {
        property: field(file, c, &["property"])?
            .as_str()
            .unwrap_or_default()
            .to_string(),
        seed: num("seed")?,
        cases: num("cases")?,
        max_n: num("max_n")? as usize,
    };
    let shard: Shard = field(file, c, &["shard"])?
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e: crate::CampaignError| malformed(e.to_string()))?;
    let report: CampaignReport = serde_json::from_value(field(file, doc, &["report"])?.clone())
        .map_err(|e| malformed(format!("report: {e}")))?;
    Ok((id, shard, report))
}

/// Merges shard documents (`(file name, document)`) into the whole campaign's report.
pub fn merge(docs: &[(String, Value)]) -> Result<(CampaignId, CampaignReport), MergeError> {
    let mut first: Option<(String, CampaignId, u64)> = None;
    let mut seen: BTreeMap<u64, String> = BTreeMap::new();
    let mut total: Option<CampaignReport> = None;
    for (file, doc) in docs {
        let (id, shard, r) = read(file, doc)?;
        if let Some((f0, id0, n0)) = &first {
            let pair = || (f0.clone(), file.clone());
            let differs = [
                ("property", id.property != id0.property),
                ("seed", id.seed != id0.seed),
                ("cases", id.cases != id0.cases),
                ("max-n", id.max_n != id0.max_n),
                ("shard count", shard.count != *n0),
            ];
            if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
                return Err(MergeError::Mismatch {
                    field,
                    files: pair(),
                });
            }
        } else {
            first = Some((file.clone(), id.clone(), shard.count));
        }
        if let Some(other) = seen.insert(shard.index, file.clone()) {
            return Err(MergeError::Duplicate {
                index: shard.index,
                files: (other, file.clone()),
            });
        }
        total = Some(match total {
            None => r,
            Some(t) => t.merge(r),
        });
    }
    let (_, id, count) = first.ok_or(MergeError::Empty)?;
    let missing: Vec<u64> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            indices: missing,
            count,
        });
    }
    Ok((id, total.expect("at least one report")))
}

/// The shard of a job-array task: `SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT` (minus
/// `SLURM_ARRAY_TASK_MIN` when the array does not start at 0), or Kubernetes'
/// `JOB_COMPLETION_INDEX` with `shards` given. `env` looks a variable up.
pub fn shard_from_env(
    env: impl Fn(&str) -> Option<String>,
    shards: Option<u64>,
) -> Result<Shard, crate::CampaignError> {
    let bad = |m: String| crate::CampaignError::Config(m);
    let num = |k: &str| -> Result<Option<u64>, crate::CampaignError> {
        env(k)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{k}={v} is not a non-negative integer")))
            })
            .transpose()
    };
    let (index, count) = if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = match (num("SLURM_ARRAY_TASK_COUNT")?, shards) {
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => {
                return Err(bad(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (give the shard count)".into(),
                ))
            }
        };
        let index = id.checked_sub(min).ok_or_else(|| {
            bad(format!(
                "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
            ))
        })?;
        (index, count)
    } else if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let count = shards.ok_or_else(|| {
            bad("JOB_COMPLETION_INDEX is set: give the number of shards (the Indexed Job's completions)".into())
        })?;
        (i, count)
    } else {
        return Err(bad(
            "the shard is to come from the scheduler, but neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set".into(),
        ));
    };
    if count == 0 || index >= count {
        return Err(bad(format!(
            "the scheduler's task {index} is not a shard of {count} (arrays must have one task per shard, consecutive ids)"
        )));
    }
    Ok(Shard { index, count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run_campaign, CampaignConfig};
    use serde_json::json;

    fn doc(shard: Shard, cases: u64) -> Value {
        let cfg = CampaignConfig {
            cases,
            max_n: 8,
            jobs: Some(1),
            shard,
            ..CampaignConfig::new("T5", 3)
        };
        let r = run_campaign(&cfg, |_| {}).unwrap();
        let id = CampaignId {
            property: r.property.clone(),
            seed: 3,
            cases,
            max_n: 8,
        };
        document(&id, shard, &r, &[])
    }

    fn named(docs: Vec<Value>) -> Vec<(String, Value)> {
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| (format!("s{i}.json"), d))
            .collect()
    }

    #[test]
    fn merge_equals_unsharded_and_refuses_bad_sets() {
        let sh = |i| Shard { index: i, count: 3 };
        let docs = named(vec![doc(sh(2), 12), doc(sh(0), 12), doc(sh(1), 12)]);
        let (_, merged) = merge(&docs).unwrap();
        let whole = read("w", &doc(Shard::ALL, 12)).unwrap().2;
        assert_eq!(
            CampaignReport {
                seconds: 0.0,
                ..merged
            },
            CampaignReport {
                seconds: 0.0,
                ..whole
            }
        );
        // missing shard 1
        let two = vec![docs[0].clone(), docs[1].clone()];
        assert_eq!(
            merge(&two).unwrap_err(),
            MergeError::Missing {
                indices: vec![1],
                count: 3
            }
        );
        // duplicate
        let dup = vec![docs[0].clone(), docs[0].clone()];
        assert!(matches!(
            merge(&dup).unwrap_err(),
            MergeError::Duplicate { index: 2, .. }
        ));
        // edited count
        let mut edited = docs.clone();
        edited[1].1["report"]["holds"] = json!(0);
        assert_eq!(
            merge(&edited).unwrap_err(),
            MergeError::Digest {
                file: "s1.json".into()
            }
        );
        // another campaign
        let mut other = docs.clone();
        other[2] = ("x.json".into(), doc(sh(1), 13));
        assert!(matches!(
            merge(&other).unwrap_err(),
            MergeError::Mismatch { field: "cases", .. }
        ));
    }

    #[test]
    fn scheduler_indices_become_shards() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "3"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!((s.index, s.count), (2, 4));
        let s = shard_from_env(env(&[("JOB_COMPLETION_INDEX", "1")]), Some(3)).unwrap();
        assert_eq!((s.index, s.count), (1, 3));
        assert!(shard_from_env(env(&[("JOB_COMPLETION_INDEX", "1")]), None).is_err());
        assert!(shard_from_env(env(&[]), Some(2)).is_err());
        assert!(shard_from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "4")
            ]),
            None
        )
        .is_err());
    }
}
