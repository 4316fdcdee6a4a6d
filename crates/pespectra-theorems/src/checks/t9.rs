//! T9: the spectrum of a symmetric Toeplitz matrix lies within the range of its symbol, which
//! is enclosed on a grid in MPFR with a Lipschitz bound between grid points.

use crate::enclose::eig;
use crate::instances::rng;
use crate::registry::{Entry, Homogeneity, Operands, UserForm};
use crate::user::UserInput;
use crate::{CheckError, Outcome, Params, Verdict};
use faer::Mat;
use pespectra_arith::interval::Interval;
use pespectra_spectra::ball::Ball;
use pespectra_spectra::matrix::CMat;
use rand::Rng;
use rug::float::{Constant, Round};
use rug::Float;

pub(crate) const ENTRY: Entry = Entry {
    id: "T9",
    statement: "symmetric Toeplitz T_n: spec ⊂ [min s, max s], s(ω) = t_0 + 2Σ t_k cos kω",
    expected: Verdict::Holds,
    seeded,
    user: Some(UserForm {
        operands: Operands::A,
        homogeneity: Homogeneity::InA,
        check: on_matrices,
    }),
};

fn seeded(p: &Params) -> Result<Outcome, CheckError> {
    use pespectra_pe::T5Buckets;
    let n = p.n;
    let mut r = rng(p, 9);
    // symmetrised T5 bias: t_k = (β(bucket(k)) + β(bucket(−k)))/2, a learned table of 32 values
    let table: Vec<f64> = (0..32).map(|_| r.gen_range(-2.0..2.0)).collect();
    let bk = T5Buckets::ENCODER;
    let t: Vec<f64> = (0..n as i64)
        .map(|k| Ok::<f64, CheckError>(0.5 * (table[bk.bucket(k)?] + table[bk.bucket(-k)?])))
        .collect::<Result<_, _>>()?;
    toeplitz_check(&t, "symmetrised T5 bias (32 buckets, max distance 128)")
}

/// T9 on the symmetric Toeplitz matrix with first row `t`.
fn toeplitz_check(t: &[f64], what: &str) -> Result<Outcome, CheckError> {
    let n = t.len();
    let tm = Ball::exact(CMat::real(Mat::from_fn(n, n, |i, j| t[i.abs_diff(j)])));
    let e = eig(&tm.hermitian_input()?)?;
    let prec = 128;
    // Lipschitz constant of s: |s'| ≤ 2Σ k|t_k| (upward), grid of M points covering [0, π]
    let lip = t.iter().enumerate().fold(Float::new(prec), |s, (k, v)| {
        Float::with_val_round(
            prec,
            s + Float::with_val(prec, v.abs()) * k as u32 * 2u32,
            Round::Up,
        )
        .0
    });
    let m_pts = (16 * n).max(2048) as u32;
    let pi_hi = Float::with_val_round(prec, Constant::Pi, Round::Up).0;
    let h = Float::with_val_round(prec, &pi_hi / m_pts, Round::Up).0;
    let half_h_lip = Float::with_val_round(
        prec,
        Float::with_val_round(prec, &h * &lip, Round::Up).0 / 2u32,
        Round::Up,
    )
    .0;
    let (mut min_upper, mut max_lower) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut min_lower, mut max_upper) = (f64::INFINITY, f64::NEG_INFINITY);
    for m in 0..=m_pts {
        let w = Float::with_val(prec, &h * m);
        // point values (no Lipschitz term) certify an upper bound of min s / lower bound of max s
        let (plo, phi) = symbol_bounds(t, &w, prec);
        min_upper = min_upper.min(phi.to_f64_round(Round::Up));
        max_lower = max_lower.max(plo.to_f64_round(Round::Down));
        // widened by h/2·|s'|max, they enclose s on [ω_m − h/2, ω_m + h/2]
        let slo = Float::with_val_round(prec, &plo - &half_h_lip, Round::Down).0;
        let shi = Float::with_val_round(prec, &phi + &half_h_lip, Round::Up).0;
        min_lower = min_lower.min(slo.to_f64_round(Round::Down));
        max_upper = max_upper.max(shi.to_f64_round(Round::Up));
    }
    // spec ⊂ [min s, max s] ⇐ λmin ≥ (an upper bound of min s) and λmax ≤ (a lower bound of max s)
    let margin = (e[n - 1] - Interval::point(min_upper))
        .lo()
        .min((Interval::point(max_lower) - e[0]).lo());
    let viol = (Interval::point(min_lower) - e[n - 1])
        .lo()
        .max((e[0] - Interval::point(max_upper)).lo());
    Ok(Outcome::from_margin(margin, viol, format!("n = {n}, {what}: spec ⊂ [{:.6}, {:.6}] ⊂ [min s, max s], min s ∈ [{min_lower:.6}, {min_upper:.6}], max s ∈ [{max_lower:.6}, {max_upper:.6}] ({m_pts} subintervals)", e[n - 1].lo(), e[0].hi())))
}

