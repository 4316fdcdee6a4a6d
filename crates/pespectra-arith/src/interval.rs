//! Closed f64 intervals with outward rounding.
//!
//! **Rounding assumptions:** those of [`crate::round`] (IEEE binary64, round-to-nearest, correctly
//! rounded FMA and sqrt). Every operation returns an interval that contains the exact real result
//! of the operation applied to every pair of points of its operands. Endpoints may be ±∞; an
//! interval is never empty and never holds NaN (constructors refuse NaN).

use crate::round::*;
use std::ops::{Add, Mul, Neg, Sub};

/// A closed interval `[lo, hi]` of reals with f64 endpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    lo: f64,
    hi: f64,
}

impl Interval {
    /// `[lo, hi]`; `None` if either end is NaN or `lo > hi`.
    pub fn new(lo: f64, hi: f64) -> Option<Self> {
        (lo <= hi).then_some(Self { lo, hi })
    }

    /// The degenerate interval holding exactly `x` (every finite f64 is an exact real).
    ///
    /// # Panics
    /// If `x` is NaN: points of the real line only.
    pub fn point(x: f64) -> Self {
        assert!(!x.is_nan(), "Interval::point(NaN)");
        Self { lo: x, hi: x }
    }

    /// Lower endpoint.
    pub fn lo(self) -> f64 {
        self.lo
    }

    /// Upper endpoint.
    pub fn hi(self) -> f64 {
        self.hi
    }

    /// Upper bound of `hi − lo`.
    pub fn width(self) -> f64 {
        sub_up(self.hi, self.lo)
    }

    /// Upper bound of |x| over the interval.
    pub fn mag(self) -> f64 {
        self.lo.abs().max(self.hi.abs())
    }

