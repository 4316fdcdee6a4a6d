//! What `pespectra audit` shows and writes: the progress line, the output files and the summary
//! table of verdicts and measured figures.

use super::{bad, Fail};
use pespectra_audit::report::{AuditReport, GrowthRow};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Progress on stderr: a rewritten bar on a terminal, a plain line every few seconds otherwise.
pub(super) struct Progress {
    tty: bool,
    last: std::sync::Mutex<Option<Instant>>,
}

impl Progress {
    pub(super) fn new() -> Self {
        use std::io::IsTerminal;
        Self {
            tty: std::io::stderr().is_terminal(),
            last: std::sync::Mutex::new(None),
        }
    }

    pub(super) fn update(&self, stage: &str, done: usize, total: usize) {
        use std::io::Write;
        let finished = done >= total;
        let mut last = self.last.lock().expect("progress lock");
        let every = if self.tty {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        if !finished && last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        *last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        if self.tty {
            let fill = done * 30 / total.max(1);
            let _ = write!(
                err,
                "\r{stage:<10} [{}{}] {done}/{total}\x1b[K",
                "#".repeat(fill),
                "-".repeat(30 - fill)
            );
            if finished {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{stage}: {done}/{total}");
        }
    }
}

pub(super) fn write_outputs(
    report: &AuditReport,
    doc: &serde_json::Value,
    out: &std::path::Path,
) -> Result<(), Fail> {
    pespectra_sources::write_outputs(report, doc, out).map_err(|e| bad(e.to_string()))
}

pub(super) fn print_summary(r: &AuditReport, out: Option<&PathBuf>) {
    use pespectra_audit::report::{layer_summaries, most_positional, verdict_counts};
    println!(
        "{}: {} heads audited at n = {}",
        r.model,
        r.heads.len(),
        r.n
    );
    println!(
        "E1 (certified)   {:<4} {:>6} {:>6} {:>13}",
        "id", "HOLDS", "FAILS", "INCONCLUSIVE"
    );
    for (id, [h, f, i]) in verdict_counts(&r.heads) {
        let note = if id.starts_with('R') {
            "  (FAILS = the false reading is refuted on real data: a finding)"
        } else {
            ""
        };
        println!("                 {id:<4} {h:>6} {f:>6} {i:>13}{note}");
    }
    println!("E3 per layer (measured): max Toeplitz share (head), Gini; the same with rows centred; max ablation effect (head), Gini");
    for l in layer_summaries(&r.heads) {
        let abl = l
            .max_ablation
            .map_or("-".to_string(), |(v, h)| format!("{v:.4} ({h})"));
        let deposit = if l.single_head_deposit() {
            "  single-head deposit"
        } else {
            ""
        };
        println!(
            "  layer {:>2}: {:.3} ({}), Gini {:.3}; centred {:.3} ({}), Gini {:.3}; {abl}, Gini {}{deposit}",
            l.layer,
            l.max_share.0,
            l.max_share.1,
            l.gini_share,
            l.max_share_centred.0,
            l.max_share_centred.1,
            l.gini_share_centred,
            l.gini_ablation.map_or("-".into(), |g| format!("{g:.3}"))
        );
    }
    let top: Vec<String> = most_positional(&r.heads, 3)
        .iter()
        .map(|h| {
            format!(
                "layer {} head {} ({:.3})",
                h.layer, h.head, h.toeplitz_share
            )
        })
        .collect();
    println!("most positional heads: {}", top.join(", "));
    let med = GrowthRow::new(
        r.n,
        &r.heads.iter().map(|h| h.e2.clone()).collect::<Vec<_>>(),
    );
    println!("E2 medians over heads (measured, floating point): ‖L‖₂/‖L_content‖₂ {:.3}, spread ratio {:.3}, stable rank {:.2} (logits) vs {:.2} (content)", med.norm_ratio, med.spread_ratio, med.stable_rank_logits, med.stable_rank_content);
    if !r.growth.is_empty() {
        println!("E2 against n (medians): n, norm ratio, spread ratio, stable rank logits/content");
        for g in &r.growth {
            println!(
                "  {:>5}  {:.3}  {:.3}  {:.2}/{:.2}",
                g.n, g.norm_ratio, g.spread_ratio, g.stable_rank_logits, g.stable_rank_content
            );
        }
    }
    let t = &r.timing;
    println!("time: forward {:.1} s, ablation {:.1} s, audit {:.1} s (Σ per head {:.1} s), growth {:.1} s, total {:.1} s", t.forward, t.ablation, t.audit, t.audit_head_sum, t.growth, t.total);
    if let Some(o) = out {
        println!("wrote {}/{{audit.json, heads.csv, *.png}}", o.display());
    }
}