/// Rigorous enclosure of `s(ω) = t_0 + 2Σ_k t_k cos(kω)` at the grid point ω = `w`.
fn symbol_bounds(t: &[f64], w: &Float, prec: u32) -> (Float, Float) {
    let mut lo = Float::with_val(prec, t[0]);
    let mut hi = lo.clone();
    for (k, &tk) in t.iter().enumerate().skip(1) {
        let arg = Float::with_val(prec, w * k as u32); // exact: k·ω needs ≤ 64 + 11 bits
                                                       // one correctly rounded cos: rounded down, the true value is that or the next float up
        let (c_lo, dir) = Float::with_val_round(prec, arg.cos_ref(), Round::Down);
        let mut c_hi = c_lo.clone();
        if dir != std::cmp::Ordering::Equal {
            c_hi.next_up();
        }
        let two_t = Float::with_val(prec, 2.0 * tk); // exact
        let (a, b) = if tk >= 0.0 {
            (&c_lo, &c_hi)
        } else {
            (&c_hi, &c_lo)
        };
        lo = Float::with_val_round(
            prec,
            &lo + Float::with_val_round(prec, &two_t * a, Round::Down).0,
            Round::Down,
        )
        .0;
        hi = Float::with_val_round(
            prec,
            &hi + Float::with_val_round(prec, &two_t * b, Round::Up).0,
            Round::Up,
        )
        .0;
    }
    (lo, hi)
}

/// T9 on a user A: exactly real symmetric Toeplitz, else INCONCLUSIVE.
fn on_matrices(u: &UserInput) -> Result<Outcome, CheckError> {
    let a = u.a;
    let n = a.nrows();
    let t: Vec<f64> = (0..n).map(|k| a.re[(0, k)]).collect();
    let toeplitz =
        !a.is_complex() && (0..n).all(|i| (0..n).all(|j| a.re[(i, j)] == t[i.abs_diff(j)]));
    if !toeplitz {
        return Ok(Outcome::inconclusive(
            "hypothesis false: A is not a real symmetric Toeplitz matrix",
        ));
    }
    toeplitz_check(&t, &UserInput::described("exactly symmetric Toeplitz"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Params;

    /// The symbol enclosure at a grid point contains a 512-bit evaluation, and a point where
    /// s is exact (ω = 0: s = t_0 + 2Σt_k) is enclosed tightly.
    #[test]
    fn symbol_bounds_enclose_the_symbol() {
        let mut r = rng(&Params::new(5, 4), 1);
        for _ in 0..50 {
            let t: Vec<f64> = (0..r.gen_range(1..20))
                .map(|_| r.gen_range(-3.0..3.0))
                .collect();
            let w = Float::with_val(128, r.gen_range(0.0..3.2));
            let (lo, hi) = symbol_bounds(&t, &w, 128);
            let mut s = Float::with_val(512, t[0]);
            for (k, &tk) in t.iter().enumerate().skip(1) {
                let c = Float::with_val(512, &w * k as u32).cos();
                s += Float::with_val(512, 2.0 * tk) * c;
            }
            assert!(lo <= s && s <= hi, "{lo} ≤ {s} ≤ {hi}");
        }
        let t = [1.0, 0.5, -0.25];
        let (lo, hi) = symbol_bounds(&t, &Float::new(128), 128);
        assert!(lo <= 1.5 && hi >= 1.5 && Float::with_val(128, &hi - &lo) < 1e-30);
    }
}
