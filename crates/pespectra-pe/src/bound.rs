//! Rigorous a-priori floating-point error bounds for logits, and the agreement check.
//!
//! Every computed logit in this crate carries an entrywise bound `e` with
//! `|computed − exact| ≤ e`, where *exact* is the real-arithmetic value of the formula applied
//! to the given f64 inputs (content rows, θ, slopes, tables, scale) with exact cos/sin.
//! Both the direct logits and the D1/D2 reconstructions approximate the same exact matrix, so
//! `|direct − reconstructed| ≤ e_direct + e_reconstructed` must hold entrywise; a violation
//! means a convention bug, not rounding.
//!
//! Rounding model (stated so a reviewer can audit it):
//! - IEEE-754 binary64, round-to-nearest-even, unit roundoff u = 2^-53. For one operation
//!   `|fl(x ∘ y) − x ∘ y| ≤ u·|fl(x ∘ y)|` (Higham 2002, eq. 2.5), plus at most 2^-1074 when a
//!   product underflows; additions of floats never underflow inexactly.
//! - Dot products of length k are summed left to right, each product rounded (Rust does not
//!   contract to FMA unless asked; an FMA would only make the true error smaller), so
//!   `|fl(xᵀy) − xᵀy| ≤ γ_k·|x|ᵀ|y| + k·2^-1074` with γ_k = k·u/(1 − k·u) (Higham Lemma 3.1/3.5).
//! - Errors already present in the inputs of an operation are propagated to first and second
//!   order exactly (|x̂ŷ − xy| ≤ e_x|ŷ| + |x̂|e_y + e_x·e_y).
//! - cos/sin come from the platform libm in f64 and are *not* correctly rounded. We assume
//!   each result is within [`LIBM_TRIG_ERROR`] = 4 ulp(1) = 8u of the true cos/sin of the
//!   *computed* angle (glibc documents ≤ 1 ulp), and since cos and sin are 1-Lipschitz the
//!   angle's own rounding error `e_angle` is added once: `e_cos ≤ e_angle + 8u`.
//! - The bounds themselves are evaluated with upward rounding: every operation on
//!   non-negative bound quantities is done round-to-nearest and then moved up with
//!   `f64::next_up`, which is never below the exact result.
//! - Overflow is not modelled: a bound that becomes ∞ or NaN makes the check refuse.

use crate::error::PeError;
use crate::matrix::RealMatrix;

/// Unit roundoff of binary64 round-to-nearest, u = 2^-53.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Assumed worst-case absolute error of libm `cos`/`sin` on a given f64 argument: 4 ulps of 1.
pub const LIBM_TRIG_ERROR: f64 = 4.0 * f64::EPSILON;

/// Smallest positive subnormal: the absolute error one underflowing product can add.
const ETA: f64 = f64::from_bits(1);

fn add_up(a: f64, b: f64) -> f64 {
    (a + b).next_up()
}

fn mul_up(a: f64, b: f64) -> f64 {
    (a * b).next_up()
}

/// γ_k = k·u/(1 − k·u), rounded upward; ∞ when k·u ≥ 1.
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * UNIT_ROUNDOFF; // exact while k < 2^53
    if ku >= 1.0 {
        return f64::INFINITY;
    }
    // 1 − ku is exact (both are multiples of 2^-53 below 1), so one upward division suffices.
    (ku / (1.0 - ku)).next_up()
}

/// A computed value with a rigorous bound on its distance from the exact value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Approx {
    pub v: f64,
    pub e: f64,
}

impl Approx {
    pub fn exact(v: f64) -> Self {
        Self { v, e: 0.0 }
    }

    /// Bound for `|x̂ŷ − xy|` before the rounding of the product itself.
    fn propagated(self, o: Self) -> f64 {
        add_up(
            add_up(mul_up(self.e, o.v.abs()), mul_up(self.v.abs(), o.e)),
            mul_up(self.e, o.e),
        )
    }

    pub fn add(self, o: Self) -> Self {
        let v = self.v + o.v;
        Self {
            v,
            e: add_up(add_up(self.e, o.e), mul_up(UNIT_ROUNDOFF, v.abs())),
        }
    }

    pub fn sub(self, o: Self) -> Self {
        self.add(Self { v: -o.v, e: o.e })
    }

    pub fn mul(self, o: Self) -> Self {
        let v = self.v * o.v;
        let e = add_up(
            add_up(self.propagated(o), mul_up(UNIT_ROUNDOFF, v.abs())),
            ETA,
        );
        Self { v, e }
    }

    /// Multiplication by an exact scalar; free when the scalar is 1.
    pub fn scale(self, s: f64) -> Self {
        if s == 1.0 {
            self
        } else {
            self.mul(Self::exact(s))
        }
    }

    /// cos and sin of an approximate angle under the libm assumption above.
    pub fn cos_sin(angle: Self) -> (Self, Self) {
        let e = add_up(angle.e, LIBM_TRIG_ERROR);
        let (s, c) = angle.v.sin_cos();
        (Self { v: c, e }, Self { v: s, e })
    }
}

/// Left-to-right dot product with the γ_k bound plus propagated input errors.
pub(crate) fn dot(x: &[Approx], y: &[Approx]) -> Approx {
    let mut v = 0.0;
    let mut abs = 0.0;
    let mut prop = 0.0;
    for (a, b) in x.iter().zip(y) {
        v += a.v * b.v;
        abs = add_up(abs, mul_up(a.v.abs(), b.v.abs()));
        if a.e != 0.0 || b.e != 0.0 {
            prop = add_up(prop, a.propagated(*b));
        }
    }
    let k = x.len();
    let rounding = add_up(mul_up(gamma(k), abs), mul_up(k as f64, ETA));
    Approx {
        v,
        e: add_up(rounding, prop),
    }
}

