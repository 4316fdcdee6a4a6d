//! Summaries (verdict counts, per-layer concentration, most positional heads), `audit.json`
//! and `heads.csv`.

use crate::audit_json::{value, AuditJson, HeadJson, Summaries};
use crate::metrics::{gini, E2};
use crate::{HeadAudit, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;

/// Per-layer concentration of the positional share and of the ablation effect.
#[derive(Clone, Debug)]
pub struct LayerSummary {
    /// Layer.
    pub layer: usize,
    /// Largest Toeplitz share in the layer and the head holding it.
    pub max_share: (f64, usize),
    /// Second largest share (a single-head deposit stands out from it).
    pub second_share: f64,
    /// Gini coefficient of the shares over the layer's heads.
    pub gini_share: f64,
    /// Largest row-centred Toeplitz share and its head.
    pub max_share_centred: (f64, usize),
    /// Gini of the row-centred shares.
    pub gini_share_centred: f64,
    /// Largest ablation effect and its head, when ablations were run.
    pub max_ablation: Option<(f64, usize)>,
    /// Gini of the ablation effects (negative effects count as 0).
    pub gini_ablation: Option<f64>,
}

impl LayerSummary {
    /// Whether one head holds at least twice the share of any other head of its layer.
    pub fn single_head_deposit(&self) -> bool {
        self.max_share.0 >= 2.0 * self.second_share
    }
}

/// Per-layer summaries, in layer order.
pub fn layer_summaries(heads: &[HeadAudit]) -> Vec<LayerSummary> {
    let mut by_layer: BTreeMap<usize, Vec<&HeadAudit>> = BTreeMap::new();
    for h in heads {
        by_layer.entry(h.layer).or_default().push(h);
    }
    by_layer
        .into_iter()
        .map(|(layer, hs)| {
            let mut shares: Vec<(f64, usize)> =
                hs.iter().map(|h| (h.toeplitz_share, h.head)).collect();
            shares.sort_by(|a, b| b.0.total_cmp(&a.0));
            let values: Vec<f64> = shares.iter().map(|s| s.0).collect();
            let abl: Option<Vec<(f64, usize)>> =
                hs.iter().map(|h| h.ablation.map(|a| (a, h.head))).collect();
            let centred: Vec<f64> = hs.iter().map(|h| h.toeplitz_share_centred).collect();
            let top_centred = hs
                .iter()
                .map(|h| (h.toeplitz_share_centred, h.head))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .expect("a layer has heads");
            LayerSummary {
                layer,
                max_share_centred: top_centred,
                gini_share_centred: gini(&centred),
                max_share: shares[0],
                second_share: shares.get(1).map_or(0.0, |s| s.0),
                gini_share: gini(&values),
                max_ablation: abl
                    .as_ref()
                    .and_then(|a| a.iter().copied().max_by(|x, y| x.0.total_cmp(&y.0))),
                gini_ablation: abl.map(|a| gini(&a.iter().map(|x| x.0).collect::<Vec<_>>())),
            }
        })
        .collect()
}

/// Heads sorted by decreasing Toeplitz share (the most positional first).
pub fn most_positional(heads: &[HeadAudit], k: usize) -> Vec<&HeadAudit> {
    let mut v: Vec<&HeadAudit> = heads.iter().collect();
    v.sort_by(|a, b| b.toeplitz_share.total_cmp(&a.toeplitz_share));
    v.truncate(k);
    v
}

/// Count of HOLDS / FAILS / INCONCLUSIVE per check id.
pub fn verdict_counts(heads: &[HeadAudit]) -> BTreeMap<&'static str, [usize; 3]> {
    let mut m: BTreeMap<&'static str, [usize; 3]> = BTreeMap::new();
    for c in heads.iter().flat_map(|h| &h.checks) {
        let slot = match c.verdict {
            Verdict::Holds => 0,
            Verdict::Fails => 1,
            Verdict::Inconclusive => 2,
        };
        m.entry(c.id).or_default()[slot] += 1;
    }
    m
}

