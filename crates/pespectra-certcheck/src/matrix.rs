//! Dense Gaussian-rational matrices and the derived operations of the
//! certificate format, all computed exactly.
//!
//! The representation keeps the imaginary part optional: most certificates are
//! real, and skipping an all-zero imaginary part halves the work of every
//! product without changing any result.

use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use crate::cost::Clock;

/// Largest dimension accepted anywhere (inputs and derived results).
pub const MAX_DIM: usize = 256;

/// Largest bit length of a numerator or denominator produced by a derived
/// operation. Repeated `matmul` can square entry sizes; this stops a short
/// hostile certificate from asking for exponential work. It admits the
/// product of two maximal scalars (100,000 digits ≈ 332,193 bits each).
pub const MAX_ENTRY_BITS: u64 = 700_000;

/// The message of a product stopped by its deadline (the caller maps it to a refusal).
pub(crate) const EXPIRED: &str = "stopped at the wall-clock limit";

/// A dense row-major matrix with Gaussian-rational entries.
#[derive(Clone, Debug, PartialEq)]
pub struct CMat {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Real parts, row-major.
    pub re: Vec<BigRational>,
    /// `None` means the imaginary part is identically zero.
    pub im: Option<Vec<BigRational>>,
}

fn zero() -> BigRational {
    BigRational::zero()
}

impl CMat {
    /// Build a matrix, dropping an imaginary part that is identically zero so
    /// that "real" is a structural property from then on.
    pub fn new(
        rows: usize,
        cols: usize,
        re: Vec<BigRational>,
        im: Option<Vec<BigRational>>,
    ) -> Self {
        let im = im.filter(|v| v.iter().any(|x| !x.is_zero()));
        CMat { rows, cols, re, im }
    }

