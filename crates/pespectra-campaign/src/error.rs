//! What can stop a campaign.

use std::path::Path;

/// Why a campaign could not run.
#[derive(Debug)]
pub enum CampaignError {
    /// Bad configuration (unknown property, state of another campaign).
    Config(String),
    /// A [`CampaignConfig`](crate::CampaignConfig) field out of range: `field` is its name, `message` says what it
    /// must be (the text after the name).
    Field {
        /// The field's name (`max_n`, `cases`, `shard`, `jobs`).
        field: &'static str,
        /// What was wrong, e.g. "must be at least 1".
        message: String,
    },
    /// Reading or writing the output directory failed.
    Io(String),
}

impl std::fmt::Display for CampaignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(m) | Self::Io(m) => f.write_str(m),
            Self::Field { field, message } => write!(f, "{field} {message}"),
        }
    }
}

impl std::error::Error for CampaignError {}

pub(crate) fn io_err(what: &Path, e: impl std::fmt::Display) -> CampaignError {
    CampaignError::Io(format!("{}: {e}", what.display()))
}
