//! Differential soundness of the verified spectral paths against exact rational arithmetic.
//!
//! From the fuzz bytes: a real symmetric or complex Hermitian matrix, n ≤ 6, with f64 entries
//! (extreme exponents from 2⁻¹⁰⁷⁴ to 2⁴⁹⁸ < 1e150, subnormals, small integers for exactly
//! repeated eigenvalues, duplicated diagonal blocks, zero rows and columns), and a claimed bound
//! `c` (arbitrary, a diagonal entry, or a few ulps around the approximate λ_min, where the
//! Cholesky certificate is tightest). Then:
//! * every enclosure of `eigenvalues` with `Precision::F64` and with `Precision::Bits(p)`
//!   (p = 128 mostly, sometimes 54, 64 or 256) must contain the true eigenvalue: exact
//!   `RationalSymmetric::first_false_claim` on the enclosure endpoints returns `None`;
//! * if `cholesky::certify_min_eig_above(A, c)` says `Proved { lower_bound }`, then
//!   `lower_bound ≥ c` and the exact inertia of `A − lower_bound·I` has no negative and no zero
//!   eigenvalue (so λ_min > lower_bound ≥ c).
//!
//! Errors (`VerificationFailed`, `Decomposition`, `Refused`) are allowed; a false "proved"
//! answer is a crash.
#![no_main]

use faer::Mat;
use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use num_rational::BigRational;
use pespectra_arith::exact::{rational_from_f64, rational_from_mpfr};
use pespectra_spectra::cholesky::{certify_min_eig_above, MinEigVerdict};
use pespectra_spectra::exact::RationalSymmetric;
use pespectra_spectra::matrix::{CMat, HermitianInput};
use pespectra_spectra::{eigenvalues, EigOptions, Precision, SpectrumEnclosure};

/// Largest binary exponent of a generated entry: 2^499 > |x|, and 2^499 ≈ 1.6e150.
const MAX_EXP: i32 = 498;
/// Largest spread of binary exponents inside one matrix. The exact oracle (num-rational,
/// binary GCD) is quadratic in the bit length of its numbers, so a matrix mixing 2⁻¹⁰⁷⁴ with
/// 2⁴⁹⁸ makes one input take minutes; windows of up to 2^WINDOW still reach both ends of the
/// range (subnormals, ~1e150) and mix scales by up to 60 decimal orders inside one matrix.
const WINDOW: i32 = 200;

/// Exponent window `[lo, lo + w]` of one matrix.
#[derive(Clone, Copy)]
struct Scale {
    lo: i32,
    w: i32,
}

/// One f64 of a chosen kind, with magnitude in the window (or 0).
fn value(u: &mut Unstructured, prev: &[f64], sc: Scale) -> ArbResult<f64> {
    // small integers and moderate values are placed at the middle of the window
    let mid = pow2(sc.lo + sc.w / 2);
    Ok(match u.int_in_range(0u8..=7)? {
        0 => 0.0,
        1 | 2 => f64::from(u.int_in_range(-4i8..=4)?) * mid,
        3 | 7 => {
            // any sign and mantissa, exponent in the window (subnormals when it reaches them)
            let sign = u.arbitrary::<bool>()? as u64;
            let e = u.int_in_range(sc.lo..=sc.lo + sc.w)?;
            let biased = (e + 1023).max(0) as u64;
            let mut mant = u.arbitrary::<u64>()? & ((1u64 << 52) - 1);
            if biased == 0 {
                mant >>= (-1022 - e).clamp(0, 52);
            }
            f64::from_bits(sign << 63 | biased << 52 | mant)
        }
        4 => {
            let e = u.int_in_range(sc.lo..=sc.lo + sc.w)?;
            let s = if u.arbitrary::<bool>()? { -1.0 } else { 1.0 };
            s * pow2(e)
        }
        5 => {
            // moderate value with a random mantissa
            let x = u.arbitrary::<i32>()? as f64 / f64::from(1u32 << u.int_in_range(0u32..=31)?);
            x * mid
        }
        _ if !prev.is_empty() => *u.choose(prev)?,
        _ => mid,
    })
}

