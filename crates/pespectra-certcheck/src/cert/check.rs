//! Pass 2, checking: every claim decided exactly, then the conclusion; a false claim is `Invalid`.

use std::collections::BTreeMap;

use num_rational::BigRational;
use num_traits::{One, Zero};

use crate::cost::Clock;
use crate::inertia::inertia_within;
use crate::matrix::CMat;
use crate::scalar::format_scalar;

use super::read::*;
use super::Verdict;

pub(super) type ClaimResult = Result<(String, Result<(), String>), ClaimError>;

/// Why a claim could not be decided: an implied precondition is false, or the clock ran out.
pub(super) enum ClaimError {
    Bad(String),
    Expired,
}

impl From<String> for ClaimError {
    fn from(m: String) -> Self {
        ClaimError::Bad(m)
    }
}

pub(super) fn hermitian_or_err<'a>(
    mats: &'a BTreeMap<String, CMat>,
    name: &str,
) -> Result<&'a CMat, String> {
    // Names were resolved in pass 1, so `get` succeeds; keep it total anyway.
    let m = mats
        .get(name)
        .ok_or_else(|| format!("unknown matrix {name:?}"))?;
    if !m.is_hermitian() {
        return Err(format!("matrix {name:?} is not Hermitian"));
    }
    Ok(m)
}

/// Decide one claim. Returns the claim's one-line summary and whether it holds
/// (outer `Err` for an implied Hermitian check that fails).
pub(super) fn check_claim(mats: &BTreeMap<String, CMat>, c: &Claim, clock: Clock) -> ClaimResult {
    let f = format_scalar;
    let get = |name: &str| {
        mats.get(name)
            .ok_or_else(|| ClaimError::Bad(format!("unknown matrix {name:?}")))
    };
    let inertia =
        |x: &CMat, s: &BigRational| inertia_within(x, s, clock).map_err(|_| ClaimError::Expired);
    let verdict = |ok: bool, why: String| if ok { Ok(()) } else { Err(why) };
    Ok(match c {
        Claim::Hermitian(m) => {
            let ok = get(m)?.is_hermitian();
            (
                format!("hermitian {m}"),
                verdict(ok, "not Hermitian".into()),
            )
        }
        Claim::UnitDiagonal(m) => {
            let x = get(m)?;
            let bad = (0..x.rows).find(|&i| !(x.re_at(i, i).is_one() && x.im_at(i, i).is_zero()));
            (
                format!("unit_diagonal {m}"),
                verdict(
                    bad.is_none(),
                    format!("diagonal entry {} is not 1", bad.unwrap_or(0)),
                ),
            )
        }
        Claim::DiagonalBounds(m, lo, hi) => {
            let x = get(m)?;
            let bad = (0..x.rows).find(|&i| {
                let r = x.re_at(i, i);
                !(x.im_at(i, i).is_zero() && lo <= r && r <= hi)
            });
            (
                format!("diagonal_bounds {m} in [{}, {}]", f(lo), f(hi)),
                verdict(
                    bad.is_none(),
                    format!("diagonal entry {} is outside", bad.unwrap_or(0)),
                ),
            )
        }
        Claim::Psd(m) => {
            let x = hermitian_or_err(mats, m)?;
            let i = inertia(x, &BigRational::zero())?;
            (
                format!("psd {m}"),
                verdict(i.neg == 0, format!("{} negative eigenvalue(s)", i.neg)),
            )
        }
        Claim::Pd(m) => {
            let x = hermitian_or_err(mats, m)?;
            let i = inertia(x, &BigRational::zero())?;
            (
                format!("pd {m}"),
                verdict(
                    i.neg == 0 && i.zero == 0,
                    format!("{} negative and {} zero eigenvalue(s)", i.neg, i.zero),
                ),
            )
        }
        Claim::Eigenvalue(m, k, lo, hi) => {
            let x = hermitian_or_err(mats, m)?;
            let n = x.rows;
            let s = format!("eigenvalue {m}[{k}] in [{}, {}]", f(lo), f(hi));
            if lo > hi {
                return Ok((s, Err("lo > hi".into())));
            }
            // k-th largest >= lo  <=>  #{λ < lo} <= n − k
            let below = inertia(x, lo)?.neg;
            if below > n - k {
                return Ok((
                    s,
                    Err(format!(
                        "{below} eigenvalue(s) < lo, at most {} allowed",
                        n - k
                    )),
                ));
            }
            // k-th largest <= hi  <=>  #{λ <= hi} >= n − k + 1
            let ih = inertia(x, hi)?;
            let at_most = ih.neg + ih.zero;
            (
                s,
                verdict(
                    at_most > n - k,
                    format!(
                        "{at_most} eigenvalue(s) <= hi, at least {} needed",
                        n - k + 1
                    ),
                ),
            )
        }
        Claim::Inertia(m, shift, want) => {
            let x = hermitian_or_err(mats, m)?;
            let got = inertia(x, shift)?;
            (
                format!(
                    "inertia {m} - {}·I = (neg {}, zero {}, pos {})",
                    f(shift),
                    want.neg,
                    want.zero,
                    want.pos
                ),
                verdict(
                    got == *want,
                    format!(
                        "actual (neg {}, zero {}, pos {})",
                        got.neg, got.zero, got.pos
                    ),
                ),
            )
        }
        Claim::Trace(m, re, im) => {
            let (tr, ti) = get(m)?.trace();
            (
                format!("trace {m} = {} + {}i", f(re), f(im)),
                verdict(
                    &tr == re && &ti == im,
                    format!("actual {} + {}i", f(&tr), f(&ti)),
                ),
            )
        }
        Claim::Entry(m, i, j, re, im) => {
            let x = get(m)?;
            let (er, ei) = (x.re_at(*i, *j).clone(), x.im_at(*i, *j));
            (
                format!("entry {m}[{i},{j}] = {} + {}i", f(re), f(im)),
                verdict(
                    &er == re && &ei == im,
                    format!("actual {} + {}i", f(&er), f(&ei)),
                ),
            )
        }
    })
}

