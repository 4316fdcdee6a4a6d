//! Matrices known up to an entrywise radius, and the exact positional kernels pespectra checks
//! theorems on.
//!
//! **Rounding assumptions:** products and sums of entries are enclosed with the outward-rounded
//! interval arithmetic of [`pespectra_arith::interval`]; a ball entry `(c, r)` stands for every
//! complex number within modulus `r` of `c`.

use faer::Mat;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use pespectra_arith::interval::Interval;
use pespectra_arith::round::{add_up, hypot_up, mul_up};
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::SpectraError;

/// A complex matrix enclosure: every entry of the matrix meant lies within `radius` (modulus)
/// of `center`.
#[derive(Clone, Debug)]
pub struct Ball {
    /// Center (exact f64).
    pub center: CMat,
    /// Entrywise modulus radius.
    pub radius: Mat<f64>,
}

/// Midpoint and half-width (rounded up) of an interval.
fn mid_rad(i: Interval) -> (f64, f64) {
    let c = 0.5 * i.lo() + 0.5 * i.hi();
    let c = if c.is_finite() { c } else { i.lo() };
    (c, (i - Interval::point(c)).mag())
}

impl Ball {
    /// An exactly known matrix.
    pub fn exact(center: CMat) -> Self {
        let (r, c) = (center.nrows(), center.ncols());
        Self {
            center,
            radius: Mat::zeros(r, c),
        }
    }

    /// Dimension (square matrices).
    pub fn n(&self) -> usize {
        self.center.nrows()
    }

    fn entry(&self, i: usize, j: usize) -> (f64, f64, f64) {
        (
            self.center.re[(i, j)],
            self.center.im_at(i, j),
            self.radius[(i, j)],
        )
    }

    pub(crate) fn from_entries(
        rows: usize,
        cols: usize,
        f: impl Fn(usize, usize) -> (Interval, Interval, f64),
    ) -> Self {
        let mut re = Mat::zeros(rows, cols);
        let mut im = Mat::zeros(rows, cols);
        let mut rad = Mat::zeros(rows, cols);
        for j in 0..cols {
            for i in 0..rows {
                let (ri, ii, extra) = f(i, j);
                let (cr, er) = mid_rad(ri);
                let (ci, ei) = mid_rad(ii);
                re[(i, j)] = cr;
                im[(i, j)] = ci;
                rad[(i, j)] = add_up(hypot_up(er, ei), extra);
            }
        }
        Self {
            center: CMat::complex(re, im),
            radius: rad,
        }
    }

    /// Entrywise (Hadamard) product.
    pub fn hadamard(&self, o: &Ball) -> Ball {
        Self::from_entries(self.n(), self.n(), |i, j| {
            let (ar, ai, ra) = self.entry(i, j);
            let (br, bi, rb) = o.entry(i, j);
            let p = Interval::point;
            let re = p(ar) * p(br) - p(ai) * p(bi);
            let im = p(ar) * p(bi) + p(ai) * p(br);
            // |(a+δa)(b+δb) − ab| ≤ |a|·rb + ra·|b| + ra·rb
            let prop = add_up(
                add_up(mul_up(hypot_up(ar, ai), rb), mul_up(ra, hypot_up(br, bi))),
                mul_up(ra, rb),
            );
            (re, im, prop)
        })
    }

    /// Entrywise sum.
    pub fn add(&self, o: &Ball) -> Ball {
        Self::from_entries(self.n(), self.n(), |i, j| {
            let (ar, ai, ra) = self.entry(i, j);
            let (br, bi, rb) = o.entry(i, j);
            let p = Interval::point;
            (p(ar) + p(br), p(ai) + p(bi), add_up(ra, rb))
        })
    }

    /// Entrywise real part (exact on the center; the radius still bounds the real part).
    pub fn real_part(&self) -> Ball {
        Ball {
            center: CMat::real(self.center.re.clone()),
            radius: self.radius.clone(),
        }
    }

    /// The input for the spectral engine, for a matrix known to be Hermitian (its exact value
    /// is, by construction of the caller): the center is symmetrised from the upper triangle
    /// (each lower entry's ball is replaced by the conjugate of the upper one, which holds the
    /// same exact value) and the diagonal's imaginary part moved into the radius.
    pub fn hermitian_input(&self) -> Result<HermitianInput, SpectraError> {
        let n = self.n();
        let mut re = Mat::zeros(n, n);
        let mut im = Mat::zeros(n, n);
        let mut rad = Mat::zeros(n, n);
        for i in 0..n {
            for j in i..n {
                let (cr, ci, r) = self.entry(i, j);
                let (ci, r) = if i == j {
                    (0.0, add_up(r, ci.abs()))
                } else {
                    (ci, r)
                };
                re[(i, j)] = cr;
                re[(j, i)] = cr;
                im[(i, j)] = ci;
                im[(j, i)] = -ci;
                rad[(i, j)] = r;
                rad[(j, i)] = r;
            }
        }
        let mut h = HermitianInput::new(CMat::complex(re, im))?;
        let any = (0..n).any(|j| (0..n).any(|i| rad[(i, j)] > 0.0));
        h.radius = any.then_some(rad);
        Ok(h)
    }
}

/// A Gaussian rational `re + i·im`.
#[derive(Clone, Debug, PartialEq)]
pub struct QComplex {
    /// Real part.
    pub re: BigRational,
    /// Imaginary part.
    pub im: BigRational,
}

impl QComplex {
    /// From integers / a common denominator.
    pub fn new(re: BigRational, im: BigRational) -> Self {
        Self { re, im }
    }

