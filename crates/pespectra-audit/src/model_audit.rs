//! The audit of a whole model: tokens from text, captures, head ablations, the E2 sweep over n
//! and the per-head audit, for any [`CaptureModel`]. The CLI, the tests and the Python package
//! call [`audit_model`]; none of them knows which model family runs underneath.

use std::time::Instant;

use pespectra_capture::store::CaptureSet;
use pespectra_capture::{CaptureModel, HeadCapture, ModelError};

use crate::report::{AuditReport, GrowthRow, Timing};
use crate::{audit_heads, AuditError, HeadAudit};

/// What to audit.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditOptions {
    /// Tokens audited (the first `n` tokens of the text, special tokens included; ≥ 2).
    pub n: usize,
    /// Layers to capture, ascending and without repeats (`None`: every layer).
    pub layers: Option<Vec<usize>>,
    /// Run the head ablations (E3's ablation effects).
    pub ablation: bool,
    /// Also run the E2 sweep over n = 64…1024 where the model does not by default.
    pub growth: bool,
    /// Only the heads k ≡ i (mod N) of the (layer, head) order, as `(i, N)`.
    pub shard: Option<(usize, usize)>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            n: 256,
            layers: None,
            ablation: true,
            growth: false,
            shard: None,
        }
    }
}

/// What a model runs on.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Text, tokenized by the model (special tokens included).
    Text(String),
    /// Token ids as given (a checkpoint without a tokenizer, or ids chosen elsewhere).
    TokenIds(Vec<u32>),
}

/// An audited model: the report and the token ids it ran on.
#[derive(Clone, Debug)]
pub struct ModelAudit {
    /// The report (`audit.json`'s content without provenance).
    pub report: AuditReport,
    /// The `n` token ids audited.
    pub tokens: Vec<u32>,
}

