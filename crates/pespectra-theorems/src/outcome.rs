//! What a check concluded, before the library times it and names its entry.

use crate::Verdict;

/// A verdict with its certified margin, the detail line and an optional certificate.
pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub margin: Option<f64>,
    pub detail: String,
    pub certificate: Option<serde_json::Value>,
}

impl Outcome {
    /// The verdict of [`crate::decide::verdict`] with its margin.
    pub fn from_margin(margin: f64, violation: f64, detail: String) -> Self {
        let (verdict, margin) = crate::decide::verdict(margin, violation);
        Self {
            verdict,
            margin,
            detail,
            certificate: None,
        }
    }

    /// Nothing certified.
    pub fn inconclusive(detail: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Inconclusive,
            margin: None,
            detail: detail.into(),
            certificate: None,
        }
    }

    /// A verdict with its certified margin and no certificate.
    pub fn new(verdict: Verdict, margin: f64, detail: String) -> Self {
        Self {
            verdict,
            margin: Some(margin),
            detail,
            certificate: None,
        }
    }

    /// Attaches a certificate when there is a verdict for it to certify.
    pub fn with_certificate(mut self, cert: Option<serde_json::Value>) -> Self {
        if self.verdict != Verdict::Inconclusive {
            self.certificate = cert;
        }
        self
    }
}