    /// Rows = columns.
    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }

    /// Real part of entry `(i, j)`.
    pub fn re_at(&self, i: usize, j: usize) -> &BigRational {
        &self.re[i * self.cols + j]
    }

    /// Imaginary part of entry (i, j) (zero for a real matrix).
    pub fn im_at(&self, i: usize, j: usize) -> BigRational {
        match &self.im {
            Some(v) => v[i * self.cols + j].clone(),
            None => zero(),
        }
    }

    /// Exact test of `X = Xᴴ`: real part symmetric, imaginary part
    /// antisymmetric (hence zero on the diagonal).
    pub fn is_hermitian(&self) -> bool {
        if !self.is_square() {
            return false;
        }
        let n = self.rows;
        for i in 0..n {
            for j in i..n {
                if self.re_at(i, j) != self.re_at(j, i) {
                    return false;
                }
                if let Some(im) = &self.im {
                    if im[i * n + j] != -&im[j * n + i] {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Largest numerator/denominator bit length over all entries.
    pub fn max_bits(&self) -> u64 {
        let bits = |q: &BigRational| q.numer().bits().max(q.denom().bits());
        let mut m = self.re.iter().map(bits).max().unwrap_or(0);
        if let Some(im) = &self.im {
            m = m.max(im.iter().map(bits).max().unwrap_or(0));
        }
        m
    }

    fn map2(
        &self,
        other: &CMat,
        f: impl Fn(&BigRational, &BigRational) -> BigRational,
    ) -> Result<CMat, String> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(format!(
                "shape mismatch {}x{} vs {}x{}",
                self.rows, self.cols, other.rows, other.cols
            ));
        }
        let re = self
            .re
            .iter()
            .zip(&other.re)
            .map(|(a, b)| f(a, b))
            .collect();
        let im = match (&self.im, &other.im) {
            (None, None) => None,
            _ => {
                let len = self.re.len();
                let a = self.im.clone().unwrap_or_else(|| vec![zero(); len]);
                let b = other.im.clone().unwrap_or_else(|| vec![zero(); len]);
                Some(a.iter().zip(&b).map(|(x, y)| f(x, y)).collect())
            }
        };
        Ok(CMat::new(self.rows, self.cols, re, im))
    }

    /// Entrywise sum (shapes must agree).
    pub fn add(&self, other: &CMat) -> Result<CMat, String> {
        self.map2(other, |a, b| a + b)
    }

    /// Entrywise difference (shapes must agree).
    pub fn sub(&self, other: &CMat) -> Result<CMat, String> {
        self.map2(other, |a, b| a - b)
    }

    /// Entrywise (Schur/Hadamard) product of complex matrices.
    pub fn hadamard(&self, other: &CMat) -> Result<CMat, String> {
        if self.rows != other.rows || self.cols != other.cols {
            return Err(format!(
                "shape mismatch {}x{} vs {}x{}",
                self.rows, self.cols, other.rows, other.cols
            ));
        }
        let len = self.re.len();
        let mut re = Vec::with_capacity(len);
        let mut im = Vec::with_capacity(len);
        for k in 0..len {
            let (a, b) = (&self.re[k], self.im.as_ref().map(|v| &v[k]));
            let (c, d) = (&other.re[k], other.im.as_ref().map(|v| &v[k]));
            // (a + ib)(c + id) = (ac - bd) + i(ad + bc)
            let mut r = a * c;
            let mut i = zero();
            if let Some(b) = b {
                i += b * c;
                if let Some(d) = d {
                    r -= b * d;
                }
            }
            if let Some(d) = d {
                i += a * d;
            }
            re.push(r);
            im.push(i);
        }
        Ok(CMat::new(self.rows, self.cols, re, Some(im)))
    }

    /// Exact matrix product (inner dimensions must agree).
    pub fn matmul(&self, other: &CMat) -> Result<CMat, String> {
        self.matmul_within(other, Clock::NONE)
    }

    /// [`CMat::matmul`] that stops with an error once `clock`'s deadline has passed (polled
    /// once per row of the result).
    pub(crate) fn matmul_within(&self, other: &CMat, clock: Clock) -> Result<CMat, String> {
        if self.cols != other.rows {
            return Err(format!(
                "inner dimensions differ: {}x{} times {}x{}",
                self.rows, self.cols, other.rows, other.cols
            ));
        }
        let (m, k, n) = (self.rows, self.cols, other.cols);
        let complex = self.im.is_some() || other.im.is_some();
        let mut re = vec![zero(); m * n];
        let mut im = vec![zero(); if complex { m * n } else { 0 }];
        for i in 0..m {
            if clock.check().is_err() {
                return Err(EXPIRED.into());
            }
            for l in 0..k {
                let a = &self.re[i * k + l];
                let b = self.im.as_ref().map(|v| &v[i * k + l]);
                if a.is_zero() && b.is_none_or(|b| b.is_zero()) {
                    continue;
                }
                for j in 0..n {
                    let c = &other.re[l * n + j];
                    let d = other.im.as_ref().map(|v| &v[l * n + j]);
                    re[i * n + j] += a * c;
                    if let Some(b) = b {
                        im[i * n + j] += b * c;
                        if let Some(d) = d {
                            re[i * n + j] -= b * d;
                        }
                    }
                    if let Some(d) = d {
                        im[i * n + j] += a * d;
                    }
                }
            }
        }
        Ok(CMat::new(m, n, re, complex.then_some(im)))
    }

    /// Conjugate transpose.
    pub fn adjoint(&self) -> CMat {
        let (m, n) = (self.rows, self.cols);
        let mut re = Vec::with_capacity(m * n);
        let mut im = self.im.as_ref().map(|_| Vec::with_capacity(m * n));
        for j in 0..n {
            for i in 0..m {
                re.push(self.re[i * n + j].clone());
                if let (Some(out), Some(src)) = (im.as_mut(), self.im.as_ref()) {
                    out.push(-&src[i * n + j]);
                }
            }
        }
        CMat::new(n, m, re, im)
    }

    /// Entrywise real part, `(X + conj X)/2`.
    pub fn real_part(&self) -> CMat {
        CMat::new(self.rows, self.cols, self.re.clone(), None)
    }

    /// `(X + Xᴴ)/2`; requires a square matrix.
    pub fn hermitian_part(&self) -> Result<CMat, String> {
        if !self.is_square() {
            return Err(format!(
                "hermitian_part of non-square {}x{}",
                self.rows, self.cols
            ));
        }
        let half = BigRational::new(1.into(), 2.into());
        self.add(&self.adjoint()).map(|s| s.scale(&half))
    }

    /// Multiply by a real rational.
    pub fn scale(&self, s: &BigRational) -> CMat {
        let re = self.re.iter().map(|x| x * s).collect();
        let im = self.im.as_ref().map(|v| v.iter().map(|x| x * s).collect());
        CMat::new(self.rows, self.cols, re, im)
    }

    /// Jordan–Wielandt matrix `[[0, X], [Xᴴ, 0]]` of an m×n matrix X: a
    /// Hermitian (m+n)×(m+n) matrix whose eigenvalues are ±σ_i(X) plus |m−n|
    /// zeros, so eigenvalue claims on it are singular-value claims on X.
    pub fn jordan_wielandt(&self) -> Result<CMat, String> {
        let (m, n) = (self.rows, self.cols);
        let s = m + n;
        if s > MAX_DIM {
            return Err(format!("jordan_wielandt result {s}x{s} exceeds {MAX_DIM}"));
        }
        let mut re = vec![zero(); s * s];
        let mut im = self.im.as_ref().map(|_| vec![zero(); s * s]);
        for i in 0..m {
            for j in 0..n {
                let k = i * n + j;
                re[i * s + (m + j)] = self.re[k].clone();
                re[(m + j) * s + i] = self.re[k].clone();
                if let (Some(out), Some(src)) = (im.as_mut(), self.im.as_ref()) {
                    out[i * s + (m + j)] = src[k].clone();
                    out[(m + j) * s + i] = -&src[k];
                }
            }
        }
        Ok(CMat::new(s, s, re, im))
    }

    /// Zero every entry strictly above the diagonal (a causal mask).
    pub fn mask_lower(&self) -> CMat {
        let mut out = self.clone();
        for i in 0..self.rows {
            for j in (i + 1)..self.cols {
                out.re[i * self.cols + j] = zero();
                if let Some(im) = out.im.as_mut() {
                    im[i * self.cols + j] = zero();
                }
            }
        }
        CMat::new(out.rows, out.cols, out.re, out.im)
    }

    /// Exact trace `(re, im)`; requires a square matrix.
    pub fn trace(&self) -> (BigRational, BigRational) {
        let n = self.rows.min(self.cols);
        let mut re = zero();
        let mut im = zero();
        for i in 0..n {
            re += self.re_at(i, i);
            im += self.im_at(i, i);
        }
        (re, im)
    }
}

/// `true` iff `x` is exactly one.
pub fn is_one(x: &BigRational) -> bool {
    x.is_one()
}

/// Sign of a rational as -1, 0 or 1.
pub fn sign(x: &BigRational) -> i32 {
    if x.is_positive() {
        1
    } else if x.is_negative() {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: &[i64]) -> Vec<BigRational> {
        v.iter()
            .map(|&x| BigRational::from_integer(x.into()))
            .collect()
    }

    #[test]
    fn complex_ops() {
        // X = [[1, i], [2, 3-i]]
        let x = CMat::new(2, 2, r(&[1, 0, 2, 3]), Some(r(&[0, 1, 0, -1])));
        let xh = x.adjoint();
        assert_eq!(xh.re, r(&[1, 2, 0, 3]));
        assert_eq!(xh.im.as_ref().unwrap(), &r(&[0, 0, -1, 1]));
        // X Xᴴ is Hermitian.
        let p = x.matmul(&xh).unwrap();
        assert!(p.is_hermitian());
        // (X Xᴴ)_{00} = 1 + |i|^2 = 2, (X Xᴴ)_{01} = 1*2 + i*(3+i) = 2 + 3i - 1 = 1 + 3i
        assert_eq!(p.re, r(&[2, 1, 1, 14]));
        assert_eq!(p.im.as_ref().unwrap(), &r(&[0, 3, -3, 0]));
        let h = x.hadamard(&x).unwrap();
        // i*i = -1, (3-i)^2 = 8 - 6i
        assert_eq!(h.re, r(&[1, -1, 4, 8]));
        assert_eq!(h.im.as_ref().unwrap(), &r(&[0, 0, 0, -6]));
        assert!(x.real_part().im.is_none());
        let hp = x.hermitian_part().unwrap();
        assert!(hp.is_hermitian());
        let jw = x.jordan_wielandt().unwrap();
        assert!(jw.is_hermitian() && jw.rows == 4);
        let ml = x.mask_lower();
        assert_eq!(ml.re, r(&[1, 0, 2, 3]));
        assert_eq!(ml.im.as_ref().unwrap(), &r(&[0, 0, 0, -1]));
        assert_eq!(x.sub(&x).unwrap().im, None);
        assert!(x.matmul(&CMat::new(3, 1, r(&[1, 1, 1]), None)).is_err());
    }
}
