//! The paper's reported figures (v2, through secondary sources; paper-notes §4.5), for the
//! summary tables. The authors' "MLA" is their `mla.py`, our `mla-paper`; their "absolute" is
//! the sinusoidal input PE; their "rope" is the hybrid (sinusoidal input + RoPE), our
//! `rope-hybrid`.

use pespectra_train::data::Task;

/// What the paper reports for `pe` on `task`, as printed there, or `None`.
pub fn reported(task: Task, pe: &str) -> Option<&'static str> {
    Some(match (task, pe) {
        (Task::Distance, "rope-hybrid") => "92.64 %",
        (Task::Distance, "mla-paper") => "88.34 %",
        (Task::Distance, "sinusoidal") => "\"second best\"",
        (Task::Distance, "alibi") => "\"fails\"",
        (Task::Distance, "nope") => "\"fails\"",
        (Task::Distance, "partial-rope:1") => "≈ 90 % (1 of 16 heads)",
        (Task::Distance, "partial-rope:2") => "≈ 90 %+ (2 of 16 heads)",
        (Task::Count, "rope-hybrid") => "69.43 %",
        (Task::Count, "mla-paper") => "97.41 %",
        (Task::Count, "sinusoidal") => "\"moderate\"",
        (Task::Count, "alibi") => "\"worst\"",
        (Task::Count, "nope") => "77.69 %",
        _ => return None,
    })
}

/// The paper's deposit claim: one first-layer head of the RoPE model on Task 1 costs about 60
/// points when removed; no such head for NoPE on Task 1 or RoPE on Task 2.
pub const DEPOSIT_CLAIM: &str = "removing one first-layer head of the RoPE model costs ≈ 60 points on Task 1 (from 92.64 %); no such head for NoPE on Task 1 or for RoPE on Task 2";
