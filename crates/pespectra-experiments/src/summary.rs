//! Tables of a finished plan: accuracy per cell beside the paper, the deposit measurement, the
//! minimum-RoPE-heads experiment, and the audit of each cell's first seed set against its
//! ablation drops.

use std::fmt::Write as _;
use std::path::Path;

use pespectra_audit::{AuditOptions, Input, Verdict};
use pespectra_sources::Source;
use pespectra_train::data::Task;
use pespectra_train::export::TEST_SENTENCE;
use serde::Serialize;

use crate::{cell_dir, paper, run_dir, ExperimentError, Finished, Log, Plan};

/// One (task, variant) cell.
#[derive(Clone, Debug, Serialize)]
pub struct VariantRow {
    /// Task.
    pub task: Task,
    /// Variant.
    pub pe: String,
    /// Test accuracy per seed, in seed order.
    pub accuracy: Vec<f64>,
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 for one seed).
    pub sd: f64,
    /// What the paper reports, if anything.
    pub paper: Option<&'static str>,
    /// Per seed: (layer, head) of the head whose removal costs most, the drop in points, and
    /// the largest drop of any other head.
    pub deposit: Vec<(usize, usize, f64, f64)>,
    /// The audit of the first seed, when run.
    pub audit: Option<AuditRow>,
}

/// The audit of one model against its ablation drops.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    /// Positional family as the audit names it.
    pub family: String,
    /// The catalogue's theorems (D and T entries) on the real logits: HOLDS, FAILS,
    /// INCONCLUSIVE counts over all heads. A FAILS here would be a bug.
    pub verdicts: (usize, usize, usize),
    /// The refuted claims (R entries, e.g. R1 "the largest eigenvalue never grows"): how many of
    /// the R checks found the claim false on this model's heads, and how many ran.
    pub refuted: (usize, usize),
    /// Heads audited.
    pub heads: usize,
    /// The deposit head's rank by Toeplitz share of the positional part (1 = largest).
    pub deposit_toeplitz_rank: usize,
    /// The deposit head's rank by E2 norm ratio ‖L‖/‖L_content‖ (1 = smallest, the
    /// strongest contraction).
    pub deposit_contraction_rank: usize,
    /// Spearman correlation over heads between ablation drop and Toeplitz share.
    pub spearman_drop_toeplitz: Option<f64>,
    /// Mean Toeplitz share over heads.
    pub mean_toeplitz_share: f64,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Preset of the runs.
    pub preset: String,
    /// Seeds per cell.
    pub seeds: Vec<u64>,
    /// One row per cell, in the plan's order.
    pub rows: Vec<VariantRow>,
    /// Runs that failed, one line each (left out of the rows).
    pub failed: Vec<String>,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n.max(1.0);
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// Ranks (1-based, ties by order) of `v` sorted descending.
fn ranks_desc(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
    let mut r = vec![0; v.len()];
    for (k, &i) in idx.iter().enumerate() {
        r[i] = k + 1;
    }
    r
}

/// Spearman's ρ of two equally long samples (None when either is constant or too short).
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 3 || a.len() != b.len() {
        return None;
    }
    let (ra, rb): (Vec<f64>, Vec<f64>) = (
        ranks_desc(a).iter().map(|&r| r as f64).collect(),
        ranks_desc(b).iter().map(|&r| r as f64).collect(),
    );
    let (ma, _) = mean_sd(&ra);
    let (mb, _) = mean_sd(&rb);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    let (sa, sb) = (a.iter().any(|x| *x != a[0]), b.iter().any(|x| *x != b[0]));
    (sa && sb).then(|| cov / (va * vb).sqrt())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn audit_cell(
    out: &Path,
    task: Task,
    pe: &str,
    seed: u64,
    drops: &[Vec<f64>],
) -> Result<AuditRow, ExperimentError> {
    let dir = run_dir(out, task, pe, seed);
    let run = format!("{} {pe} seed {seed}", task.as_str());
    let sentence = dir.join(TEST_SENTENCE);
    let ids: Vec<u32> = std::fs::read_to_string(&sentence)
        .map_err(io(&sentence))?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let opts = AuditOptions {
        n: ids.len(),
        ..AuditOptions::default()
    };
    let label = sentence.display().to_string();
    let audit = pespectra_sources::audit(
        &Source::Checkpoint(dir.clone()),
        &Input::TokenIds(ids),
        &label,
        &opts,
        &["pespectra", "experiments"],
        &mut |_| {},
        &|_, _, _| {},
    )
    .map_err(|source| ExperimentError::Audit {
        run: run.clone(),
        source: Box::new(source),
    })?;
    let target = cell_dir(out, task, pe).join("audit");
    pespectra_sources::write_outputs(&audit.report, &audit.document, &target)
        .map_err(|source| ExperimentError::AuditOutput { run, source })?;
    let heads = &audit.report.heads;
    let (mut verdicts, mut refuted) = ((0, 0, 0), (0, 0));
    for c in heads.iter().flat_map(|h| &h.checks) {
        if c.id.starts_with('R') {
            refuted.1 += 1;
            refuted.0 += usize::from(c.verdict == Verdict::Fails);
            continue;
        }
        match c.verdict {
            Verdict::Holds => verdicts.0 += 1,
            Verdict::Fails => verdicts.1 += 1,
            Verdict::Inconclusive => verdicts.2 += 1,
        }
    }
    let drop_of = |l: usize, h: usize| drops.get(l).and_then(|r| r.get(h)).copied();
    let pairs: Vec<(f64, f64, f64)> = heads
        .iter()
        .filter_map(|a| drop_of(a.layer, a.head).map(|d| (d, a.toeplitz_share, a.e2.norm_ratio)))
        .collect();
    let d: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let t: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let contraction: Vec<f64> = pairs.iter().map(|p| -p.2).collect();
    let deposit = ranks_desc(&d).iter().position(|&r| r == 1).unwrap_or(0);
    Ok(AuditRow {
        family: heads.first().map_or("", |h| h.family).to_string(),
        verdicts,
        refuted,
        heads: heads.len(),
        deposit_toeplitz_rank: ranks_desc(&t).get(deposit).copied().unwrap_or(0),
        deposit_contraction_rank: ranks_desc(&contraction).get(deposit).copied().unwrap_or(0),
        spearman_drop_toeplitz: spearman(&d, &t),
        mean_toeplitz_share: mean_sd(&t).0,
    })
}

