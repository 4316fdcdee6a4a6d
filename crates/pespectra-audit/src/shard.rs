//! Sharded audits (`pespectra audit … --shard i/N`) and their merge (`pespectra audit merge`).
//!
//! A shard audits the heads whose position in the (layer, head) order is ≡ i (mod N), with
//! their ablations, and writes a shard document: every head record in full (spectra included,
//! since the merged report picks its three most positional heads among all of them), the growth
//! rows, what the run was (model, n, digests of text, tokens and weights) and a SHA-256 digest
//! of it all. Merging refuses shards of different runs, duplicate or missing indices and edited
//! files, and rebuilds the [`AuditReport`] that one unsharded run would have produced.

use crate::audit_json::value;
use crate::check::{Check, Verdict};
use crate::metrics::E2;
use crate::report::{head_json, AuditReport, GrowthRow, Timing};
use crate::HeadAudit;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Layout version of a shard document.
pub const FORMAT: &str = "pespectra-audit-shard/1";

/// Whether head number `k` (in (layer, head) order) belongs to shard `index` of `count`.
pub fn owns(k: usize, index: usize, count: usize) -> bool {
    k % count == index
}

fn digest_of(doc: &Value) -> String {
    let mut body = doc.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("digest");
    }
    let text = serde_json::to_string(&body).expect("a JSON value serialises");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The shard document of `report` (which holds only the shard's heads).
pub fn document(report: &AuditReport, index: usize, count: usize, provenance: Value) -> Value {
    let num = |x: f64| x.is_finite().then_some(x);
    /// One row of the n-sweep.
    #[derive(serde::Serialize)]
    struct GrowthJson {
        n: usize,
        norm_ratio: Option<f64>,
        spread_ratio: Option<f64>,
        stable_rank_logits: Option<f64>,
        stable_rank_content: Option<f64>,
    }
    /// A shard document before its digest (keys sorted once it is a `Value`).
    #[derive(serde::Serialize)]
    struct ShardJson<'a> {
        format: &'static str,
        shard: String,
        model: &'a str,
        n: usize,
        ablation_metric: Option<&'a str>,
        growth: Vec<GrowthJson>,
        timing: &'a Timing,
        heads: Vec<Value>,
        provenance: Value,
    }
    let mut doc = value(&ShardJson {
        format: FORMAT,
        shard: format!("{index}/{count}"),
        model: &report.model,
        n: report.n,
        ablation_metric: report.ablation_metric.as_deref(),
        growth: report
            .growth
            .iter()
            .map(|g| GrowthJson {
                n: g.n,
                norm_ratio: num(g.norm_ratio),
                spread_ratio: num(g.spread_ratio),
                stable_rank_logits: num(g.stable_rank_logits),
                stable_rank_content: num(g.stable_rank_content),
            })
            .collect(),
        timing: &report.timing,
        heads: report.heads.iter().map(|h| head_json(h, true)).collect(),
        provenance,
    });
    let d = digest_of(&doc);
    doc["digest"] = d.into();
    doc
}

/// Why shard documents cannot be merged; each message names the files.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Not a shard document, or a field is malformed.
    #[error("{file}: not an audit shard: {why}")]
    Malformed {
        /// File.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// Content and digest disagree (truncated or edited).
    #[error("{file}: content does not match its digest (truncated or edited)")]
    Digest {
        /// File.
        file: String,
    },
    /// Shards of different runs.
    #[error("{} and {} are shards of different audits ({field} differs)", files.0, files.1)]
    Mismatch {
        /// What differs.
        field: &'static str,
        /// The two files.
        files: (String, String),
    },
    /// The same shard twice.
    #[error("{} and {} are both shard {index}", files.0, files.1)]
    Duplicate {
        /// Index.
        index: usize,
        /// The two files.
        files: (String, String),
    },
    /// Shards absent.
    #[error("missing audit shard(s) {}", shard_list(indices, *count))]
    Missing {
        /// Indices.
        indices: Vec<usize>,
        /// `N`.
        count: usize,
    },
    /// Nothing given.
    #[error("no audit shard given")]
    Empty,
}

/// `i/N, j/N, …`.
fn shard_list(indices: &[usize], count: usize) -> String {
    let l: Vec<String> = indices.iter().map(|i| format!("{i}/{count}")).collect();
    l.join(", ")
}

