//! A bound on the checker's work, so that nobody can hang it with a small certificate.
//!
//! Exact arithmetic is cheap on the producer's certificates (dyadic entries, n ≤ 32) but grows
//! like n⁵·b² for fraction-free elimination on n×n matrices with b-bit entries, so a 64×64
//! matrix of long fractions, within every size and digit limit of the format, can take hours.
//! Two guards stop that:
//!
//! 1. **Estimate before acting.** Before every derived operation and every claim, its cost is
//!    estimated from the actual sizes of its operands, in *work units* (about one 64×64-bit word
//!    product each, plus one unit of overhead per big-number operation), and added to the total;
//!    a step that would take the total past [`Limits::max_work`] is refused before it starts.
//! 2. **Wall clock.** The elimination and the matrix product look at the clock once per row, so
//!    a step whose estimate was optimistic still stops after [`Limits::max_seconds`].
//!
//! Either refusal is [`CertError::TooCostly`] (exit code 2): the certificate was not checked,
//! which is neither valid nor invalid. The estimates are upper bounds for schoolbook
//! multiplication (num-bigint switches to faster products on long numbers, so real costs are
//! lower), and `proofs/CERTIFICATE_FORMAT.md` states the resulting worst case.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::One;

use crate::cert::CertError;
use crate::matrix::CMat;

/// Default work budget: every certificate the producer writes needs well under 1 % of it
/// (the largest, R2's 32×32 Jordan–Wielandt claims, about 2·10⁷ units), and the checker spends
/// it in a few seconds on 2 cores.
pub const DEFAULT_MAX_WORK: u64 = 4_000_000_000;

/// Default wall-clock guard, seconds.
pub const DEFAULT_MAX_SECONDS: f64 = 60.0;

/// How much a verification may cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Largest total estimated work, in work units (see the module docs).
    pub max_work: u64,
    /// Wall-clock limit of the whole verification, seconds.
    pub max_seconds: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_work: DEFAULT_MAX_WORK,
            max_seconds: DEFAULT_MAX_SECONDS,
        }
    }
}

/// The running total of one verification.
pub(crate) struct Meter {
    limits: Limits,
    spent: u64,
    deadline: Option<Instant>,
}

/// A step ran past the wall-clock guard.
#[derive(Debug)]
pub(crate) struct Expired;

impl Meter {
    pub(crate) fn new(limits: Limits) -> Self {
        let deadline = Duration::try_from_secs_f64(limits.max_seconds)
            .ok()
            .and_then(|d| Instant::now().checked_add(d));
        Self {
            limits,
            spent: 0,
            deadline,
        }
    }

    /// Adds the estimate of `what`, refusing before the step runs when it exceeds the budget.
    pub(crate) fn charge(&mut self, what: &str, work: u64) -> Result<(), CertError> {
        let total = self.spent.saturating_add(work);
        if total > self.limits.max_work {
            return Err(CertError::TooCostly(format!(
                "{what} is estimated at {work} work units, which would bring the total to {total}, above the limit of {}",
                self.limits.max_work
            )));
        }
        self.spent = total;
        Ok(())
    }

    /// The clock the long loops poll.
    pub(crate) fn clock(&self) -> Clock {
        Clock(self.deadline)
    }

    /// The error for a step that hit the clock.
    pub(crate) fn expired(&self, what: &str) -> CertError {
        CertError::TooCostly(format!(
            "{what} did not finish within the limit of {} s",
            self.limits.max_seconds
        ))
    }

    /// Total estimated work so far.
    pub(crate) fn spent(&self) -> u64 {
        self.spent
    }

    /// Work still allowed.
    pub(crate) fn left(&self) -> u64 {
        self.limits.max_work.saturating_sub(self.spent)
    }
}

/// A deadline that long loops poll (`None`: no deadline).
#[derive(Clone, Copy, Debug)]
pub struct Clock(pub Option<Instant>);

impl Clock {
    /// No deadline.
    pub const NONE: Clock = Clock(None);

    pub(crate) fn check(&self) -> Result<(), Expired> {
        match self.0 {
            Some(d) if Instant::now() >= d => Err(Expired),
            _ => Ok(()),
        }
    }
}

fn words(bits: u64) -> u64 {
    bits.div_ceil(64).max(1)
}

/// One product of a `b1`-bit and a `b2`-bit rational, with the gcd that reduces it.
fn product(b1: u64, b2: u64) -> u64 {
    let (w1, w2) = (words(b1), words(b2));
    1u64.saturating_add(w1.saturating_mul(w2))
        .saturating_add(words(b1.saturating_add(b2)).saturating_pow(2))
}