/// Aggregates `finished`, draws the heatmaps, audits, and writes `summary.json` and
/// `summary.md` into `out`.
pub fn build(
    plan: &Plan,
    out: &Path,
    finished: &[Finished],
    failed: Vec<String>,
    log: Log,
) -> Result<Summary, ExperimentError> {
    let mut rows = Vec::new();
    for (task, pe) in &plan.grid {
        let runs: Vec<&Finished> = finished
            .iter()
            .filter(|f| f.task == *task && &f.pe == pe)
            .collect();
        let Some(first) = runs.first() else { continue };
        let accuracy: Vec<f64> = runs.iter().map(|f| f.record.test_accuracy).collect();
        let (mean, sd) = mean_sd(&accuracy);
        let deposit = runs
            .iter()
            .map(|f| {
                let (l, h, d) = f.record.ablation.deposit();
                (l, h, d, f.record.ablation.runner_up_drop())
            })
            .collect();
        let ab = &first.record.ablation;
        let drops: Vec<Vec<f64>> = ab
            .accuracy
            .iter()
            .map(|r| r.iter().map(|a| 100.0 * (ab.baseline - a)).collect())
            .collect();
        let png = cell_dir(out, *task, pe).join("ablation.png");
        pespectra_audit::plot::grid_heatmap(
            &png,
            &format!(
                "{} {pe}, seed {}: accuracy drop without the head",
                task.as_str(),
                first.seed
            ),
            "points",
            drops.len(),
            drops.first().map_or(0, Vec::len),
            |l, h| drops.get(l).and_then(|r| r.get(h)).copied(),
        )?;
        let audit = if plan.audit {
            log(&format!(
                "auditing {} {pe} seed {}",
                task.as_str(),
                first.seed
            ));
            Some(audit_cell(out, *task, pe, first.seed, &drops)?)
        } else {
            None
        };
        rows.push(VariantRow {
            task: *task,
            pe: pe.clone(),
            accuracy,
            mean,
            sd,
            paper: paper::reported(*task, pe),
            deposit,
            audit,
        });
    }
    let summary = Summary {
        preset: format!("{:?}", plan.preset).to_lowercase(),
        seeds: plan.seeds.clone(),
        rows,
        failed,
    };
    let json_path = out.join("summary.json");
    let json = serde_json::to_string_pretty(&summary).expect("plain data serialises");
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    let md_path = out.join("summary.md");
    std::fs::write(&md_path, markdown(&summary)).map_err(io(&md_path))?;
    Ok(summary)
}

fn pct(m: f64, sd: f64, n: usize) -> String {
    if n > 1 {
        format!("{:.2} ± {:.2}", 100.0 * m, 100.0 * sd)
    } else {
        format!("{:.2}", 100.0 * m)
    }
}

