//! Rigorous enclosures of the RoPE phases `u_j = e^{ijθ}` (so that `E_ij = conj(u_i)·u_j`).
//!
//! θ is the f64 the model uses; `j·θ` is exact in 128-bit MPFR (53 + 11 bits suffice for
//! j < 2048, and 128 bits for any j < 2^75), and MPFR's `cos`/`sin` are correctly rounded, so
//! rounding the 128-bit results down and up to f64 gives intervals that contain the exact
//! cosine and sine. No libm assumption is needed. Enclosures are cached per (θ, n): every head
//! of a model shares the same frequencies.

use pespectra_arith::interval::Interval;
use rug::float::Round;
use rug::Float;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// `(cos jθ, sin jθ)` enclosures for j = 0..n.
pub type Phases = Arc<Vec<(Interval, Interval)>>;

const PREC: u32 = 128;

fn clamp_unit(lo: f64, hi: f64) -> Interval {
    Interval::new(lo.max(-1.0), hi.min(1.0)).expect("a correctly rounded enclosure is ordered")
}

fn compute(theta: f64, n: usize) -> Vec<(Interval, Interval)> {
    let t = Float::with_val(PREC, theta);
    (0..n)
        .map(|j| {
            let angle = Float::with_val(PREC, &t * j as u64); // exact: see module docs
            let (c_dn, _) = Float::with_val_round(PREC, angle.cos_ref(), Round::Down);
            let (c_up, _) = Float::with_val_round(PREC, angle.cos_ref(), Round::Up);
            let (s_dn, _) = Float::with_val_round(PREC, angle.sin_ref(), Round::Down);
            let (s_up, _) = Float::with_val_round(PREC, angle.sin_ref(), Round::Up);
            (
                clamp_unit(c_dn.to_f64_round(Round::Down), c_up.to_f64_round(Round::Up)),
                clamp_unit(s_dn.to_f64_round(Round::Down), s_up.to_f64_round(Round::Up)),
            )
        })
        .collect()
}

/// Enclosures of `(cos jθ, sin jθ)`, j = 0..n (cached).
///
/// # Panics
/// If θ is not finite (captures are validated before they get here).
pub fn phases(theta: f64, n: usize) -> Phases {
    assert!(theta.is_finite(), "RoPE frequency must be finite");
    static CACHE: OnceLock<Mutex<HashMap<(u64, usize), Phases>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (theta.to_bits(), n);
    if let Some(p) = cache.lock().expect("cache lock").get(&key) {
        return p.clone();
    }
    let p = Arc::new(compute(theta, n));
    cache.lock().expect("cache lock").insert(key, p.clone());
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_contain_exact_values_and_are_tight() {
        // θ = π/2 rounded: j·θ is within j·2^-52 of jπ/2, so cos/sin are near 0/±1
        let p = phases(std::f64::consts::FRAC_PI_2, 5);
        assert_eq!(p[0].0, Interval::point(1.0));
        assert_eq!(p[0].1, Interval::point(0.0));
        for (j, (c, s)) in p.iter().enumerate() {
            let (ce, se) = (
                (j as f64 * std::f64::consts::FRAC_PI_2).cos(),
                (j as f64 * std::f64::consts::FRAC_PI_2).sin(),
            );
            assert!((c.lo() - ce).abs() < 1e-15 && (s.lo() - se).abs() < 1e-15);
            assert!(c.width() <= 2.0 * f64::EPSILON && s.width() <= 2.0 * f64::EPSILON);
        }
        // sin(π/2 rounded) is below 1 but within 1 ulp: the enclosure must not exclude 1 - tiny
        assert!(p[1].1.hi() <= 1.0 && p[1].1.lo() > 1.0 - 1e-15);
    }
}
