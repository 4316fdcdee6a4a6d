//! The error bounds are true, checked where the exact value is computable: dyadic inputs on a
//! 2^-24 grid, whose exact logits are integers in units of 2^-48 (i128 arithmetic), while the
//! f64 products, sums and ALiBi biases really round.

mod common;

use common::Rng;
use pespectra_pe::*;

const GRID: i32 = 24; // inputs are multiples of 2^-GRID; exact logits of 2^-(2·GRID)

/// m·2^-s with |m| < 2^30, s ∈ 0..=24: 54-bit sums and 60-bit products round in f64.
fn dyadic(rng: &mut Rng, rows: usize, cols: usize) -> RealMatrix {
    dyadic_bits(rng, rows, cols, 30)
}

fn dyadic_bits(rng: &mut Rng, rows: usize, cols: usize, bits: u32) -> RealMatrix {
    RealMatrix::from_fn(rows, cols, |_, _| {
        let m = (rng.next_u64() % (1 << bits)) as f64 - (1u64 << (bits - 1)) as f64;
        m * 2f64.powi(-((rng.next_u64() % 25) as i32))
    })
}

fn fixed(x: f64) -> i128 {
    let s = x * 2f64.powi(GRID);
    assert_eq!(s.fract(), 0.0, "{x} is not on the grid");
    s as i128
}

/// |value − exact·2^-48| ≤ bound, decided exactly (value·2^48 is an integer: see module doc).
fn assert_within(value: f64, bound: f64, exact: i128, what: &str) {
    let v = value * 2f64.powi(2 * GRID);
    assert_eq!(v.fract(), 0.0);
    let diff = (v as i128 - exact).abs();
    let budget = (bound * 2f64.powi(2 * GRID)).floor() as i128;
    assert!(
        diff <= budget,
        "{what}: off by {diff} units, bound {budget}"
    );
}

#[test]
fn nope_alibi_and_absolute_bounds_hold_against_exact_integer_arithmetic() {
    let mut rng = Rng::new(21);
    let mut rounded = 0usize;
    for trial in 0..30 {
        let (n, d) = (7, 1 + trial % 17);
        let (q, k) = (dyadic(&mut rng, n, d), dyadic(&mut rng, n, d));
        let (pq, pk) = (dyadic(&mut rng, n, d), dyadic(&mut rng, n, d));
        // 52-bit slope on the 2^-48 grid: slope·|i − j| needs up to 55 bits and rounds.
        let m_int = (1i128 << 51) + (rng.next_u64() >> 13) as i128;
        let slope = m_int as f64 * 2f64.powi(-2 * GRID);
        let none = logits_with_bound(&q, &k, &PositionalEncoding::None, 1.0).unwrap();
        let alibi_pe = PositionalEncoding::Alibi {
            slope,
            form: AlibiForm::Symmetric,
        };
        let alibi = logits_with_bound(&q, &k, &alibi_pe, 1.0).unwrap();
        let abs_pe = PositionalEncoding::Absolute {
            query_pos: pq.clone(),
            key_pos: pk.clone(),
        };
        let abs = logits_with_bound(&q, &k, &abs_pe, 1.0).unwrap();
        for i in 0..n {
            for j in 0..n {
                let dot: i128 = (0..d)
                    .map(|c| fixed(q.get(i, c)) * fixed(k.get(j, c)))
                    .sum();
                assert_within(none.value.get(i, j), none.bound.get(i, j), dot, "NoPE");
                let t = (i as i128 - j as i128).abs();
                assert_within(
                    alibi.value.get(i, j),
                    alibi.bound.get(i, j),
                    dot - m_int * t,
                    "ALiBi",
                );
                let shifted: i128 = (0..d)
                    .map(|c| {
                        (fixed(q.get(i, c)) + fixed(pq.get(i, c)))
                            * (fixed(k.get(j, c)) + fixed(pk.get(j, c)))
                    })
                    .sum();
                assert_within(
                    abs.value.get(i, j),
                    abs.bound.get(i, j),
                    shifted,
                    "absolute",
                );
                let exact_f = dot as f64 * 2f64.powi(-2 * GRID);
                rounded +=
                    (none.value.get(i, j) != exact_f || (dot as f64) as i128 != dot) as usize;
            }
        }
    }
    assert!(
        rounded > 100,
        "the data must actually round ({rounded} entries did)"
    );
}

#[test]
fn d2_bounds_hold_against_exact_integer_arithmetic() {
    let mut rng = Rng::new(22);
    let (n, dm, dh) = (5, 4, 3);
    let small = |rng: &mut Rng, r: usize, c: usize| {
        RealMatrix::from_fn(r, c, |_, _| {
            ((rng.next_u64() % 1024) as f64 - 512.0) * 2f64.powi(-((rng.next_u64() % 9) as i32))
        })
    };
    // 20-bit mantissas keep the exact second product inside i128.
    let (c, p) = (
        dyadic_bits(&mut rng, n, dm, 20),
        dyadic_bits(&mut rng, n, dm, 20),
    );
    let (wq, wk) = (small(&mut rng, dm, dh), small(&mut rng, dm, dh));
    let direct = additive_logits_with_bound(&c, &p, &wq, &wk, None, 1.0).unwrap();
    let recon = additive_decomposition(&c, &p, &wq, &wk, None, 1.0)
        .unwrap()
        .reconstruct_with_bound();
    // Exact: x = c + p on the 2^-24 grid, W on 2^-8, q = xW on 2^-32, logits on 2^-64.
    let w8 = |x: f64| (x * 256.0) as i128;
    let proj = |i: usize, w: &RealMatrix, col: usize| -> i128 {
        (0..dm)
            .map(|r| (fixed(c.get(i, r)) + fixed(p.get(i, r))) * w8(w.get(r, col)))
            .sum()
    };
    for i in 0..n {
        for j in 0..n {
            let exact: i128 = (0..dh)
                .map(|col| proj(i, &wq, col) * proj(j, &wk, col))
                .sum();
            // exact is in units of 2^-64; compare |value − exact| ≤ bound in those units.
            for (what, got) in [("D2 direct", &direct), ("D2 reconstructed", &recon)] {
                let v = got.value.get(i, j) * 2f64.powi(64);
                assert_eq!(v.fract(), 0.0);
                let budget = (got.bound.get(i, j) * 2f64.powi(64)).floor() as i128;
                assert!((v as i128 - exact).abs() <= budget, "{what} ({i},{j})");
            }
        }
    }
}

#[test]
fn gamma_is_rounded_up_and_saturates() {
    let u = f64::EPSILON / 2.0;
    assert!(gamma(1) > u && gamma(1) < u * (1.0 + 1e-15) * (1.0 + 2.0 * u));
    assert!(gamma(1000) >= 1000.0 * u / (1.0 - 1000.0 * u));
    assert_eq!(gamma(1usize << 53), f64::INFINITY);
}
