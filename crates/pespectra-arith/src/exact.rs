//! Exact rational arithmetic on f64 data (num-bigint / num-rational 0.4, which agree on one
//! `BigInt` type). Every finite f64 is a dyadic rational and converts without error.

pub use num_rational::BigRational;

/// The exact value of a finite f64; `None` for NaN and ±∞.
pub fn rational_from_f64(x: f64) -> Option<BigRational> {
    BigRational::from_float(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    #[test]
    fn conversions_are_exact() {
        assert_eq!(
            rational_from_f64(0.5).unwrap(),
            BigRational::new(1.into(), 2.into())
        );
        // 0.1 is 3602879701896397 / 2^55 exactly
        let tenth = rational_from_f64(0.1).unwrap();
        assert_eq!(
            tenth,
            BigRational::new(BigInt::from(3602879701896397u64), BigInt::from(1u64 << 55))
        );
        let tiny = rational_from_f64(f64::from_bits(1)).unwrap();
        assert_eq!(
            tiny.recip(),
            BigRational::from_integer(BigInt::from(2).pow(1074))
        );
        assert!(rational_from_f64(f64::NAN).is_none());
        assert!(rational_from_f64(f64::INFINITY).is_none());
    }
}
