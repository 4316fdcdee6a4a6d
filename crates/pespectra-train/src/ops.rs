//! The positional operations, as differentiable candle expressions of candle primitives (so
//! candle's autodiff differentiates them; the tests check those gradients by finite
//! differences in f64).

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, DType, Device, Layout, Result, Shape, Tensor, D,
};

use crate::config::Rotation;

/// Sine and cosine tables `[n, dim/2]` of the rotary map at positions `0..n`,
/// θ_f = base^(−2f/dim). `Rotation::Paper` pairs them as the authors' `mla.py` does:
/// `e = [sin iθ | cos iθ]`, `s_f = e[2f]`, `c_f = e[2f+1]`.
pub fn rotary_tables(
    n: usize,
    dim: usize,
    base: f64,
    rotation: Rotation,
    dtype: DType,
    dev: &Device,
) -> Result<(Tensor, Tensor)> {
    let half = dim / 2;
    let mut s = Vec::with_capacity(n * half);
    let mut c = Vec::with_capacity(n * half);
    for i in 0..n {
        let e: Vec<f64> = (0..half)
            .map(|f| (i as f64 * base.powf(-2.0 * f as f64 / dim as f64)).sin())
            .chain((0..half).map(|f| (i as f64 * base.powf(-2.0 * f as f64 / dim as f64)).cos()))
            .collect();
        for f in 0..half {
            match rotation {
                Rotation::Rope => {
                    s.push(e[f]);
                    c.push(e[half + f]);
                }
                Rotation::Paper => {
                    s.push(e[2 * f]);
                    c.push(e[2 * f + 1]);
                }
            }
        }
    }
    let t = |v: Vec<f64>| Tensor::from_vec(v, (n, half), dev)?.to_dtype(dtype);
    Ok((t(s)?, t(c)?))
}

/// Rotates the adjacent pairs `(x_{2f}, x_{2f+1})` of the last axis of `x [.., n, dim]` by the
/// tables of [`rotary_tables`]; the output lists all first components, then all second ones
/// (the layout of the authors' `mla.py`). The same permutation on queries and keys leaves every
/// logit as with an in-place rotation.
pub fn rotate_pairs(x: &Tensor, sin: &Tensor, cos: &Tensor) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let dim = *dims.last().expect("rank ≥ 1");
    let mut pairs = dims.clone();
    pairs.pop();
    pairs.extend([dim / 2, 2]);
    let p = x.reshape(pairs)?;
    let a = p.narrow(D::Minus1, 0, 1)?.squeeze(D::Minus1)?;
    let b = p.narrow(D::Minus1, 1, 1)?.squeeze(D::Minus1)?;
    let first = (a.broadcast_mul(cos)? - b.broadcast_mul(sin)?)?;
    let second = (a.broadcast_mul(sin)? + b.broadcast_mul(cos)?)?;
    Tensor::cat(&[first, second], D::Minus1)
}

/// T5's bidirectional bucket of the offset `r = j − i` (memory minus query position).
pub fn t5_bucket(r: i64, buckets: usize, max_distance: usize) -> usize {
    let half = buckets / 2;
    let base = if r > 0 { half } else { 0 };
    let a = r.unsigned_abs() as usize;
    let exact = half / 2;
    if a < exact {
        return base + a;
    }
    let log = ((a as f64 / exact as f64).ln() / (max_distance as f64 / exact as f64).ln()
        * (half - exact) as f64) as usize;
    base + (exact + log).min(half - 1)
}

/// Row indices into a bias table for every `(i, j)` of an `n × n` score matrix.
pub fn bias_indices(n: usize, index: impl Fn(i64) -> usize, dev: &Device) -> Result<Tensor> {
    let idx: Vec<u32> = (0..n * n)
        .map(|x| index((x % n) as i64 - (x / n) as i64) as u32)
        .collect();
    Tensor::from_vec(idx, n * n, dev)
}

/// The `[H, n, n]` bias read from `table [rows, H]` at `indices` (from [`bias_indices`]);
/// gradients reach the table rows.
pub fn table_bias(table: &Tensor, indices: &Tensor, n: usize) -> Result<Tensor> {
    let heads = table.dim(1)?;
    table.index_select(indices, 0)?.t()?.reshape((heads, n, n))
}

/// ALiBi's `[H, n, n]` bias −m_h |i − j|.
pub fn alibi_bias(slopes: &[f64], n: usize, dtype: DType, dev: &Device) -> Result<Tensor> {
    let v: Vec<f64> = slopes
        .iter()
        .flat_map(|m| (0..n * n).map(move |x| -m * (x / n).abs_diff(x % n) as f64))
        .collect();
    Tensor::from_vec(v, (slopes.len(), n, n), dev)?.to_dtype(dtype)
}

