//! Exact rational spectra for small matrices given exactly (f64 entries are exact dyadic
//! rationals): inertia by symmetric elimination, exact eigenvalue counts, bisection to any
//! width, and an exact checker of claimed enclosures.
//!
//! **No rounding anywhere:** all arithmetic is in `num_rational::BigRational`. Inertia is
//! computed by congruence (1×1 pivots on non-zero diagonal entries, 2×2 pivots `[[0, s], [s, 0]]`
//! of inertia (1, 1) when the remaining diagonal is zero), so by Sylvester's law of inertia the
//! counts of negative, zero and positive pivots are exactly those of the eigenvalues.
//! Complex Hermitian input is embedded as the real symmetric `[[Re A, −Im A], [Im A, Re A]]`,
//! whose eigenvalues are those of A, each twice.

use crate::cholesky::real_embedding;
use crate::matrix::HermitianInput;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// Counts of negative, zero and positive eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inertia {
    /// Eigenvalues < 0.
    pub neg: usize,
    /// Eigenvalues = 0.
    pub zero: usize,
    /// Eigenvalues > 0.
    pub pos: usize,
}

/// An exact real symmetric matrix.
#[derive(Clone, Debug)]
pub struct RationalSymmetric {
    a: Vec<Vec<BigRational>>,
    /// Each eigenvalue of the original matrix appears this many times (2 for complex input).
    multiplicity: usize,
}

impl RationalSymmetric {
    /// Exact copy of a Hermitian input (complex input through its real embedding).
    /// Returns `None` if the input carries an uncertainty radius (it is then not given exactly).
    pub fn from_input(input: &HermitianInput) -> Option<Self> {
        if input.radius.is_some() {
            return None;
        }
        let m = real_embedding(input);
        let n = m.nrows();
        let a = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| BigRational::from_float(m[(i, j)]).expect("validated finite input"))
                    .collect()
            })
            .collect();
        Some(Self {
            a,
            multiplicity: if input.center.is_complex() { 2 } else { 1 },
        })
    }

    /// From exact rational rows (must be symmetric).
    pub fn from_rows(a: Vec<Vec<BigRational>>) -> Option<Self> {
        let n = a.len();
        let ok =
            a.iter().all(|r| r.len() == n) && (0..n).all(|i| (0..i).all(|j| a[i][j] == a[j][i]));
        ok.then_some(Self { a, multiplicity: 1 })
    }

    /// Dimension of the original matrix.
    pub fn n(&self) -> usize {
        self.a.len() / self.multiplicity
    }

    /// Inertia of `A − cI`, counted for the original matrix.
    pub fn inertia_shifted(&self, c: &BigRational) -> Inertia {
        let mut s: Vec<Vec<BigRational>> = self.a.clone();
        for (i, row) in s.iter_mut().enumerate() {
            row[i] -= c;
        }
        let i = inertia(s);
        let m = self.multiplicity;
        Inertia {
            neg: i.neg / m,
            zero: i.zero / m,
            pos: i.pos / m,
        }
    }

    /// A rational bound `r` with every eigenvalue in `[−r, r]` (maximal absolute row sum).
    pub fn gershgorin_radius(&self) -> BigRational {
        self.a
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.abs())
                    .fold(BigRational::zero(), |s, v| s + v)
            })
            .max()
            .unwrap_or_else(BigRational::zero)
    }

    /// Enclosures of all eigenvalues (decreasing order) of width ≤ `width` by exact bisection
    /// on inertia counts; exact eigenvalues found on the way get degenerate intervals.
    pub fn eigen_enclosures(&self, width: &BigRational) -> Vec<(BigRational, BigRational)> {
        let n = self.n();
        let r = self.gershgorin_radius() + BigRational::one();
        let lo = -r.clone();
        let below_lo = self.inertia_shifted(&lo);
        let below_hi = self.inertia_shifted(&r);
        let mut out: Vec<(BigRational, BigRational)> = Vec::with_capacity(n);
        // Stack of (lo, hi, #eig < lo, #eig ≤ hi); all eigenvalues lie strictly inside.
        let mut stack = vec![(lo, r, below_lo.neg, below_hi.neg + below_hi.zero)];
        while let Some((lo, hi, c_lo, c_hi)) = stack.pop() {
            if c_hi == c_lo {
                continue;
            }
            if &hi - &lo <= *width {
                out.extend(std::iter::repeat_n((lo.clone(), hi.clone()), c_hi - c_lo));
                continue;
            }
            let mid = dyadic_mid(&lo, &hi);
            let im = self.inertia_shifted(&mid);
            if im.zero > 0 {
                out.extend(std::iter::repeat_n((mid.clone(), mid.clone()), im.zero));
            }
            stack.push((lo, mid.clone(), c_lo, im.neg));
            stack.push((mid, hi, im.neg + im.zero, c_hi));
        }
        out.sort_by(|x, y| y.0.cmp(&x.0));
        out
    }

    /// Exactly checks claimed enclosures `claims[k] ∋ λ_k` (decreasing order): returns the first
    /// index whose claim is false, or `None` if all hold.
    pub fn first_false_claim(&self, claims: &[(BigRational, BigRational)]) -> Option<usize> {
        let n = self.n();
        if claims.len() != n {
            return Some(claims.len().min(n));
        }
        claims.iter().enumerate().find_map(|(k, (lo, hi))| {
            // k-th largest = m-th smallest (0-based m).
            let m = n - 1 - k;
            let at_lo = self.inertia_shifted(lo);
            let at_hi = self.inertia_shifted(hi);
            let ok = lo <= hi && at_lo.neg <= m && at_hi.neg + at_hi.zero > m;
            (!ok).then_some(k)
        })
    }
}