fn bits(q: &BigRational) -> u64 {
    q.numer().bits().saturating_add(q.denom().bits())
}

fn max_bits(m: &CMat) -> u64 {
    m.re.iter()
        .chain(m.im.iter().flatten())
        .map(bits)
        .max()
        .unwrap_or(0)
}

/// Entrywise operations (Hadamard, sums, scaling): one product each.
pub(crate) fn entrywise(x: &CMat, y_bits: u64) -> u64 {
    let parts = if x.im.is_some() { 4 } else { 1 };
    (x.rows as u64 * x.cols as u64)
        .saturating_mul(parts)
        .saturating_mul(product(max_bits(x), y_bits))
}

/// Bits of the largest entry of a matrix (numerator plus denominator).
pub(crate) fn matrix_bits(m: &CMat) -> u64 {
    max_bits(m)
}

/// `x·y`: m·k·n products and sums; a sum of k fractions with distinct denominators can have k
/// times the bits of one term, so the accumulation is charged at that size.
pub(crate) fn matmul(x: &CMat, y: &CMat) -> u64 {
    let (m, k, n) = (x.rows as u64, x.cols as u64, y.cols as u64);
    let parts = if x.im.is_some() || y.im.is_some() {
        4
    } else {
        1
    };
    let term = max_bits(x).saturating_add(max_bits(y));
    let dens = distinct_denominator_bits(x).saturating_add(distinct_denominator_bits(y));
    let acc = term.saturating_add(dens.min(term.saturating_mul(k)));
    m.saturating_mul(k)
        .saturating_mul(n)
        .saturating_mul(parts)
        .saturating_mul(product(term, acc))
}

/// Sum of the bit lengths of the distinct denominators other than 1: an upper bound of the bits
/// of their least common multiple.
fn distinct_denominator_bits(m: &CMat) -> u64 {
    let mut seen = HashSet::new();
    m.re.iter()
        .chain(m.im.iter().flatten())
        .map(|q| q.denom())
        .filter(|d| !d.is_one() && seen.insert(*d))
        .map(|d| d.bits())
        .fold(0u64, u64::saturating_add)
}

/// Exact inertia of `h − shift·I` by fraction-free elimination.
///
/// The scaled integer entries have at most `B = numerator bits + lcm bits` (the lcm of all
/// denominators, the shift's included); at elimination step k the entries are k×k minors, at
/// most `(k+1)(B + log₂ n + 1)` bits (Hadamard's bound), and each of the ≤ (n−k)(n−k+1)/2
/// updated entries costs two products and one exact division. The lcm is computed here (as the
/// checker will), one denominator at a time, and the estimate stops growing it as soon as even
/// the partial lcm prices the elimination above `budget`: a hostile matrix of distinct long
/// denominators is refused after a few gcds, not after building a million-bit lcm.
pub(crate) fn inertia(h: &CMat, shift: &BigRational, budget: u64) -> u64 {
    let n = h.rows as u64;
    let num =
        h.re.iter()
            .chain(h.im.iter().flatten())
            .map(|q| q.numer().bits())
            .max()
            .unwrap_or(0)
            .max(shift.numer().bits());
    let parts = if h.im.is_some() { 4 } else { 1 };
    let log_n = 64 - n.leading_zeros() as u64 + 1;
    let elimination = |lcm_bits: u64| {
        let b = num.saturating_add(lcm_bits).saturating_add(log_n);
        (0..n).fold(0u64, |acc, k| {
            let active = (n - k) * (n - k + 1) / 2;
            let w = words((k + 1).saturating_mul(b));
            acc.saturating_add(
                active
                    .saturating_mul(3 * parts)
                    .saturating_mul(1 + w.saturating_mul(w)),
            )
        })
    };
    let mut lcm = BigInt::one();
    let mut gcd_work = 0u64;
    let dens = std::iter::once(shift)
        .chain(h.re.iter())
        .chain(h.im.iter().flatten())
        .map(|q| q.denom());
    for d in dens {
        if d.is_one() {
            continue;
        }
        // lcm(L, d) = L · (d / gcd(L, d)), the reduced denominator of L/d
        gcd_work = gcd_work.saturating_add(1 + words(lcm.bits()).saturating_mul(words(d.bits())));
        let r = BigRational::new(lcm.clone(), d.clone());
        lcm *= r.denom();
        let so_far = gcd_work.saturating_add(elimination(lcm.bits()));
        if so_far > budget {
            return so_far;
        }
    }
    gcd_work.saturating_add(elimination(lcm.bits()))
}