    /// Whether `x` lies in the interval.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Smallest interval containing both.
    pub fn hull(self, other: Self) -> Self {
        Self {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    /// `[x − r, x + r]` rounded outward, for a radius `r ≥ 0`.
    pub fn ball(x: f64, r: f64) -> Self {
        Self {
            lo: sub_down(x, r),
            hi: add_up(x, r),
        }
    }

    /// A midpoint `c` (the rounded average of the ends; `lo` when that overflows) and a radius
    /// `r`, rounded up, with `[c − r, c + r] ⊇ self`: the ball form of the interval.
    pub fn mid_rad(self) -> (f64, f64) {
        let c = 0.5 * self.lo + 0.5 * self.hi;
        let c = if c.is_finite() { c } else { self.lo };
        (c, (self - Self::point(c)).mag())
    }

    /// Enclosure of `{a / b : a ∈ self, b ∈ d}` for a divisor interval strictly above 0.
    /// Returns `None` when `d` may contain zero or negative values.
    pub fn div_pos(self, d: Self) -> Option<Self> {
        if d.lo <= 0.0 {
            return None;
        }
        // a / b is monotone in a, and for fixed sign of a monotone in b.
        let lo = if self.lo >= 0.0 {
            div_down(self.lo, d.hi)
        } else {
            div_down(self.lo, d.lo)
        };
        let hi = if self.hi >= 0.0 {
            div_up(self.hi, d.lo)
        } else {
            div_up(self.hi, d.hi)
        };
        Some(Self { lo, hi })
    }

    /// Enclosure of √x over the non-negative part; `None` if the interval is entirely negative.
    pub fn sqrt(self) -> Option<Self> {
        (self.hi >= 0.0).then(|| Self {
            lo: sqrt_down(self.lo.max(0.0)),
            hi: sqrt_up(self.hi),
        })
    }
}

impl Add for Interval {
    type Output = Interval;
    fn add(self, o: Self) -> Self {
        Self {
            lo: add_down(self.lo, o.lo),
            hi: add_up(self.hi, o.hi),
        }
    }
}

impl Sub for Interval {
    type Output = Interval;
    fn sub(self, o: Self) -> Self {
        Self {
            lo: sub_down(self.lo, o.hi),
            hi: sub_up(self.hi, o.lo),
        }
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Self {
        Self {
            lo: -self.hi,
            hi: -self.lo,
        }
    }
}

impl Mul for Interval {
    type Output = Interval;
    fn mul(self, o: Self) -> Self {
        if self.lo == self.hi && o.lo == o.hi && self.lo.is_finite() && o.lo.is_finite() {
            return Self {
                lo: mul_down(self.lo, o.lo),
                hi: mul_up(self.lo, o.lo),
            };
        }
        let zero_times_inf =
            |a: f64, b: f64| (a == 0.0 && b.is_infinite()) || (b == 0.0 && a.is_infinite());
        let pairs = [
            (self.lo, o.lo),
            (self.lo, o.hi),
            (self.hi, o.lo),
            (self.hi, o.hi),
        ];
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for (a, b) in pairs {
            // 0 · ∞ only arises as a limit of finite points, whose products tend to 0.
            let (l, h) = if zero_times_inf(a, b) {
                (0.0, 0.0)
            } else {
                (mul_down(a, b), mul_up(a, b))
            };
            lo = lo.min(l);
            hi = hi.max(h);
        }
        Self { lo, hi }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ball form covers the interval even for wide, huge and one-point intervals, and is
    /// tight for a point.
    #[test]
    fn mid_rad_covers_the_interval() {
        for (lo, hi) in [
            (1.0, 1.0),
            (-3.0, 5.0),
            (0.1, 0.3),
            (-f64::MAX, f64::MAX),
            (1e308, f64::MAX),
        ] {
            let (c, r) = Interval::new(lo, hi).unwrap().mid_rad();
            assert!(
                Interval::ball(c, r).lo() <= lo && Interval::ball(c, r).hi() >= hi,
                "[{lo}, {hi}]"
            );
        }
        assert_eq!(Interval::point(2.5).mid_rad(), (2.5, 0.0));
    }
    use num_rational::BigRational;
    use num_traits::FromPrimitive;
    use proptest::prelude::*;

    fn q(x: f64) -> BigRational {
        BigRational::from_f64(x).unwrap()
    }

    fn inside(i: Interval, x: &BigRational) -> bool {
        q(i.lo()) <= *x && *x <= q(i.hi())
    }

    proptest! {
        /// Inclusion property against exact rational arithmetic (independent oracle).
        #[test]
        fn ops_contain_exact_results(a in -1e6f64..1e6, b in -1e6f64..1e6, c in -1e6f64..1e6, e in 1e-3f64..1e6) {
            let (ia, ib, ic) = (Interval::point(a), Interval::point(b), Interval::point(c));
            prop_assert!(inside((ia + ib) * ic, &((q(a) + q(b)) * q(c))));
            prop_assert!(inside((ia - ib) * (ic - ia), &((q(a) - q(b)) * (q(c) - q(a)))));
            let d = Interval::point(e);
            prop_assert!(inside(ia.div_pos(d).unwrap(), &(q(a) / q(e))));
        }
    }

    #[test]
    fn point_sum_is_exactly_directed() {
        let s = Interval::point(0.1) + Interval::point(0.2);
        let exact = q(0.1) + q(0.2);
        assert!(inside(s, &exact));
        // one ulp narrower on either side would exclude the exact value
        assert!(
            !inside(Interval::new(s.lo().next_up(), s.hi()).unwrap(), &exact)
                || !inside(Interval::new(s.lo(), s.hi().next_down()).unwrap(), &exact)
        );
    }

    #[test]
    fn div_pos_refuses_zero_divisor() {
        assert!(Interval::point(1.0)
            .div_pos(Interval::new(0.0, 1.0).unwrap())
            .is_none());
        assert!(Interval::new(f64::NAN, 1.0).is_none());
        assert!(Interval::new(2.0, 1.0).is_none());
    }
}