const FAMILIES: [&str; 3] = ["rope", "additive", "absolute"];
const CHECK_IDS: [&str; 18] = [
    "D1", "D2", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "R1", "R2", "R3",
    "R4", "R5", "R6",
];

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn head_from_json(v: &Value) -> Result<HeadAudit, String> {
    let us = |k: &str| {
        v[k].as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| format!("head.{k} is not a count"))
    };
    let stat = |list: &[&'static str], s: &Value, what: &str| {
        let s = s.as_str().unwrap_or_default();
        list.iter()
            .copied()
            .find(|x| *x == s)
            .ok_or_else(|| format!("unknown {what} {s:?}"))
    };
    let checks = v["checks"]
        .as_array()
        .ok_or("head.checks is not a list")?
        .iter()
        .map(|c| {
            let verdict = match c["verdict"].as_str() {
                Some("HOLDS") => Verdict::Holds,
                Some("FAILS") => Verdict::Fails,
                Some("INCONCLUSIVE") => Verdict::Inconclusive,
                other => return Err(format!("unknown verdict {other:?}")),
            };
            Ok(Check {
                id: stat(&CHECK_IDS, &c["id"], "check id")?,
                verdict,
                margin: c["margin"].as_f64(),
                detail: c["detail"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let floats = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().map(num).collect())
            .unwrap_or_default()
    };
    let rope = &v["rope"];
    Ok(HeadAudit {
        layer: us("layer")?,
        head: us("head")?,
        kv_head: us("kv_head")?,
        n: us("n")?,
        family: stat(&FAMILIES, &v["family"], "family")?,
        checks,
        freqs_raised: rope["frequencies_with_lambda_max_raised"]
            .as_u64()
            .zip(rope["frequencies"].as_u64())
            .map(|(a, b)| (a as usize, b as usize)),
        dense_fallbacks: rope["dense_fallbacks"].as_u64().unwrap_or(0) as usize,
        capture_deviation: rope["capture_deviation"].as_f64(),
        e2: E2 {
            norm_ratio: num(&v["e2"]["norm_ratio"]),
            spread_ratio: num(&v["e2"]["spread_ratio"]),
            stable_rank_logits: num(&v["e2"]["stable_rank_logits"]),
            stable_rank_content: num(&v["e2"]["stable_rank_content"]),
            lambda_max_logits: num(&v["e2"]["lambda_max_logits"]),
            lambda_max_content: num(&v["e2"]["lambda_max_content"]),
        },
        toeplitz_share: num(&v["e3"]["toeplitz_share"]),
        toeplitz_share_centred: num(&v["e3"]["toeplitz_share_centred"]),
        delta_toeplitz_share: num(&v["e3"]["delta_toeplitz_share"]),
        ablation: v["e3"]["ablation"].as_f64(),
        window: v["window"].as_u64().map(|w| w as usize),
        softcap: v["softcap"].as_f64(),
        spectrum_logits: floats("spectrum_logits"),
        spectrum_content: floats("spectrum_content"),
        seconds: num(&v["seconds"]),
    })
}

/// Merges shard documents (`(file, document)`) into the report of one unsharded run. Timing
/// adds up (forward passes and growth are counted once, from shard 0).
pub fn merge(docs: &[(String, Value)]) -> Result<AuditReport, MergeError> {
    let mut first: Option<(String, &Value, usize)> = None;
    let mut seen: BTreeMap<usize, String> = BTreeMap::new();
    let mut heads = Vec::new();
    let mut timing = Timing::default();
    let mut growth_doc = None;
    for (file, doc) in docs {
        let malformed = |why: String| MergeError::Malformed {
            file: file.clone(),
            why,
        };
        if doc["format"].as_str() != Some(FORMAT) {
            return Err(malformed(format!("format is not {FORMAT}")));
        }
        if doc["digest"].as_str() != Some(digest_of(doc).as_str()) {
            return Err(MergeError::Digest { file: file.clone() });
        }
        let (index, count) = doc["shard"]
            .as_str()
            .and_then(|s| s.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|(i, n)| i < n)
            .ok_or_else(|| malformed("shard is not i/N".into()))?;
        if let Some((f0, d0, n0)) = &first {
            let prov = |d: &Value, k: &str| d["provenance"]["input"][k].clone();
            let differs = [
                ("model", doc["model"] != d0["model"]),
                ("n", doc["n"] != d0["n"]),
                ("shard count", count != *n0),
                ("text", prov(doc, "text_sha256") != prov(d0, "text_sha256")),
                (
                    "token ids",
                    prov(doc, "token_ids_sha256") != prov(d0, "token_ids_sha256"),
                ),
                (
                    "model files",
                    doc["provenance"]["model"]["files"] != d0["provenance"]["model"]["files"],
                ),
                (
                    "settings",
                    doc["provenance"]["settings"] != d0["provenance"]["settings"],
                ),
            ];
            if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
                return Err(MergeError::Mismatch {
                    field,
                    files: (f0.clone(), file.clone()),
                });
            }
        } else {
            first = Some((file.clone(), doc, count));
        }
        if let Some(other) = seen.insert(index, file.clone()) {
            return Err(MergeError::Duplicate {
                index,
                files: (other, file.clone()),
            });
        }
        for h in doc["heads"].as_array().into_iter().flatten() {
            heads.push(head_from_json(h).map_err(malformed)?);
        }
        let t = &doc["timing"];
        if index == 0 {
            timing.forward = num(&t["forward"]);
            timing.growth = num(&t["growth"]);
            growth_doc = Some(doc["growth"].clone());
        }
        timing.ablation += num(&t["ablation"]);
        timing.audit += num(&t["audit"]);
        timing.audit_head_sum += num(&t["audit_head_sum"]);
        timing.total += num(&t["total"]);
    }
    let (_, d0, count) = first.ok_or(MergeError::Empty)?;
    let missing: Vec<usize> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            indices: missing,
            count,
        });
    }
    heads.sort_by_key(|h| (h.layer, h.head));
    let growth = growth_doc
        .and_then(|g| g.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|g| GrowthRow {
            n: g["n"].as_u64().unwrap_or(0) as usize,
            norm_ratio: num(&g["norm_ratio"]),
            spread_ratio: num(&g["spread_ratio"]),
            stable_rank_logits: num(&g["stable_rank_logits"]),
            stable_rank_content: num(&g["stable_rank_content"]),
        })
        .collect();
    Ok(AuditReport {
        model: d0["model"].as_str().unwrap_or_default().to_string(),
        n: d0["n"].as_u64().unwrap_or(0) as usize,
        ablation_metric: d0["ablation_metric"].as_str().map(String::from),
        heads,
        growth,
        timing,
    })
}
