//! Exact inertia of a Hermitian Gaussian-rational matrix.
//!
//! # Method
//! The shifted matrix `H − s·I` is scaled by the (positive) least common
//! multiple of its denominators, which changes no sign, giving a Hermitian
//! matrix with Gaussian-integer entries. Symmetric fraction-free (Bareiss)
//! elimination then runs directly on the complex entries. After eliminating an
//! index set `S` (in order) we hold, for every remaining pair `(i, j)`,
//!
//! ```text
//! M_ij = det H[S ∪ {i}, S ∪ {j}],      d = det H[S, S],
//! ```
//!
//! and the Schur complement of `H[S,S]` is exactly `M / d` (entrywise).
//! Sylvester's determinant identity (`det` of an m×m block of `M` equals
//! `d^(m−1)` times the corresponding bordered minor of `H`) gives the updates:
//!
//! * 1×1 pivot `p` with `M_pp ≠ 0`: `M'_ij = (M_pp M_ij − M_ip M_pj) / d`,
//!   `d' = M_pp`; the eliminated pivot is `M_pp / d`, whose sign is counted.
//! * if every remaining diagonal entry is zero but some `M_pq ≠ 0`, the 2×2
//!   pivot `[[0, s], [s̄, 0]]` has inertia (1, 0, 1) whatever `s`; then
//!   `M'_ij = det [[0, M_pq, M_pj], [M_qp, 0, M_qj], [M_ip, M_iq, M_ij]] / d²`
//!   and `d' = −|M_pq|² / d`.
//! * if the remaining block is zero, each remaining index is a zero eigenvalue.
//!
//! All divisions are exact (the quotients are integer minors), and by
//! Sylvester's law of inertia the pivot signs plus the zero block give the
//! inertia of `H − s·I`. Entry sizes stay bounded by the size of minors
//! (Hadamard's bound), so no gcd is ever taken inside the elimination, and
//! each update computes the upper triangle and mirrors it (conjugated).
//!
//! Working with Gaussian integers directly (instead of the real symmetric
//! embedding `[[Re, −Im], [Im, Re]]`) keeps the dimension at n, i.e. about a
//! quarter of the embedding's arithmetic.

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Zero};

use crate::cost::{Clock, Expired};
use crate::matrix::CMat;

/// Numbers of negative, zero and positive eigenvalues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inertia {
    /// Negative eigenvalues.
    pub neg: usize,
    /// Zero eigenvalues.
    pub zero: usize,
    /// Positive eigenvalues.
    pub pos: usize,
}

/// Least common multiple of the denominators of `xs` (all positive), without
/// needing the `num-integer` trait: `L / q` in lowest terms is `a / b` with
/// `b = q / gcd(L, q)`, so `lcm(L, q) = L · b`.
fn common_denominator<'a>(xs: impl Iterator<Item = &'a BigRational>) -> BigInt {
    let mut l = BigInt::one();
    for x in xs {
        let q = x.denom();
        if q.is_one() {
            continue;
        }
        let r = BigRational::new(l.clone(), q.clone());
        l *= r.denom();
    }
    l
}

fn sign_of(x: &BigInt) -> i32 {
    match x.sign() {
        Sign::Minus => -1,
        Sign::NoSign => 0,
        Sign::Plus => 1,
    }
}

/// Exact inertia of `h − shift·I`. The caller must have checked that `h` is
/// square and Hermitian (only the upper triangle is read).
pub fn inertia(h: &CMat, shift: &BigRational) -> Inertia {
    match inertia_within(h, shift, Clock::NONE) {
        Ok(i) => i,
        Err(Expired) => unreachable!("a computation without a deadline cannot expire"),
    }
}

/// [`inertia`] that gives up with [`Expired`] once `clock`'s deadline has passed (polled once
/// per row of every elimination step).
pub(crate) fn inertia_within(
    h: &CMat,
    shift: &BigRational,
    clock: Clock,
) -> Result<Inertia, Expired> {
    let n = h.rows;
    // Exact shifted entries, upper triangle mirrored.
    let mut re_q: Vec<BigRational> = h.re.clone();
    for i in 0..n {
        re_q[i * n + i] -= shift;
    }
    let l = common_denominator(
        re_q.iter()
            .chain(h.im.as_ref().map(|v| v.iter()).into_iter().flatten()),
    );
    let to_int = |x: &BigRational| -> BigInt { (x.numer() * &l) / x.denom() };
    let mut a_re: Vec<BigInt> = re_q.iter().map(to_int).collect();
    let mut a_im: Option<Vec<BigInt>> = h.im.as_ref().map(|v| v.iter().map(to_int).collect());
    // Enforce exact Hermitian structure from the upper triangle.
    for i in 0..n {
        for j in 0..i {
            a_re[i * n + j] = a_re[j * n + i].clone();
            if let Some(im) = a_im.as_mut() {
                im[i * n + j] = -im[j * n + i].clone();
            }
        }
        if let Some(im) = a_im.as_mut() {
            im[i * n + i] = BigInt::zero();
        }
    }
    bareiss_inertia(n, a_re, a_im, clock)
}