/// Softmax over the last axis as one pass per row (forward and backward), instead of the five
/// elementwise passes of the composed expression: the score matrices are the largest tensors
/// of the model, and these passes dominate a step.
pub fn softmax(x: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op1(Softmax)
}

struct Softmax;

/// e^x for f32 within 2 ulp-ish (relative error < 3e-7 on the range used), written with
/// adds, multiplies and bit moves only so that the row loop vectorises (libm's `expf` is a call
/// per element and was a third of a training step). Below −87.3 it returns 0, like a masked
/// score should.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let xc = x.clamp(-87.3, 88.0);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    // SAFETY: xc is clamped, so n is an integer in [−126, 128] and fits an i32 (the checked
    // `as` conversion's saturation logic does not vectorise)
    let ni: i32 = unsafe { n.to_int_unchecked() };
    let scale = f32::from_bits(((ni + 127) as u32) << 23);
    if x < -87.3 {
        0.0
    } else {
        p * scale
    }
}

/// Row-wise softmax of contiguous rows of length `n`, shifted by the row maximum.
trait Rows: num_traits::Float {
    fn exp_row(shifted: &mut [Self]);
}

impl Rows for f32 {
    fn exp_row(v: &mut [f32]) {
        v.iter_mut().for_each(|x| *x = exp_f32(*x));
    }
}

impl Rows for f64 {
    fn exp_row(v: &mut [f64]) {
        v.iter_mut().for_each(|x| *x = x.exp());
    }
}

/// Sum and maximum with eight independent accumulators, so the loops vectorise (a single
/// running float accumulator is a serial chain the compiler may not reorder).
fn lanes<T: num_traits::Float>(v: &[T], init: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [init; 8];
    let chunks = v.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = f(*a, x);
        }
    }
    let mut r = tail.iter().fold(init, |a, &x| f(a, x));
    for a in acc {
        r = f(r, a);
    }
    r
}

fn softmax_rows<T: Rows>(src: &[T], n: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(src.len());
    for r in src.chunks_exact(n) {
        let m = lanes(r, T::neg_infinity(), |a, b| if b > a { b } else { a });
        let start = out.len();
        out.extend(r.iter().map(|&x| x - m));
        let row = &mut out[start..];
        T::exp_row(row);
        let inv = T::one() / lanes(row, T::zero(), |a, b| a + b);
        row.iter_mut().for_each(|y| *y = *y * inv);
    }
    out
}

/// dx = y ⊙ (g − ⟨g, y⟩) per row.
fn softmax_grad_rows<T: num_traits::Float>(y: &[T], g: &[T], n: usize) -> Vec<T> {
    let mut out = vec![T::zero(); y.len()];
    for ((yr, gr), o) in y
        .chunks_exact(n)
        .zip(g.chunks_exact(n))
        .zip(out.chunks_exact_mut(n))
    {
        let dot = yr.iter().zip(gr).fold(T::zero(), |a, (&y, &g)| a + y * g); // backward: a tenth of forward's cost
        for ((d, &y), &g) in o.iter_mut().zip(yr).zip(gr) {
            *d = y * (g - dot);
        }
    }
    out
}

fn contiguous<'a, T>(s: &'a [T], l: &Layout) -> Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&s[a..b]),
        None => candle_core::bail!("softmax needs contiguous rows"),
    }
}

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "pespectra-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let n = *l.dims().last().unwrap_or(&1);
        let out = match s {
            CpuStorage::F32(v) => CpuStorage::F32(softmax_rows(contiguous(v, l)?, n)),
            CpuStorage::F64(v) => CpuStorage::F64(softmax_rows(contiguous(v, l)?, n)),
            _ => candle_core::bail!("softmax is implemented for f32 and f64"),
        };
        Ok((out, l.shape().clone()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(
            res.apply_op2_no_bwd(&grad.contiguous()?, &SoftmaxGrad)?,
        ))
    }
}

struct SoftmaxGrad;

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "pespectra-softmax-grad"
    }

    fn cpu_fwd(
        &self,
        y: &CpuStorage,
        ly: &Layout,
        g: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = *ly.dims().last().unwrap_or(&1);
        let out = match (y, g) {
            (CpuStorage::F32(y), CpuStorage::F32(g)) => {
                CpuStorage::F32(softmax_grad_rows(contiguous(y, ly)?, contiguous(g, lg)?, n))
            }
            (CpuStorage::F64(y), CpuStorage::F64(g)) => {
                CpuStorage::F64(softmax_grad_rows(contiguous(y, ly)?, contiguous(g, lg)?, n))
            }
            _ => candle_core::bail!("softmax gradient needs two f32 or two f64 tensors"),
        };
        Ok((out, ly.shape().clone()))
    }
}

