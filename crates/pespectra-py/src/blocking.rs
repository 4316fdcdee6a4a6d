//! Long calls off the GIL, interruptible, with progress, and never a panic into Python.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// The latest progress a worker reported: stage, done, total.
#[derive(Default)]
pub struct Progress(Mutex<Option<(String, u64, u64)>>);

impl Progress {
    /// Records `done` of `total` in `stage` (only the latest report is kept).
    pub fn set(&self, stage: &str, done: u64, total: u64) {
        if let Ok(mut p) = self.0.lock() {
            *p = Some((stage.to_string(), done, total));
        }
    }

    fn take(&self) -> Option<(String, u64, u64)> {
        self.0.lock().ok().and_then(|mut p| p.take())
    }
}

/// Runs `work` on a worker thread. The calling thread releases the GIL while it waits (other
/// Python threads run), wakes every 50 ms to raise a pending `KeyboardInterrupt` (the worker
/// is then abandoned: it finishes in the background and its result is dropped) and to call
/// `on_progress(stage, done, total)` with the latest report. A panic in `work` becomes a
/// `RuntimeError`.
pub fn run<R: Send + 'static>(
    py: Python<'_>,
    on_progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Progress) -> R + Send + 'static,
) -> PyResult<R> {
    let progress = Arc::new(Progress::default());
    let (tx, rx) = channel();
    let p = Arc::clone(&progress);
    std::thread::Builder::new()
        .name("pespectra-call".into())
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| work(&p)));
            let _ = tx.send(r);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let forward = |py: Python<'_>| -> PyResult<()> {
        if let (Some(cb), Some((stage, done, total))) = (on_progress, progress.take()) {
            cb.call1((stage, done, total))?;
        }
        let _ = py;
        Ok(())
    };
    let mut rx = rx;
    loop {
        // the receiver moves in and out of the GIL-free section (it is Send, not Sync)
        let (got, back) = py.detach(move || {
            let got = rx.recv_timeout(Duration::from_millis(50));
            (got, rx)
        });
        rx = back;
        match got {
            Ok(Ok(r)) => {
                forward(py)?;
                return Ok(r);
            }
            Ok(Err(panic)) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(PyRuntimeError::new_err(format!(
                    "internal error in pespectra (please report it): {what}"
                )));
            }
            Err(RecvTimeoutError::Timeout) => {
                py.check_signals()?;
                forward(py)?;
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the worker thread ended without a result",
                ));
            }
        }
    }
}
