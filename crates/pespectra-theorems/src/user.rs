//! Checks on user matrices: validation, the exact power-of-two rescaling of inputs far from
//! unit scale, and the dispatch to the entry's own check (`registry::UserForm`).
//!
//! Every statement is homogeneous: its slacks are of degree one in A (T2 and T4 also in B; T7
//! in A and B together; T10's condition numbers of degree zero). Inputs far from unit scale
//! (entries near 10³⁰⁸ or subnormal) are therefore checked as `2^e·A` (and `2^f·B`), exactly,
//! and the certified margins scaled back, rounded down; the detail says so.

use crate::registry::{Entry, Homogeneity, Operands};
use crate::{CheckError, Outcome};
use pespectra_spectra::matrix::CMat;
use pespectra_spectra::scale::{exponent_for, max_abs_cmat, scale_cmat};

/// Validated user matrices as an entry's check receives them.
pub(crate) struct UserInput<'a> {
    /// The entry's id (for error messages).
    pub id: &'static str,
    /// Matrix A (square, finite).
    pub a: &'a CMat,
    /// Matrix B, the same size as A, when given.
    pub b: Option<&'a CMat>,
    /// A is `2^unscale` times the user's A (only for [`Homogeneity::Mixed`] checks, which scale
    /// their own slacks back; 0 otherwise).
    pub unscale: i32,
}

impl UserInput<'_> {
    /// B, which entries taking [`Operands::AAndB`] need.
    pub fn b(&self) -> Result<&CMat, CheckError> {
        self.b.ok_or(CheckError::NeedsB(self.id))
    }

    /// The instance description of a detail line.
    pub fn described(how: &str) -> String {
        format!("user matrices ({how})")
    }
}

/// `x·2^e` rounded toward −∞ (exact unless it leaves the normal range), in two steps so that
/// every `|e|` up to the whole f64 exponent range works.
pub(crate) fn scale_down(x: f64, e: i32) -> f64 {
    use pespectra_arith::round::mul_down;
    if e == 0 || x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = |k: i32| 2f64.powi(k);
    mul_down(mul_down(x, p(e / 2)), p(e - e / 2))
}

/// `2^e·m` when that is exact for every entry, else `None`.
fn scaled_exactly(m: &CMat, e: i32) -> Option<CMat> {
    match scale_cmat(m, e) {
        (s, None) => Some(s),
        (_, Some(_)) => None,
    }
}

fn exponent_of(m: &CMat) -> Option<i32> {
    exponent_for(max_abs_cmat(m, None))
}

/// Square, finite, equal sizes, and B present when the entry needs it.
fn validate(
    entry: &Entry,
    operands: Operands,
    a: &CMat,
    b: Option<&CMat>,
) -> Result<(), CheckError> {
    let square = |m: &CMat, name: &'static str| {
        pespectra_spectra::matrix::check_general(m)
            .map_err(|source| CheckError::BadMatrix { name, source })
    };
    square(a, "A")?;
    if let Some(b) = b {
        square(b, "B")?;
        if b.nrows() != a.nrows() {
            return Err(CheckError::SizeMismatch {
                a: a.nrows(),
                b: b.nrows(),
            });
        }
    }
    if operands == Operands::AAndB && b.is_none() {
        return Err(CheckError::NeedsB(entry.id));
    }
    Ok(())
}

/// Runs `entry` on user matrices: validates them, rescales them exactly when they are far from
/// unit scale (falling back to the matrices as given when a rescaling would not be exact), and
/// hands them to the entry's check, which verifies every hypothesis first.
pub(crate) fn run(entry: &Entry, a: &CMat, b: Option<&CMat>) -> Result<Outcome, CheckError> {
    let form = entry.user.ok_or(CheckError::NoUserCheck(entry.id))?;
    validate(entry, form.operands, a, b)?;
    let at = |a: &CMat, b: Option<&CMat>, unscale: i32| {
        (form.check)(&UserInput {
            id: entry.id,
            a,
            b,
            unscale,
        })
    };
    let (ea, eb) = match form.homogeneity {
        Homogeneity::Jointly => {
            let e =
                exponent_for(max_abs_cmat(a, None).max(b.map_or(0.0, |b| max_abs_cmat(b, None))));
            (e, e)
        }
        Homogeneity::InEach => (exponent_of(a), b.and_then(exponent_of)),
        Homogeneity::InA | Homogeneity::Mixed => (exponent_of(a), None),
    };
    let scaled = |m: &CMat, e: Option<i32>| match e {
        Some(e) => scaled_exactly(m, e),
        None => Some(m.clone()),
    };
    let jointly = form.homogeneity == Homogeneity::Jointly;
    let (sa, sb) = (scaled(a, ea), b.map(|b| scaled(b, eb)));
    let total = ea.unwrap_or(0) + if jointly { 0 } else { eb.unwrap_or(0) };
    match (sa, sb) {
        (Some(sa), sb) if total != 0 && sb.as_ref().is_none_or(|x| x.is_some()) => {
            let sb = sb.flatten();
            let mixed = form.homogeneity == Homogeneity::Mixed;
            let mut o = at(&sa, sb.as_ref(), if mixed { total } else { 0 })?;
            if !mixed {
                o.margin = o.margin.map(|m| scale_down(m, -total));
            }
            let how = match (ea, eb, jointly) {
                (Some(e), _, true) => format!("2^{e}·A and 2^{e}·B"),
                (Some(e), Some(f), _) => format!("2^{e}·A and 2^{f}·B"),
                (None, Some(f), _) => format!("2^{f}·B"),
                (e, ..) => format!("2^{}·A", e.unwrap_or(0)),
            };
            o.detail = format!(
                "{} [checked on {how}, an exact rescaling; margins scaled back, the numbers above are for the scaled matrices]",
                o.detail
            );
            Ok(o)
        }
        _ => at(a, b, 0),
    }
}
