//! An upper bound of the spectral norm from an entrywise bound, in one pass over the columns.

use super::par::{column_chunk, map_column_blocks, par_for};
use super::split::{col, unit_rows};
use super::{gamma_factor, AffineUpper, ETA64};
use crate::round::{add_up, mul_up, sqrt_up};
use faer::MatRef;

/// Row sums, column sums and sum of squares of a block of scaled columns.
struct Sums {
    rows: Vec<f64>,
    cols: Vec<f64>,
    frob: f64,
}

impl Sums {
    fn merge(mut self, other: Sums) -> Sums {
        self.rows
            .iter_mut()
            .zip(&other.rows)
            .for_each(|(x, y)| *x += y);
        self.cols.extend(other.cols);
        self.frob += other.frob;
        self
    }
}

/// Upper bound of the spectral norm of a matrix given an entrywise bound `M ≥ |X|`:
/// `‖X‖₂ ≤ ‖M‖₂ ≤ min(√(‖M‖₁‖M‖∞), ‖M‖_F)`. The matrix is first scaled by a power of two `2⁻ᵉ`
/// so that neither squares nor products under- or overflow (exact unless a scaled entry is
/// subnormal, which is then rounded upward); sums of k non-negative terms are taken to nearest,
/// in any order (column blocks are summed in parallel for large matrices), and inflated by
/// `1 + c_k` (they lose at most a factor `(1−u)^(k−1)`), squares get `+kη` for underflow; the
/// final steps are rounded upward. A NaN entry gives NaN (no bound), never a finite value.
pub fn norm2_upper(m: MatRef<'_, f64>) -> f64 {
    let mut slot = None;
    let m = unit_rows(m, &mut slot);
    let (r, c) = (m.nrows(), m.ncols());
    let chunk = column_chunk(c, par_for(r.max(c)));
    let block_max = |j0: usize, j1: usize| {
        let (mut big, mut nan) = (0.0f64, false);
        for j in j0..j1 {
            for &v in col(m, j) {
                big = big.max(v);
                nan |= v.is_nan();
            }
        }
        if nan {
            f64::NAN
        } else {
            big
        }
    };
    let big = map_column_blocks(c, chunk, block_max, |a, b| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    });
    if big == 0.0 || !big.is_finite() {
        return big;
    }
    let e = big.log2().floor() as i32;
    let down = 2f64.powi(-e.clamp(-1000, 1000));
    let up_factor = 2f64.powi(e.clamp(-1000, 1000));
    let scaled = |v: f64| {
        let s = v * down;
        if s < f64::MIN_POSITIVE && v != 0.0 {
            mul_up(v, down)
        } else {
            s
        }
    };
    let block_sums = |j0: usize, j1: usize| {
        let mut sums = Sums {
            rows: vec![0.0; r],
            cols: Vec::with_capacity(j1 - j0),
            frob: 0.0,
        };
        for j in j0..j1 {
            let (mut cs, mut sq) = (0.0, 0.0);
            for (rs, &v) in sums.rows.iter_mut().zip(col(m, j)) {
                let v = scaled(v);
                *rs += v;
                cs += v;
                sq += v * v;
            }
            sums.cols.push(cs);
            sums.frob += sq;
        }
        sums
    };
    let sums = map_column_blocks(c, chunk, block_sums, Sums::merge);
    let row_max = AffineUpper::new(add_up(1.0, gamma_factor(c)), 0.0)
        .eval(sums.rows.into_iter().fold(0.0, f64::max));
    let col_max = AffineUpper::new(add_up(1.0, gamma_factor(r)), 0.0)
        .eval(sums.cols.into_iter().fold(0.0, f64::max));
    let k = r * c;
    let one_plus = add_up(1.0, gamma_factor(2 * k));
    let frob =
        AffineUpper::new(one_plus, mul_up(one_plus, mul_up(k as f64, ETA64))).eval(sums.frob);
    let hoelder = sqrt_up(mul_up(row_max, col_max));
    mul_up(hoelder.min(sqrt_up(frob)), up_factor)
}