    /// 1.
    pub fn one() -> Self {
        Self {
            re: BigRational::one(),
            im: BigRational::zero(),
        }
    }

    /// Product.
    pub fn mul(&self, o: &Self) -> Self {
        Self {
            re: &self.re * &o.re - &self.im * &o.im,
            im: &self.re * &o.im + &self.im * &o.re,
        }
    }

    /// Sum.
    pub fn add(&self, o: &Self) -> Self {
        Self {
            re: &self.re + &o.re,
            im: &self.im + &o.im,
        }
    }

    /// Difference.
    pub fn sub(&self, o: &Self) -> Self {
        Self {
            re: &self.re - &o.re,
            im: &self.im - &o.im,
        }
    }

    /// Complex conjugate.
    pub fn conj(&self) -> Self {
        Self {
            re: self.re.clone(),
            im: -self.im.clone(),
        }
    }

    /// Whether it is 0.
    pub fn is_zero(&self) -> bool {
        self.re.is_zero() && self.im.is_zero()
    }
}

/// Nearest-ish f64 of a rational and an upper bound of the distance to it.
pub fn rational_ball(x: &BigRational) -> (f64, f64) {
    let c = x.to_f64().unwrap_or(f64::NAN);
    let c = if c.is_finite() { c } else { 0.0 };
    let err = (x - BigRational::from_float(c).expect("finite")).abs();
    let e = err.to_f64().unwrap_or(f64::INFINITY);
    // to_f64 may round down: step up until the bound dominates the exact error
    let mut e = e;
    while BigRational::from_float(e).is_some_and(|v| v < err) {
        e = e.next_up();
    }
    (c, e)
}

/// A rotation `z = (p + i·q)/r` with `p² + q² = r²` (a Pythagorean triple), so every power of
/// `z` — every entry of the RoPE kernel `E_ij = z^(j−i)` — is an exact Gaussian rational.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythagoreanAngle {
    /// cos θ numerator.
    pub p: i64,
    /// sin θ numerator.
    pub q: i64,
    /// Hypotenuse.
    pub r: i64,
}

/// Pythagorean angles used by default instances: θ ≈ 0.927, 0.395, 1.176, 0.284, 0.761, 1.287.
pub const ANGLES: [PythagoreanAngle; 6] = [
    PythagoreanAngle { p: 3, q: 4, r: 5 },
    PythagoreanAngle { p: 12, q: 5, r: 13 },
    PythagoreanAngle { p: 5, q: 12, r: 13 },
    PythagoreanAngle { p: 24, q: 7, r: 25 },
    PythagoreanAngle {
        p: 20,
        q: 21,
        r: 29,
    },
    PythagoreanAngle { p: 7, q: 24, r: 25 },
];

impl PythagoreanAngle {
    /// `z = e^{iθ}` exactly.
    pub fn unit(&self) -> QComplex {
        let r = BigInt::from(self.r);
        QComplex::new(
            BigRational::new(BigInt::from(self.p), r.clone()),
            BigRational::new(BigInt::from(self.q), r),
        )
    }

    /// θ in radians (for display only).
    pub fn theta(&self) -> f64 {
        (self.q as f64).atan2(self.p as f64)
    }

    /// `z^k`, k = 0..n.
    pub fn powers(&self, n: usize) -> Vec<QComplex> {
        let z = self.unit();
        let mut out = Vec::with_capacity(n);
        let mut w = QComplex::one();
        for _ in 0..n {
            out.push(w.clone());
            w = w.mul(&z);
        }
        out
    }

    /// The exact kernel entry `E_ij = z^(j−i)` from the powers `pw = z^0, z^1, …`.
    pub fn kernel_entry(pw: &[QComplex], i: usize, j: usize) -> QComplex {
        if j >= i {
            pw[j - i].clone()
        } else {
            pw[i - j].conj()
        }
    }

    /// The RoPE kernel `E_ij = e^{i(j−i)θ}` (Hermitian, PSD, rank one, unit diagonal) as a ball,
    /// cached per thread (building it needs n exact Gaussian-rational powers).
    pub fn kernel(&self, n: usize) -> Ball {
        thread_local! {
            static CACHE: std::cell::RefCell<std::collections::HashMap<(i64, i64, usize), Ball>> = std::cell::RefCell::new(std::collections::HashMap::new());
        }
        let key = (self.p, self.q, n);
        if let Some(b) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
            return b;
        }
        let b = self.build_kernel(n);
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() > 64 {
                c.clear();
            }
            c.insert(key, b.clone());
        });
        b
    }

    fn build_kernel(&self, n: usize) -> Ball {
        let pw: Vec<((f64, f64), (f64, f64))> = self
            .powers(n)
            .iter()
            .map(|w| (rational_ball(&w.re), rational_ball(&w.im)))
            .collect();
        let mut re = Mat::zeros(n, n);
        let mut im = Mat::zeros(n, n);
        let mut rad = Mat::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                let ((c, rc), (s, rs)) = pw[i.abs_diff(j)];
                re[(i, j)] = c;
                im[(i, j)] = if j >= i { s } else { -s };
                rad[(i, j)] = hypot_up(rc, rs);
            }
        }
        Ball {
            center: CMat::complex(re, im),
            radius: rad,
        }
    }

    /// The real RoPE kernel `C_ij = cos((j−i)θ)` (real symmetric Toeplitz, PSD, rank ≤ 2, unit
    /// diagonal: `C = vvᵀ + wwᵀ` with `v_j = cos jθ`, `w_j = sin jθ`).
    pub fn cos_kernel(&self, n: usize) -> Ball {
        self.kernel(n).real_part()
    }
}
