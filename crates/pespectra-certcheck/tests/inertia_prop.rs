//! Property tests: the exact inertia (fraction-free elimination) agrees with
//! an unrelated exact count — Descartes' rule of signs on the characteristic
//! polynomial, computed by Faddeev–LeVerrier. For a Hermitian matrix every
//! root of the characteristic polynomial is real, and for real-rooted
//! polynomials Descartes' rule is exact (no "minus an even number").

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use pespectra_certcheck::inertia::{inertia, Inertia};
use pespectra_certcheck::matrix::CMat;
use proptest::prelude::*;

type Q = BigRational;

fn q(x: i64) -> Q {
    Q::from_integer(BigInt::from(x))
}

/// Characteristic polynomial coefficients c_0..c_n (c_n = 1) of the complex
/// matrix (re, im) by Faddeev–LeVerrier; returns the real parts and asserts
/// the imaginary parts vanish (they must, for a Hermitian matrix).
fn charpoly(n: usize, re: &[Q], im: &[Q]) -> Vec<Q> {
    let mut c_re = vec![Q::zero(); n + 1];
    c_re[n] = q(1);
    let mut m_re = vec![Q::zero(); n * n];
    let mut m_im = vec![Q::zero(); n * n];
    for k in 1..=n {
        // M_k = A M_{k-1} + c_{n-k+1} I
        let mut nr = vec![Q::zero(); n * n];
        let mut ni = vec![Q::zero(); n * n];
        for i in 0..n {
            for j in 0..n {
                let (mut sr, mut si) = (Q::zero(), Q::zero());
                for l in 0..n {
                    let (a, b) = (&re[i * n + l], &im[i * n + l]);
                    let (c, d) = (&m_re[l * n + j], &m_im[l * n + j]);
                    sr += a * c - b * d;
                    si += a * d + b * c;
                }
                nr[i * n + j] = sr;
                ni[i * n + j] = si;
            }
        }
        for i in 0..n {
            nr[i * n + i] += &c_re[n - k + 1];
        }
        m_re = nr;
        m_im = ni;
        // c_{n-k} = -tr(A M_k) / k
        let (mut tr, mut ti) = (Q::zero(), Q::zero());
        for i in 0..n {
            for l in 0..n {
                let (a, b) = (&re[i * n + l], &im[i * n + l]);
                let (c, d) = (&m_re[l * n + i], &m_im[l * n + i]);
                tr += a * c - b * d;
                ti += a * d + b * c;
            }
        }
        assert!(ti.is_zero(), "Hermitian char poly must be real");
        c_re[n - k] = -tr / q(k as i64);
    }
    c_re
}

fn sign_changes(cs: impl Iterator<Item = Q>) -> usize {
    let mut last = 0i32;
    let mut changes = 0;
    for c in cs {
        let s = if c.is_positive() {
            1
        } else if c.is_negative() {
            -1
        } else {
            continue;
        };
        if last != 0 && s != last {
            changes += 1;
        }
        last = s;
    }
    changes
}

/// Inertia by Descartes' rule on a real-rooted polynomial.
fn descartes(c: &[Q]) -> Inertia {
    let zero = c.iter().take_while(|x| x.is_zero()).count();
    let pos = sign_changes(c.iter().cloned());
    let neg =
        sign_changes(
            c.iter()
                .enumerate()
                .map(|(i, x)| if i % 2 == 1 { -x.clone() } else { x.clone() }),
        );
    Inertia { neg, zero, pos }
}

fn shifted(n: usize, re: &[Q], s: &Q) -> Vec<Q> {
    let mut out = re.to_vec();
    for i in 0..n {
        out[i * n + i] -= s;
    }
    out
}

/// Random real symmetric n×n with small integer entries (lots of zeros and
/// singular cases), given as the upper triangle.
fn sym_matrix(
    max_n: usize,
    range: i64,
    zero_diag: bool,
) -> impl Strategy<Value = (usize, Vec<i64>)> {
    (1..=max_n).prop_flat_map(move |n| {
        (
            Just(n),
            prop::collection::vec(-range..=range, n * (n + 1) / 2),
        )
            .prop_map(move |(n, upper)| {
                let mut a = vec![0i64; n * n];
                let mut k = 0;
                for i in 0..n {
                    for j in i..n {
                        let v = if zero_diag && i == j { 0 } else { upper[k] };
                        a[i * n + j] = v;
                        a[j * n + i] = v;
                        k += 1;
                    }
                }
                (n, a)
            })
    })
}