/// LayerNorm over the last axis with a biased variance.
pub fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
    let d = x.dim(D::Minus1)? as f64;
    let c = x.broadcast_sub(&(x.sum_keepdim(D::Minus1)? / d)?)?;
    let var = (c.sqr()?.sum_keepdim(D::Minus1)? / d)?;
    c.broadcast_div(&(var + eps)?.sqrt()?)?
        .broadcast_mul(w)?
        .broadcast_add(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// Central differences of `f` at `x` against candle's gradient; `f` must be smooth there.
    fn check_grad(x: &Tensor, f: impl Fn(&Tensor) -> Result<Tensor>) {
        let v = Var::from_tensor(x).unwrap();
        let y = f(v.as_tensor()).unwrap();
        let g = y.backward().unwrap();
        let grad: Vec<f64> = g
            .get(v.as_tensor())
            .expect("gradient reaches the input")
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let base: Vec<f64> = x.flatten_all().unwrap().to_vec1().unwrap();
        let h = 1e-6;
        for i in 0..base.len() {
            let at = |d: f64| {
                let mut b = base.clone();
                b[i] += d;
                let t = Tensor::from_vec(b, x.shape(), x.device()).unwrap();
                f(&t).unwrap().to_scalar::<f64>().unwrap()
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "element {i}: autodiff {} vs finite difference {fd}",
                grad[i]
            );
        }
    }

    fn rand(shape: &[usize], seed: u64) -> Tensor {
        use rand::{Rng, SeedableRng};
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let v: Vec<f64> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// A fixed random linear functional, so the check sees every output element.
    fn dot(y: &Tensor, seed: u64) -> Result<Tensor> {
        (y * rand(y.dims(), seed))?.sum_all()
    }

    #[test]
    fn rope_is_a_rotation_with_relative_logits() {
        let (n, d) = (6, 8);
        let (s, c) =
            rotary_tables(n, d, 10000.0, Rotation::Rope, DType::F64, &Device::Cpu).unwrap();
        let q = rand(&[n, d], 1);
        let rq = rotate_pairs(&q, &s, &c).unwrap();
        // norms are kept
        let nq: Vec<f64> = q.sqr().unwrap().sum(1).unwrap().to_vec1().unwrap();
        let nr: Vec<f64> = rq.sqr().unwrap().sum(1).unwrap().to_vec1().unwrap();
        for (a, b) in nq.iter().zip(&nr) {
            assert!((a - b).abs() < 1e-12);
        }
        // the same vector at every position: ⟨R_i v, R_j v⟩ depends on j − i only
        let v = rand(&[1, d], 2).repeat((n, 1)).unwrap();
        let r = rotate_pairs(&v, &s, &c).unwrap();
        let g: Vec<Vec<f64>> = r.matmul(&r.t().unwrap()).unwrap().to_vec2().unwrap();
        for i in 1..n {
            for j in 1..n {
                assert!((g[i][j] - g[i - 1][j - 1]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn the_authors_mla_map_is_not_a_rotation() {
        // paper-notes §4.3: c² + s² at position 7, head dim 16
        let (s, c) =
            rotary_tables(8, 16, 10000.0, Rotation::Paper, DType::F64, &Device::Cpu).unwrap();
        let s: Vec<Vec<f64>> = s.to_vec2().unwrap();
        let c: Vec<Vec<f64>> = c.to_vec2().unwrap();
        let norms: Vec<f64> = (0..8).map(|f| s[7][f].powi(2) + c[7][f].powi(2)).collect();
        let want = [1.07, 0.46, 0.005, 0.0, 0.93, 1.54, 2.0, 2.0];
        for (g, w) in norms.iter().zip(want) {
            assert!((g - w).abs() < 0.006, "{norms:?}");
        }
    }

    #[test]
    fn t5_buckets_match_the_closed_form() {
        // 32 buckets, max distance 128: half 16, exact 8; offsets 0..7 map to themselves,
        // a = 8 → 8, a = 127 → 8 + ⌊ln(127/8)/ln 16 · 8⌋ = 8 + 7 = 15, a ≥ 128 saturates at 15.
        assert_eq!(t5_bucket(0, 32, 128), 0);
        assert_eq!(t5_bucket(-7, 32, 128), 7);
        assert_eq!(t5_bucket(7, 32, 128), 23);
        assert_eq!(t5_bucket(-8, 32, 128), 8);
        assert_eq!(t5_bucket(-16, 32, 128), 10); // 8 + ⌊ln 2/ln 16 · 8⌋ = 8 + 2
        assert_eq!(t5_bucket(-127, 32, 128), 15);
        assert_eq!(t5_bucket(500, 32, 128), 31);
        assert_eq!(t5_bucket(1, 32, 128), 17);
    }

    #[test]
    fn gradients_of_rotations_match_finite_differences() {
        for rotation in [Rotation::Rope, Rotation::Paper] {
            let (s, c) = rotary_tables(5, 6, 10000.0, rotation, DType::F64, &Device::Cpu).unwrap();
            check_grad(&rand(&[2, 5, 6], 3), |x| dot(&rotate_pairs(x, &s, &c)?, 4));
        }
    }

    #[test]
    fn gradients_of_bias_tables_softmax_and_norm_match_finite_differences() {
        let n = 5;
        let dev = Device::Cpu;
        let rel = bias_indices(n, |r| (r + n as i64 - 1) as usize, &dev).unwrap();
        let t5 = bias_indices(n, |r| t5_bucket(r, 8, 16), &dev).unwrap();
        let scores = rand(&[2, n, n], 9);
        // the learned bias enters the softmax, as in the model
        check_grad(&rand(&[2 * n - 1, 2], 5), |t| {
            dot(&softmax(&scores.add(&table_bias(t, &rel, n)?)?)?, 6)
        });
        check_grad(&rand(&[8, 2], 7), |t| {
            dot(&softmax(&scores.add(&table_bias(t, &t5, n)?)?)?, 8)
        });
        // ALiBi is a constant: its scores' gradient passes through the softmax
        let alibi = alibi_bias(&[1.0, 0.5], n, DType::F64, &dev).unwrap();
        check_grad(&scores, |x| dot(&softmax(&x.add(&alibi)?)?, 10));
        let (w, b) = (rand(&[6], 11), rand(&[6], 12));
        check_grad(&rand(&[3, 6], 13), |x| {
            dot(&layer_norm(x, &w, &b, 1e-5)?, 14)
        });
    }

    #[test]
    fn fused_softmax_matches_the_composed_expression_and_survives_large_scores() {
        let x = (rand(&[3, 7], 21) * 30.0).unwrap();
        let m = x.max_keepdim(D::Minus1).unwrap();
        let e = x.broadcast_sub(&m).unwrap().exp().unwrap();
        let want = e.broadcast_div(&e.sum_keepdim(D::Minus1).unwrap()).unwrap();
        let got = softmax(&x).unwrap();
        let diff: f64 = (got - want)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-15, "{diff}");
        // −1e9 masking and scores near f32's range stay finite
        let big = Tensor::new(&[[1e30f32, -1e9, 0.0]], &Device::Cpu).unwrap();
        let y: Vec<Vec<f32>> = softmax(&big).unwrap().to_vec2().unwrap();
        assert_eq!(y[0], vec![1.0, 0.0, 0.0]);
        check_grad(&rand(&[2, 3, 5], 22), |x| dot(&softmax(x)?, 23));
    }

    #[test]
    fn fast_exp_is_within_its_stated_error_and_zero_below_range() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let e = (x as f64).exp();
            worst = worst.max(((exp_f32(x) as f64) - e).abs() / e);
            x += 0.013;
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(exp_f32(-1e9), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn bias_tables_read_the_offset_row() {
        let n = 4;
        let dev = Device::Cpu;
        let rel = bias_indices(n, |r| (r + n as i64 - 1) as usize, &dev).unwrap();
        // table row r holds (10 r, −r): head 0 sees 10·((j − i) + 3)
        let t: Vec<f64> = (0..2 * n - 1)
            .flat_map(|r| [10.0 * r as f64, -(r as f64)])
            .collect();
        let t = Tensor::from_vec(t, (2 * n - 1, 2), &dev).unwrap();
        let b: Vec<Vec<Vec<f64>>> = table_bias(&t, &rel, n).unwrap().to_vec3().unwrap();
        assert_eq!(b[0][0][3], 60.0);
        assert_eq!(b[0][3][0], 0.0);
        assert_eq!(b[1][2][2], -3.0);
        let a: Vec<Vec<Vec<f64>>> = alibi_bias(&[0.5], n, DType::F64, &dev)
            .unwrap()
            .to_vec3()
            .unwrap();
        assert_eq!(a[0][0][3], -1.5);
        assert_eq!(a[0][2][2], 0.0);
    }
}
