//! What can stop a campaign.

use std::path::Path;

/// Why a campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// Bad configuration (unknown property, state of another campaign).
    #[error("{0}")]
    Config(String),
    /// A [`CampaignConfig`](crate::CampaignConfig) field out of range: `field` is its name, `message` says what it
    /// must be (the text after the name).
    #[error("{field} {message}")]
    Field {
        /// The field's name (`max_n`, `cases`, `shard`, `jobs`).
        field: &'static str,
        /// What was wrong, e.g. "must be at least 1".
        message: String,
    },
    /// Reading or writing the output directory failed.
    #[error("{0}")]
    Io(String),
}

pub(crate) fn io_err(what: &Path, e: impl std::fmt::Display) -> CampaignError {
    CampaignError::Io(format!("{}: {e}", what.display()))
}
