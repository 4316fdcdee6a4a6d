//! The `audit.json` document (format `pespectra-audit/1`) as serde types: what a head record and
//! the whole report contain, field by field. Non-finite figures are written as `null` (JSON has
//! no NaN or ∞). The documents are returned as `serde_json::Value`, whose keys are sorted, so
//! the bytes written (and the digests of shard documents) do not depend on field order here.

use crate::report::{AuditReport, LayerSummary, Timing};
use crate::HeadAudit;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A figure: the number when finite, else `null`.
fn num(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `doc` as a JSON value (cannot fail: every map key is a string and every number an f64).
pub(crate) fn value(doc: &impl Serialize) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

#[derive(Serialize)]
struct CheckJson<'a> {
    id: &'static str,
    verdict: &'static str,
    margin: Option<f64>,
    detail: &'a str,
}

#[derive(Serialize)]
struct E2Json {
    norm_ratio: Option<f64>,
    spread_ratio: Option<f64>,
    stable_rank_logits: Option<f64>,
    stable_rank_content: Option<f64>,
    lambda_max_logits: Option<f64>,
    lambda_max_content: Option<f64>,
}

#[derive(Serialize)]
struct E3Json {
    toeplitz_share: Option<f64>,
    toeplitz_share_centred: Option<f64>,
    delta_toeplitz_share: Option<f64>,
    ablation: Option<f64>,
}

#[derive(Serialize)]
struct RopeJson {
    frequencies_with_lambda_max_raised: usize,
    frequencies: usize,
    dense_fallbacks: usize,
    capture_deviation: Option<f64>,
}

/// One head's record.
#[derive(Serialize)]
pub(crate) struct HeadJson<'a> {
    layer: usize,
    head: usize,
    kv_head: usize,
    n: usize,
    family: &'static str,
    checks: Vec<CheckJson<'a>>,
    e2: E2Json,
    e3: E3Json,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    softcap: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rope: Option<RopeJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spectrum_logits: Option<&'a [f64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spectrum_content: Option<&'a [f64]>,
}

impl<'a> HeadJson<'a> {
    /// The record of `h`, with its two spectra when `with_spectra`.
    pub(crate) fn new(h: &'a HeadAudit, with_spectra: bool) -> Self {
        let e = &h.e2;
        Self {
            layer: h.layer,
            head: h.head,
            kv_head: h.kv_head,
            n: h.n,
            family: h.family,
            checks: h
                .checks
                .iter()
                .map(|c| CheckJson {
                    id: c.id,
                    verdict: c.verdict.as_str(),
                    margin: c.margin.and_then(num),
                    detail: &c.detail,
                })
                .collect(),
            e2: E2Json {
                norm_ratio: num(e.norm_ratio),
                spread_ratio: num(e.spread_ratio),
                stable_rank_logits: num(e.stable_rank_logits),
                stable_rank_content: num(e.stable_rank_content),
                lambda_max_logits: num(e.lambda_max_logits),
                lambda_max_content: num(e.lambda_max_content),
            },
            e3: E3Json {
                toeplitz_share: num(h.toeplitz_share),
                toeplitz_share_centred: num(h.toeplitz_share_centred),
                delta_toeplitz_share: num(h.delta_toeplitz_share),
                ablation: h.ablation.and_then(num),
            },
            seconds: h.seconds,
            window: h.window,
            softcap: h.softcap,
            rope: h.freqs_raised.map(|(raised, total)| RopeJson {
                frequencies_with_lambda_max_raised: raised,
                frequencies: total,
                dense_fallbacks: h.dense_fallbacks,
                capture_deviation: h.capture_deviation.and_then(num),
            }),
            spectrum_logits: with_spectra.then_some(&h.spectrum_logits[..]),
            spectrum_content: with_spectra.then_some(&h.spectrum_content[..]),
        }
    }
}

/// How to read each group of figures.
#[derive(Serialize)]
struct Conventions<'a> {
    e1: &'static str,
    e2: &'static str,
    e3: &'static str,
    ablation: Option<&'a str>,
}

/// Verdicts of one check id over the heads.
#[derive(Serialize)]
pub(crate) struct Counts {
    #[serde(rename = "HOLDS")]
    holds: usize,
    #[serde(rename = "FAILS")]
    fails: usize,
    #[serde(rename = "INCONCLUSIVE")]
    inconclusive: usize,
}

#[derive(Serialize)]
struct LayerHead {
    layer: usize,
    head: usize,
}

