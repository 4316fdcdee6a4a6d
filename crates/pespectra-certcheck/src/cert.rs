//! The certificate schema (`pespectra-certificate/1`) and its verification.
//!
//! Verification runs in two passes so that the two error classes never mix:
//! 1. *Reading*: JSON, schema, scalars, size limits, derived operations, and
//!    every name/shape/index a claim or the conclusion refers to. Any problem
//!    here is [`CertError::Unreadable`]: the certificate says nothing checkable.
//! 2. *Checking*: every claim is decided exactly, then the conclusion. A false
//!    claim or an inconsistent conclusion is [`CertError::Invalid`].

use std::collections::BTreeMap;
use std::fmt;

use num_rational::BigRational;
use num_traits::{One, Zero};
use serde::Deserialize;

use crate::cost::{self, Clock, Limits, Meter};
use crate::inertia::{inertia_within, Inertia};
use crate::matrix::{CMat, EXPIRED, MAX_DIM, MAX_ENTRY_BITS};
use crate::scalar::{format_scalar, parse_scalar};

/// The only `format` string this checker accepts.
pub const FORMAT: &str = "pespectra-certificate/1";
/// Largest number of claims (and, separately, of derived operations).
pub const MAX_CLAIMS: usize = 10_000;
/// Largest certificate text accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 256 << 20;

/// Why a certificate was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertError {
    /// It could not be read or interpreted: I/O, JSON syntax, schema, a bad
    /// scalar, a size limit, an unknown name or an out-of-range index.
    /// `pespectra verify` exits with 2.
    Unreadable(String),
    /// It was read, but a claim is false or the conclusion does not follow.
    /// `claim` is the 0-based index of the failing claim (`None` for the
    /// conclusion). `pespectra verify` exits with 1.
    Invalid {
        /// Index of the failing claim; `None` for the conclusion.
        claim: Option<usize>,
        /// What is false.
        message: String,
    },
    /// Checking it would cost more than the [`Limits`] allow (estimated before a step, or
    /// stopped by the wall-clock guard): it was not checked. `pespectra verify` exits with 2.
    TooCostly(String),
}

impl CertError {
    /// Process exit code of `pespectra verify` for this error (1 or 2).
    pub fn exit_code(&self) -> i32 {
        match self {
            CertError::Unreadable(_) | CertError::TooCostly(_) => 2,
            CertError::Invalid { .. } => 1,
        }
    }

    /// `true` for [`CertError::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, CertError::Invalid { .. })
    }

    /// `true` for [`CertError::Unreadable`].
    pub fn is_unreadable(&self) -> bool {
        matches!(self, CertError::Unreadable(_))
    }
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Unreadable(m) => write!(f, "unreadable certificate: {m}"),
            CertError::TooCostly(m) => write!(f, "certificate not checked (too costly): {m}"),
            CertError::Invalid {
                claim: Some(i),
                message,
            } => {
                write!(f, "invalid certificate: claim {i}: {message}")
            }
            CertError::Invalid {
                claim: None,
                message,
            } => {
                write!(f, "invalid certificate: conclusion: {message}")
            }
        }
    }
}

impl std::error::Error for CertError {}

/// The certificate's verdict on its statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The statement holds on this input, with a non-negative margin.
    Holds,
    /// The certificate is a counterexample: the (false) reading fails.
    Fails,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "HOLDS",
            Verdict::Fails => "FAILS",
        })
    }
}