/// Fraction-free symmetric elimination on a Hermitian Gaussian-integer matrix
/// (row-major `re`, optional `im`). See the module docs for the invariant.
fn bareiss_inertia(
    n: usize,
    mut re: Vec<BigInt>,
    mut im: Option<Vec<BigInt>>,
    clock: Clock,
) -> Result<Inertia, Expired> {
    let mut out = Inertia {
        neg: 0,
        zero: 0,
        pos: 0,
    };
    let mut active: Vec<usize> = (0..n).collect();
    let mut d = BigInt::one();
    let mut tmp_re = BigInt::zero();
    while !active.is_empty() {
        // 1×1 pivot: the nonzero diagonal entry of fewest bits keeps growth low.
        let pivot = active
            .iter()
            .enumerate()
            .filter(|(_, &p)| !re[p * n + p].is_zero())
            .min_by_key(|(_, &p)| re[p * n + p].bits())
            .map(|(k, &p)| (k, p));
        if let Some((k, p)) = pivot {
            active.remove(k);
            let mpp = re[p * n + p].clone();
            if sign_of(&mpp) * sign_of(&d) > 0 {
                out.pos += 1;
            } else {
                out.neg += 1;
            }
            for (ai, &i) in active.iter().enumerate() {
                clock.check()?;
                for &j in &active[ai..] {
                    let (ij, ji) = (i * n + j, j * n + i);
                    // M_ip M_pj with M_ip = conj(M_pi) = a + ib, M_pj = c + ie.
                    let a = &re[p * n + i];
                    let c = &re[p * n + j];
                    tmp_re.clone_from(&(a * c));
                    let mut new_im = None;
                    if let Some(imv) = im.as_ref() {
                        let b = -&imv[p * n + i];
                        let e = &imv[p * n + j];
                        tmp_re -= &b * e;
                        if i != j {
                            let ti = a * e + &b * c;
                            new_im = Some((&mpp * &imv[ij] - ti) / &d);
                        }
                    }
                    let new_re = (&mpp * &re[ij] - &tmp_re) / &d;
                    if i != j {
                        re[ji] = new_re.clone();
                    }
                    re[ij] = new_re;
                    if let Some(imv) = im.as_mut() {
                        let v = new_im.unwrap_or_default();
                        if i != j {
                            imv[ji] = -&v;
                        }
                        imv[ij] = v;
                    }
                }
            }
            d = mpp;
            continue;
        }
        // All remaining diagonal entries are zero: look for a 2×2 pivot.
        let mut pair = None;
        'search: for (ai, &p) in active.iter().enumerate() {
            for (bi, &q) in active.iter().enumerate().skip(ai + 1) {
                let nz = !re[p * n + q].is_zero()
                    || im.as_ref().is_some_and(|v| !v[p * n + q].is_zero());
                if nz {
                    pair = Some((ai, bi, p, q));
                    break 'search;
                }
            }
        }
        let Some((ai, bi, p, q)) = pair else {
            out.zero += active.len();
            break;
        };
        out.pos += 1;
        out.neg += 1;
        active.remove(bi);
        active.remove(ai);
        // Complex helpers on (re, im) pairs; M_xy for x, y in {p, q} ∪ active.
        let get = |re: &Vec<BigInt>, im: &Option<Vec<BigInt>>, x: usize, y: usize| {
            // Both triangles are kept in sync (lower = conjugate of upper).
            let r = re[x * n + y].clone();
            let i = im
                .as_ref()
                .map_or_else(BigInt::zero, |v| v[x * n + y].clone());
            (r, i)
        };
        let mul = |x: &(BigInt, BigInt), y: &(BigInt, BigInt)| {
            (&x.0 * &y.0 - &x.1 * &y.1, &x.0 * &y.1 + &x.1 * &y.0)
        };
        let mpq = get(&re, &im, p, q);
        let mqp = (mpq.0.clone(), -mpq.1.clone());
        let s2 = &mpq.0 * &mpq.0 + &mpq.1 * &mpq.1;
        let d2 = &d * &d;
        // Rows p, q are never written below, so reading them inside the loop
        // sees the pre-step values.
        let mut updates = Vec::new();
        for (xi, &i) in active.iter().enumerate() {
            clock.check()?;
            let mip = get(&re, &im, i, p);
            let miq = get(&re, &im, i, q);
            for &j in &active[xi..] {
                let mij = get(&re, &im, i, j);
                let mpj = get(&re, &im, p, j);
                let mqj = get(&re, &im, q, j);
                // −|M_pq|² M_ij + M_pq (M_qj M_ip) + M_qp (M_pj M_iq)
                let t1 = mul(&mpq, &mul(&mqj, &mip));
                let t2 = mul(&mqp, &mul(&mpj, &miq));
                let nr = (-(&s2 * &mij.0) + t1.0 + t2.0) / &d2;
                let ni = (-(&s2 * &mij.1) + t1.1 + t2.1) / &d2;
                updates.push((i, j, nr, ni));
            }
        }
        for (i, j, nr, ni) in updates {
            re[i * n + j] = nr.clone();
            re[j * n + i] = nr;
            if let Some(v) = im.as_mut() {
                if i == j {
                    v[i * n + j] = BigInt::zero();
                } else {
                    v[j * n + i] = -ni.clone();
                    v[i * n + j] = ni;
                }
            }
        }
        d = -s2 / &d;
    }
    Ok(out)
}