/// E2 summary of one sequence length (for the growth-with-n table): medians over heads.
#[derive(Clone, Debug)]
pub struct GrowthRow {
    /// Tokens.
    pub n: usize,
    /// Median ‖L‖₂/‖L_content‖₂.
    pub norm_ratio: f64,
    /// Median spread ratio.
    pub spread_ratio: f64,
    /// Median stable rank of sym L.
    pub stable_rank_logits: f64,
    /// Median stable rank of sym L_content.
    pub stable_rank_content: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

impl GrowthRow {
    /// Measures E2 on every capture (in parallel) and takes the medians.
    pub fn from_captures(n: usize, caps: &[crate::HeadCapture]) -> Self {
        use rayon::prelude::*;
        let e2: Vec<E2> = caps
            .par_iter()
            .map(|c| E2::from_matrices(&c.logits, &c.content_logits, c.n))
            .collect();
        Self::new(n, &e2)
    }

    /// Medians of the heads' E2 at this n.
    pub fn new(n: usize, e2: &[E2]) -> Self {
        let col = |f: fn(&E2) -> f64| median(e2.iter().map(f).collect());
        Self {
            n,
            norm_ratio: col(|e| e.norm_ratio),
            spread_ratio: col(|e| e.spread_ratio),
            stable_rank_logits: col(|e| e.stable_rank_logits),
            stable_rank_content: col(|e| e.stable_rank_content),
        }
    }
}

/// Where the time went, in seconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timing {
    /// Forward passes with capture.
    pub forward: f64,
    /// Head ablations.
    pub ablation: f64,
    /// The audit of every head (wall clock, parallel).
    pub audit: f64,
    /// Sum over heads of per-head audit time (CPU-ish seconds).
    pub audit_head_sum: f64,
    /// E2 growth sweep over n.
    pub growth: f64,
    /// Everything.
    pub total: f64,
}

/// A whole audit.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// Model name as given on the command line.
    pub model: String,
    /// Tokens audited.
    pub n: usize,
    /// What the ablation effect measures (e.g. "next-token loss increase").
    pub ablation_metric: Option<String>,
    /// Per head.
    pub heads: Vec<HeadAudit>,
    /// E2 against n (additive models), may be empty.
    pub growth: Vec<GrowthRow>,
    /// Timings.
    pub timing: Timing,
}

/// One head's record as `audit.json` and the shard documents hold it.
pub(crate) fn head_json(h: &HeadAudit, with_spectra: bool) -> Value {
    value(&HeadJson::new(h, with_spectra))
}

impl HeadAudit {
    /// This head's record as it appears in `audit.json` (with its spectra).
    pub fn to_json(&self) -> Value {
        head_json(self, true)
    }
}

impl AuditReport {
    /// The `audit.json` document: conventions, summaries, then one record per head (spectra
    /// only for the three most positional heads, to keep the file small).
    pub fn to_json(&self) -> Value {
        let top: Vec<(usize, usize)> = most_positional(&self.heads, 3)
            .iter()
            .map(|h| (h.layer, h.head))
            .collect();
        let layers = layer_summaries(&self.heads);
        value(&AuditJson::new(
            self,
            Summaries {
                counts: verdict_counts(&self.heads),
                top,
                layers: &layers,
            },
        ))
    }

    /// `heads.csv`: one row per head; verdict columns per check id.
    pub fn to_csv(&self) -> String {
        let ids: Vec<&'static str> = verdict_counts(&self.heads).into_keys().collect();
        let mut out = String::from("layer,head,kv_head,family,n,toeplitz_share,toeplitz_share_centred,delta_toeplitz_share,ablation,norm_ratio,spread_ratio,stable_rank_logits,stable_rank_content,lambda_max_logits,lambda_max_content");
        for id in &ids {
            out.push_str(&format!(",{id}"));
        }
        out.push('\n');
        let num = |x: f64| {
            if x.is_finite() {
                format!("{x:.6e}")
            } else {
                String::new()
            }
        };
        for h in &self.heads {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                h.layer,
                h.head,
                h.kv_head,
                h.family,
                h.n,
                num(h.toeplitz_share),
                num(h.toeplitz_share_centred),
                num(h.delta_toeplitz_share),
                h.ablation.map_or(String::new(), num),
                num(h.e2.norm_ratio),
                num(h.e2.spread_ratio),
                num(h.e2.stable_rank_logits),
                num(h.e2.stable_rank_content),
                num(h.e2.lambda_max_logits),
                num(h.e2.lambda_max_content)
            ));
            for id in &ids {
                let v = h
                    .checks
                    .iter()
                    .find(|c| c.id == *id)
                    .map_or("", |c| c.verdict.as_str());
                out.push_str(&format!(",{v}"));
            }
            out.push('\n');
        }
        out
    }
}
