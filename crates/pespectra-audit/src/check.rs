//! One certified verdict on one head, and how per-frequency verdicts combine into one per head.

pub use pespectra_theorems::Verdict;

/// A catalogue claim decided on one head's real matrices.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Catalogue id (THEOREMS.md): D1, T1–T4, T7, T9, or R1/R6 for readings tested on real data.
    pub id: &'static str,
    /// HOLDS / FAILS / INCONCLUSIVE (for R*: FAILS = the reading is refuted on this head).
    pub verdict: Verdict,
    /// HOLDS: certified lower bound of the slack; FAILS: certified lower bound of the violation.
    pub margin: Option<f64>,
    /// What was compared, in one line.
    pub detail: String,
}

impl Check {
    /// The verdict of the theorem checks' decision rule ([`pespectra_theorems::decide::verdict`]):
    /// HOLDS when the certified slack is ≥ 0, FAILS when a violation is certified (> 0),
    /// otherwise INCONCLUSIVE (never HOLDS from a float comparison).
    pub fn from_margin(id: &'static str, margin: f64, violation: f64, detail: String) -> Self {
        let (verdict, margin) = pespectra_theorems::decide::verdict(margin, violation);
        Self {
            id,
            verdict,
            margin,
            detail,
        }
    }

    /// Nothing certified, with the reason.
    pub fn inconclusive(id: &'static str, detail: String) -> Self {
        Self {
            id,
            verdict: Verdict::Inconclusive,
            margin: None,
            detail,
        }
    }
}

/// Certified slack and violation of `lhs ≤ rhs` for enclosures (the theorem checks' rule).
pub use pespectra_theorems::decide::le;

/// Running combination of per-part (per-frequency) outcomes of one claim into one head verdict:
/// HOLDS iff every part holds (margin = the smallest), FAILS if any part fails (margin = the
/// largest violation), INCONCLUSIVE otherwise.
#[derive(Clone, Debug)]
pub struct Fold {
    margin: f64,
    violation: f64,
    worst_part: Option<usize>,
    parts: usize,
}

impl Default for Fold {
    fn default() -> Self {
        Self {
            margin: f64::INFINITY,
            violation: 0.0,
            worst_part: None,
            parts: 0,
        }
    }
}

impl Fold {
    /// Adds part `idx` with its certified slack and violation.
    pub fn push(&mut self, idx: usize, margin: f64, violation: f64) {
        self.parts += 1;
        if violation > self.violation || (self.violation == 0.0 && margin < self.margin) {
            self.worst_part = Some(idx);
        }
        self.margin = self.margin.min(margin);
        self.violation = self.violation.max(violation);
    }

    /// The part with the smallest slack (or largest violation).
    pub fn worst_part(&self) -> Option<usize> {
        self.worst_part
    }

    /// The combined verdict.
    pub fn finish(&self, id: &'static str, detail: String) -> Check {
        if self.parts == 0 {
            return Check::inconclusive(id, format!("{detail} (nothing to check)"));
        }
        Check::from_margin(id, self.margin, self.violation, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pespectra_arith::interval::Interval;

    #[test]
    fn fold_is_holds_only_when_every_part_holds() {
        let mut f = Fold::default();
        f.push(0, 2.0, 0.0);
        f.push(1, 0.5, 0.0);
        let c = f.finish("T4", "x".into());
        assert_eq!(
            (c.verdict, c.margin, f.worst_part()),
            (Verdict::Holds, Some(0.5), Some(1))
        );
        f.push(2, -1e-18, 0.0); // overlapping enclosures: not certified either way
        assert_eq!(f.finish("T4", "x".into()).verdict, Verdict::Inconclusive);
        f.push(3, -3.0, 3.0);
        let c = f.finish("T4", "x".into());
        assert_eq!(
            (c.verdict, c.margin, f.worst_part()),
            (Verdict::Fails, Some(3.0), Some(3))
        );
        assert_eq!(
            Fold::default().finish("T4", "x".into()).verdict,
            Verdict::Inconclusive
        );
    }

    #[test]
    fn le_separates_only_disjoint_enclosures() {
        let i = |a, b| Interval::new(a, b).unwrap();
        assert!(le(i(0.0, 1.0), i(1.5, 2.0)).0 == 0.5);
        assert!(le(i(0.0, 1.0), i(0.5, 2.0)).0 < 0.0 && le(i(0.0, 1.0), i(0.5, 2.0)).1 < 0.0);
        assert_eq!(le(i(3.0, 4.0), i(0.0, 1.0)).1, 2.0);
    }
}