/// Convenience for tests and callers holding plain integers.
pub fn inertia_of_integer_symmetric(n: usize, a: &[i64]) -> Inertia {
    let re = a
        .iter()
        .map(|&x| BigRational::from_integer(x.into()))
        .collect();
    inertia(&CMat::new(n, n, re, None), &BigRational::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inertia_i(n: usize, a: &[i64]) -> (usize, usize, usize) {
        let i = inertia_of_integer_symmetric(n, a);
        (i.neg, i.zero, i.pos)
    }

    #[test]
    fn small_cases() {
        assert_eq!(inertia_i(2, &[1, 5, 5, 1]), (1, 0, 1));
        assert_eq!(inertia_i(2, &[1, 1, 1, 1]), (0, 1, 1));
        assert_eq!(inertia_i(2, &[0, 0, 0, 0]), (0, 2, 0));
        assert_eq!(inertia_i(2, &[0, 3, 3, 0]), (1, 0, 1));
        // D_4 = [|i-j|]: one positive, three negative.
        let d4: Vec<i64> = (0..16).map(|k: i64| (k / 4 - k % 4).abs()).collect();
        assert_eq!(inertia_i(4, &d4), (3, 0, 1));
        // Zero diagonal forces 2×2 pivots mid-way: [[0,1,0],[1,0,0],[0,0,0]].
        assert_eq!(inertia_i(3, &[0, 1, 0, 1, 0, 0, 0, 0, 0]), (1, 1, 1));
        assert_eq!(inertia_i(3, &[0, 1, 1, 1, 0, 1, 1, 1, 0]), (2, 0, 1));
        assert_eq!(inertia_i(1, &[-7]), (1, 0, 0));
    }

    #[test]
    fn complex_two_by_two() {
        // [[0, i], [-i, 0]] has eigenvalues ±1; [[1, i], [-i, 1]] has 0 and 2.
        let z = BigRational::zero;
        let o = BigRational::one;
        let m = CMat::new(
            2,
            2,
            vec![z(), z(), z(), z()],
            Some(vec![z(), o(), -o(), z()]),
        );
        assert_eq!(
            inertia(&m, &z()),
            Inertia {
                neg: 1,
                zero: 0,
                pos: 1
            }
        );
        let m = CMat::new(
            2,
            2,
            vec![o(), z(), z(), o()],
            Some(vec![z(), o(), -o(), z()]),
        );
        assert_eq!(
            inertia(&m, &z()),
            Inertia {
                neg: 0,
                zero: 1,
                pos: 1
            }
        );
        let two = BigRational::from_integer(2.into());
        assert_eq!(
            inertia(&m, &two),
            Inertia {
                neg: 1,
                zero: 1,
                pos: 0
            }
        );
    }
}
