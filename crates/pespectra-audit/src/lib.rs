//! Audits of trained models' attention heads against the theorem catalogue (THEOREMS.md E1–E3).
//!
//! Input: one [`HeadCapture`] per layer and head (from the model crates' forward passes).
//! Per head:
//! * **E1, certified** ([`Check`]): RoPE heads get D1 on the real q/k and, per frequency, T1, T4
//!   (non-symmetric logits) and T2/T3 (symmetrised logits) through exact rank-≤4 reductions
//!   ([`rope`]); additive-bias heads get T7 (Weyl, content + positional part) and T9 (Szegő
//!   bound of the symmetrised bias); absolute heads get T7 with the positional part
//!   Δ = L − L_content. Readings R1 (RoPE lowers λmax) and R6 (Δ is Toeplitz) are tested on the
//!   real matrices: a FAILS there is a finding, not a bug.
//! * **E2, measured** ([`metrics::E2`]): ‖L‖₂/‖L_content‖₂, spread ratio and stable ranks of
//!   the symmetric parts (pre-mask matrices, floating point).
//! * **E3, measured**: Toeplitz share of the logit energy, the ablation effect supplied by the
//!   model crate, and per-layer concentration ([`report`]).
//!
//! ```
//! use pespectra_audit::{audit_head, HeadCapture, Positional, Verdict};
//! // one additive-bias head (ALiBi slope 1/2) on 4 tokens: T7/T9 are decided rigorously
//! let (n, d) = (4, 2);
//! let q: Vec<f32> = vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0, -0.5, 0.5];
//! let content: Vec<f32> = (0..n * n)
//!     .map(|x| (0..d).map(|t| q[(x / n) * d + t] * q[(x % n) * d + t]).sum())
//!     .collect();
//! let bias: Vec<f32> = (0..n * n).map(|x| -((x / n).abs_diff(x % n) as f32) / 2.0).collect();
//! let logits = content.iter().zip(&bias).map(|(c, b)| c + b).collect();
//! let c = HeadCapture {
//!     layer: 0, head: 0, kv_head: 0, n, head_dim: d, scale: 1.0, causal: false,
//!     window: None, softcap: None,
//!     q: q.clone(), k: q, logits, content_logits: content,
//!     positional: Positional::AdditiveBias { bias },
//! };
//! let a = audit_head(&c)?;
//! let t7 = a.checks.iter().find(|c| c.id == "T7").expect("additive heads get T7");
//! assert_eq!(t7.verdict, Verdict::Holds); // Weyl always holds; HOLDS is certified
//! # Ok::<(), pespectra_audit::AuditError>(())
//! ```

#![warn(missing_docs)]
mod audit_json;
pub mod check;
pub mod dense;
pub mod kernel;
pub mod metrics;
pub mod model_audit;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod rope;
pub mod shard;

pub use check::{Check, Verdict};
pub use model_audit::{
    audit_captures, audit_model, capture_model, AuditOptions, AuditRunError, Input, ModelAudit,
};
pub use pespectra_capture::{HeadCapture, Positional};

use std::time::Instant;

/// Built-in English text for audits (the author's own words), long enough for 1024 tokens.
pub const DEFAULT_TEXT: &str = include_str!("default_text.txt");

/// A failure of the audit itself (bad capture, engine error, plots), with a one-line message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AuditError {
    /// The capture is inconsistent (its validation says how).
    #[error("{0}")]
    BadCapture(String),
    /// Too few tokens for the checks.
    #[error("layer {layer} head {head}: n = {n} is too short to audit (need ≥ 2)")]
    TooShort {
        /// Layer of the head.
        layer: usize,
        /// The head.
        head: usize,
        /// Its tokens.
        n: usize,
    },
    /// The verified eigenvalue engine refused or failed.
    #[error("verified eigenvalues: {0}")]
    Spectra(pespectra_spectra::SpectraError),
    /// The positional-encoding reference (D1) refused its input.
    #[error("positional-encoding reference: {0}")]
    Pe(pespectra_pe::PeError),
    /// Drawing a plot failed.
    #[error("cannot draw {path}: {message}")]
    Plot {
        /// The plot file.
        path: String,
        /// The drawing library's report.
        message: String,
    },
    /// No font was found for the plots' labels.
    #[error("no TrueType font for the plots: install fonts-dejavu-core or set PESPECTRA_FONT to a .ttf file")]
    NoFont,
    /// The font file could not be read.
    #[error("cannot read font {path}: {message}")]
    FontUnreadable {
        /// The font file.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The font file is not a TrueType font plotters can use.
    #[error("{path} is not a usable TrueType font")]
    BadFont {
        /// The font file.
        path: String,
    },
}

/// How positions enter a head, as a short name for tables.
pub fn family(p: &Positional) -> &'static str {
    match p {
        Positional::Rope { .. } => "rope",
        Positional::AdditiveBias { .. } => "additive",
        Positional::Absolute => "absolute",
    }
}

