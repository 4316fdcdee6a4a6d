//! Pass 1, reading: matrices, derived operations and claims resolved to checked references; every problem is `Unreadable`.

use std::collections::BTreeMap;

use num_rational::BigRational;
use num_traits::Zero;

use crate::cost::{self, Clock};
use crate::inertia::Inertia;
use crate::matrix::{CMat, MAX_DIM, MAX_ENTRY_BITS};
use crate::scalar::parse_scalar;

use super::schema::*;
use super::CertError;

pub(super) enum Claim {
    Hermitian(String),
    UnitDiagonal(String),
    DiagonalBounds(String, BigRational, BigRational),
    Psd(String),
    Pd(String),
    Eigenvalue(String, usize, BigRational, BigRational),
    Inertia(String, BigRational, Inertia),
    Trace(String, BigRational, BigRational),
    Entry(String, usize, usize, BigRational, BigRational),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    Lo,
    Hi,
}

pub(super) enum Bound {
    Claim(usize, End),
    Value(BigRational),
}

pub(super) fn unreadable(m: impl Into<String>) -> CertError {
    CertError::Unreadable(m.into())
}

pub(super) fn scalar(s: &str, what: impl Fn() -> String) -> Result<BigRational, CertError> {
    parse_scalar(s).map_err(|e| unreadable(format!("{}: {e}", what())))
}

pub(super) fn read_matrix(name: &str, m: &RawMatrix) -> Result<CMat, CertError> {
    if name.is_empty() {
        return Err(unreadable("matrix with empty name"));
    }
    if m.rows == 0 || m.cols == 0 || m.rows > MAX_DIM || m.cols > MAX_DIM {
        return Err(unreadable(format!(
            "matrix {name:?}: size {}x{} outside 1..={MAX_DIM}",
            m.rows, m.cols
        )));
    }
    let len = m.rows * m.cols;
    if m.re.len() != len {
        return Err(unreadable(format!(
            "matrix {name:?}: re has {} entries, expected {len}",
            m.re.len()
        )));
    }
    let parse = |v: &Vec<String>, part: &str| -> Result<Vec<BigRational>, CertError> {
        v.iter()
            .enumerate()
            .map(|(k, s)| {
                scalar(s, || {
                    format!(
                        "matrix {name:?} {part}[{k}] (row {}, col {})",
                        k / m.cols,
                        k % m.cols
                    )
                })
            })
            .collect()
    };
    let re = parse(&m.re, "re")?;
    let im = match &m.im {
        None => None,
        Some(v) if v.len() != len => {
            return Err(unreadable(format!(
                "matrix {name:?}: im has {} entries, expected {len}",
                v.len()
            )))
        }
        Some(v) => Some(parse(v, "im")?),
    };
    Ok(CMat::new(m.rows, m.cols, re, im))
}

/// Estimated work of one derived operation (unknown names cost nothing: `derive` refuses them).
pub(super) fn derive_cost(mats: &BTreeMap<String, CMat>, d: &RawDerived) -> u64 {
    let arg = |k: usize| d.args.get(k).and_then(|n| mats.get(n));
    match (d.op.as_str(), arg(0), arg(1)) {
        ("matmul", Some(x), Some(y)) => cost::matmul(x, y),
        ("hadamard" | "add" | "sub", Some(x), Some(y)) => cost::entrywise(x, cost::matrix_bits(y)),
        ("scale", Some(x), _) => {
            cost::entrywise(x, d.scalar.as_deref().map_or(0, |t| t.len() as u64 * 4))
        }
        (_, Some(x), _) => cost::entrywise(x, 0),
        _ => 0,
    }
}

/// Estimated work of deciding one claim.
pub(super) fn claim_cost(mats: &BTreeMap<String, CMat>, c: &Claim, budget: u64) -> u64 {
    let zero = BigRational::zero();
    let get = |m: &String| mats.get(m);
    match c {
        Claim::Psd(m) | Claim::Pd(m) => get(m).map_or(0, |x| cost::inertia(x, &zero, budget)),
        Claim::Inertia(m, s, _) => get(m).map_or(0, |x| cost::inertia(x, s, budget)),
        Claim::Eigenvalue(m, _, lo, hi) => get(m).map_or(0, |x| {
            let first = cost::inertia(x, lo, budget);
            first.saturating_add(cost::inertia(x, hi, budget.saturating_sub(first)))
        }),
        Claim::Hermitian(m)
        | Claim::UnitDiagonal(m)
        | Claim::DiagonalBounds(m, ..)
        | Claim::Trace(m, ..) => get(m).map_or(0, |x| cost::entrywise(x, 0)),
        Claim::Entry(..) => 1,
    }
}

