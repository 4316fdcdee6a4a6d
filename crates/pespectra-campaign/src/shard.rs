//! Which cases a shard runs, and the seeded instance of each case.

use crate::CampaignError;
use pespectra_theorems::Params;
use serde::{Deserialize, Serialize};

/// SplitMix64 (Steele, Lea, Flood 2014): the `(case + 1)`-th output of the generator seeded with
/// `seed`. Integer-only and fixed forever (unlike `DefaultHasher`), so a case's instance never
/// depends on the machine, the Rust release or the thread schedule.
pub fn mix(seed: u64, case: u64) -> u64 {
    let mut z = seed.wrapping_add(case.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The instance parameters of case `case`: seed `mix(seed, case)` and `n` uniform in
/// `[4, max_n]` taken from its high 32 bits (the low bits already feed the instance's RNG).
pub fn case_params(seed: u64, case: u64, max_n: usize) -> Params {
    let h = mix(seed, case);
    let span = (max_n.max(4) - 3) as u64;
    Params::new(h, 4 + ((h >> 32) % span) as usize)
}

/// A slice `k ≡ index (mod count)` of a campaign's cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// `i` in `i/N`, `0 ≤ i < N`.
    pub index: u64,
    /// `N` in `i/N`.
    pub count: u64,
}

impl Shard {
    /// The whole campaign.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// How many of the cases `0..cases` belong to this shard.
    pub fn len(&self, cases: u64) -> u64 {
        if cases > self.index {
            (cases - self.index).div_ceil(self.count)
        } else {
            0
        }
    }

    /// Whether the shard has no case below `cases`.
    pub fn is_empty(&self, cases: u64) -> bool {
        self.len(cases) == 0
    }

    /// Global case index of the shard's `j`-th case.
    pub fn case(&self, j: u64) -> u64 {
        self.index + j * self.count
    }
}

impl std::str::FromStr for Shard {
    type Err = CampaignError;

    /// Parses `i/N` with `0 ≤ i < N`.
    fn from_str(s: &str) -> Result<Self, CampaignError> {
        let bad = || CampaignError::Field {
            field: "shard",
            message: format!("must be i/N with 0 ≤ i < N, got '{s}'"),
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
