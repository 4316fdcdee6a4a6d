//! One file per subcommand; this file holds the one failure shape they all return.

pub(crate) mod audit;
pub(crate) mod bench;
pub(crate) mod campaign;
pub(crate) mod capture;
pub(crate) mod check;
pub(crate) mod experiments;
pub(crate) mod models;
pub(crate) mod spectrum;
pub(crate) mod train;

/// A user-facing failure: exit code and one-line message.
pub(crate) struct Failure(pub(crate) u8, pub(crate) String);

pub(crate) fn bad(msg: impl Into<String>) -> Failure {
    Failure(2, msg.into())
}

/// The provenance of this process's output, started from its command line.
pub(crate) fn provenance() -> pespectra_provenance::Provenance {
    pespectra_provenance::Provenance::start(&std::env::args().collect::<Vec<_>>())
}