pub(super) fn bound_value(claims: &[Claim], b: &Bound) -> BigRational {
    match b {
        Bound::Value(v) => v.clone(),
        Bound::Claim(i, end) => match (&claims[*i], end) {
            (Claim::Eigenvalue(_, _, lo, _), End::Lo) => lo.clone(),
            (Claim::Eigenvalue(_, _, _, hi), End::Hi) => hi.clone(),
            // resolve_bound admitted only eigenvalue claims.
            _ => BigRational::zero(),
        },
    }
}

/// The conclusion must be *sound*, not merely arithmetically true: to show
/// `X ≤ Y` (HOLDS) an eigenvalue enters on the left by its upper end and on
/// the right by its lower end; to refute it (FAILS, showing `X > Y`) the
/// other way round. Any other choice proves nothing about the eigenvalues.
pub(super) fn check_conclusion(
    claims: &[Claim],
    verdict: Verdict,
    lhs: &Bound,
    rhs: &Bound,
    strict: bool,
    margin: &BigRational,
) -> Result<(), String> {
    let (need_l, need_r) = match verdict {
        Verdict::Holds => (End::Hi, End::Lo),
        Verdict::Fails => (End::Lo, End::Hi),
    };
    for (side, b, need) in [("lhs", lhs, need_l), ("rhs", rhs, need_r)] {
        if let Bound::Claim(i, end) = b {
            if *end != need {
                return Err(format!(
                    "{side} uses the {} end of claim {i}; a {verdict} conclusion needs the {} end",
                    if *end == End::Lo { "lo" } else { "hi" },
                    if need == End::Lo { "lo" } else { "hi" },
                ));
            }
        }
    }
    let l = bound_value(claims, lhs);
    let r = bound_value(claims, rhs);
    let rel_true = if strict { l < r } else { l <= r };
    let rel = if strict { "<" } else { "<=" };
    let f = format_scalar;
    match verdict {
        Verdict::Holds => {
            if !rel_true {
                return Err(format!("HOLDS but {} {rel} {} is false", f(&l), f(&r)));
            }
            let want = &r - &l;
            if *margin != want {
                return Err(format!("margin {} but rhs - lhs = {}", f(margin), f(&want)));
            }
        }
        Verdict::Fails => {
            if rel_true {
                return Err(format!("FAILS but {} {rel} {} is true", f(&l), f(&r)));
            }
            let want = &l - &r;
            if *margin != want {
                return Err(format!("margin {} but lhs - rhs = {}", f(margin), f(&want)));
            }
        }
    }
    Ok(())
}
