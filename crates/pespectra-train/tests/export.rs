//! Exported models read back by the independent plain-Rust reader (`pespectra-hf`'s `e4`
//! module, written from docs/E4_MODEL_FORMAT.md alone) give the training forward pass's logits,
//! and training itself is reproducible and learns.

use candle_core::{DType, Device, Tensor};
use pespectra_capture::{CaptureModel, Positional};
use pespectra_train::config::{default_arch, Arch, ModelConfig, Sizes, VARIANTS};
use pespectra_train::data::{self, Task};
use pespectra_train::train::{Preset, Progress, TrainRequest};
use pespectra_train::E4;

const SIZES: Sizes = Sizes {
    layers: 2,
    d_model: 16,
    heads: 4,
    d_ff: 24,
};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pespectra-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Largest |a − b| relative to 1 + max |b|.
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = 1.0 + b.iter().fold(0f64, |m, x| m.max(x.abs() as f64));
    a.iter()
        .zip(b)
        .fold(0f64, |m, (x, y)| m.max((x - y).abs() as f64))
        / scale
}

fn candle_logits(m: &E4, ids: &[u32]) -> Vec<f32> {
    let t = Tensor::from_vec(ids.to_vec(), (1, ids.len()), &Device::Cpu).unwrap();
    let words: Vec<f32> = ids
        .iter()
        .map(|&t| if t == 0 { 0.0 } else { 1.0 })
        .collect();
    let w = Tensor::from_vec(words, (1, ids.len()), &Device::Cpu).unwrap();
    m.forward(&t, Some(&w), &[])
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn every_variant_and_arch_round_trips_through_the_reader_with_equal_logits() {
    let d = data::generate(Task::Distance, 40, 128, 5);
    let mut worst = 0f64;
    for v in VARIANTS {
        let v = v.replace(":K", ":2");
        for arch in [Arch::Paper, Arch::Standard] {
            let c = ModelConfig::new(&v, arch, Task::Distance, SIZES).unwrap();
            let m = E4::new(c, 11, DType::F32).unwrap();
            let dir = tmp(&format!("{v}-{arch:?}"));
            m.save(&dir).unwrap();
            let back = pespectra_hf::E4Model::load(&dir).unwrap();
            for s in d.test.iter().take(3) {
                let got = back.logits(&s.ids).unwrap();
                let want = candle_logits(&m, &s.ids);
                let e = rel_err(&got, &want);
                worst = worst.max(e);
                assert!(e < 2e-5, "{v} {arch:?}: relative error {e}");
            }
            // candle's own reader gives the same model back
            let again = E4::load(&dir).unwrap();
            assert_eq!(
                candle_logits(&again, &d.test[0].ids),
                candle_logits(&m, &d.test[0].ids)
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    eprintln!("worst relative logit difference candle vs pespectra-hf: {worst:.2e}");
}

#[test]
fn a_bound_tighter_than_the_difference_is_refused() {
    // the comparison above can fail: a one-ulp-scale change in a logit is seen
    let a = [1.0f32, 2.0, -3.0];
    let mut b = a;
    b[1] += 1e-3;
    assert!(rel_err(&a, &b) > 2e-5);
    assert_eq!(rel_err(&a, &a), 0.0);
}

#[test]
fn smoke_training_learns_is_reproducible_and_its_captures_are_rope_heads() {
    let req = TrainRequest::new(Task::Distance, "rope", Preset::Smoke, 3).unwrap();
    let mut losses = Vec::new();
    let run = pespectra_train::train(&req, &mut |p| {
        if let Progress::Epoch(r) = p {
            losses.push(r.loss);
        }
    })
    .unwrap();
    assert!(
        losses.last().unwrap() < &(losses[0] - 0.05),
        "loss did not decrease: {losses:?}"
    );
    // uniform guessing over 128 classes is ln 128 = 4.85 nats; the first epoch already beats it
    assert!(losses[0] < 128f64.ln(), "{losses:?}");
    let again = pespectra_train::train(&req, &mut |_| {}).unwrap();
    let numbers = |h: &[pespectra_train::EpochReport]| -> Vec<(u64, u64, u64)> {
        h.iter()
            .map(|r| {
                (
                    r.loss.to_bits(),
                    r.train_accuracy.to_bits(),
                    r.test_accuracy.to_bits(),
                )
            })
            .collect()
    };
    assert_eq!(
        numbers(&run.metrics.history),
        numbers(&again.metrics.history),
        "same seed, same threads, different metrics"
    );
    let other = TrainRequest::new(Task::Distance, "rope", Preset::Smoke, 4).unwrap();
    let other = pespectra_train::train(&other, &mut |_| {}).unwrap();
    assert_ne!(run.metrics.history[0].loss, other.metrics.history[0].loss);

    // the trained model, exported, is what the audit reads
    let dir = tmp("smoke-rope");
    run.model.save(&dir).unwrap();
    let back = pespectra_hf::E4Model::load(&dir).unwrap();
    let ids = &run.data.test[0].ids;
    assert!(rel_err(&back.logits(ids).unwrap(), &candle_logits(&run.model, ids)) < 2e-5);
    let mut kinds = Vec::new();
    back.capture(ids, &[0], &mut |c| {
        c.validate().unwrap();
        assert_eq!(c.n, 128, "the paper arch runs padded to max_len");
        kinds.push(matches!(c.positional, Positional::Rope { .. }));
    })
    .unwrap();
    assert_eq!(kinds, vec![true; run.model.config.heads]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ablation_matches_between_trainer_and_reader() {
    // removing a head changes the output in both implementations, and the reader's KL
    // effect is zero exactly when the trainer's logits do not move
    let c = ModelConfig::new("alibi", default_arch("alibi"), Task::Count, SIZES).unwrap();
    let m = E4::new(c, 2, DType::F32).unwrap();
    let dir = tmp("ablate");
    m.save(&dir).unwrap();
    let back = pespectra_hf::E4Model::load(&dir).unwrap();
    let ids = data::generate(Task::Count, 10, 128, 1).test[0].ids.clone();
    let t = Tensor::from_vec(ids.clone(), (1, 128), &Device::Cpu).unwrap();
    let clean: Vec<f32> = m
        .forward(&t, None, &[])
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let cut: Vec<f32> = m
        .forward(&t, None, &[(1, 2)])
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(rel_err(&cut, &clean) > 1e-4);
    let kl = back
        .ablation_effects(&ids, &[(1, 2)], &mut |_, _| {})
        .unwrap()[0];
    // KL(clean ‖ ablated) from the trainer's logits
    let p = softmax(&clean);
    let q = softmax(&cut);
    let want: f64 = p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum();
    assert!((kl - want).abs() < 1e-4 * (1.0 + want), "{kl} vs {want}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn softmax(x: &[f32]) -> Vec<f64> {
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64));
    let e: Vec<f64> = x.iter().map(|&v| (v as f64 - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}
