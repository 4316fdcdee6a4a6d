//! The exact positional kernels pespectra checks theorems on: Gaussian rationals and
//! Pythagorean rotation angles, whose powers are exact, as ball matrices
//! ([`pespectra_spectra::ball::Ball`]).

use faer::Mat;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use pespectra_arith::round::hypot_up;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;

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

/// `((cos kθ, radius), (sin kθ, radius))`: f64 centers and upper bounds of their errors.
type PowerBall = ((f64, f64), (f64, f64));

/// A per-thread table of [`PowerBall`]s of one angle `(p, q)`.
type PowerTable = ((i64, i64), std::rc::Rc<Vec<PowerBall>>);

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

    /// Enclosures `((cos kθ, radius), (sin kθ, radius))` for `k < n` from the exact powers,
    /// cached per thread and angle and grown on demand (a kernel of any size is a leading block
    /// of the largest one, so each power is converted once).
    fn power_balls(&self, n: usize) -> std::rc::Rc<Vec<PowerBall>> {
        thread_local! {
            static CACHE: std::cell::RefCell<Vec<PowerTable>> =
                const { std::cell::RefCell::new(Vec::new()) };
        }
        let key = (self.p, self.q);
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if let Some((_, t)) = c.iter().find(|(k, t)| *k == key && t.len() >= n) {
                return t.clone();
            }
            let have = c
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, t)| t.len());
            let t: std::rc::Rc<Vec<PowerBall>> = std::rc::Rc::new(
                self.powers(n.max((2 * have).min(1024)).max(16))
                    .iter()
                    .map(|w| (rational_ball(&w.re), rational_ball(&w.im)))
                    .collect(),
            );
            c.retain(|(k, _)| *k != key);
            c.push((key, t.clone()));
            t
        })
    }

    /// The RoPE kernel `E_ij = e^{i(j−i)θ}` (Hermitian, PSD, rank one, unit diagonal) as a ball.
    pub fn kernel(&self, n: usize) -> Ball {
        let pw = self.power_balls(n);
        let (mut re, mut im, mut rad) = (Mat::zeros(n, n), Mat::zeros(n, n), Mat::zeros(n, n));
        for j in 0..n {
            for i in 0..n {
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
        let pw = self.power_balls(n);
        Ball {
            center: CMat::real(Mat::from_fn(n, n, |i, j| pw[i.abs_diff(j)].0 .0)),
            radius: Mat::from_fn(n, n, |i, j| pw[i.abs_diff(j)].0 .1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(x: f64) -> BigRational {
        BigRational::from_float(x).expect("finite")
    }

    #[test]
    fn kernels_of_every_size_are_leading_blocks() {
        let big = ANGLES[0].cos_kernel(40);
        let small = ANGLES[0].cos_kernel(7);
        let direct = ANGLES[0].powers(7);
        for i in 0..7 {
            for j in 0..7 {
                assert_eq!(small.center.re[(i, j)], big.center.re[(i, j)]);
                let exact = &direct[i.abs_diff(j)].re;
                assert!((q(small.center.re[(i, j)]) - exact).abs() <= q(small.radius[(i, j)]));
            }
            assert_eq!((small.center.re[(i, i)], small.radius[(i, i)]), (1.0, 0.0));
        }
    }
}
