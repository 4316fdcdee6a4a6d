//! One finished run on disk: the model (`config.json`, `model.safetensors`), `metrics.json`
//! and `ablation-<split>.json`, written by [`train_to_dir`] and read back by [`read_run`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ablation::{ablate_heads, HeadAblations};
use crate::train::{train, Progress, TrainRequest};
use crate::{write_atomic, TrainError};

/// File of a run directory holding the first test sentence's token ids (one per line, pads
/// left out).
pub const TEST_SENTENCE: &str = "test-sentence.txt";

/// What a run directory says about itself, enough to tabulate it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Test accuracy at the last epoch.
    pub test_accuracy: f64,
    /// Wall-clock seconds of the training.
    pub seconds: f64,
    /// Per-head ablations on the test split.
    pub ablation: HeadAblations,
}

fn json(v: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("plain data serialises")
}

/// Trains `req`, writes the model and `metrics.json` into `dir`, ablates every head on the test
/// split (and on train+test, the authors' evaluation set, when `ablate_all`), and returns the
/// record. `progress` sees the training steps and epochs.
pub fn train_to_dir(
    req: &TrainRequest,
    dir: &Path,
    ablate_all: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunRecord, TrainError> {
    let run = train(req, progress)?;
    run.model.save(dir)?;
    // the first test sentence's words, one id per line: `pespectra audit DIR --token-ids @FILE`
    let words: String = run.data.test[0]
        .ids
        .iter()
        .filter(|&&t| t != crate::data::PAD)
        .map(|t| format!("{t}\n"))
        .collect();
    write_atomic(&dir.join(TEST_SENTENCE), words.as_bytes())?;
    let mut ablation = None;
    // the test split is ablated in place; only the flagged train+test set needs a copy
    let all: Vec<_> = if ablate_all {
        run.data
            .train
            .iter()
            .chain(&run.data.test)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut splits = vec![("test", run.data.test.as_slice())];
    if ablate_all {
        splits.push(("train+test", all.as_slice()));
    }
    for (split, samples) in splits {
        let ab = ablate_heads(&run.model, samples, split, &mut |_, _| {})?;
        write_atomic(&dir.join(format!("ablation-{split}.json")), &json(&ab))?;
        ablation.get_or_insert(ab);
    }
    // metrics.json last: its presence marks a finished run
    write_atomic(&dir.join("metrics.json"), &json(&run.metrics))?;
    let ab = ablation.expect("the test split is always ablated");
    Ok(RunRecord {
        test_accuracy: run.metrics.test_accuracy,
        seconds: run.metrics.seconds,
        ablation: ab,
    })
}

/// The record of a finished run directory, or `None` when it has no `metrics.json` yet.
pub fn read_run(dir: &Path) -> Result<Option<RunRecord>, TrainError> {
    let m = dir.join("metrics.json");
    if !m.is_file() {
        return Ok(None);
    }
    let read = |p: &Path| -> Result<serde_json::Value, TrainError> {
        let text = std::fs::read_to_string(p).map_err(|source| TrainError::Io {
            path: p.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| TrainError::Config(format!("{}: {e}", p.display())))
    };
    let metrics = read(&m)?;
    let field = |k: &str| {
        metrics[k]
            .as_f64()
            .ok_or_else(|| TrainError::Config(format!("{}: no number {k}", m.display())))
    };
    let ab_path = dir.join("ablation-test.json");
    let ablation: HeadAblations = serde_json::from_value(read(&ab_path)?)
        .map_err(|e| TrainError::Config(format!("{}: {e}", ab_path.display())))?;
    Ok(Some(RunRecord {
        test_accuracy: field("test_accuracy")?,
        seconds: field("seconds")?,
        ablation,
    }))
}
