//! The training loop: AdamW with linear warm-up then cosine decay, cross-entropy that ignores
//! label 0 (the authors' `ignore_index=0`), test accuracy after every epoch.

use std::time::Instant;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::config::{default_arch, Arch, ModelConfig, Sizes};
use crate::data::{self, Dataset, Sample, Task, PAD};
use crate::model::E4;
use crate::TrainError;

/// Sizes and schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// A few seconds: 1 layer, d 16, 2 heads, 1 200 samples, 3 epochs (CI).
    Smoke,
    /// About 3 minutes per run with two runs side by side on 2 cores: 2 layers, d 32, 4 heads,
    /// d_ff 64, 8 000 sentences for Task 1 and 4 000 for Task 2, 8 epochs, batch 64, lr 5e-3.
    Small,
    /// The authors' configuration (paper-notes §4.2–4.4): 6 layers, d 256, 16 heads, d_ff 512,
    /// 100 000 / 50 000 samples, 100 epochs (MLA 150), batch 512 (MLA 1024), lr 1e-4,
    /// weight decay 1e-5, betas (0.98, 0.9), 6 % warm-up. Days on 2 cores.
    Paper,
}

impl std::str::FromStr for Preset {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s {
            "smoke" => Ok(Self::Smoke),
            "small" => Ok(Self::Small),
            "paper" => Ok(Self::Paper),
            _ => Err(TrainError::Config(format!(
                "unknown preset {s:?} (smoke, small or paper)"
            ))),
        }
    }
}

/// Everything a run is determined by.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainRequest {
    /// The model.
    pub config: ModelConfig,
    /// Preset it came from.
    pub preset: Preset,
    /// Seed of the weights and the batch order.
    pub seed: u64,
    /// Seed of the dataset (the same for every variant, so they see the same data).
    pub data_seed: u64,
    /// Sentences generated before deduplication.
    pub samples: usize,
    /// Passes over the training split.
    pub epochs: usize,
    /// Batch size.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// AdamW β₁, β₂.
    pub betas: (f64, f64),
    /// Fraction of steps of linear warm-up.
    pub warmup: f64,
}

impl TrainRequest {
    /// The preset's run of variant `pe` on `task` with its default architecture.
    pub fn new(task: Task, pe: &str, preset: Preset, seed: u64) -> Result<Self, TrainError> {
        Self::with_arch(task, pe, default_arch(pe), preset, seed)
    }

    /// The preset's run of variant `pe` on `task` with architecture `arch`.
    pub fn with_arch(
        task: Task,
        pe: &str,
        arch: Arch,
        preset: Preset,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let mla = pe.starts_with("mla");
        let (sizes, samples, epochs, batch, lr, betas) = match preset {
            Preset::Smoke => (
                Sizes {
                    layers: 1,
                    d_model: 16,
                    heads: 2,
                    d_ff: 32,
                },
                1200,
                3,
                64,
                3e-3,
                (0.9, 0.98),
            ),
            Preset::Small => (
                Sizes {
                    layers: 2,
                    d_model: 32,
                    heads: 4,
                    d_ff: 64,
                },
                // Task 2 with half of Task 1's sentences, as the authors (50 000 / 100 000)
                task.paper_samples() * 2 / 25,
                8,
                64,
                5e-3,
                (0.9, 0.98),
            ),
            Preset::Paper => (
                Sizes {
                    layers: 6,
                    d_model: 256,
                    heads: 16,
                    d_ff: 512,
                },
                task.paper_samples(),
                if mla { 150 } else { 100 },
                if mla { 1024 } else { 512 },
                1e-4,
                (0.98, 0.9),
            ),
        };
        Ok(Self {
            config: ModelConfig::new(pe, arch, task, sizes)?,
            preset,
            seed,
            data_seed: 42,
            samples,
            epochs,
            batch,
            lr,
            weight_decay: 1e-5,
            betas,
            warmup: 0.06,
        })
    }

    /// Learning rate at `step` of `total`: linear warm-up, then cosine decay to 0.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let warm = ((total as f64) * self.warmup).ceil().max(1.0);
        let s = step as f64;
        if s < warm {
            self.lr * (s + 1.0) / warm
        } else {
            let p = (s - warm) / ((total as f64 - warm).max(1.0));
            self.lr * 0.5 * (1.0 + (std::f64::consts::PI * p.min(1.0)).cos())
        }
    }
}

/// Changes to a preset's schedule, each checked against a documented range.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Generated sentences, 10..=10 000 000.
    pub samples: Option<usize>,
    /// Epochs, 1..=10 000.
    pub epochs: Option<usize>,
    /// Batch size, 1..=65 536.
    pub batch: Option<usize>,
    /// Peak learning rate, in (0, 1].
    pub lr: Option<f64>,
}

