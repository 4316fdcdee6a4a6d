//! The deposit measurement: accuracy with one head removed, for every head (the authors'
//! `transvis.py` zeroes the head's rows of W_v and b_v, which is the same as zeroing its output;
//! for MLA this removes the head's content and rotary paths together, not latent columns as
//! `mlavis.py` does, paper-notes §4.6).

use serde::{Deserialize, Serialize};

use crate::data::Sample;
use crate::model::E4;
use crate::train::accuracy;
use crate::TrainError;

/// Accuracy with each head removed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HeadAblations {
    /// Which samples: `"test"` (the split the model never saw) or `"train+test"` (the authors').
    pub split: String,
    /// Accuracy with every head.
    pub baseline: f64,
    /// `accuracy[l][h]` with head h of layer l removed.
    pub accuracy: Vec<Vec<f64>>,
}

impl HeadAblations {
    /// The head whose removal costs most, and the accuracy drop in points (× 100).
    pub fn deposit(&self) -> (usize, usize, f64) {
        let mut best = (0, 0, f64::NEG_INFINITY);
        for (l, row) in self.accuracy.iter().enumerate() {
            for (h, a) in row.iter().enumerate() {
                let drop = 100.0 * (self.baseline - a);
                if drop > best.2 {
                    best = (l, h, drop);
                }
            }
        }
        best
    }

    /// Largest drop among the heads other than [`deposit`](Self::deposit)'s, in points.
    pub fn runner_up_drop(&self) -> f64 {
        let (dl, dh, _) = self.deposit();
        let mut best = f64::NEG_INFINITY;
        for (l, row) in self.accuracy.iter().enumerate() {
            for (h, a) in row.iter().enumerate() {
                if (l, h) != (dl, dh) {
                    best = best.max(100.0 * (self.baseline - a));
                }
            }
        }
        best
    }
}

/// Removes each head of `model` in turn and measures accuracy on `samples`; `progress(done,
/// total)` after each head.
pub fn ablate_heads(
    model: &E4,
    samples: &[Sample],
    split: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<HeadAblations, TrainError> {
    let (layers, heads) = (model.config.layers, model.config.heads);
    let baseline = accuracy(model, samples, &[])?;
    let mut out = vec![vec![0.0; heads]; layers];
    for (l, row) in out.iter_mut().enumerate() {
        for (h, a) in row.iter_mut().enumerate() {
            *a = accuracy(model, samples, &[(l, h)])?;
            progress(l * heads + h + 1, layers * heads);
        }
    }
    Ok(HeadAblations {
        split: split.into(),
        baseline,
        accuracy: out,
    })
}