/// Random complex Hermitian n×n with Gaussian-integer entries.
fn herm_matrix(max_n: usize) -> impl Strategy<Value = (usize, Vec<i64>, Vec<i64>)> {
    (1..=max_n).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(-2i64..=2, n * n),
            prop::collection::vec(-2i64..=2, n * n),
            any::<bool>(),
        )
            .prop_map(|(n, r, i, zero_diag)| {
                let mut re = vec![0i64; n * n];
                let mut im = vec![0i64; n * n];
                for a in 0..n {
                    re[a * n + a] = if zero_diag { 0 } else { r[a * n + a] };
                    for b in a + 1..n {
                        re[a * n + b] = r[a * n + b];
                        re[b * n + a] = r[a * n + b];
                        im[a * n + b] = i[a * n + b];
                        im[b * n + a] = -i[a * n + b];
                    }
                }
                (n, re, im)
            })
    })
}

fn to_q(v: &[i64]) -> Vec<Q> {
    v.iter().map(|&x| q(x)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn real_symmetric_inertia_matches_descartes((n, a) in sym_matrix(6, 3, false), s in -3i64..=3) {
        let re = to_q(&a);
        let shift = q(s);
        let got = inertia(&CMat::new(n, n, re.clone(), None), &shift);
        let want = descartes(&charpoly(n, &shifted(n, &re, &shift), &vec![Q::zero(); n * n]));
        prop_assert_eq!(got, want);
    }

    #[test]
    fn zero_diagonal_forces_two_by_two_pivots((n, a) in sym_matrix(6, 2, true)) {
        let re = to_q(&a);
        let got = inertia(&CMat::new(n, n, re.clone(), None), &Q::zero());
        let want = descartes(&charpoly(n, &re, &vec![Q::zero(); n * n]));
        prop_assert_eq!(got, want);
    }

    #[test]
    fn complex_hermitian_inertia_matches_descartes((n, r, i) in herm_matrix(5), s in -2i64..=2, half in any::<bool>()) {
        // Half-integer shifts too, so the shifted matrix has a denominator.
        let shift = if half { Q::new(BigInt::from(2 * s + 1), BigInt::from(2)) } else { q(s) };
        let (re, im) = (to_q(&r), to_q(&i));
        let m = CMat::new(n, n, re.clone(), Some(im.clone()));
        prop_assert!(m.is_hermitian());
        let got = inertia(&m, &shift);
        let want = descartes(&charpoly(n, &shifted(n, &re, &shift), &im));
        prop_assert_eq!(got, want);
    }

    #[test]
    fn complex_inertia_is_half_the_real_embedding((n, r, i) in herm_matrix(4)) {
        let (re, im) = (to_q(&r), to_q(&i));
        let m = 2 * n;
        let mut e = vec![Q::zero(); m * m];
        for a in 0..n {
            for b in 0..n {
                e[a * m + b] = re[a * n + b].clone();
                e[(a + n) * m + b + n] = re[a * n + b].clone();
                e[a * m + b + n] = -im[a * n + b].clone();
                e[(a + n) * m + b] = im[a * n + b].clone();
            }
        }
        let c = inertia(&CMat::new(n, n, re, Some(im)), &Q::zero());
        let d = inertia(&CMat::new(m, m, e, None), &Q::zero());
        prop_assert_eq!((2 * c.neg, 2 * c.zero, 2 * c.pos), (d.neg, d.zero, d.pos));
    }

    /// Mini-fuzz: byte-level mutations of a real certificate never panic.
    #[test]
    fn mutated_certificates_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proofs/certificates/R3.json");
        let mut bytes = std::fs::read(path).unwrap();
        for (idx, b) in edits {
            let k = idx.index(bytes.len());
            bytes[k] = b;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            let _ = pespectra_certcheck::verify_str(&text);
        }
    }
}
