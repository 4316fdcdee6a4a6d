//! The campaign report: verdict counts, the smallest certified margin, the first counterexample; reports of shards merge.

use pespectra_theorems::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        /// The first engine error: its case and message.
        #[derive(serde::Serialize)]
        struct ErrorJson<'a> {
            case: u64,
            message: &'a str,
        }
        /// The report document (keys sorted once it is a `Value`).
        #[derive(serde::Serialize)]
        struct ReportJson<'a> {
            property: &'a str,
            cases: u64,
            holds: u64,
            fails: u64,
            inconclusive: u64,
            errors: u64,
            first_error: Option<ErrorJson<'a>>,
            expected: &'static str,
            ok: bool,
            min_margin: Option<String>,
            min_margin_case: Option<u64>,
            min_margin_n: Option<usize>,
            cases_per_second: f64,
            seconds: f64,
            first_counterexample_case: Option<u64>,
            first_counterexample_seed: Option<u64>,
            first_counterexample_n: Option<usize>,
            seconds_to_first_counterexample: Option<f64>,
        }
        let cx = self.first_counterexample.as_ref();
        let mm = self.min_margin.as_ref();
        let doc = ReportJson {
            property: &self.property,
            cases: self.cases,
            holds: self.holds,
            fails: self.fails,
            inconclusive: self.inconclusive,
            errors: self.errors,
            first_error: self.first_error.as_ref().map(|(case, message)| ErrorJson {
                case: *case,
                message,
            }),
            expected: self.expected().as_str(),
            ok: self.ok(),
            min_margin: mm.map(|m| decimal_down(m.margin)),
            min_margin_case: mm.map(|m| m.case),
            min_margin_n: mm.map(|m| m.n),
            cases_per_second: self.cases_per_second(),
            seconds: self.seconds,
            first_counterexample_case: cx.map(|c| c.case),
            first_counterexample_seed: cx.map(|c| c.seed),
            first_counterexample_n: cx.map(|c| c.n),
            seconds_to_first_counterexample: cx.map(|c| c.seconds),
        };
        serde_json::to_value(doc).unwrap_or(Value::Null)
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
