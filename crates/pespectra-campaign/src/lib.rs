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
pub mod merge;

use pespectra_theorems::{catalogue, run, Params, Verdict};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// What to run.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    /// Catalogue id (case-insensitive), e.g. `T3`.
    pub property: String,
    /// Total number of cases of the (unsharded) campaign.
    pub cases: u64,
    /// Campaign seed.
    pub seed: u64,
    /// Worker threads (`None`: all cores).
    pub jobs: Option<usize>,
    /// Largest sequence length, `4 ≤ max_n ≤ 1024`.
    pub max_n: usize,
    /// Which slice of the cases to run.
    pub shard: Shard,
    /// Directory for the resumable state and counterexample certificates.
    pub out: Option<PathBuf>,
}

impl CampaignConfig {
    /// Defaults: 1000 cases, `max_n = 64`, all cores, unsharded, no output directory.
    pub fn new(property: &str, seed: u64) -> Self {
        Self {
            property: property.to_string(),
            cases: 1000,
            seed,
            jobs: None,
            max_n: 64,
            shard: Shard::ALL,
            out: None,
        }
    }
}

/// Why a campaign could not run.
#[derive(Debug)]
pub enum CampaignError {
    /// Bad configuration (unknown property, state of another campaign).
    Config(String),
    /// A [`CampaignConfig`] field out of range: `field` is its name, `message` says what it
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

fn io_err(what: &Path, e: impl std::fmt::Display) -> CampaignError {
    CampaignError::Io(format!("{}: {e}", what.display()))
}

/// Reported to the progress callback after every chunk of cases.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Cases of this shard completed so far (including earlier, resumed runs).
    pub done: u64,
    /// Cases of this shard in total.
    pub total: u64,
    /// HOLDS so far.
    pub holds: u64,
    /// FAILS so far.
    pub fails: u64,
    /// INCONCLUSIVE so far.
    pub inconclusive: u64,
    /// Cases per second of this run (resumed cases excluded).
    pub cases_per_second: f64,
    /// Estimated seconds to completion at that rate.
    pub eta_seconds: f64,
}

/// The case with the smallest certified margin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarginCase {
    /// Certified margin (a lower bound of the slack for HOLDS, of the violation for FAILS).
    #[serde(with = "f64_bits")]
    pub margin: f64,
    /// Global case index.
    pub case: u64,
    /// Its `Params::n`.
    pub n: usize,
}

/// Stores an f64 by its bit pattern: serde_json's default float parser may be one ulp off, and
/// a resumed campaign must compare margins exactly as an uninterrupted one does.
mod f64_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }

    /// The same for an optional value.
    pub mod opt {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            match x {
                Some(v) => s.serialize_some(&v.to_bits()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<u64>::deserialize(d).map(|b| b.map(f64::from_bits))
        }
    }
}

/// The FAILS verdict with the smallest case index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// Global case index.
    pub case: u64,
    /// Its `Params::seed` (`mix(seed, case)`).
    pub seed: u64,
    /// Its `Params::n`.
    pub n: usize,
    /// Certified violation.
    #[serde(with = "f64_bits::opt")]
    pub margin: Option<f64>,
    /// What was checked.
    pub detail: String,
    /// Campaign seconds (over all resumed runs) when the case finished.
    pub seconds: f64,
    /// The check's `pespectra-certificate/1` document, if it produced one (cases run without
    /// certificates; the first counterexample is re-run with them. Not kept in the state file:
    /// it is written next to it as a file of its own).
    #[serde(skip)]
    pub certificate: Option<Value>,
}

/// Relative tolerance of the smallest certified margin between a run and its reproduction.
pub const MARGIN_RTOL: f64 = 1e-6;

/// Counts and extremes of a campaign (or of a shard, or of a chunk).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignReport {
    /// Canonical catalogue id.
    pub property: String,
    /// Cases run.
    pub cases: u64,
    /// HOLDS verdicts.
    pub holds: u64,
    /// FAILS verdicts.
    pub fails: u64,
    /// INCONCLUSIVE verdicts, including engine errors (nothing was certified on those).
    pub inconclusive: u64,
    /// Cases where the check returned an error (counted in `inconclusive` too).
    pub errors: u64,
    /// The error with the smallest case index: `(case, message)`.
    pub first_error: Option<(u64, String)>,
    /// Smallest certified margin among the cases with the expected verdict (HOLDS for T*/D*,
    /// FAILS for R*), ties to the smallest case index.
    pub min_margin: Option<MarginCase>,
    /// The FAILS verdict with the smallest case index.
    pub first_counterexample: Option<Counterexample>,
    /// Wall-clock seconds spent, over all resumed runs.
    pub seconds: f64,
}