/// What a valid certificate established.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The certificate's `id`.
    pub id: String,
    /// The certificate's statement, as written in it.
    pub statement: String,
    /// HOLDS or FAILS, as re-derived by the checker (not as claimed).
    pub verdict: Verdict,
    /// The exact margin (`rhs − lhs` for HOLDS, `lhs − rhs` for FAILS).
    pub margin: BigRational,
    /// Number of claims verified (all of them).
    pub claims_checked: usize,
    /// One line per claim, e.g. `"2 eigenvalue C[1] in [6, 6]"`.
    pub claim_summaries: Vec<String>,
    /// Estimated work spent, in the units of [`Limits::max_work`].
    pub work: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "VALID {} {}: {}", self.id, self.verdict, self.statement)?;
        writeln!(f, "margin {}", format_scalar(&self.margin))?;
        writeln!(f, "claims checked {}", self.claims_checked)?;
        for s in &self.claim_summaries {
            writeln!(f, "  {s}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- raw schema

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCert {
    format: String,
    id: String,
    statement: String,
    verdict: String,
    /// Free text for human readers (provenance, how numbers were derived).
    #[serde(default)]
    #[allow(dead_code)]
    notes: Option<String>,
    #[serde(deserialize_with = "unique_keys")]
    matrices: BTreeMap<String, RawMatrix>,
    #[serde(default)]
    derived: Vec<RawDerived>,
    claims: Vec<RawClaim>,
    conclusion: RawConclusion,
}

/// Deserialize a JSON object into a map, rejecting duplicate keys. JSON
/// readers disagree on which duplicate wins; a certificate whose meaning
/// depends on that must not be accepted.
fn unique_keys<'de, D>(de: D) -> Result<BTreeMap<String, RawMatrix>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = BTreeMap<String, RawMatrix>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of matrices")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, RawMatrix>()? {
                if out.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate matrix name {k:?}"
                    )));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    de.deserialize_map(V)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    rows: usize,
    cols: usize,
    re: Vec<String>,
    #[serde(default)]
    im: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDerived {
    name: String,
    op: String,
    args: Vec<String>,
    #[serde(default)]
    scalar: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawClaim {
    Hermitian {
        matrix: String,
    },
    UnitDiagonal {
        matrix: String,
    },
    DiagonalBounds {
        matrix: String,
        lo: String,
        hi: String,
    },
    Psd {
        matrix: String,
    },
    Pd {
        matrix: String,
    },
    Eigenvalue {
        matrix: String,
        index: usize,
        lo: String,
        hi: String,
    },
    Inertia {
        matrix: String,
        shift: String,
        neg: usize,
        zero: usize,
        pos: usize,
    },
    Trace {
        matrix: String,
        value: String,
        #[serde(default)]
        im: Option<String>,
    },
    Entry {
        matrix: String,
        row: usize,
        col: usize,
        re: String,
        #[serde(default)]
        im: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConclusion {
    lhs: RawBound,
    rel: String,
    rhs: RawBound,
    margin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRef {
    claim: usize,
    end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueRef {
    value: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawBound {
    Claim(ClaimRef),
    Value(ValueRef),
}

// ----------------------------------------------------------- resolved claims

enum Claim {
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
enum End {
    Lo,
    Hi,
}

enum Bound {
    Claim(usize, End),
    Value(BigRational),
}

fn unreadable(m: impl Into<String>) -> CertError {
    CertError::Unreadable(m.into())
}

fn scalar(s: &str, what: impl Fn() -> String) -> Result<BigRational, CertError> {
    parse_scalar(s).map_err(|e| unreadable(format!("{}: {e}", what())))
}

/// Verify a certificate given as JSON text.
pub fn verify_str(text: &str) -> Result<Report, CertError> {
    verify_str_with(text, &Limits::default())
}

/// [`verify_str`] under explicit [`Limits`] on the work and the wall-clock time.
pub fn verify_str_with(text: &str, limits: &Limits) -> Result<Report, CertError> {
    let mut meter = Meter::new(*limits);
    if text.len() > MAX_INPUT_BYTES {
        return Err(unreadable(format!(
            "input larger than {MAX_INPUT_BYTES} bytes"
        )));
    }
    let raw: RawCert =
        serde_json::from_str(text).map_err(|e| unreadable(format!("JSON/schema: {e}")))?;
    if raw.format != FORMAT {
        return Err(unreadable(format!(
            "format {:?}, expected {FORMAT:?}",
            raw.format
        )));
    }
    let verdict = match raw.verdict.as_str() {
        "HOLDS" => Verdict::Holds,
        "FAILS" => Verdict::Fails,
        v => {
            return Err(unreadable(format!(
                "verdict {v:?} is neither HOLDS nor FAILS"
            )))
        }
    };
    if raw.claims.len() > MAX_CLAIMS {
        return Err(unreadable(format!("more than {MAX_CLAIMS} claims")));
    }
    if raw.derived.len() > MAX_CLAIMS {
        return Err(unreadable(format!(
            "more than {MAX_CLAIMS} derived operations"
        )));
    }

    // Pass 1a: input matrices.
    let mut mats: BTreeMap<String, CMat> = BTreeMap::new();
    for (name, m) in &raw.matrices {
        mats.insert(name.clone(), read_matrix(name, m)?);
    }
    // Pass 1b: derived matrices, in order.
    for (k, d) in raw.derived.iter().enumerate() {
        if d.name.is_empty() || mats.contains_key(&d.name) {
            return Err(unreadable(format!(
                "derived[{k}]: name {:?} is empty or already defined",
                d.name
            )));
        }
        let what = format!("derived[{k}] {:?}", d.name);
        meter.charge(&what, derive_cost(&mats, d))?;
        let m = derive(&mats, d, meter.clock()).map_err(|e| {
            if e == EXPIRED {
                meter.expired(&what)
            } else {
                unreadable(format!("{what}: {e}"))
            }
        })?;
        if m.rows > MAX_DIM || m.cols > MAX_DIM {
            return Err(unreadable(format!(
                "derived[{k}]: result exceeds {MAX_DIM}x{MAX_DIM}"
            )));
        }
        if m.max_bits() > MAX_ENTRY_BITS {
            return Err(unreadable(format!(
                "derived[{k}]: entries exceed {MAX_ENTRY_BITS} bits"
            )));
        }
        mats.insert(d.name.clone(), m);
    }
    // Pass 1c: claims and conclusion resolved against the matrices.
    let claims: Vec<Claim> = raw
        .claims
        .iter()
        .enumerate()
        .map(|(i, c)| resolve_claim(&mats, i, c))
        .collect::<Result<_, _>>()?;
    let lhs = resolve_bound(&claims, "lhs", &raw.conclusion.lhs)?;
    let rhs = resolve_bound(&claims, "rhs", &raw.conclusion.rhs)?;
    let strict = match raw.conclusion.rel.as_str() {
        "le" => false,
        "lt" => true,
        r => {
            return Err(unreadable(format!(
                "conclusion rel {r:?} is neither le nor lt"
            )))
        }
    };
    let margin = scalar(&raw.conclusion.margin, || "conclusion margin".into())?;

    // Pass 2: decide every claim exactly.
    let mut summaries = Vec::with_capacity(claims.len());
    for (i, c) in claims.iter().enumerate() {
        let what = format!("claim {i}");
        meter.charge(&what, claim_cost(&mats, c, meter.left()))?;
        let (summary, ok) = check_claim(&mats, c, meter.clock()).map_err(|e| match e {
            ClaimError::Expired => meter.expired(&what),
            ClaimError::Bad(message) => CertError::Invalid {
                claim: Some(i),
                message,
            },
        })?;
        if let Err(message) = ok {
            return Err(CertError::Invalid {
                claim: Some(i),
                message: format!("{summary}: {message}"),
            });
        }
        summaries.push(format!("{i} {summary}"));
    }

    // Pass 2b: the conclusion.
    check_conclusion(&claims, verdict, &lhs, &rhs, strict, &margin).map_err(|message| {
        CertError::Invalid {
            claim: None,
            message,
        }
    })?;

    Ok(Report {
        work: meter.spent(),
        id: raw.id,
        statement: raw.statement,
        verdict,
        margin,
        claims_checked: claims.len(),
        claim_summaries: summaries,
    })
}

fn read_matrix(name: &str, m: &RawMatrix) -> Result<CMat, CertError> {
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
fn derive_cost(mats: &BTreeMap<String, CMat>, d: &RawDerived) -> u64 {
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
fn claim_cost(mats: &BTreeMap<String, CMat>, c: &Claim, budget: u64) -> u64 {
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

fn derive(mats: &BTreeMap<String, CMat>, d: &RawDerived, clock: Clock) -> Result<CMat, String> {
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

fn resolve_claim(
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

fn resolve_bound(claims: &[Claim], side: &str, b: &RawBound) -> Result<Bound, CertError> {
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

type ClaimResult = Result<(String, Result<(), String>), ClaimError>;

/// Why a claim could not be decided: an implied precondition is false, or the clock ran out.
enum ClaimError {
    Bad(String),
    Expired,
}

impl From<String> for ClaimError {
    fn from(m: String) -> Self {
        ClaimError::Bad(m)
    }
}

fn hermitian_or_err<'a>(mats: &'a BTreeMap<String, CMat>, name: &str) -> Result<&'a CMat, String> {
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
fn check_claim(mats: &BTreeMap<String, CMat>, c: &Claim, clock: Clock) -> ClaimResult {
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

fn bound_value(claims: &[Claim], b: &Bound) -> BigRational {
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
fn check_conclusion(
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