impl Overrides {
    /// Applies the set fields to `req`, refusing values outside their ranges.
    pub fn apply(&self, req: &mut TrainRequest) -> Result<(), TrainError> {
        let bad = |what: &str| Err(TrainError::Config(format!("{what} is out of range")));
        if let Some(s) = self.samples {
            if !(10..=10_000_000).contains(&s) {
                return bad("the sample count (10..=10000000)");
            }
            req.samples = s;
        }
        if let Some(e) = self.epochs {
            if !(1..=10_000).contains(&e) {
                return bad("the epoch count (1..=10000)");
            }
            req.epochs = e;
        }
        if let Some(b) = self.batch {
            if !(1..=65_536).contains(&b) {
                return bad("the batch size (1..=65536)");
            }
            req.batch = b;
        }
        if let Some(lr) = self.lr {
            if !(lr > 0.0 && lr <= 1.0) {
                return bad("the learning rate ((0, 1])");
            }
            req.lr = lr;
        }
        Ok(())
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Of how many.
    pub epochs: usize,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Training accuracy over the epoch's batches (weights changing meanwhile).
    pub train_accuracy: f64,
    /// Test accuracy after the epoch.
    pub test_accuracy: f64,
    /// Seconds since the start.
    pub seconds: f64,
}

/// Progress of a run, for a progress bar.
#[derive(Clone, Debug)]
pub enum Progress {
    /// A training step finished.
    Step {
        /// 1-based epoch.
        epoch: usize,
        /// Steps done in this epoch.
        step: usize,
        /// Steps per epoch.
        steps: usize,
        /// This batch's loss.
        loss: f64,
        /// Seconds since the start.
        seconds: f64,
        /// Estimated seconds left.
        eta: f64,
    },
    /// An epoch finished and was evaluated.
    Epoch(EpochReport),
}

/// `metrics.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// The run's settings.
    pub request: TrainRequest,
    /// Training sentences after deduplication and split.
    pub train_samples: usize,
    /// Test sentences.
    pub test_samples: usize,
    /// Trainable scalars.
    pub parameters: usize,
    /// Test accuracy at the last epoch (the authors' metric), labels 0 excluded.
    pub test_accuracy: f64,
    /// Every epoch.
    pub history: Vec<EpochReport>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Threads candle's kernels used.
    pub threads: usize,
}

/// A finished run.
pub struct TrainRun {
    /// The trained model.
    pub model: E4,
    /// What it measured.
    pub metrics: Metrics,
    /// The data it saw (for the ablations).
    pub data: Dataset,
}

/// Ids `[B, n]` and word mask `[B, n]` of a batch.
pub(crate) fn batch_tensors(batch: &[&Sample]) -> candle_core::Result<(Tensor, Tensor)> {
    let n = batch[0].ids.len();
    let ids: Vec<u32> = batch.iter().flat_map(|s| s.ids.iter().copied()).collect();
    let words: Vec<f32> = ids.iter().map(|&t| f32::from(u8::from(t != PAD))).collect();
    Ok((
        Tensor::from_vec(ids, (batch.len(), n), &Device::Cpu)?,
        Tensor::from_vec(words, (batch.len(), n), &Device::Cpu)?,
    ))
}

/// Cross-entropy over the labels that are not 0, and how many of those the argmax gets right.
fn loss_and_hits(logits: &Tensor, labels: &[u32]) -> candle_core::Result<(Tensor, usize, usize)> {
    let b = labels.len();
    let lt = Tensor::from_vec(labels.to_vec(), (b, 1), &Device::Cpu)?;
    let keep: Vec<f32> = labels
        .iter()
        .map(|&l| f32::from(u8::from(l != 0)))
        .collect();
    let kept = keep.iter().filter(|&&k| k > 0.0).count();
    let w = Tensor::from_vec(keep, (b, 1), &Device::Cpu)?.to_dtype(logits.dtype())?;
    let lsm = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = lsm.gather(&lt, 1)?;
    let loss = ((picked * w)?.sum_all()? * (-1.0 / kept.max(1) as f64))?;
    let pred: Vec<u32> = logits.argmax(D::Minus1)?.to_vec1()?;
    let hits = pred
        .iter()
        .zip(labels)
        .filter(|(p, l)| **l != 0 && p == l)
        .count();
    Ok((loss, hits, kept))
}

/// Accuracy of `model` on `samples` (labels 0 excluded) with heads `ablate` removed.
pub fn accuracy(
    model: &E4,
    samples: &[Sample],
    ablate: &[(usize, usize)],
) -> Result<f64, TrainError> {
    let (mut hits, mut total) = (0, 0);
    for chunk in samples.chunks(256) {
        let refs: Vec<&Sample> = chunk.iter().collect();
        let (ids, words) = batch_tensors(&refs)?;
        let logits = model.forward(&ids, Some(&words), ablate)?.detach();
        let labels: Vec<u32> = chunk.iter().map(|s| s.label).collect();
        let (_, h, k) = loss_and_hits(&logits, &labels)?;
        hits += h;
        total += k;
    }
    Ok(hits as f64 / total.max(1) as f64)
}