impl CampaignReport {
    /// An empty report for `property`.
    pub fn empty(property: &str) -> Self {
        Self {
            property: property.to_string(),
            cases: 0,
            holds: 0,
            fails: 0,
            inconclusive: 0,
            errors: 0,
            first_error: None,
            min_margin: None,
            first_counterexample: None,
            seconds: 0.0,
        }
    }

    /// The verdict a correct implementation reaches on every case: HOLDS for D*/T*, FAILS
    /// for the false readings R*.
    pub fn expected(&self) -> Verdict {
        if self.property.starts_with('R') {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    }

    /// Whether the campaign came out as it must: every case HOLDS for D*/T*, at least one
    /// certified counterexample for R*.
    pub fn ok(&self) -> bool {
        match self.expected() {
            Verdict::Fails => self.fails > 0,
            _ => self.holds == self.cases,
        }
    }

    /// Certified cases per second.
    pub fn cases_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.cases as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Combines two reports of disjoint case sets of the same property. Associative and
    /// commutative (timing aside: seconds add, as CPU-time of the parts).
    pub fn merge(mut self, o: CampaignReport) -> CampaignReport {
        self.cases += o.cases;
        self.holds += o.holds;
        self.fails += o.fails;
        self.inconclusive += o.inconclusive;
        self.errors += o.errors;
        self.seconds += o.seconds;
        self.min_margin = match (self.min_margin.take(), o.min_margin) {
            (Some(a), Some(b)) => Some(if (b.margin, b.case) < (a.margin, a.case) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        };
        self.first_error = match (self.first_error.take(), o.first_error) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        self.first_counterexample = match (self.first_counterexample.take(), o.first_counterexample)
        {
            (Some(a), Some(b)) => Some(if b.case < a.case { b } else { a }),
            (a, b) => a.or(b),
        };
        self
    }

    /// The report as JSON: `{"property", "cases", "holds", "fails", "inconclusive",
    /// "min_margin", "cases_per_second", "first_counterexample_case", …}`; margins are decimal
    /// strings rounded toward −∞ (they are certified lower bounds).
    pub fn to_json(&self) -> Value {
        let cx = self.first_counterexample.as_ref();
        json!({
            "property": self.property,
            "cases": self.cases,
            "holds": self.holds,
            "fails": self.fails,
            "inconclusive": self.inconclusive,
            "errors": self.errors,
            "first_error": self.first_error.as_ref().map(|(k, m)| json!({"case": k, "message": m})),
            "expected": self.expected().as_str(),
            "ok": self.ok(),
            "min_margin": self.min_margin.as_ref().map(|m| decimal_down(m.margin)),
            "min_margin_case": self.min_margin.as_ref().map(|m| m.case),
            "min_margin_n": self.min_margin.as_ref().map(|m| m.n),
            "cases_per_second": self.cases_per_second(),
            "seconds": self.seconds,
            "first_counterexample_case": cx.map(|c| c.case),
            "first_counterexample_seed": cx.map(|c| c.seed),
            "first_counterexample_n": cx.map(|c| c.n),
            "seconds_to_first_counterexample": cx.map(|c| c.seconds),
        })
    }

    /// Differences between a recorded report (`to_json`) and this one, for
    /// `pespectra campaign --reproduce`: counts, the first counterexample and the case of the
    /// smallest margin must be identical (cases are deterministic); the smallest margin within
    /// a relative [`MARGIN_RTOL`] (a different CPU may sum a GEMM in another order; the margin
    /// stays a certified lower bound either way). Timing fields are ignored.
    pub fn differences_from(&self, recorded: &Value) -> Vec<String> {
        let now = self.to_json();
        let mut out = Vec::new();
        for key in [
            "property",
            "cases",
            "holds",
            "fails",
            "inconclusive",
            "errors",
            "min_margin_case",
            "min_margin_n",
            "first_counterexample_case",
            "first_counterexample_seed",
            "first_counterexample_n",
        ] {
            if recorded[key] != now[key] {
                out.push(format!(
                    "{key}: recorded {}, now {}",
                    recorded[key], now[key]
                ));
            }
        }
        let margin = |v: &Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
        match (margin(&recorded["min_margin"]), margin(&now["min_margin"])) {
            (Some(a), Some(b)) if (a - b).abs() <= MARGIN_RTOL * a.abs().max(b.abs()) => {}
            (None, None) => {}
            _ => out.push(format!(
                "min_margin: recorded {}, now {}",
                recorded["min_margin"], now["min_margin"]
            )),
        }
        out
    }

    /// A short table for people.
    pub fn table(&self) -> String {
        let mut s = format!(
            "property {} (expected {}): {} cases in {:.2} s, {:.1} cases/s\n",
            self.property,
            self.expected().as_str(),
            self.cases,
            self.seconds,
            self.cases_per_second()
        );
        s += &format!(
            "  HOLDS {:>10}   FAILS {:>10}   INCONCLUSIVE {:>10} (errors {})\n",
            self.holds, self.fails, self.inconclusive, self.errors
        );
        match &self.min_margin {
            Some(m) => {
                s += &format!(
                    "  smallest certified margin {} at case {} (n = {})\n",
                    decimal_down(m.margin),
                    m.case,
                    m.n
                )
            }
            None => s += "  no certified margin\n",
        }
        if let Some((k, m)) = &self.first_error {
            s += &format!("  first error: case {k}: {m}\n");
        }
        if let Some(c) = &self.first_counterexample {
            s += &format!(
                "  first counterexample: case {} (seed {}, n = {}) after {:.3} s: {}\n",
                c.case, c.seed, c.n, c.seconds, c.detail
            );
        }
        s += &format!("  {}\n", if self.ok() { "OK" } else { "NOT OK" });
        s
    }
}

/// A certified lower bound printed as a decimal string rounded toward −∞ (6 digits).
pub fn decimal_down(x: f64) -> String {
    pespectra_arith::mp::decimal(&rug::Float::with_val(53, x), 6, rug::float::Round::Down)
}

/// Runs one case (without certificate) and returns its one-case report (margin recorded only
/// for the expected verdict).
fn run_case(
    property: &str,
    expected: Verdict,
    seed: u64,
    case: u64,
    max_n: usize,
    t0: (Instant, f64),
) -> CampaignReport {
    let p = case_params(seed, case, max_n);
    let mut r = CampaignReport::empty(property);
    r.cases = 1;
    match run(property, &p) {
        Err(e) => {
            r.inconclusive = 1;
            r.errors = 1;
            r.first_error = Some((case, e.to_string()));
        }
        Ok(c) => {
            match c.verdict {
                Verdict::Holds => r.holds = 1,
                Verdict::Fails => r.fails = 1,
                Verdict::Inconclusive => r.inconclusive = 1,
            }
            if c.verdict == expected {
                r.min_margin = c.margin.filter(|m| m.is_finite()).map(|margin| MarginCase {
                    margin,
                    case,
                    n: p.n,
                });
            }
            if c.verdict == Verdict::Fails {
                r.first_counterexample = Some(Counterexample {
                    case,
                    seed: p.seed,
                    n: p.n,
                    margin: c.margin.filter(|m| m.is_finite()),
                    detail: c.detail,
                    seconds: t0.1 + t0.0.elapsed().as_secs_f64(),
                    certificate: None,
                });
            }
        }
    }
    r
}

/// What the state file remembers: the campaign's identity and the completed prefix.
#[derive(Serialize, Deserialize)]
struct State {
    format: String,
    property: String,
    seed: u64,
    max_n: usize,
    shard: Shard,
    /// Shard-local cases completed (a prefix: cases `shard.case(0..done)`).
    done: u64,
    report: CampaignReport,
}

const STATE_FORMAT: &str = "pespectra-campaign-state/1";

fn state_path(dir: &Path, property: &str, shard: Shard) -> PathBuf {
    dir.join(format!(
        "{property}-shard{}of{}.state.json",
        shard.index, shard.count
    ))
}

/// Writes `text` to `path` atomically (temporary file + rename), so an interrupted campaign
/// never leaves a torn state file.
fn write_atomic(path: &Path, text: &str) -> Result<(), CampaignError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Writes the counterexample's certificate (re-verifiable with `pespectra verify`) and a small
/// description of the case next to the state file.
fn write_counterexample(
    dir: &Path,
    property: &str,
    c: &Counterexample,
) -> Result<(), CampaignError> {
    let mut cert_file = None;
    if let Some(cert) = &c.certificate {
        let p = dir.join(format!("{property}-case{}.cert.json", c.case));
        write_atomic(&p, &serde_json::to_string_pretty(cert).expect("JSON"))?;
        cert_file = Some(p);
    }
    let desc = json!({
        "property": property, "case": c.case, "seed": c.seed, "n": c.n,
        "margin": c.margin.map(decimal_down), "detail": c.detail,
        "certificate": cert_file.map(|p| p.display().to_string()),
    });
    write_atomic(
        &dir.join(format!("{property}-case{}.json", c.case)),
        &serde_json::to_string_pretty(&desc).expect("JSON"),
    )
}

/// Most worker threads a campaign starts (far above any core count it targets; a typo'd huge
/// value fails at once instead of spending seconds creating threads).
pub const MAX_JOBS: usize = 1024;

/// Runs the campaign (or its shard) and returns the report; `progress` is called on the
/// calling thread after every chunk of cases.
pub fn run_campaign(
    cfg: &CampaignConfig,
    progress: impl Fn(&Progress),
) -> Result<CampaignReport, CampaignError> {
    let entry = catalogue()
        .into_iter()
        .find(|e| e.id.eq_ignore_ascii_case(&cfg.property))
        .ok_or_else(|| {
            CampaignError::Config(format!(
                "unknown property '{}' (see `pespectra theorems`)",
                cfg.property
            ))
        })?;
    let property = entry.id;
    if !(4..=1024).contains(&cfg.max_n) {
        return Err(CampaignError::Field {
            field: "max_n",
            message: format!("must be between 4 and 1024, got {}", cfg.max_n),
        });
    }
    if cfg.cases == 0 {
        return Err(CampaignError::Field {
            field: "cases",
            message: "must be at least 1".into(),
        });
    }
    if cfg.shard.count == 0 || cfg.shard.index >= cfg.shard.count {
        return Err(CampaignError::Field {
            field: "shard",
            message: format!("must be i/N with 0 ≤ i < N, got {}", cfg.shard),
        });
    }
    let jobs = match cfg.jobs {
        Some(0) => {
            return Err(CampaignError::Field {
                field: "jobs",
                message: "must be at least 1".into(),
            })
        }
        Some(j) if j > MAX_JOBS => {
            return Err(CampaignError::Field {
                field: "jobs",
                message: format!("must be at most {MAX_JOBS}, got {j}"),
            })
        }
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let total = cfg.shard.len(cfg.cases);
    let mut state = State {
        format: STATE_FORMAT.into(),
        property: property.into(),
        seed: cfg.seed,
        max_n: cfg.max_n,
        shard: cfg.shard,
        done: 0,
        report: CampaignReport::empty(property),
    };
    let path = match &cfg.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
            let p = state_path(dir, property, cfg.shard);
            if p.exists() {
                let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
                let old: State = serde_json::from_str(&text).map_err(|e| io_err(&p, e))?;
                if old.format != STATE_FORMAT
                    || old.seed != cfg.seed
                    || old.max_n != cfg.max_n
                    || old.shard != cfg.shard
                {
                    return Err(CampaignError::Config(format!("{} belongs to another campaign (seed {}, max-n {}, shard {}); choose another output directory", p.display(), old.seed, old.max_n, old.shard)));
                }
                if old.done > total {
                    return Err(CampaignError::Config(format!(
                        "{} has {} cases done, more than the {total} requested; choose another output directory",
                        p.display(),
                        old.done
                    )));
                }
                state = old;
            }
            Some(p)
        }
        None => None,
    };
    let expected = state.report.expected();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| CampaignError::Config(format!("cannot start {jobs} threads: {e}")))?;
    let start = Instant::now();
    let resumed = (state.done, state.report.seconds);
    // Chunks aim at ~0.5 s so progress, state saves and interruption stay responsive.
    let mut chunk = (4 * jobs) as u64;
    while state.done < total {
        let (lo, hi) = (state.done, (state.done + chunk).min(total));
        let t = Instant::now();
        let part = pool.install(|| {
            (lo..hi)
                .into_par_iter()
                .map(|j| {
                    run_case(
                        property,
                        expected,
                        cfg.seed,
                        cfg.shard.case(j),
                        cfg.max_n,
                        (start, resumed.1),
                    )
                })
                .reduce(|| CampaignReport::empty(property), CampaignReport::merge)
        });
        let rate = (hi - lo) as f64 / t.elapsed().as_secs_f64().max(1e-9);
        chunk = ((rate * 0.5) as u64).clamp(jobs as u64, 1 << 16);
        let first_new =
            state.report.first_counterexample.is_none() && part.first_counterexample.is_some();
        let mut part = part;
        if let Some(c) = part.first_counterexample.as_mut().filter(|_| first_new) {
            // the case is deterministic: re-run it once, now with its certificate
            let p = case_params(cfg.seed, c.case, cfg.max_n).with_certificates();
            c.certificate = run(property, &p)
                .ok()
                .filter(|r| r.verdict == Verdict::Fails)
                .and_then(|r| r.certificate);
        }
        let mut report =
            std::mem::replace(&mut state.report, CampaignReport::empty(property)).merge(part);
        report.seconds = resumed.1 + start.elapsed().as_secs_f64();
        state.report = report;
        state.done = hi;
        if let (Some(p), Some(dir)) = (&path, &cfg.out) {
            if first_new {
                let c = state
                    .report
                    .first_counterexample
                    .as_ref()
                    .expect("just set");
                write_counterexample(dir, property, c)?;
            }
            write_atomic(p, &serde_json::to_string(&state).expect("JSON"))?;
        }
        let run_rate = (state.done - resumed.0) as f64 / start.elapsed().as_secs_f64().max(1e-9);
        progress(&Progress {
            done: state.done,
            total,
            holds: state.report.holds,
            fails: state.report.fails,
            inconclusive: state.report.inconclusive,
            cases_per_second: run_rate,
            eta_seconds: (total - state.done) as f64 / run_rate.max(1e-9),
        });
    }
    Ok(state.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_splitmix64() {
        // reference outputs of SplitMix64 seeded with 0 (Vigna's splitmix64.c)
        assert_eq!(mix(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix(0, 1), 0x6E78_9E6A_A1B9_65F4);
        let p = case_params(42, 7, 64);
        assert_eq!(p.seed, mix(42, 7));
        assert!((4..=64).contains(&p.n));
        assert!((0..1000).all(|k| case_params(1, k, 4).n == 4));
    }

    #[test]
    fn shards_partition_the_cases() {
        for cases in [0u64, 1, 7, 100] {
            for count in 1..5u64 {
                let mut seen: Vec<u64> = (0..count)
                    .flat_map(|index| {
                        let s = Shard { index, count };
                        (0..s.len(cases)).map(move |j| s.case(j))
                    })
                    .collect();
                seen.sort_unstable();
                assert_eq!(seen, (0..cases).collect::<Vec<_>>());
            }
        }
        assert!("1/0".parse::<Shard>().is_err() && "3/3".parse::<Shard>().is_err());
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
    }

    #[test]
    fn merged_shards_equal_the_unsharded_campaign() {
        let base = CampaignConfig {
            cases: 10,
            max_n: 10,
            jobs: Some(2),
            ..CampaignConfig::new("T5", 9)
        };
        let timeless = |mut r: CampaignReport| {
            r.seconds = 0.0;
            r
        };
        let full = timeless(run_campaign(&base, |_| {}).unwrap());
        let merged = (0..3)
            .map(|index| {
                let cfg = CampaignConfig {
                    shard: Shard { index, count: 3 },
                    jobs: Some(1),
                    ..base.clone()
                };
                timeless(run_campaign(&cfg, |_| {}).unwrap())
            })
            .rev()
            .fold(CampaignReport::empty("T5"), CampaignReport::merge);
        assert_eq!(merged, full);
        assert_eq!(full.holds, 10);
    }

    #[test]
    fn ok_rule() {
        let mut r = CampaignReport::empty("T3");
        r.cases = 2;
        r.holds = 1;
        r.inconclusive = 1;
        assert!(
            !r.ok(),
            "an INCONCLUSIVE case is not the expected verdict for a theorem"
        );
        r.holds = 2;
        r.inconclusive = 0;
        assert!(r.ok());
        let mut r = CampaignReport::empty("R1");
        r.cases = 3;
        r.inconclusive = 3;
        assert!(!r.ok(), "a false reading needs a certified counterexample");
        r.fails = 1;
        assert!(r.ok());
        assert_eq!(decimal_down(1.0 / 3.0), "3.33333e-1");
        assert_eq!(decimal_down(-1.0 / 3.0), "-3.33334e-1");
    }
}
