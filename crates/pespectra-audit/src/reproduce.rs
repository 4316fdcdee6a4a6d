//! Comparison of an `audit.json` with a re-run of the audit it describes
//! (`pespectra audit --reproduce`).
//!
//! Certified verdicts must be identical: they are decided by enclosures, so a different CPU,
//! SIMD path, thread count or commit may move a margin but never turn HOLDS into FAILS. Measured
//! figures (E2, E3, ablation effects) come from f32 forward passes whose summation order depends
//! on the SIMD path and the thread count; they must agree within [`MEASURED_RTOL`] relative (or
//! [`MEASURED_ATOL`] absolute, for values near zero). Provenance differences (commit, CPU, model
//! digests, input digests) are reported as the likely reason of any difference.

use serde_json::Value;

/// Relative tolerance of measured figures between runs.
pub const MEASURED_RTOL: f64 = 1e-3;
/// Absolute tolerance of measured figures near zero.
pub const MEASURED_ATOL: f64 = 1e-6;

/// What differs between the recorded report and the re-run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Certified verdicts compared.
    pub verdicts: usize,
    /// Certified verdicts that differ (each with where and how).
    pub verdict_differences: Vec<String>,
    /// Measured figures compared.
    pub measured: usize,
    /// Measured figures outside the tolerance.
    pub measured_differences: Vec<String>,
    /// Largest relative difference among the measured figures.
    pub max_relative: f64,
    /// Provenance fields that differ (the likely reasons).
    pub provenance_differences: Vec<String>,
    /// The reports do not describe the same heads (model, n, layers).
    pub shape_differences: Vec<String>,
}

impl Comparison {
    /// Reproduced: same heads, identical verdicts, measured figures within tolerance.
    pub fn reproduced(&self) -> bool {
        self.verdict_differences.is_empty()
            && self.measured_differences.is_empty()
            && self.shape_differences.is_empty()
    }
}

const MEASURED: [(&str, &str); 9] = [
    ("e2", "norm_ratio"),
    ("e2", "spread_ratio"),
    ("e2", "stable_rank_logits"),
    ("e2", "stable_rank_content"),
    ("e2", "lambda_max_logits"),
    ("e2", "lambda_max_content"),
    ("e3", "toeplitz_share"),
    ("e3", "toeplitz_share_centred"),
    ("e3", "ablation"),
];

fn provenance_diffs(old: &Value, new: &Value) -> Vec<String> {
    let (po, pn) = (&old["provenance"], &new["provenance"]);
    let mut out = Vec::new();
    let mut field = |what: &str, a: &Value, b: &Value| {
        if a != b {
            out.push(format!("{what}: recorded {a}, now {b}"));
        }
    };
    field("git commit", &po["git_commit"], &pn["git_commit"]);
    field(
        "pespectra version",
        &po["pespectra_version"],
        &pn["pespectra_version"],
    );
    field("CPU", &po["cpu"]["model"], &pn["cpu"]["model"]);
    field(
        "SIMD path",
        &po["cpu"]["simd_path"],
        &pn["cpu"]["simd_path"],
    );
    field("threads", &po["threads"], &pn["threads"]);
    field("model files", &po["model"]["files"], &pn["model"]["files"]);
    field(
        "input text",
        &po["input"]["text_sha256"],
        &pn["input"]["text_sha256"],
    );
    field(
        "token ids",
        &po["input"]["token_ids_sha256"],
        &pn["input"]["token_ids_sha256"],
    );
    out
}

fn close(a: f64, b: f64) -> (bool, f64) {
    let d = (a - b).abs();
    let rel = d / a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
    (d <= MEASURED_ATOL || rel <= MEASURED_RTOL, rel)
}

/// Compares a recorded `audit.json` document with the document of its re-run.
pub fn compare(old: &Value, new: &Value) -> Comparison {
    let mut c = Comparison {
        provenance_differences: provenance_diffs(old, new),
        ..Comparison::default()
    };
    for key in ["model", "n"] {
        if old[key] != new[key] {
            c.shape_differences
                .push(format!("{key}: recorded {}, now {}", old[key], new[key]));
        }
    }
    let empty = Vec::new();
    let (ho, hn) = (
        old["heads"].as_array().unwrap_or(&empty),
        new["heads"].as_array().unwrap_or(&empty),
    );
    if ho.len() != hn.len() {
        c.shape_differences
            .push(format!("heads: recorded {}, now {}", ho.len(), hn.len()));
    }
    for (a, b) in ho.iter().zip(hn) {
        let at = format!("layer {} head {}", a["layer"], a["head"]);
        if (&a["layer"], &a["head"]) != (&b["layer"], &b["head"]) {
            c.shape_differences.push(format!(
                "{at}: the re-run has layer {} head {} in its place",
                b["layer"], b["head"]
            ));
            continue;
        }
        let checks = |h: &Value| h["checks"].as_array().cloned().unwrap_or_default();
        let (co, cn) = (checks(a), checks(b));
        for x in &co {
            c.verdicts += 1;
            match cn.iter().find(|y| y["id"] == x["id"]) {
                Some(y) if y["verdict"] == x["verdict"] => {}
                Some(y) => c.verdict_differences.push(format!(
                    "{at} {}: recorded {}, now {}",
                    x["id"], x["verdict"], y["verdict"]
                )),
                None => c
                    .verdict_differences
                    .push(format!("{at} {}: missing in the re-run", x["id"])),
            }
        }
        for (group, key) in MEASURED {
            let (x, y) = (&a[group][key], &b[group][key]);
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => {
                    c.measured += 1;
                    let (ok, rel) = close(x, y);
                    c.max_relative = c.max_relative.max(rel);
                    if !ok {
                        c.measured_differences
                            .push(format!("{at} {key}: recorded {x:e}, now {y:e}"));
                    }
                }
                _ if x == y => {}
                _ => c
                    .measured_differences
                    .push(format!("{at} {key}: recorded {x}, now {y}")),
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(verdict: &str, share: f64, text: &str) -> Value {
        json!({"model": "m", "n": 8,
            "provenance": {"git_commit": "abc", "input": {"text_sha256": text}},
            "heads": [{"layer": 0, "head": 1,
                "checks": [{"id": "T1", "verdict": verdict}],
                "e2": {"norm_ratio": 1.5}, "e3": {"toeplitz_share": share, "ablation": null}}]})
    }

    #[test]
    fn identical_verdicts_and_close_figures_reproduce() {
        let c = compare(
            &doc("HOLDS", 0.5, "t"),
            &doc("HOLDS", 0.5 * (1.0 + 1e-5), "t"),
        );
        assert!(c.reproduced(), "{c:?}");
        assert_eq!((c.verdicts, c.measured), (1, 2));
        assert!(c.provenance_differences.is_empty());
    }

    #[test]
    fn a_changed_verdict_or_figure_or_input_is_reported() {
        let c = compare(&doc("HOLDS", 0.5, "t"), &doc("INCONCLUSIVE", 0.5, "t"));
        assert!(!c.reproduced());
        assert_eq!(c.verdict_differences.len(), 1);
        let c = compare(&doc("HOLDS", 0.5, "t"), &doc("HOLDS", 0.51, "u"));
        assert!(!c.reproduced());
        assert_eq!(c.measured_differences.len(), 1);
        assert!(c.provenance_differences[0].starts_with("input text"));
    }
}
