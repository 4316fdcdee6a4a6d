//! Property campaigns: one catalogue check (`T3`, `R1`, …) run on many seeded instances, on all
//! cores, with a report of verdict counts, the smallest certified margin and the first
//! counterexample.
//!
//! **Determinism.** Case `k` of a campaign with seed `s` runs
//! `pespectra_theorems::run(property, &Params::new(mix(s, k), n))` with
//! `n = 4 + (mix(s, k) >> 32) mod (max_n − 3)` (see [`case_params`]). [`mix`] is SplitMix64, a
//! fixed function of integers only, so the instance of a case is the same on every machine, for
//! every thread count and every sharding. (The verdict is certified either way; the last bits of
//! a margin may differ between CPUs whose SIMD width changes faer's summation order.)
//!
//! **Shards.** `--shard i/N` runs the cases `k < cases` with `k ≡ i (mod N)` (interleaved, so
//! every shard sees the same mix of sizes). Reports are a commutative monoid
//! ([`CampaignReport::merge`]): counts add, the smallest margin wins (ties: smallest case index),
//! the first counterexample is the one with the smallest case index. So the merge of all shards
//! equals the unsharded report in everything except wall-clock time.
//!
//! **Resumption.** With an output directory, the completed prefix of the shard's cases and the
//! partial report are saved atomically after every chunk; rerunning with the same property,
//! seed, `max_n` and shard continues where it stopped (a larger `cases` extends the campaign).
//!
//! ```
//! use pespectra_campaign::{run_campaign, CampaignConfig};
//! let cfg = CampaignConfig { cases: 8, max_n: 8, ..CampaignConfig::new("R3", 42) };
//! let r = run_campaign(&cfg, |_| {}).unwrap();
//! assert_eq!(r.fails, 8); // every seeded R3 instance is a certified counterexample
//! assert_eq!(r.first_counterexample.as_ref().unwrap().case, 0);
//! assert!(r.ok());
//! ```

#![warn(missing_docs)]
mod error;
pub mod merge;
mod report;
mod run;
mod shard;
mod state;

pub use error::CampaignError;
pub use report::{decimal_down, CampaignReport, Counterexample, MarginCase, MARGIN_RTOL};
pub use run::{run_campaign, CampaignConfig, Progress, MAX_JOBS};
pub use shard::{case_params, mix, Shard};

#[cfg(test)]
mod tests;