/// A dyadic rational strictly between lo < hi with a short binary expansion.
fn dyadic_mid(lo: &BigRational, hi: &BigRational) -> BigRational {
    let w = hi - lo;
    // Largest power of two 2^e ≤ w/4; round the midpoint to a multiple of it.
    let mut step = BigRational::one();
    let quarter = &w / BigRational::from_integer(BigInt::from(4));
    while step > quarter {
        step /= BigRational::from_integer(BigInt::from(2));
    }
    let two = BigRational::from_integer(BigInt::from(2));
    while &step * &two <= quarter {
        step *= &two;
    }
    let mid = (lo + hi) / two;
    let k = (&mid / &step).floor();
    let cand = k * &step;
    if &cand > lo && &cand < hi {
        cand
    } else {
        mid
    }
}

/// Inertia of an exact symmetric matrix (consumed) by congruence elimination.
pub fn inertia(mut s: Vec<Vec<BigRational>>) -> Inertia {
    let n = s.len();
    let mut alive: Vec<usize> = (0..n).collect();
    let (mut neg, mut pos) = (0, 0);
    while !alive.is_empty() {
        if let Some(p) = alive.iter().position(|&i| !s[i][i].is_zero()) {
            let i = alive.swap_remove(p);
            let piv = s[i][i].clone();
            if piv.is_negative() {
                neg += 1;
            } else {
                pos += 1;
            }
            for &r in &alive {
                if s[r][i].is_zero() {
                    continue;
                }
                let f = &s[r][i] / &piv;
                for &c in &alive {
                    if !s[i][c].is_zero() {
                        let t = &f * &s[i][c];
                        s[r][c] -= t;
                    }
                }
            }
            continue;
        }
        let pair = alive.iter().enumerate().find_map(|(a, &i)| {
            alive[a + 1..]
                .iter()
                .find(|&&j| !s[i][j].is_zero())
                .map(|&j| (i, j))
        });
        let Some((i, j)) = pair else { break };
        // 2×2 pivot [[0, v], [v, 0]]: one positive and one negative eigenvalue.
        neg += 1;
        pos += 1;
        alive.retain(|&x| x != i && x != j);
        let v = s[i][j].clone();
        let rows: Vec<(usize, BigRational, BigRational)> = alive
            .iter()
            .map(|&r| (r, s[r][i].clone(), s[r][j].clone()))
            .collect();
        for (r, ri, rj) in &rows {
            for (c, ci, cj) in &rows {
                if ri.is_zero() && rj.is_zero() || ci.is_zero() && cj.is_zero() {
                    continue;
                }
                // S_rc −= (S_ri S_jc + S_rj S_ic) / v
                let t = (ri * cj + rj * ci) / &v;
                s[*r][*c] -= t;
            }
        }
    }
    let zero = n - neg - pos;
    Inertia { neg, zero, pos }
}

/// Exact determinant by Gaussian elimination with exact pivoting (any non-zero pivot).
pub fn determinant(mut a: Vec<Vec<BigRational>>) -> BigRational {
    let n = a.len();
    let mut det = BigRational::one();
    for col in 0..n {
        let Some(p) = (col..n).find(|&r| !a[r][col].is_zero()) else {
            return BigRational::zero();
        };
        if p != col {
            a.swap(p, col);
            det = -det;
        }
        let piv = a[col][col].clone();
        det *= &piv;
        for r in col + 1..n {
            if a[r][col].is_zero() {
                continue;
            }
            let f = &a[r][col] / &piv;
            let (top, bottom) = a.split_at_mut(r);
            for (x, p) in bottom[0][col..].iter_mut().zip(&top[col][col..]) {
                *x -= &f * p;
            }
        }
    }
    det
}