/// Why a model audit could not run.
#[derive(Debug, thiserror::Error)]
pub enum AuditRunError {
    /// Fewer than two tokens requested.
    #[error("n must be at least 2, got {n}")]
    TooFewRequested {
        /// Tokens requested.
        n: usize,
    },
    /// More tokens requested than the model's positions.
    #[error("n = {n} is larger than the context of {model} ({context} tokens)")]
    BeyondContext {
        /// Model name.
        model: String,
        /// Tokens requested.
        n: usize,
        /// The model's limit.
        context: usize,
    },
    /// The text is empty or only whitespace.
    #[error("the text is empty")]
    EmptyText,
    /// The text (or the id list) yields fewer tokens than requested.
    #[error("the input has only {tokens} tokens, fewer than n = {n}")]
    ShortText {
        /// Tokens the text gives.
        tokens: usize,
        /// Tokens requested.
        n: usize,
    },
    /// No layer selected.
    #[error("no layer selected")]
    NoLayer,
    /// A selected layer is not in the model.
    #[error("layer {layer} does not exist (the model has {layers} layers: 0..{layers})")]
    NoSuchLayer {
        /// The layer asked for.
        layer: usize,
        /// Layers of the model.
        layers: usize,
    },
    /// The shard is not `i < N`, `N ≥ 1`.
    #[error("shard {index}/{count} does not exist (need index < count)")]
    BadShard {
        /// Shard index.
        index: usize,
        /// Shard count.
        count: usize,
    },
    /// The model failed (tokenizer, forward pass or ablation).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The audit of a capture failed.
    #[error("audit: {0}")]
    Audit(#[from] AuditError),
}

/// The validated layers and the input's token ids for a run of `n` tokens.
fn inputs(
    name: &str,
    model: &dyn CaptureModel,
    input: &Input,
    n: usize,
    layers: Option<&[usize]>,
) -> Result<(Vec<usize>, Vec<u32>), AuditRunError> {
    let dims = model.dims();
    if n < 2 {
        return Err(AuditRunError::TooFewRequested { n });
    }
    if n > dims.context {
        return Err(AuditRunError::BeyondContext {
            model: name.to_string(),
            n,
            context: dims.context,
        });
    }
    let layers = match layers {
        None => (0..dims.layers).collect(),
        Some([]) => return Err(AuditRunError::NoLayer),
        Some(l) => {
            if let Some(&layer) = l.iter().find(|&&x| x >= dims.layers) {
                return Err(AuditRunError::NoSuchLayer {
                    layer,
                    layers: dims.layers,
                });
            }
            let mut l = l.to_vec();
            l.sort_unstable();
            l.dedup();
            l
        }
    };
    let ids = match input {
        Input::Text(t) if t.trim().is_empty() => return Err(AuditRunError::EmptyText),
        Input::Text(t) => model.tokenize(t)?,
        Input::TokenIds(ids) => ids.clone(),
    };
    if ids.len() < n {
        return Err(AuditRunError::ShortText {
            tokens: ids.len(),
            n,
        });
    }
    Ok((layers, ids))
}

/// The heads of `layers` (None: all) of `model` on the first `n` tokens of `input`, as a
/// capture set (`pespectra capture`).
pub fn capture_model(
    name: &str,
    model: &dyn CaptureModel,
    input: &Input,
    n: usize,
    layers: Option<&[usize]>,
) -> Result<CaptureSet, AuditRunError> {
    let (layers, ids) = inputs(name, model, input, n, layers)?;
    let tokens = model.prefix(&ids, n);
    let mut captures = Vec::new();
    model.capture(&tokens, &layers, &mut |c| captures.push(c))?;
    Ok(CaptureSet {
        model: name.to_string(),
        n,
        token_ids: Some(tokens),
        captures,
    })
}

/// Audits captured heads (a capture directory): E1 and E2/E3 per head, no ablation or sweep.
pub fn audit_captures(
    set: &CaptureSet,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<AuditReport, AuditRunError> {
    let start = Instant::now();
    let heads = audit_heads(&set.captures, &|d, t| progress("audit", d, t))?;
    let timing = Timing {
        audit: start.elapsed().as_secs_f64(),
        audit_head_sum: heads.iter().map(|h| h.seconds).sum(),
        total: start.elapsed().as_secs_f64(),
        ..Timing::default()
    };
    Ok(AuditReport {
        model: set.model.clone(),
        n: set.n,
        ablation_metric: None,
        heads,
        growth: Vec::new(),
        timing,
    })
}

/// Audits `model` (called `name` in the report) on the first `opts.n` tokens of `input`.
/// `progress(stage, done, total)` reports each stage ("ablation", "growth", "audit").
pub fn audit_model(
    name: &str,
    model: &dyn CaptureModel,
    input: &Input,
    opts: &AuditOptions,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<ModelAudit, AuditRunError> {
    let start = Instant::now();
    let dims = model.dims();
    let n = opts.n;
    if let Some((index, count)) = opts.shard {
        if index >= count {
            return Err(AuditRunError::BadShard { index, count });
        }
    }
    let (layers, ids) = inputs(name, model, input, n, opts.layers.as_deref())?;
    let tokens = model.prefix(&ids, n);
    let capture_at = |m: usize| -> Result<Vec<HeadCapture>, AuditRunError> {
        let mut caps = Vec::new();
        model.capture(&model.prefix(&ids, m), &layers, &mut |c| caps.push(c))?;
        Ok(caps)
    };
    let owned = |k: usize| opts.shard.is_none_or(|(i, c)| crate::shard::owns(k, i, c));

    let mut timing = Timing::default();
    let t = Instant::now();
    let mut captures = capture_at(n)?;
    timing.forward = t.elapsed().as_secs_f64();

    let ablation = if opts.ablation {
        let t = Instant::now();
        let heads: Vec<(usize, usize)> = layers
            .iter()
            .flat_map(|&l| (0..dims.heads).map(move |h| (l, h)))
            .enumerate()
            .filter(|&(k, _)| owned(k))
            .map(|(_, lh)| lh)
            .collect();
        let abl = model.ablation(&tokens, &heads, &mut |d, t| progress("ablation", d, t))?;
        timing.ablation = t.elapsed().as_secs_f64();
        Some((
            abl.metric,
            heads.into_iter().zip(abl.effects).collect::<Vec<_>>(),
        ))
    } else {
        None
    };

    let t = Instant::now();
    let growth = if opts.growth || model.growth_by_default() {
        let limit = dims.context.min(ids.len());
        let sizes: Vec<usize> = [64, 128, 256, 512, 1024]
            .into_iter()
            .filter(|&m| m <= limit)
            .collect();
        let mut rows = Vec::new();
        for (i, &m) in sizes.iter().enumerate() {
            rows.push(if m == n {
                GrowthRow::from_captures(m, &captures)
            } else {
                GrowthRow::from_captures(m, &capture_at(m)?)
            });
            progress("growth", i + 1, sizes.len());
        }
        rows
    } else {
        Vec::new()
    };
    timing.growth = t.elapsed().as_secs_f64();

    if opts.shard.is_some() {
        captures.sort_by_key(|c| (c.layer, c.head));
        let mut k = 0;
        captures.retain(|_| {
            k += 1;
            owned(k - 1)
        });
    }
    let t = Instant::now();
    let mut heads: Vec<HeadAudit> = audit_heads(&captures, &|d, t| progress("audit", d, t))?;
    timing.audit = t.elapsed().as_secs_f64();
    timing.audit_head_sum = heads.iter().map(|h| h.seconds).sum();
    let ablation_metric = ablation.map(|(metric, effects)| {
        for h in &mut heads {
            h.ablation = effects
                .iter()
                .find(|&&((l, hh), _)| l == h.layer && hh == h.head)
                .map(|&(_, e)| e)
                .filter(|e| e.is_finite());
        }
        metric
    });
    timing.total = start.elapsed().as_secs_f64();
    Ok(ModelAudit {
        report: AuditReport {
            model: name.to_string(),
            n,
            ablation_metric,
            heads,
            growth,
            timing,
        },
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pespectra_capture::{HeadAblation, ModelDims, Positional};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Two layers of two ALiBi heads on one word per token; ablation effect = 10·layer + head.
    struct Fake {
        forwards: AtomicUsize,
    }

    impl CaptureModel for Fake {
        fn dims(&self) -> ModelDims {
            ModelDims {
                layers: 2,
                heads: 2,
                context: 8,
            }
        }
        fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
            Ok((0..text.split_whitespace().count() as u32).collect())
        }
        fn capture(
            &self,
            ids: &[u32],
            layers: &[usize],
            sink: &mut dyn FnMut(HeadCapture),
        ) -> Result<(), ModelError> {
            self.forwards.fetch_add(1, Ordering::Relaxed);
            let (n, d) = (ids.len(), 2);
            for &layer in layers {
                for head in 0..2 {
                    let q: Vec<f32> = (0..n * d)
                        .map(|x| ((x * 7 + head) % 5) as f32 - 2.0)
                        .collect();
                    let content: Vec<f32> = (0..n * n)
                        .map(|x| {
                            (0..d)
                                .map(|t| q[(x / n) * d + t] * q[(x % n) * d + t])
                                .sum()
                        })
                        .collect();
                    let slope = 0.5 / (head + 1) as f32;
                    let bias: Vec<f32> = (0..n * n)
                        .map(|x| -slope * (x / n).abs_diff(x % n) as f32)
                        .collect();
                    sink(HeadCapture {
                        layer,
                        head,
                        kv_head: head,
                        n,
                        head_dim: d,
                        scale: 1.0,
                        causal: false,
                        window: None,
                        softcap: None,
                        k: q.clone(),
                        q,
                        logits: content.iter().zip(&bias).map(|(c, b)| c + b).collect(),
                        content_logits: content,
                        positional: Positional::AdditiveBias { bias },
                    });
                }
            }
            Ok(())
        }
        fn ablation(
            &self,
            _ids: &[u32],
            heads: &[(usize, usize)],
            progress: &mut dyn FnMut(usize, usize),
        ) -> Result<HeadAblation, ModelError> {
            progress(heads.len(), heads.len());
            Ok(HeadAblation {
                metric: "test effect".into(),
                effects: heads.iter().map(|&(l, h)| (10 * l + h) as f64).collect(),
            })
        }
    }

    fn fake() -> Fake {
        Fake {
            forwards: AtomicUsize::new(0),
        }
    }

    fn text(t: &str) -> Input {
        Input::Text(t.to_string())
    }

    const TEXT: &str = "a b c d e f";

    #[test]
    fn audits_every_head_with_its_own_ablation_effect() {
        let opts = AuditOptions {
            n: 5,
            ..AuditOptions::default()
        };
        let r = audit_model("fake", &fake(), &text(TEXT), &opts, &|_, _, _| {}).unwrap();
        assert_eq!(r.tokens, vec![0, 1, 2, 3, 4]);
        assert_eq!(r.report.heads.len(), 4);
        assert_eq!(r.report.ablation_metric.as_deref(), Some("test effect"));
        for h in &r.report.heads {
            assert_eq!(h.ablation, Some((10 * h.layer + h.head) as f64));
            let t7 = h.checks.iter().find(|c| c.id == "T7").unwrap();
            assert_eq!(t7.verdict, crate::Verdict::Holds, "{}", t7.detail);
        }
    }

    #[test]
    fn shards_partition_the_heads() {
        let mut seen = Vec::new();
        for i in 0..3 {
            let opts = AuditOptions {
                n: 4,
                shard: Some((i, 3)),
                ..AuditOptions::default()
            };
            let r = audit_model("fake", &fake(), &text(TEXT), &opts, &|_, _, _| {}).unwrap();
            for h in &r.report.heads {
                assert_eq!(h.ablation, Some((10 * h.layer + h.head) as f64));
                seen.push((h.layer, h.head));
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn refuses_what_the_model_cannot_do() {
        let run = |opts: AuditOptions, t: &str| {
            audit_model("fake", &fake(), &text(t), &opts, &|_, _, _| {}).unwrap_err()
        };
        let o = |n| AuditOptions {
            n,
            ..AuditOptions::default()
        };
        assert!(matches!(
            run(o(1), TEXT),
            AuditRunError::TooFewRequested { n: 1 }
        ));
        let e = run(o(9), TEXT);
        assert!(matches!(
            e,
            AuditRunError::BeyondContext {
                n: 9,
                context: 8,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "n = 9 is larger than the context of fake (8 tokens)"
        );
        assert!(matches!(
            run(o(7), TEXT),
            AuditRunError::ShortText { tokens: 6, n: 7 }
        ));
        assert!(matches!(run(o(4), "  \n"), AuditRunError::EmptyText));
        let layers = |l: Vec<usize>| AuditOptions {
            layers: Some(l),
            ..o(4)
        };
        let e = run(layers(vec![0, 2]), TEXT);
        assert_eq!(
            e.to_string(),
            "layer 2 does not exist (the model has 2 layers: 0..2)"
        );
        assert!(matches!(run(layers(vec![]), TEXT), AuditRunError::NoLayer));
        let shard = AuditOptions {
            shard: Some((3, 3)),
            ..o(4)
        };
        assert!(matches!(
            run(shard, TEXT),
            AuditRunError::BadShard { index: 3, count: 3 }
        ));
    }

    #[test]
    fn growth_only_when_asked_or_by_default() {
        let m = fake();
        let opts = AuditOptions {
            n: 4,
            ablation: false,
            ..AuditOptions::default()
        };
        let r = audit_model("fake", &m, &text(TEXT), &opts, &|_, _, _| {}).unwrap();
        assert!(r.report.growth.is_empty() && r.report.ablation_metric.is_none());
        assert_eq!(m.forwards.load(Ordering::Relaxed), 1);
    }
}
