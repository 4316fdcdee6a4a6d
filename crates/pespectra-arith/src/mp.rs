//! Intervals and directed-rounding dot products at arbitrary precision (MPFR through rug).
//!
//! **Rounding assumptions.** MPFR rounds every operation correctly in the requested direction
//! (`Round::Down` toward −∞, `Round::Up` toward +∞), including on underflow and overflow, and has
//! no subnormals to worry about. Lower endpoints are always computed with `Round::Down`, upper
//! ones with `Round::Up`, so each result encloses the exact real result. Every f64 converts
//! exactly into a `Float` of precision ≥ 53.

use rug::float::Round;
use rug::ops::{AddAssignRound, MulAssignRound};
use rug::{Assign, Float};

/// A closed interval with MPFR endpoints of a fixed precision.
#[derive(Clone, Debug, PartialEq)]
pub struct MpInterval {
    lo: Float,
    hi: Float,
}

impl MpInterval {
    /// The exact value `x` (`prec ≥ 53` keeps every f64 exact).
    ///
    /// # Panics
    /// If `x` is NaN.
    pub fn from_f64(prec: u32, x: f64) -> Self {
        assert!(!x.is_nan(), "MpInterval::from_f64(NaN)");
        let v = Float::with_val(prec.max(53), x);
        Self {
            lo: v.clone(),
            hi: v,
        }
    }

    /// `[lo, hi]` from f64 endpoints (exact); `None` if they are unordered or NaN.
    pub fn from_bounds(prec: u32, lo: f64, hi: f64) -> Option<Self> {
        (lo <= hi).then(|| Self {
            lo: Float::with_val(prec.max(53), lo),
            hi: Float::with_val(prec.max(53), hi),
        })
    }

    /// From two floats already known to satisfy `lo ≤ hi`.
    pub fn from_floats(lo: Float, hi: Float) -> Option<Self> {
        (lo <= hi).then_some(Self { lo, hi })
    }

    /// Lower endpoint.
    pub fn lo(&self) -> &Float {
        &self.lo
    }

    /// Upper endpoint.
    pub fn hi(&self) -> &Float {
        &self.hi
    }

    /// Precision in bits of the endpoints.
    pub fn prec(&self) -> u32 {
        self.lo.prec()
    }

    /// `[x − r, x + r]` for a radius `r ≥ 0`, rounded outward.
    pub fn ball(x: &Float, r: &Float) -> Self {
        let p = x.prec().max(r.prec());
        let lo = Float::with_val_round(p, x - r, Round::Down).0;
        let hi = Float::with_val_round(p, x + r, Round::Up).0;
        Self { lo, hi }
    }

    /// Enclosure of the sum.
    pub fn add(&self, o: &Self) -> Self {
        let p = self.prec();
        Self {
            lo: Float::with_val_round(p, &self.lo + &o.lo, Round::Down).0,
            hi: Float::with_val_round(p, &self.hi + &o.hi, Round::Up).0,
        }
    }

    /// Enclosure of `{a / b}` for a divisor interval strictly above zero; `None` otherwise.
    pub fn div_pos(&self, d: &Self) -> Option<Self> {
        if d.lo <= 0 {
            return None;
        }
        let p = self.prec();
        let lo_div = if self.lo >= 0 { &d.hi } else { &d.lo };
        let hi_div = if self.hi >= 0 { &d.lo } else { &d.hi };
        Some(Self {
            lo: Float::with_val_round(p, &self.lo / lo_div, Round::Down).0,
            hi: Float::with_val_round(p, &self.hi / hi_div, Round::Up).0,
        })
    }

    /// Upper bound of `hi − lo`.
    pub fn width(&self) -> Float {
        Float::with_val_round(self.prec(), &self.hi - &self.lo, Round::Up).0
    }

    /// Largest f64 ≤ lo.
    pub fn lo_f64(&self) -> f64 {
        self.lo.to_f64_round(Round::Down)
    }

    /// Smallest f64 ≥ hi.
    pub fn hi_f64(&self) -> f64 {
        self.hi.to_f64_round(Round::Up)
    }

    /// Decimal string of a lower bound of the interval (`digits` significant digits, rounded
    /// toward −∞) and of an upper bound (rounded toward +∞): any reader gets a valid enclosure.
    pub fn decimal_bounds(&self, digits: usize) -> (String, String) {
        (
            decimal(&self.lo, digits, Round::Down),
            decimal(&self.hi, digits, Round::Up),
        )
    }
}

/// `x` printed in scientific decimal notation with `digits` significant digits, rounded in the
/// given direction (MPFR's correctly rounded conversion).
pub fn decimal(x: &Float, digits: usize, round: Round) -> String {
    if x.is_zero() {
        return "0".to_string();
    }
    x.to_string_radix_round(10, Some(digits.max(2)), round)
}

/// Lower and upper bounds of the exact dot product `Σ xᵢ·yᵢ` of MPFR vectors, each accumulated
/// with directed rounding at precision `prec`.
pub fn dot_bounds(prec: u32, x: &[Float], y: &[Float]) -> (Float, Float) {
    let mut lo = Float::new(prec);
    let mut hi = Float::new(prec);
    let mut t = Float::new(prec);
    for (a, b) in x.iter().zip(y) {
        t.assign(a);
        t.mul_assign_round(b, Round::Down);
        lo.add_assign_round(&t, Round::Down);
        t.assign(a);
        t.mul_assign_round(b, Round::Up);
        hi.add_assign_round(&t, Round::Up);
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rug::Rational;

    #[test]
    fn dot_bounds_bracket_exact_value() {
        let xs: Vec<Float> = [0.1, -0.3, 1e-20, 7.0]
            .iter()
            .map(|&v| Float::with_val(64, v))
            .collect();
        let ys: Vec<Float> = [0.7, 0.2, 3.0, -1.0 / 3.0]
            .iter()
            .map(|&v| Float::with_val(64, v))
            .collect();
        let (lo, hi) = dot_bounds(64, &xs, &ys);
        let exact: Rational = xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| a.to_rational().unwrap() * b.to_rational().unwrap())
            .sum();
        assert!(lo.to_rational().unwrap() <= exact && exact <= hi.to_rational().unwrap());
        assert!(lo < hi);
    }

    #[test]
    fn decimal_bounds_round_outward() {
        let third = MpInterval::ball(
            &Float::with_val(
                200,
                Float::parse("0.333333333333333333333333333333").unwrap(),
            ),
            &Float::new(200),
        );
        let (lo, hi) = third.decimal_bounds(5);
        let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
        assert!(lo < 1.0 / 3.0 && 1.0 / 3.0 < hi, "{lo} {hi}");
        // exactly representable values print exactly
        let two = MpInterval::from_f64(64, 2.0);
        assert_eq!(two.decimal_bounds(17).0.parse::<f64>().unwrap(), 2.0);
    }

    #[test]
    fn division_requires_positive_divisor() {
        let a = MpInterval::from_f64(80, 1.0);
        assert!(a
            .div_pos(&MpInterval::from_bounds(80, -1.0, 1.0).unwrap())
            .is_none());
        let q = a.div_pos(&MpInterval::from_f64(80, 3.0)).unwrap();
        let third = Rational::from((1, 3));
        assert!(q.lo().to_rational().unwrap() < third && third < q.hi().to_rational().unwrap());
    }
}
