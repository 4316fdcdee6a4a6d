//! Exact rational arithmetic on f64 data (num-bigint / num-rational 0.4, which agree on one
//! `BigInt` type). Every finite f64 is a dyadic rational and converts without error.

pub use num_rational::BigRational;

/// The exact value of a finite f64; `None` for NaN and ±∞.
pub fn rational_from_f64(x: f64) -> Option<BigRational> {
    BigRational::from_float(x)
}

/// The exact value of a finite MPFR float; `None` for NaN and ±∞.
pub fn rational_from_mpfr(x: &rug::Float) -> Option<BigRational> {
    use num_bigint::{BigInt, Sign};
    use num_traits::{One, Zero};
    let (m, e) = x.to_integer_exp()?;
    if m.is_zero() {
        return Some(BigRational::zero());
    }
    let sign = if m < 0 { Sign::Minus } else { Sign::Plus };
    let mag = BigInt::from_bytes_le(sign, &m.abs().to_digits::<u8>(rug::integer::Order::Lsf));
    let two = BigRational::from_integer(BigInt::from(2));
    let scale = if e >= 0 {
        num_traits::pow(two, e as usize)
    } else {
        BigRational::one() / num_traits::pow(two, (-e) as usize)
    };
    Some(BigRational::from_integer(mag) * scale)
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

    #[test]
    fn mpfr_conversion_is_exact() {
        for v in [0.0, -0.1, 3.5e-300, 1.7e308] {
            assert_eq!(
                rational_from_mpfr(&rug::Float::with_val(53, v)).unwrap(),
                rational_from_f64(v).unwrap()
            );
        }
        let third = rug::Float::with_val(200, 1) / 3u32;
        let r = rational_from_mpfr(&third).unwrap();
        assert!(
            r < BigRational::new(1.into(), 3.into()) || r > BigRational::new(1.into(), 3.into())
        );
    }
}