/// Computed matrix with an entrywise rigorous error bound: `|value − exact| ≤ bound`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBounded {
    /// The computed (round-to-nearest) values.
    pub value: RealMatrix,
    /// Entrywise upper bounds on the distance from the exact values.
    pub bound: RealMatrix,
}

impl ErrorBounded {
    /// A matrix taken as exact input (bound 0), e.g. a caller-supplied bias.
    pub fn exact(value: RealMatrix) -> Self {
        let bound = RealMatrix::zeros(value.rows(), value.cols());
        Self { value, bound }
    }

    pub(crate) fn from_fn(
        rows: usize,
        cols: usize,
        mut f: impl FnMut(usize, usize) -> Approx,
    ) -> Self {
        let mut v = Vec::with_capacity(rows * cols);
        let mut e = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                let a = f(i, j);
                v.push(a.v);
                e.push(a.e);
            }
        }
        Self {
            value: RealMatrix::from_fn(rows, cols, |i, j| v[i * cols + j]),
            bound: RealMatrix::from_fn(rows, cols, |i, j| e[i * cols + j]),
        }
    }

    pub(crate) fn at(&self, i: usize, j: usize) -> Approx {
        Approx {
            v: self.value.get(i, j),
            e: self.bound.get(i, j),
        }
    }

    pub(crate) fn row(&self, i: usize) -> Vec<Approx> {
        self.value
            .row(i)
            .iter()
            .zip(self.bound.row(i))
            .map(|(&v, &e)| Approx { v, e })
            .collect()
    }

    /// `self · otherᵀ` with bounds (rows of both are the vectors being dotted).
    pub(crate) fn mul_transpose(&self, other: &ErrorBounded) -> ErrorBounded {
        let a: Vec<_> = (0..self.value.rows()).map(|i| self.row(i)).collect();
        let b: Vec<_> = (0..other.value.rows()).map(|j| other.row(j)).collect();
        Self::from_fn(a.len(), b.len(), |i, j| dot(&a[i], &b[j]))
    }

    /// Entrywise combination of two equally shaped bounded matrices.
    pub(crate) fn zip(
        &self,
        other: &ErrorBounded,
        f: impl Fn(Approx, Approx) -> Approx,
    ) -> ErrorBounded {
        Self::from_fn(self.value.rows(), self.value.cols(), |i, j| {
            f(self.at(i, j), other.at(i, j))
        })
    }

    /// Entrywise map.
    pub(crate) fn map(&self, f: impl Fn(Approx) -> Approx) -> ErrorBounded {
        Self::from_fn(
            self.value.rows(),
            self.value.cols(),
            |i, j| f(self.at(i, j)),
        )
    }
}

/// Outcome of comparing two bounded computations of the same exact matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementCheck {
    /// True iff every entry satisfies `|a − b| ≤ bound_a + bound_b`, decided rigorously
    /// (the difference rounded up, the bound sum rounded down) and every bound is finite.
    pub holds: bool,
    /// Largest computed `|a − b|`.
    pub max_discrepancy: f64,
    /// Largest `|a − b| / (bound_a + bound_b)`: how much of the budget was used (≤ 1 when it holds).
    pub max_budget_used: f64,
    /// Entry that used the largest share of its budget.
    pub worst_entry: (usize, usize),
}

/// Error-free transformation: `a + b = s + t` exactly (Knuth's TwoSum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Checks entrywise `|a − b| ≤ bound_a + bound_b`: both computations approximate one exact
/// matrix, so any violation is a real disagreement (a convention error), never rounding.
pub fn check_agreement(a: &ErrorBounded, b: &ErrorBounded) -> Result<AgreementCheck, PeError> {
    let (rows, cols) = (a.value.rows(), a.value.cols());
    if (rows, cols) != (b.value.rows(), b.value.cols()) {
        return Err(PeError::Shape(format!(
            "comparing {rows} x {cols} logits with {} x {}",
            b.value.rows(),
            b.value.cols()
        )));
    }
    let mut out = AgreementCheck {
        holds: true,
        max_discrepancy: 0.0,
        max_budget_used: 0.0,
        worst_entry: (0, 0),
    };
    for i in 0..rows {
        for j in 0..cols {
            let (x, y) = (a.at(i, j), b.at(i, j));
            let (d, d_err) = two_sum(x.v, -y.v);
            let lhs = if d_err == 0.0 {
                d.abs()
            } else {
                d.abs().next_up()
            };
            let (s, s_err) = two_sum(x.e, y.e);
            let rhs = if s_err == 0.0 { s } else { s.next_down() };
            let ok = lhs.is_finite() && rhs.is_finite() && lhs <= rhs;
            out.holds &= ok;
            out.max_discrepancy = out.max_discrepancy.max(d.abs());
            let used = if !(d.abs() <= f64::MAX && rhs.is_finite()) {
                f64::INFINITY
            } else if d == 0.0 {
                0.0
            } else if rhs == 0.0 {
                f64::INFINITY
            } else {
                d.abs() / rhs
            };
            if used > out.max_budget_used {
                out.max_budget_used = used;
                out.worst_entry = (i, j);
            }
        }
    }
    Ok(out)
}