/// Everything the audit says about one head.
#[derive(Clone, Debug)]
pub struct HeadAudit {
    /// Layer (0-based).
    pub layer: usize,
    /// Query head (0-based).
    pub head: usize,
    /// Key/value head it reads.
    pub kv_head: usize,
    /// Tokens.
    pub n: usize,
    /// "rope", "additive" or "absolute".
    pub family: &'static str,
    /// Certified checks (E1), in a fixed order per family.
    pub checks: Vec<Check>,
    /// RoPE: frequencies where λmax(S^f) > λmax(Re A^f) is certified (per-frequency R1), of all.
    pub freqs_raised: Option<(usize, usize)>,
    /// RoPE: frequencies whose 4 × 4 reduction fell back to the dense verified engine.
    pub dense_fallbacks: usize,
    /// RoPE: max |captured logits − f64 reference| / max |reference| (measured).
    pub capture_deviation: Option<f64>,
    /// E2 (measured).
    pub e2: metrics::E2,
    /// E3: Toeplitz share of the logits (lower triangle for causal models).
    pub toeplitz_share: f64,
    /// E3: the same after centring each row over the keys it sees (softmax-relevant energy).
    pub toeplitz_share_centred: f64,
    /// Toeplitz share of the positional part Δ = L − L_content (same convention).
    pub delta_toeplitz_share: f64,
    /// E3: ablation effect (set by the caller from the model crate; loss increase or 1 − cos).
    pub ablation: Option<f64>,
    /// Eigenvalues of sym L, decreasing (midpoints of verified enclosures).
    pub spectrum_logits: Vec<f64>,
    /// Eigenvalues of sym L_content, decreasing.
    pub spectrum_content: Vec<f64>,
    /// The capture's sliding window (informational: the audit reads pre-mask logits).
    pub window: Option<usize>,
    /// The capture's logit soft-cap: every verdict and metric above is about the scores
    /// before the cap, which is where positions enter bilinearly.
    pub softcap: Option<f64>,
    /// Wall-clock seconds spent on this head.
    pub seconds: f64,
}

/// Audits one head (E1 certified, E2/E3 measured; `ablation` is left for the caller).
pub fn audit_head(c: &HeadCapture) -> Result<HeadAudit, AuditError> {
    let start = Instant::now();
    c.validate().map_err(AuditError::BadCapture)?;
    if c.n < 2 {
        return Err(AuditError::TooShort {
            layer: c.layer,
            head: c.head,
            n: c.n,
        });
    }
    let n = c.n;
    let el = dense::sym_eigs(&c.logits, None, n)?;
    let ec = dense::sym_eigs(&c.content_logits, None, n)?;
    let mut checks = Vec::new();
    let (mut freqs_raised, mut dense_fallbacks, mut capture_deviation) = (None, 0, None);
    match &c.positional {
        Positional::Rope { pairing, inv_freq } => {
            let (d1, dev) = dense::d1_check(c, *pairing, inv_freq)?;
            checks.push(d1);
            let (per_freq, raised, fallbacks) =
                rope::rope_checks(&c.q, &c.k, c.head_dim, *pairing, inv_freq)?;
            checks.extend(per_freq);
            checks.push(dense::r1_check(&el, &ec));
            freqs_raised = Some((raised, inv_freq.len()));
            dense_fallbacks = fallbacks;
            capture_deviation = Some(dev);
        }
        Positional::AdditiveBias { bias } => {
            let eb = dense::sym_eigs(&c.logits, Some(&c.content_logits), n)?;
            checks.push(dense::t7_check(
                &ec,
                &eb,
                &el,
                "L − L_content = the added bias",
            ));
            checks.push(dense::t9_check(bias, n)?);
        }
        Positional::Absolute => {
            let eb = dense::sym_eigs(&c.logits, Some(&c.content_logits), n)?;
            checks.push(dense::t7_check(
                &ec,
                &eb,
                &el,
                "L − L_content, what positions changed",
            ));
            checks.push(dense::r6_check(&c.logits, &c.content_logits, n));
        }
    }
    let (ml, mc) = (dense::midpoints(&el), dense::midpoints(&ec));
    let delta: Vec<f32> = c
        .logits
        .iter()
        .zip(&c.content_logits)
        .map(|(l, k)| l - k)
        .collect();
    Ok(HeadAudit {
        layer: c.layer,
        head: c.head,
        kv_head: c.kv_head,
        n,
        family: family(&c.positional),
        checks,
        freqs_raised,
        dense_fallbacks,
        capture_deviation,
        e2: metrics::E2::measure(&c.logits, &c.content_logits, n, &ml, &mc),
        toeplitz_share: metrics::toeplitz_share(&c.logits, n, c.causal),
        toeplitz_share_centred: metrics::toeplitz_share_centred(&c.logits, n, c.causal),
        delta_toeplitz_share: metrics::toeplitz_share(&delta, n, c.causal),
        ablation: None,
        spectrum_logits: ml,
        spectrum_content: mc,
        window: c.window,
        softcap: c.softcap,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Audits many heads in parallel (Rayon), calling `progress(done, total)` as heads finish.
/// Results keep the input order.
pub fn audit_heads(
    captures: &[HeadCapture],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<HeadAudit>, AuditError> {
    use rayon::prelude::*;
    let done = std::sync::atomic::AtomicUsize::new(0);
    captures
        .par_iter()
        .map(|c| {
            let r = audit_head(c);
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(k, captures.len());
            r
        })
        .collect()
}