/// 2^e for e in [-1074, 1023] (clamped).
fn pow2(e: i32) -> f64 {
    let e = e.clamp(-1074, 1023);
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

struct Case {
    input: HermitianInput,
    c: f64,
    bits: u32,
}

fn build(u: &mut Unstructured) -> ArbResult<Option<Case>> {
    let n = u.int_in_range(1usize..=6)?;
    let complex = u.arbitrary::<bool>()?;
    let shape = u.int_in_range(0u8..=4)?;
    let mut re = Mat::<f64>::zeros(n, n);
    let mut im = Mat::<f64>::zeros(n, n);
    let mut seen = Vec::new();
    let w = u.int_in_range(0..=WINDOW)?;
    let sc = Scale {
        lo: u.int_in_range(-1074..=MAX_EXP - 31 - w)?,
        w,
    };
    for i in 0..n {
        for j in 0..=i {
            if shape == 1 && i != j {
                continue; // diagonal
            }
            let r = value(u, &seen, sc)?;
            seen.push(r);
            re[(i, j)] = r;
            re[(j, i)] = r;
            if complex && i != j {
                let x = value(u, &seen, sc)?;
                seen.push(x);
                im[(i, j)] = x;
                im[(j, i)] = -x;
            }
        }
    }
    match shape {
        2 if n >= 2 => {
            // duplicated diagonal block diag(B, B[, d]): every eigenvalue of B repeated
            let m = n / 2;
            let (bre, bim) = (re.clone(), im.clone());
            for i in 0..n {
                for j in 0..n {
                    let (r, x) = if i < 2 * m && j < 2 * m && i / m == j / m {
                        (bre[(i % m, j % m)], bim[(i % m, j % m)])
                    } else if i == j {
                        (bre[(i, i)], 0.0)
                    } else {
                        (0.0, 0.0)
                    };
                    re[(i, j)] = r;
                    im[(i, j)] = x;
                }
            }
        }
        3 => {
            // scale everything by one power of two (exact unless it under/overflows)
            let e = u.int_in_range(-1000i32..=400)?;
            let s = pow2(e);
            for i in 0..n {
                for j in 0..n {
                    re[(i, j)] *= s;
                    im[(i, j)] *= s;
                }
            }
        }
        4 => {
            // σ·I plus the matrix restricted to a rank-≤2 pattern: repeated eigenvalue σ
            let sigma = value(u, &seen, sc)?;
            for i in 0..n {
                for j in 0..n {
                    if i >= 2 || j >= 2 {
                        re[(i, j)] = 0.0;
                        im[(i, j)] = 0.0;
                    }
                }
                if i >= 2 {
                    re[(i, i)] = sigma;
                }
            }
        }
        _ => {}
    }
    // zero rows/columns
    let zmask = u.arbitrary::<u8>()?;
    for k in 0..n {
        if zmask & (1 << k) != 0 && zmask & 0x80 != 0 {
            for l in 0..n {
                re[(k, l)] = 0.0;
                re[(l, k)] = 0.0;
                im[(k, l)] = 0.0;
                im[(l, k)] = 0.0;
            }
        }
    }
    // Hermitian by construction (the shapes above preserve it only up to fp scaling, so
    // re-symmetrise from the lower triangle).
    for i in 0..n {
        im[(i, i)] = 0.0;
        for j in 0..i {
            re[(j, i)] = re[(i, j)];
            im[(j, i)] = -im[(i, j)];
        }
    }
    let m = if complex {
        CMat::complex(re, im)
    } else {
        CMat::real(re)
    };
    let Ok(input) = HermitianInput::new(m) else {
        return Ok(None);
    };
    let bits = match u.int_in_range(0u8..=7)? {
        0 => 54,
        1 => 64,
        2 => 256,
        _ => 128,
    };
    let csel = u.int_in_range(0u8..=4)?;
    let k = f64::from(u.int_in_range(-16i8..=16)?);
    let c = match csel {
        0 => value(u, &seen, sc)?,
        1 => {
            let i = u.int_in_range(0..=n - 1)?;
            input.center.re[(i, i)]
        }
        _ => {
            // around the approximate λ_min: k ulps, or k·2^-j relative
            let lmin = pespectra_spectra::eig_f64::approx_eig(&input.center)
                .ok()
                .and_then(|a| a.d.iter().copied().reduce(f64::min))
                .unwrap_or(0.0);
            let ulp = if lmin == 0.0 {
                pow2(-1074)
            } else {
                pow2(lmin.abs().log2().floor() as i32 - 52).max(pow2(-1074))
            };
            if csel == 2 {
                lmin + k * ulp
            } else {
                lmin + k * lmin.abs() * pow2(-u.int_in_range(1i32..=60)?)
            }
        }
    };
    if !c.is_finite() {
        return Ok(None);
    }
    Ok(Some(Case { input, c, bits }))
}

fn pow2_rational(k: i32) -> BigRational {
    let one = num_bigint::BigInt::from(1);
    if k >= 0 {
        BigRational::from_integer(one << k as usize)
    } else {
        BigRational::new(one.clone(), one << (-k) as usize)
    }
}

/// `(2^k·A, k)` with the smallest non-zero |entry| of 2^k·A in [1, 2), when that is exact
/// (largest entry stays below 2^1000); otherwise `(A, 0)`.
fn scaled_copy(input: &HermitianInput) -> (HermitianInput, i32) {
    let c = &input.center;
    let n = c.nrows();
    let (mut emin, mut emax) = (i32::MAX, i32::MIN);
    for i in 0..n {
        for j in 0..n {
            for x in [c.re[(i, j)], c.im_at(i, j)] {
                if x != 0.0 {
                    let e = x.abs().log2().floor() as i32;
                    emin = emin.min(e);
                    emax = emax.max(e);
                }
            }
        }
    }
    if emin == i32::MAX || emax - emin > 1000 {
        return (input.clone(), 0);
    }
    let k = -emin;
    let (k1, k2) = (pow2(k / 2), pow2(k - k / 2));
    let sc = |m: &Mat<f64>| Mat::from_fn(n, n, |i, j| m[(i, j)] * k1 * k2);
    let m = CMat {
        re: sc(&c.re),
        im: c.im.as_ref().map(sc),
    };
    // exactness check: scaling back gives the original bits
    let (b1, b2) = (pow2(-(k / 2)), pow2(-(k - k / 2)));
    for i in 0..n {
        for j in 0..n {
            let back = m.re[(i, j)] * b1 * b2;
            let back_im = m.im_at(i, j) * b1 * b2;
            if back.to_bits() != c.re[(i, j)].to_bits() && !(back == 0.0 && c.re[(i, j)] == 0.0)
                || back_im != c.im_at(i, j)
                || !m.re[(i, j)].is_finite()
            {
                return (input.clone(), 0);
            }
        }
    }
    match HermitianInput::new(m) {
        Ok(h) => (h, k),
        Err(_) => (input.clone(), 0),
    }
}

fn check_enclosure(
    exact: &RationalSymmetric,
    two_k: &BigRational,
    e: &SpectrumEnclosure,
    what: &str,
    case: &Case,
) {
    // r = Gershgorin radius + 1 bounds every |eigenvalue|. ±∞ ends (possible after overflow)
    // become ±r: −∞ below stays sound, +∞ below becomes a false claim. NaN is never acceptable.
    let r = exact.gershgorin_radius() + BigRational::from_integer(1.into());
    let conv = |x: &rug::Float| -> BigRational {
        assert!(!x.is_nan(), "{what}: NaN enclosure end");
        if x.is_infinite() {
            if x.is_sign_negative() {
                -r.clone()
            } else {
                r.clone()
            }
        } else {
            rational_from_mpfr(x).expect("finite end") * two_k
        }
    };
    assert_eq!(
        e.values.len(),
        case.input.n(),
        "{what}: wrong number of enclosures"
    );
    // Every eigenvalue lies in [−r, r], so clamping a claim to [−r, r] changes neither its truth
    // nor the oracle's verdict, while keeping the oracle's numbers at the scale of the matrix
    // (a loose f64 enclosure of a tiny matrix otherwise adds ~400-bit shifts: seconds per input).
    let clamp = |x: BigRational| x.max(-r.clone()).min(r.clone());
    let claims: Vec<(BigRational, BigRational)> = e
        .values
        .iter()
        .map(|v| (clamp(conv(v.lo())), clamp(conv(v.hi()))))
        .collect();
    if std::env::var_os("PESPECTRA_FUZZ_TRACE").is_some() {
        for (v, (l, h)) in e.values.iter().zip(&claims) {
            eprintln!(
                "  {what} [{:e}, {:e}] bits {}/{} {}/{}",
                v.lo().to_f64(),
                v.hi().to_f64(),
                l.numer().bits(),
                l.denom().bits(),
                h.numer().bits(),
                h.denom().bits()
            );
        }
    }
    if let Some(k) = exact.first_false_claim(&claims) {
        panic!(
            "UNSOUND {what}: enclosure {k} [{}, {}] misses the eigenvalue\nmatrix {:?}\nall {:?}",
            e.values[k].lo(),
            e.values[k].hi(),
            case.input.center,
            e.values
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(Some(case)) = build(&mut u) else {
        return;
    };
    let tr = std::env::var_os("PESPECTRA_FUZZ_TRACE").is_some();
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if tr {
            eprintln!("  {what}: {:?}", t0.elapsed());
        }
    };
    if tr {
        eprintln!(
            "n {} bits {} c {:e}\n{:?}",
            case.input.n(),
            case.bits,
            case.c,
            case.input.center
        );
    }
    // The oracle runs on 2^k·A (exact: a power-of-two scaling without overflow or underflow),
    // with every bound scaled by the same 2^k; inertia is invariant under positive scaling.
    // k makes the smallest non-zero entry ~1, so the oracle sees integers of at most ~260 bits
    // instead of fractions with 1000-bit denominators (num-rational's GCD dominates the cost).
    let (scaled, k) = scaled_copy(&case.input);
    let exact = RationalSymmetric::from_input(&scaled).expect("exact input");
    let two_k = pow2_rational(k);

    let f64_opts = EigOptions {
        precision: Precision::F64,
        ..EigOptions::default()
    };
    if let Ok(e) = eigenvalues(&case.input, &f64_opts) {
        lap("f64 enclosure");
        check_enclosure(&exact, &two_k, &e, "f64 path", &case);
    }
    lap("f64 checked");
    let mp_opts = EigOptions {
        precision: Precision::Bits(case.bits),
        ..EigOptions::default()
    };
    if let Ok(e) = eigenvalues(&case.input, &mp_opts) {
        lap("MPFR enclosure");
        check_enclosure(
            &exact,
            &two_k,
            &e,
            &format!("MPFR {} bits", case.bits),
            &case,
        );
    }
    lap("MPFR checked");
    let chol = certify_min_eig_above(&case.input, case.c);
    lap("Cholesky");
    if let Ok(MinEigVerdict::Proved { lower_bound, shift }) = chol {
        assert!(
            lower_bound >= case.c,
            "Cholesky: proved bound {lower_bound:e} below the claim {:e}",
            case.c
        );
        let lb = rational_from_f64(lower_bound).expect("finite bound") * &two_k;
        // λ_min ≥ −(radius + 1) always, so checking at max(lb, −r) is equivalent and cheaper.
        let r = exact.gershgorin_radius() + BigRational::from_integer(1.into());
        let lb = lb.max(-r);
        let i = exact.inertia_shifted(&lb);
        assert!(
            i.neg == 0 && i.zero == 0,
            "UNSOUND Cholesky: claims λ_min > {lower_bound:e} (c = {:e}, shift {shift:e}) but \
             A − bound·I has inertia {i:?}\nmatrix {:?}",
            case.c,
            case.input.center
        );
    }
    lap("done");
});