#[derive(Serialize)]
struct LayerJson {
    layer: usize,
    max_share: Option<f64>,
    max_share_head: usize,
    second_share: Option<f64>,
    gini_share: Option<f64>,
    max_share_centred: Option<f64>,
    max_share_centred_head: usize,
    gini_share_centred: Option<f64>,
    single_head_deposit: bool,
    max_ablation: Option<f64>,
    max_ablation_head: Option<usize>,
    gini_ablation: Option<f64>,
}

#[derive(Serialize)]
struct GrowthJson {
    n: usize,
    median_norm_ratio: Option<f64>,
    median_spread_ratio: Option<f64>,
    median_stable_rank_logits: Option<f64>,
    median_stable_rank_content: Option<f64>,
}

/// The whole `audit.json`.
#[derive(Serialize)]
pub(crate) struct AuditJson<'a> {
    format: &'static str,
    model: &'a str,
    n: usize,
    conventions: Conventions<'a>,
    verdict_counts: BTreeMap<&'static str, Counts>,
    most_positional: Vec<LayerHead>,
    layers: Vec<LayerJson>,
    growth: Vec<GrowthJson>,
    timing_seconds: &'a Timing,
    heads: Vec<HeadJson<'a>>,
}

/// What [`AuditJson::new`] is built from, besides the report's own fields.
pub(crate) struct Summaries<'a> {
    /// Verdict counts per check id, `[HOLDS, FAILS, INCONCLUSIVE]`.
    pub counts: BTreeMap<&'static str, [usize; 3]>,
    /// The most positional heads (whose records carry spectra).
    pub top: Vec<(usize, usize)>,
    /// Per-layer summaries.
    pub layers: &'a [LayerSummary],
}

impl<'a> AuditJson<'a> {
    /// The document of `r`.
    pub(crate) fn new(r: &'a AuditReport, s: Summaries<'_>) -> Self {
        Self {
            format: "pespectra-audit/1",
            model: &r.model,
            n: r.n,
            conventions: Conventions {
                e1: "certified: HOLDS/FAILS only from rigorous enclosures (margins are certified lower bounds); R1/R6 FAILS = the false reading is refuted on this head (a finding)",
                e2: "measured in floating point, not certified; pre-mask n×n matrices (no causal mask); symmetric part = (M + Mᵀ)/2",
                e3: "Toeplitz share = ‖T(M)‖_F²/‖M‖_F², T(M) = each diagonal replaced by its mean; causal models: lower triangle (j ≤ i) only; toeplitz_share_centred: the same after subtracting each row's mean over the keys it sees (softmax ignores per-row constants); Gini over heads of a layer, negative values as 0",
                ablation: r.ablation_metric.as_deref(),
            },
            verdict_counts: s
                .counts
                .into_iter()
                .map(|(id, [holds, fails, inconclusive])| {
                    (
                        id,
                        Counts {
                            holds,
                            fails,
                            inconclusive,
                        },
                    )
                })
                .collect(),
            most_positional: s
                .top
                .iter()
                .map(|&(layer, head)| LayerHead { layer, head })
                .collect(),
            layers: s
                .layers
                .iter()
                .map(|l| LayerJson {
                    layer: l.layer,
                    max_share: num(l.max_share.0),
                    max_share_head: l.max_share.1,
                    second_share: num(l.second_share),
                    gini_share: num(l.gini_share),
                    max_share_centred: num(l.max_share_centred.0),
                    max_share_centred_head: l.max_share_centred.1,
                    gini_share_centred: num(l.gini_share_centred),
                    single_head_deposit: l.single_head_deposit(),
                    max_ablation: l.max_ablation.and_then(|a| num(a.0)),
                    max_ablation_head: l.max_ablation.map(|a| a.1),
                    gini_ablation: l.gini_ablation.and_then(num),
                })
                .collect(),
            growth: r
                .growth
                .iter()
                .map(|g| GrowthJson {
                    n: g.n,
                    median_norm_ratio: num(g.norm_ratio),
                    median_spread_ratio: num(g.spread_ratio),
                    median_stable_rank_logits: num(g.stable_rank_logits),
                    median_stable_rank_content: num(g.stable_rank_content),
                })
                .collect(),
            timing_seconds: &r.timing,
            heads: r
                .heads
                .iter()
                .map(|h| HeadJson::new(h, s.top.contains(&(h.layer, h.head))))
                .collect(),
        }
    }
}