pub(super) fn derive(
    mats: &BTreeMap<String, CMat>,
    d: &RawDerived,
    clock: Clock,
) -> Result<CMat, String> {
    let arity = match d.op.as_str() {
        "hadamard" | "add" | "sub" | "matmul" => 2,
        "adjoint" | "real_part" | "hermitian_part" | "scale" | "jordan_wielandt" | "mask_lower" => {
            1
        }
        op => return Err(format!("unknown op {op:?}")),
    };
    if d.args.len() != arity {
        return Err(format!(
            "op {:?} takes {arity} argument(s), got {}",
            d.op,
            d.args.len()
        ));
    }
    if d.scalar.is_some() != (d.op == "scale") {
        return Err("\"scalar\" is required by scale and allowed nowhere else".into());
    }
    let arg = |k: usize| {
        mats.get(&d.args[k])
            .ok_or_else(|| format!("unknown matrix {:?}", d.args[k]))
    };
    let x = arg(0)?;
    // Refuse before computing when even one product of entries would exceed
    // the cap: exact rational arithmetic on million-bit entries is slow
    // (reductions are superlinear), so checking only afterwards is too late.
    let estimate = match d.op.as_str() {
        "hadamard" | "matmul" | "add" | "sub" => x.max_bits() + arg(1)?.max_bits() + 16,
        "scale" => x.max_bits() + 2 * d.scalar.as_deref().map_or(0, |t| t.len() as u64 * 4),
        _ => x.max_bits(),
    };
    if estimate > MAX_ENTRY_BITS {
        return Err(format!("entries would exceed {MAX_ENTRY_BITS} bits"));
    }
    match d.op.as_str() {
        "hadamard" => x.hadamard(arg(1)?),
        "add" => x.add(arg(1)?),
        "sub" => x.sub(arg(1)?),
        "matmul" => x.matmul_within(arg(1)?, clock),
        "adjoint" => Ok(x.adjoint()),
        "real_part" => Ok(x.real_part()),
        "hermitian_part" => x.hermitian_part(),
        "scale" => {
            let s = parse_scalar(d.scalar.as_deref().unwrap_or_default())?;
            Ok(x.scale(&s))
        }
        "jordan_wielandt" => x.jordan_wielandt(),
        _ => Ok(x.mask_lower()),
    }
}

pub(super) fn resolve_claim(
    mats: &BTreeMap<String, CMat>,
    i: usize,
    c: &RawClaim,
) -> Result<Claim, CertError> {
    let ctx = |m: &str| format!("claim {i}: {m}");
    let square = |name: &str| -> Result<&CMat, CertError> {
        let m = mats
            .get(name)
            .ok_or_else(|| unreadable(ctx(&format!("unknown matrix {name:?}"))))?;
        if !m.is_square() {
            return Err(unreadable(ctx(&format!(
                "matrix {name:?} is {}x{}, not square",
                m.rows, m.cols
            ))));
        }
        Ok(m)
    };
    let q = |s: &str, field: &str| scalar(s, || ctx(field));
    let q0 = |s: &Option<String>, field: &str| match s {
        Some(s) => q(s, field),
        None => Ok(BigRational::zero()),
    };
    Ok(match c {
        RawClaim::Hermitian { matrix } => {
            square(matrix)?;
            Claim::Hermitian(matrix.clone())
        }
        RawClaim::UnitDiagonal { matrix } => {
            square(matrix)?;
            Claim::UnitDiagonal(matrix.clone())
        }
        RawClaim::DiagonalBounds { matrix, lo, hi } => {
            square(matrix)?;
            Claim::DiagonalBounds(matrix.clone(), q(lo, "lo")?, q(hi, "hi")?)
        }
        RawClaim::Psd { matrix } => {
            square(matrix)?;
            Claim::Psd(matrix.clone())
        }
        RawClaim::Pd { matrix } => {
            square(matrix)?;
            Claim::Pd(matrix.clone())
        }
        RawClaim::Eigenvalue {
            matrix,
            index,
            lo,
            hi,
        } => {
            let n = square(matrix)?.rows;
            if *index == 0 || *index > n {
                return Err(unreadable(ctx(&format!(
                    "eigenvalue index {index} outside 1..={n}"
                ))));
            }
            Claim::Eigenvalue(matrix.clone(), *index, q(lo, "lo")?, q(hi, "hi")?)
        }
        RawClaim::Inertia {
            matrix,
            shift,
            neg,
            zero,
            pos,
        } => {
            square(matrix)?;
            Claim::Inertia(
                matrix.clone(),
                q(shift, "shift")?,
                Inertia {
                    neg: *neg,
                    zero: *zero,
                    pos: *pos,
                },
            )
        }
        RawClaim::Trace { matrix, value, im } => {
            square(matrix)?;
            Claim::Trace(matrix.clone(), q(value, "value")?, q0(im, "im")?)
        }
        RawClaim::Entry {
            matrix,
            row,
            col,
            re,
            im,
        } => {
            let m = mats
                .get(matrix)
                .ok_or_else(|| unreadable(ctx(&format!("unknown matrix {matrix:?}"))))?;
            if *row >= m.rows || *col >= m.cols {
                return Err(unreadable(ctx(&format!(
                    "entry ({row}, {col}) outside {}x{} (0-based)",
                    m.rows, m.cols
                ))));
            }
            Claim::Entry(matrix.clone(), *row, *col, q(re, "re")?, q0(im, "im")?)
        }
    })
}

pub(super) fn resolve_bound(
    claims: &[Claim],
    side: &str,
    b: &RawBound,
) -> Result<Bound, CertError> {
    match b {
        RawBound::Value(v) => Ok(Bound::Value(scalar(&v.value, || {
            format!("conclusion {side}")
        })?)),
        RawBound::Claim(r) => {
            if !matches!(claims.get(r.claim), Some(Claim::Eigenvalue(..))) {
                return Err(unreadable(format!(
                    "conclusion {side}: claim {} is not an eigenvalue claim",
                    r.claim
                )));
            }
            let end = match r.end.as_str() {
                "lo" => End::Lo,
                "hi" => End::Hi,
                e => {
                    return Err(unreadable(format!(
                        "conclusion {side}: end {e:?} is neither lo nor hi"
                    )))
                }
            };
            Ok(Bound::Claim(r.claim, end))
        }
    }
}