/// The summary as markdown tables.
pub fn markdown(s: &Summary) -> String {
    let mut md = String::new();
    let n = s.seeds.len();
    let _ = writeln!(
        md,
        "Preset `{}`, seeds {:?}; accuracy in % on the test split at the last epoch (mean ± sample sd over seeds).\n",
        s.preset, s.seeds
    );
    let row = |t: Task, pe: &str| s.rows.iter().find(|r| r.task == t && r.pe == pe);
    let mut variants: Vec<&str> = Vec::new();
    for r in &s.rows {
        if !variants.contains(&r.pe.as_str()) {
            variants.push(&r.pe);
        }
    }
    md += "| PE | Task 1 distance | paper | Task 2 count | paper |\n|---|---|---|---|---|\n";
    for v in &variants {
        let cell = |t| {
            row(t, v).map_or(("–".to_string(), "".to_string()), |r| {
                (pct(r.mean, r.sd, n), r.paper.unwrap_or("").to_string())
            })
        };
        let (a, pa) = cell(Task::Distance);
        let (b, pb) = cell(Task::Count);
        let _ = writeln!(md, "| `{v}` | {a} | {pa} | {b} | {pb} |");
    }
    let _ = writeln!(
        md,
        "\nDeposit heads: the largest accuracy drop (points) when one head is removed, the largest drop of any other head, and where the largest is (layer, head), per seed. The paper: {}.\n",
        paper::DEPOSIT_CLAIM
    );
    md += "| task | PE | largest drop | next largest | heads (layer, head) |\n|---|---|---|---|---|\n";
    for r in &s.rows {
        let (m, _) = mean_sd(&r.deposit.iter().map(|d| d.2).collect::<Vec<_>>());
        let (m2, _) = mean_sd(&r.deposit.iter().map(|d| d.3).collect::<Vec<_>>());
        let at: Vec<String> = r
            .deposit
            .iter()
            .map(|d| format!("({}, {})", d.0, d.1))
            .collect();
        let _ = writeln!(
            md,
            "| {} | `{}` | {m:.1} | {m2:.1} | {} |",
            r.task.as_str(),
            r.pe,
            at.join(" ")
        );
    }
    let ladder: Vec<(&str, &VariantRow)> = [
        ("0 (`nope`)", "nope"),
        ("1", "partial-rope:1"),
        ("2", "partial-rope:2"),
        ("3", "partial-rope:3"),
        ("all (`rope`)", "rope"),
    ]
    .into_iter()
    .filter_map(|(k, v)| row(Task::Distance, v).map(|r| (k, r)))
    .collect();
    if ladder.len() > 1 {
        md += "\nMinimum number of RoPE heads (Task 1, no input PE): accuracy with RoPE on the first K heads.\n\n| K | accuracy |\n|---|---|\n";
        for (k, r) in ladder {
            let _ = writeln!(md, "| {k} | {} |", pct(r.mean, r.sd, n));
        }
    }
    if s.rows.iter().any(|r| r.audit.is_some()) {
        md += "\nAudit of each first-seed model on its first test sentence (`<task>/<pe>/audit/`): the catalogue's theorems on the real logits (D/T entries: HOLDS / FAILS / INCONCLUSIVE over all heads), the refuted claims found false on its heads (R entries such as R1, “the largest eigenvalue never grows”: false / run), and where the deposit head ranks among the heads by Toeplitz share of its positional part (1 = largest) and by E2 contraction ‖L‖/‖L_content‖ (1 = strongest); ρ is Spearman's correlation over heads of ablation drop and Toeplitz share.\n\n| task | PE | family | theorems H/F/I | R claims false | deposit head: Toeplitz rank | contraction rank | ρ(drop, Toeplitz) | mean Toeplitz share |\n|---|---|---|---|---|---|---|---|---|\n";
        for r in &s.rows {
            if let Some(a) = &r.audit {
                let _ = writeln!(
                    md,
                    "| {} | `{}` | {} | {}/{}/{} | {}/{} | {} of {} | {} of {} | {} | {:.3} |",
                    r.task.as_str(),
                    r.pe,
                    a.family,
                    a.verdicts.0,
                    a.verdicts.1,
                    a.verdicts.2,
                    a.refuted.0,
                    a.refuted.1,
                    a.deposit_toeplitz_rank,
                    a.heads,
                    a.deposit_contraction_rank,
                    a.heads,
                    a.spearman_drop_toeplitz
                        .map_or("–".into(), |x| format!("{x:.2}")),
                    a.mean_toeplitz_share
                );
            }
        }
    }
    if !s.failed.is_empty() {
        md += "\nFailed runs (left out above):\n\n";
        for f in &s.failed {
            let _ = writeln!(md, "- {f}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_is_one_for_monotone_minus_one_for_reversed_none_for_constant() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&a, &[10.0, 20.0, 30.0, 45.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&a, &[1.0; 4]), None);
        // one swap of four: ρ = 1 − 6·2/(4·15) = 0.8
        assert!((spearman(&a, &[1.0, 3.0, 2.0, 4.0]).unwrap() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn sample_sd_and_ranks() {
        let (m, sd) = mean_sd(&[0.1, 0.2, 0.3]);
        assert!((m - 0.2).abs() < 1e-15 && (sd - 0.1).abs() < 1e-12);
        assert_eq!(ranks_desc(&[0.5, 2.0, 1.0]), vec![3, 1, 2]);
    }
}
