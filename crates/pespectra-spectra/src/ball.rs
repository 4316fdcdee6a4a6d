//! Matrices known up to an entrywise radius: the one ball-matrix vocabulary of the theorem
//! checks and the model audit, and its conversion to the verified engine's input.
//!
//! A ball entry `(c, r)` stands for every complex number within modulus `r` of `c`.
//!
//! **Rounding assumptions.** `Ball::from_entries` encloses with the outward-rounded interval
//! arithmetic of [`pespectra_arith::interval`]. The hot entrywise kernels ([`Ball::hadamard`],
//! [`Ball::add`]) instead use plain binary64 operations, each correctly rounded to nearest
//! (Rust never contracts `a*b + c` into an FMA), so `fl(x ∘ y) = (x ∘ y)(1 + δ) + ε` with
//! `|δ| ≤ u = 2⁻⁵³`, and `|ε| ≤ η/2`, `η = 2⁻¹⁰⁷⁴`, only for products (a sum that underflows is
//! exact). Their radius is an upper bound `T` written as a sum of non-negative terms (products
//! of two floats, floats, and at most 23η of explicit constants), evaluated to nearest in
//! `k ≤ 16` operations into `t`, then inflated by [`inflate`]: by induction over the operations,
//! `T ≤ (t + kη/2)/(1 − u)^k`, and `fl(fl(t + 32η)·(1 + 64u)) ≥ (t + 32η)(1 − u)²(1 + 64u) − η/2
//! ≥ (t + 32η)/(1 − u)^k − η/2`, which covers `T` with 23η to spare. Overflow gives `+∞`
//! (sound); a NaN radius (`0·∞`) is replaced by `+∞`.

use crate::matrix::{CMat, HermitianInput};
use crate::SpectraError;
use faer::Mat;
use pespectra_arith::gemm::{BallMat, ETA64, U64};
use pespectra_arith::interval::Interval;
use pespectra_arith::round::{add_up, hypot_up};

/// A complex matrix enclosure: every entry of the matrix meant lies within `radius` (modulus)
/// of `center`.
#[derive(Clone, Debug)]
pub struct Ball {
    /// Center (exact f64).
    pub center: CMat,
    /// Entrywise modulus radius.
    pub radius: Mat<f64>,
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

    /// Center (re, im) and radius of entry (i, j).
    pub fn entry(&self, i: usize, j: usize) -> (f64, f64, f64) {
        (
            self.center.re[(i, j)],
            self.center.im_at(i, j),
            self.radius[(i, j)],
        )
    }

