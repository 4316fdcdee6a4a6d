//! The paper's synthetic-task experiment (THEOREMS.md E4, paper-notes §4): seeded data for
//! trigger-word distance (Task 1) and counting (Task 2), the authors' encoder and a standard
//! pre-LN one with every positional-encoding family, trained on candle's CPU backend; head
//! ablation (the "deposit" measurement); and export as `pespectra_e4` checkpoints
//! (docs/E4_MODEL_FORMAT.md) that `pespectra capture` and `pespectra audit` read.
//!
//! ```no_run
//! use pespectra_train::{train, Preset, TrainRequest, data::Task};
//! let req = TrainRequest::new(Task::Distance, "rope", Preset::Smoke, 1)?;
//! let run = train(&req, &mut |_| {})?;
//! println!("test accuracy {:.2} %", 100.0 * run.metrics.test_accuracy);
//! run.model.save(std::path::Path::new("out/rope"))?;
//! # Ok::<(), pespectra_train::TrainError>(())
//! ```

#![warn(missing_docs)]

pub mod ablation;
pub mod config;
pub mod data;
pub mod export;
pub mod model;
pub mod ops;
pub mod train;

use std::path::{Path, PathBuf};

pub use ablation::{ablate_heads, HeadAblations};
pub use config::{Arch, ModelConfig};
pub use export::{read_run, train_to_dir, RunRecord};
pub use model::E4;
pub use train::{train, EpochReport, Metrics, Preset, TrainRequest, TrainRun};

/// Why training, evaluation or export failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A variant, architecture, preset or size that does not describe a model.
    #[error("{0}")]
    Config(String),
    /// candle refused an operation (a shape or dtype bug, or an allocation failure).
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Reading or writing a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Training diverged (a non-finite loss).
    #[error("the loss became {loss} at epoch {epoch}, step {step}: lower the learning rate")]
    Diverged {
        /// Epoch, 1-based.
        epoch: usize,
        /// Step within the run.
        step: usize,
        /// The non-finite value.
        loss: f64,
    },
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees half
/// a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|source| TrainError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })
}
