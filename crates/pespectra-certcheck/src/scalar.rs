//! Exact scalar syntax: integers, fractions and decimals, all mapped to
//! [`BigRational`] without any rounding.
//!
//! Decimals are accepted because every binary64 value `m·2^e` has a finite
//! decimal expansion, so a producer may print an `f64` exactly (e.g. with 17+
//! significant digits expanded in full) and the checker recovers the very same
//! dyadic rational. Nothing here goes through `f64`.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// Largest number of decimal digits a scalar may denote (mantissa digits plus
/// the magnitude of the decimal exponent, or the digits of a fraction part).
/// Bounds memory and time on hostile input: `1e999999999` is 11 characters but
/// would otherwise expand to a billion digits.
pub const MAX_SCALAR_DIGITS: usize = 100_000;

/// Parse one scalar string into an exact rational.
///
/// Accepted forms (ASCII only, no surrounding whitespace):
/// - integer: `[+-]digits`
/// - fraction: `[+-]digits/digits` with a positive denominator
/// - decimal: `[+-]digits[.digits][(e|E)[+-]digits]` or `[+-].digits[...]`,
///   with at least one mantissa digit and either a point or an exponent.
pub fn parse_scalar(s: &str) -> Result<BigRational, String> {
    if s.is_empty() {
        return Err("empty scalar".into());
    }
    if s.len() > 3 * MAX_SCALAR_DIGITS {
        return Err(format!(
            "scalar longer than {} characters",
            3 * MAX_SCALAR_DIGITS
        ));
    }
    if let Some((p, q)) = s.split_once('/') {
        let num = parse_integer(p).map_err(|e| format!("bad numerator in {:?}: {e}", short(s)))?;
        if q.starts_with('+') || q.starts_with('-') {
            return Err(format!("denominator must be unsigned in {:?}", short(s)));
        }
        let den =
            parse_integer(q).map_err(|e| format!("bad denominator in {:?}: {e}", short(s)))?;
        if den.is_zero() {
            return Err(format!("zero denominator in {:?}", short(s)));
        }
        return Ok(BigRational::new(num, den));
    }
    if !s.contains(['.', 'e', 'E']) {
        return parse_integer(s)
            .map(BigRational::from_integer)
            .map_err(|e| format!("{e} in {:?}", short(s)));
    }
    parse_decimal(s).map_err(|e| format!("{e} in {:?}", short(s)))
}

/// A prefix of a hostile scalar for error messages (never echo 300 kB back).
fn short(s: &str) -> String {
    if s.len() <= 40 {
        s.to_string()
    } else {
        let mut end = 40;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    }
}

fn digits_to_bigint(d: &str) -> BigInt {
    // Callers guarantee `d` is non-empty ASCII digits, so this cannot fail;
    // fall back to zero rather than panic all the same.
    BigInt::parse_bytes(d.as_bytes(), 10).unwrap_or_default()
}

fn parse_integer(s: &str) -> Result<BigInt, String> {
    let (neg, d) = split_sign(s);
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not an integer".into());
    }
    if d.len() > MAX_SCALAR_DIGITS {
        return Err(format!("more than {MAX_SCALAR_DIGITS} digits"));
    }
    let v = digits_to_bigint(d);
    Ok(if neg { -v } else { v })
}

fn parse_decimal(s: &str) -> Result<BigRational, String> {
    let (neg, body) = split_sign(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(k) => (&body[..k], Some(&body[k + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mantissa, ""),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) {
        return Err("not a decimal".into());
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("decimal without digits".into());
    }
    let exp10: i64 = match exp {
        None => 0,
        Some(e) => {
            let (eneg, ed) = split_sign(e);
            if ed.is_empty() || !all_digits(ed) {
                return Err("bad exponent".into());
            }
            let ed = ed.trim_start_matches('0');
            if ed.len() > 9 {
                return Err("exponent too large".into());
            }
            let v: i64 = if ed.is_empty() {
                0
            } else {
                ed.parse().map_err(|_| "bad exponent")?
            };
            if eneg {
                -v
            } else {
                v
            }
        }
    };
    let ndigits = int_part.len() + frac_part.len();
    // value = digits(int_part ++ frac_part) * 10^(exp10 - len(frac_part))
    let scale = exp10 - frac_part.len() as i64;
    if ndigits as u64 + scale.unsigned_abs() > MAX_SCALAR_DIGITS as u64 {
        return Err(format!("denotes more than {MAX_SCALAR_DIGITS} digits"));
    }
    let mut all = String::with_capacity(ndigits);
    all.push_str(int_part);
    all.push_str(frac_part);
    let mut m = digits_to_bigint(&all);
    if neg {
        m = -m;
    }
    let p = BigInt::from(10u32).pow(scale.unsigned_abs() as u32);
    Ok(if scale >= 0 {
        BigRational::from_integer(m * p)
    } else {
        BigRational::new(m, p)
    })
}

/// Render a rational in the certificate syntax (`p` or `p/q`), the inverse of
/// [`parse_scalar`] on its integer and fraction forms.
pub fn format_scalar(q: &BigRational) -> String {
    if q.denom().is_one() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn forms() {
        assert_eq!(parse_scalar("17").unwrap(), q(17, 1));
        assert_eq!(parse_scalar("-3").unwrap(), q(-3, 1));
        assert_eq!(parse_scalar("+3").unwrap(), q(3, 1));
        assert_eq!(parse_scalar("6/4").unwrap(), q(3, 2));
        assert_eq!(parse_scalar("-6/4").unwrap(), q(-3, 2));
        assert_eq!(parse_scalar("1.25e-3").unwrap(), q(1, 800));
        assert_eq!(parse_scalar("1.25E3").unwrap(), q(1250, 1));
        assert_eq!(parse_scalar(".5").unwrap(), q(1, 2));
        assert_eq!(parse_scalar("5.").unwrap(), q(5, 1));
        assert_eq!(parse_scalar("-0.75").unwrap(), q(-3, 4));
        assert_eq!(parse_scalar("2e0").unwrap(), q(2, 1));
        assert_eq!(parse_scalar("1e-0000000000000001").unwrap(), q(1, 10));
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "-",
            "+",
            "1/0",
            "1/-2",
            "1/+2",
            "1/",
            "/2",
            "1..2",
            ".",
            "e5",
            "1e",
            "1e+",
            "0x10",
            " 1",
            "1 ",
            "1/2/3",
            "--1",
            "1e5.5",
            "NaN",
            "inf",
            "\u{2212}3",
            "1e1000000",
            "1e100001",
        ] {
            assert!(parse_scalar(bad).is_err(), "{bad:?} accepted");
        }
        let long = "9".repeat(MAX_SCALAR_DIGITS + 1);
        assert!(parse_scalar(&long).is_err());
        assert!(parse_scalar(&"9".repeat(MAX_SCALAR_DIGITS)).is_ok());
    }

    #[test]
    fn f64_decimal_is_exact() {
        // 0.1 as binary64 is exactly 3602879701896397 / 2^55.
        let exact = "0.1000000000000000055511151231257827021181583404541015625";
        let two55 = BigInt::from(1u64 << 55);
        assert_eq!(
            parse_scalar(exact).unwrap(),
            BigRational::new(BigInt::from(3602879701896397u64), two55)
        );
        assert_eq!(format_scalar(&q(-3, 4)), "-3/4");
        assert_eq!(format_scalar(&q(8, 4)), "2");
    }
}