    /// The ball whose entry (i, j) encloses `re + i·im` for the intervals `(re, im)` of
    /// `f(i, j)`, widened by its third component (a further modulus radius, ≥ 0).
    pub fn from_entries(
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
                let (cr, er) = Interval::mid_rad(ri);
                let (ci, ei) = Interval::mid_rad(ii);
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

    /// The real symmetric ball whose entries (i, j) and (j, i) enclose the interval
    /// `upper(i, j)`, evaluated once for each i ≤ j (the closure is never called below the
    /// diagonal).
    pub fn symmetric_from_upper(n: usize, upper: impl Fn(usize, usize) -> Interval) -> Self {
        let mut re = Mat::zeros(n, n);
        let mut rad = Mat::zeros(n, n);
        for j in 0..n {
            for i in 0..=j {
                let (c, r) = upper(i, j).mid_rad();
                re[(i, j)] = c;
                re[(j, i)] = c;
                rad[(i, j)] = r;
                rad[(j, i)] = r;
            }
        }
        Self {
            center: CMat::real(re),
            radius: rad,
        }
    }

    /// Entrywise (Hadamard) product, in plain round-to-nearest arithmetic with a proven
    /// inflation of the radius (module docs). Real inputs stay real; the center of the product
    /// of two Hermitian matrices is exactly Hermitian (the same operations on mirrored entries).
    pub fn hadamard(&self, o: &Ball) -> Ball {
        let n = self.n();
        let mut re = Mat::zeros(n, n);
        let mut rad = Mat::zeros(n, n);
        let complex = self.center.is_complex() || o.center.is_complex();
        let mut im = if complex {
            Mat::zeros(n, n)
        } else {
            Mat::zeros(0, 0)
        };
        for j in 0..n {
            for i in 0..n {
                let (ar, ai, ra) = self.entry(i, j);
                let (br, bi, rb) = o.entry(i, j);
                // |(a + δa)(b + δb) − ab| ≤ |a|·rb + ra·|b| + ra·rb, with |a| ≤ |ar| + |ai|
                let prop = (ar.abs() + ai.abs()) * rb + ra * (br.abs() + bi.abs()) + ra * rb;
                if complex {
                    let (p1, p2, p3, p4) = (ar * br, ai * bi, ar * bi, ai * br);
                    let (cr, ci) = (p1 - p2, p3 + p4);
                    // each product is off by ≤ 2u|p| + η, each sum by ≤ 2u|sum|
                    let round = 2.0
                        * U64
                        * (p1.abs() + p2.abs() + p3.abs() + p4.abs() + cr.abs() + ci.abs());
                    re[(i, j)] = cr;
                    im[(i, j)] = ci;
                    rad[(i, j)] = inflate(prop + round); // + 4η, absorbed by `inflate`
                } else {
                    let c = ar * br;
                    re[(i, j)] = c;
                    rad[(i, j)] = if ra == 0.0 && rb == 0.0 && exact_product(ar, br, c) {
                        0.0
                    } else {
                        inflate(prop + 2.0 * U64 * c.abs()) // + η
                    };
                }
            }
        }
        Ball {
            center: if complex {
                CMat::complex(re, im)
            } else {
                CMat::real(re)
            },
            radius: rad,
        }
    }

    /// Entrywise sum, in plain round-to-nearest arithmetic with a proven inflation of the
    /// radius (module docs): each rounded sum is off by at most `2u·|sum|`.
    pub fn add(&self, o: &Ball) -> Ball {
        let n = self.n();
        let complex = self.center.is_complex() || o.center.is_complex();
        let re = Mat::from_fn(n, n, |i, j| self.center.re[(i, j)] + o.center.re[(i, j)]);
        let im = complex
            .then(|| Mat::from_fn(n, n, |i, j| self.center.im_at(i, j) + o.center.im_at(i, j)));
        let rad = Mat::from_fn(n, n, |i, j| {
            let ci = im.as_ref().map_or(0.0, |m| m[(i, j)]);
            let (ra, rb) = (self.radius[(i, j)], o.radius[(i, j)]);
            let exact = ra == 0.0
                && rb == 0.0
                && exact_sum(self.center.re[(i, j)], o.center.re[(i, j)], re[(i, j)])
                && exact_sum(self.center.im_at(i, j), o.center.im_at(i, j), ci);
            if exact {
                0.0
            } else {
                inflate(ra + rb + 2.0 * U64 * (re[(i, j)].abs() + ci.abs()))
            }
        });
        Ball {
            center: match im {
                Some(im) => CMat::complex(re, im),
                None => CMat::real(re),
            },
            radius: rad,
        }
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

impl From<BallMat> for Ball {
    /// A real GEMM enclosure as a ball matrix.
    fn from(b: BallMat) -> Self {
        Self {
            center: CMat::real(b.mid),
            radius: b.rad,
        }
    }
}

/// Whether `c = fl(a·b)` is exact: the FMA residual `a·b − c` is itself exact away from the
/// underflow range (|c| ≥ 1e−290, as in `pespectra-arith::round`), and a zero product of a zero
/// factor is exact. Exact products keep a zero radius, so equality cases stay decidable.
fn exact_product(a: f64, b: f64, c: f64) -> bool {
    if c == 0.0 {
        return a == 0.0 || b == 0.0;
    }
    c.is_finite() && c.abs() >= 1e-290 && a.mul_add(b, -c) == 0.0
}

/// Whether `s = fl(a + b)` is exact (TwoSum's error is zero; exact whenever `s` is finite).
fn exact_sum(a: f64, b: f64, s: f64) -> bool {
    if !s.is_finite() {
        return false;
    }
    let bp = s - a;
    let ap = s - bp;
    (a - ap) + (b - bp) == 0.0
}

/// An upper bound of a non-negative quantity from its round-to-nearest evaluation `t` in at most
/// 16 operations (module docs: `fl(fl(t + 32η)·(1 + 64u))`, NaN → `+∞`).
pub fn inflate(t: f64) -> f64 {
    const SLACK: f64 = 32.0 * ETA64; // 2^-1069, exact
    const FACTOR: f64 = 1.0 + 64.0 * U64; // 1 + 2^-47, exact
    let r = (t + SLACK) * FACTOR;
    if r.is_nan() {
        f64::INFINITY
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::Signed;
    use rand::{Rng, SeedableRng};

    fn q(x: f64) -> BigRational {
        BigRational::from_float(x).expect("finite")
    }

    /// Awkward f64 values: zeros, subnormals, tiny and huge magnitudes, values whose products
    /// round, underflow or come close to overflow.
    fn awkward(r: &mut rand_chacha::ChaCha8Rng) -> f64 {
        let m: f64 = r.gen_range(-1.0..1.0);
        match r.gen_range(0..8) {
            0 => 0.0,
            1 => m * f64::from_bits(r.gen_range(1..1 << 20)) / m.abs().max(1e-300),
            2 => m * 2f64.powi(r.gen_range(-1074..-1000)),
            3 => m * 2f64.powi(r.gen_range(-540..-500)),
            4 => m * 2f64.powi(r.gen_range(480..510)),
            _ => m * 2f64.powi(r.gen_range(-30..30)),
        }
    }

    /// `|Re(c − z)| + |Im(c − z)| + (|ar|+|ai|)·rb + ra·(|br|+|bi|) + ra·rb ≤ rad` exactly (the
    /// ball of the product covers every product of points of the operand balls).
    fn covers(
        c: (f64, f64, f64),
        z: (BigRational, BigRational),
        a: (f64, f64, f64),
        b: (f64, f64, f64),
    ) -> bool {
        let (ar, ai, ra) = a;
        let (br, bi, rb) = b;
        let need = (q(c.0) - z.0).abs()
            + (q(c.1) - z.1).abs()
            + (q(ar.abs()) + q(ai.abs())) * q(rb)
            + q(ra) * (q(br.abs()) + q(bi.abs()))
            + q(ra) * q(rb);
        !c.2.is_finite() || need <= q(c.2)
    }

    /// Each upper entry is evaluated once and mirrored; the ball covers its interval.
    #[test]
    fn symmetric_balls_come_from_the_upper_triangle() {
        let calls = std::cell::Cell::new(0);
        let b = Ball::symmetric_from_upper(3, |i, j| {
            assert!(i <= j, "evaluated below the diagonal at ({i}, {j})");
            calls.set(calls.get() + 1);
            Interval::new(i as f64, (i + j) as f64 + 0.5).unwrap()
        });
        assert_eq!(calls.get(), 6);
        assert!(!b.center.is_complex());
        for (i, j) in [(0, 2), (2, 0), (1, 1)] {
            let (lo, hi) = (i.min(j) as f64, (i + j) as f64 + 0.5);
            let (c, r) = (b.center.re[(i, j)], b.radius[(i, j)]);
            assert!(c - r <= lo && c + r >= hi, "({i}, {j})");
        }
    }

    #[test]
    fn cheap_kernels_enclose_exact_results() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for trial in 0..400 {
            let n = 3;
            let complex = trial % 2 == 0;
            let ball = |r: &mut rand_chacha::ChaCha8Rng| {
                let re = Mat::from_fn(n, n, |_, _| awkward(r));
                let im = Mat::from_fn(n, n, |_, _| if complex { awkward(r) } else { 0.0 });
                let rad = Mat::from_fn(n, n, |_, _| awkward(r).abs());
                Ball {
                    center: CMat::complex(re, im),
                    radius: rad,
                }
            };
            let (a, b) = (ball(&mut r), ball(&mut r));
            let (h, s) = (a.hadamard(&b), a.add(&b));
            for i in 0..n {
                for j in 0..n {
                    let (ea, eb) = (a.entry(i, j), b.entry(i, j));
                    let (ar, ai, br, bi) = (q(ea.0), q(ea.1), q(eb.0), q(eb.1));
                    let prod = (&ar * &br - &ai * &bi, &ar * &bi + &ai * &br);
                    assert!(
                        covers(h.entry(i, j), prod, ea, eb),
                        "hadamard {ea:?} {eb:?} -> {:?}",
                        h.entry(i, j)
                    );
                    let (sc, sr) = ((s.entry(i, j).0, s.entry(i, j).1), s.entry(i, j).2);
                    let need = (q(sc.0) - (&ar + &br)).abs()
                        + (q(sc.1) - (&ai + &bi)).abs()
                        + q(ea.2)
                        + q(eb.2);
                    assert!(!sr.is_finite() || need <= q(sr), "add {ea:?} {eb:?}");
                }
            }
        }
    }

    /// The inflation is what makes the radius sound: the plain round-to-nearest sum of the
    /// error terms alone can fall short of the exact error (so the test above can fail), and
    /// `inflate` never returns less than its argument.
    #[test]
    fn inflation_is_needed_and_monotone() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut short = 0;
        for _ in 0..20000 {
            let (a, b) = (awkward(&mut r), r.gen_range(0.5..1.0) * 2f64.powi(-1060));
            let c = a * b;
            let exact_err = (q(c) - q(a) * q(b)).abs();
            // the uninflated error term 2u|c| misses underflowed products
            if q(2.0 * U64 * c.abs()) < exact_err {
                short += 1;
            }
            assert!(q(inflate(2.0 * U64 * c.abs())) >= exact_err);
        }
        assert!(
            short > 0,
            "no product below the uninflated bound was generated"
        );
        assert!(inflate(f64::NAN) == f64::INFINITY && inflate(1.0) > 1.0 && inflate(0.0) > 0.0);
    }
}