/// Trains the request's model, calling `progress` after every step and epoch.
pub fn train(
    req: &TrainRequest,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainRun, TrainError> {
    let start = Instant::now();
    let data = data::generate(
        req.config.task,
        req.samples,
        req.config.max_len,
        req.data_seed,
    );
    if data.train.is_empty() || data.test.is_empty() || req.batch == 0 || req.epochs == 0 {
        return Err(TrainError::Config(
            "the run needs samples in both splits, a batch size and epochs".into(),
        ));
    }
    let model = E4::new(req.config.clone(), req.seed, DType::F32)?;
    let mut opt = AdamW::new(
        model.vars(),
        ParamsAdamW {
            lr: req.lr,
            beta1: req.betas.0,
            beta2: req.betas.1,
            eps: 1e-8,
            weight_decay: req.weight_decay,
        },
    )?;
    let steps = data.train.len().div_ceil(req.batch);
    let total = steps * req.epochs;
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut history = Vec::new();
    let mut step_all = 0;
    for epoch in 1..=req.epochs {
        let mut rng = ChaCha8Rng::seed_from_u64(req.seed.wrapping_mul(1_000_003) ^ epoch as u64);
        order.shuffle(&mut rng);
        let (mut loss_sum, mut hits, mut kept) = (0.0, 0, 0);
        for (s, chunk) in order.chunks(req.batch).enumerate() {
            opt.set_learning_rate(req.lr_at(step_all, total));
            let batch: Vec<&Sample> = chunk.iter().map(|&i| &data.train[i]).collect();
            let (ids, words) = batch_tensors(&batch)?;
            let labels: Vec<u32> = batch.iter().map(|s| s.label).collect();
            let logits = model.forward(&ids, Some(&words), &[])?;
            let (loss, h, k) = loss_and_hits(&logits, &labels)?;
            let l = loss.to_scalar::<f32>()? as f64;
            if !l.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    step: step_all,
                    loss: l,
                });
            }
            opt.backward_step(&loss)?;
            step_all += 1;
            loss_sum += l * chunk.len() as f64;
            hits += h;
            kept += k;
            let seconds = start.elapsed().as_secs_f64();
            progress(Progress::Step {
                epoch,
                step: s + 1,
                steps,
                loss: l,
                seconds,
                eta: seconds / step_all as f64 * (total - step_all) as f64,
            });
        }
        let report = EpochReport {
            epoch,
            epochs: req.epochs,
            loss: loss_sum / data.train.len() as f64,
            train_accuracy: hits as f64 / kept.max(1) as f64,
            test_accuracy: accuracy(&model, &data.test, &[])?,
            seconds: start.elapsed().as_secs_f64(),
        };
        progress(Progress::Epoch(report.clone()));
        history.push(report);
    }
    let metrics = Metrics {
        request: req.clone(),
        train_samples: data.train.len(),
        test_samples: data.test.len(),
        parameters: model.parameter_count(),
        test_accuracy: history.last().map_or(0.0, |r| r.test_accuracy),
        history,
        seconds: start.elapsed().as_secs_f64(),
        threads: candle_core::utils::get_num_threads(),
    };
    Ok(TrainRun {
        model,
        metrics,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_documented_sizes() {
        let d = TrainRequest::new(Task::Distance, "rope", Preset::Small, 1).unwrap();
        let c = TrainRequest::new(Task::Count, "rope", Preset::Small, 1).unwrap();
        assert_eq!(
            (d.samples, c.samples, d.epochs, d.batch),
            (8000, 4000, 8, 64)
        );
        let p = TrainRequest::new(Task::Distance, "mla-paper", Preset::Paper, 1).unwrap();
        assert_eq!(
            (p.samples, p.epochs, p.batch, p.lr, p.betas),
            (100_000, 150, 1024, 1e-4, (0.98, 0.9))
        );
        assert_eq!(
            (
                p.config.layers,
                p.config.d_model,
                p.config.heads,
                p.config.d_ff
            ),
            (6, 256, 16, 512)
        );
    }

    #[test]
    fn schedule_warms_up_linearly_then_decays_to_zero() {
        let r = TrainRequest::new(Task::Distance, "nope", Preset::Small, 1).unwrap();
        let total = 100; // 6 warm-up steps
        assert!((r.lr_at(0, total) - r.lr / 6.0).abs() < 1e-15);
        assert!((r.lr_at(5, total) - r.lr).abs() < 1e-15);
        assert!((r.lr_at(6, total) - r.lr).abs() < 1e-15);
        assert!(r.lr_at(99, total) < r.lr * 1e-3);
        let mid = r.lr_at(6 + 47, total);
        assert!((mid - r.lr * 0.5).abs() < 1e-12, "{mid}");
    }

    #[test]
    fn the_loss_ignores_label_zero_and_counts_hits() {
        // two samples: label 0 (ignored) and label 2 with logits favouring class 2
        let logits =
            Tensor::from_vec(vec![5f32, 0.0, 0.0, 0.0, 0.0, 3.0], (2, 3), &Device::Cpu).unwrap();
        let (loss, hits, kept) = loss_and_hits(&logits, &[0, 2]).unwrap();
        assert_eq!((hits, kept), (1, 1));
        let want = -(3f64 - (2.0 + 3f64.exp()).ln());
        assert!((loss.to_scalar::<f32>().unwrap() as f64 - want).abs() < 1e-6);
    }
}
