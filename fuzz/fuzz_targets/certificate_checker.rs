//! The independent certificate checker (`pespectra_certcheck::verify_str`).
//!
//! The first input byte selects the mode:
//! * even: **raw** — the remaining bytes, if UTF-8, are verified as a certificate under a small
//!   work budget and a 2 s wall-clock guard (`verify_str_with`). The checker must never panic;
//!   an expensive input must end as `TooCostly` (the cost guard), never as a hang (libFuzzer's
//!   `-timeout` catches that), and a refusal must come within the guard's time.
//! * odd: **structured** — one of the committed certificates in `proofs/certificates/` is
//!   mutated by a single edit whose effect is known *without trusting the checker*, and the
//!   checker must reject it:
//!   - swap the verdict HOLDS ↔ FAILS (the relation cannot be both true and false);
//!   - change the conclusion margin by δ ≠ 0 (the margin is checked for equality);
//!   - move an exact eigenvalue claim `[v, v]` by k ≠ 0 ulps; collapse any eigenvalue claim
//!     `[lo, hi]` to a point strictly outside it; set `lo` above `hi`;
//!   - change an inertia claim's counts (inertia is unique);
//!   - change the value of a trace or entry claim by δ ≠ 0;
//!   - put δ ≠ 0 on the diagonal of an input matrix with a `unit_diagonal` claim;
//!   - make a diagonal entry of an input matrix with a `psd` claim negative (or ≤ 0 for `pd`):
//!     then `e_iᵀ A e_i < 0` exhibits a negative eigenvalue;
//!   - break the symmetry of an input matrix that a Hermitian-requiring claim
//!     (`hermitian`, `psd`, `pd`, `eigenvalue`, `inertia`) refers to directly.
//!
//!   One completeness check is also made: widening an eigenvalue claim that the conclusion does
//!   not use keeps the certificate valid. Other edits (random entry changes) only check for
//!   panics. Mutated values are exact rationals computed here with num-rational; the only part of
//!   the checker trusted by the oracle is its scalar parser (fuzzed by the raw mode).
//!
//! Certificates whose check takes more than `MAX_BASE_MS` are not used (the checker is O(n³)
//! in big rationals); the list in use is printed once to stderr.
#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use pespectra_certcheck::scalar::parse_scalar;
use pespectra_certcheck::{verify_str, verify_str_with, CertError, Limits};
use serde_json::Value;

const MAX_BASE_MS: u128 = 100;

macro_rules! certs {
    ($($f:literal),* $(,)?) => {
        &[$(($f, include_str!(concat!("../../proofs/certificates/", $f)))),*]
    };
}

const CERTS: &[(&str, &str)] = certs!(
    "R1-produced.json",
    "R2.json",
    "R3-produced.json",
    "R3.json",
    "T1.json",
    "T10-additive.json",
    "T2-complex.json",
    "T2-produced.json",
    "T2.json",
    "T8-D16.json",
    "T8-D4.json",
    "T8-produced.json",
);

struct Base {
    name: &'static str,
    json: Value,
}

fn bases() -> &'static [Base] {
    static B: OnceLock<Vec<Base>> = OnceLock::new();
    B.get_or_init(|| {
        let mut out = Vec::new();
        for (name, text) in CERTS {
            let t = Instant::now();
            let ok = verify_str(text);
            let ms = t.elapsed().as_millis();
            match ok {
                Ok(_) if ms <= MAX_BASE_MS => out.push(Base {
                    name,
                    json: serde_json::from_str(text).expect("committed certificate is JSON"),
                }),
                Ok(_) => eprintln!("certificate_checker: skipping {name} ({ms} ms to check)"),
                Err(e) => panic!("committed certificate {name} is rejected: {e}"),
            }
        }
        eprintln!(
            "certificate_checker: mutating {:?}",
            out.iter().map(|b| b.name).collect::<Vec<_>>()
        );
        assert!(
            !out.is_empty(),
            "no committed certificate is cheap enough to fuzz"
        );
        out
    })
}

fn q(s: &Value) -> BigRational {
    parse_scalar(s.as_str().expect("scalar is a string")).expect("committed scalar parses")
}

fn fmt(x: &BigRational) -> Value {
    Value::String(format!("{}/{}", x.numer(), x.denom()))
}

fn pow2(e: i64) -> BigRational {
    let one = BigInt::from(1);
    if e >= 0 {
        BigRational::from_integer(one << (e as usize))
    } else {
        BigRational::new(one, BigInt::from(1) << ((-e) as usize))
    }
}

/// One "ulp" of `v`: a power of two about 2⁻⁵² |v| (2⁻¹⁰⁷⁴ at 0). Only non-zeroness matters.
fn ulp(v: &BigRational) -> BigRational {
    if v.is_zero() {
        return pow2(-1074);
    }
    let e = v.numer().bits() as i64 - v.denom().bits() as i64;
    pow2(e - 52)
}

/// A non-zero rational offset of `k` ulps of `v` (k ≠ 0), or a power of two.
fn delta(u: &mut Unstructured, v: &BigRational) -> ArbResult<BigRational> {
    let mut k: i32 = u.int_in_range(-64..=64)?;
    if k == 0 {
        k = 1;
    }
    let d = if u.arbitrary::<bool>()? {
        ulp(v)
    } else {
        pow2(u.int_in_range(-1100..=60)?)
    };
    Ok(d * BigRational::from_integer(BigInt::from(k)))
}

fn positive_delta(u: &mut Unstructured, v: &BigRational) -> ArbResult<BigRational> {
    Ok(delta(u, v)?.abs())
}

fn claims(j: &Value) -> &Vec<Value> {
    j["claims"].as_array().expect("claims array")
}

/// Claim indices of the given kinds.
fn claims_of(j: &Value, kinds: &[&str]) -> Vec<usize> {
    claims(j)
        .iter()
        .enumerate()
        .filter(|(_, c)| kinds.contains(&c["kind"].as_str().unwrap_or("")))
        .map(|(i, _)| i)
        .collect()
}

/// Claim indices used by the conclusion.
fn conclusion_claims(j: &Value) -> Vec<usize> {
    ["lhs", "rhs"]
        .iter()
        .filter_map(|s| j["conclusion"][s]["claim"].as_u64().map(|c| c as usize))
        .collect()
}

fn input_matrix<'a>(j: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    j["matrices"].get_mut(name)
}

fn dims(m: &Value) -> (usize, usize) {
    (
        m["rows"].as_u64().unwrap() as usize,
        m["cols"].as_u64().unwrap() as usize,
    )
}

enum Expect {
    Reject(String),
    Accept(String),
    Anything,
}

fn mutate(u: &mut Unstructured) -> ArbResult<Option<(String, Expect)>> {
    let bases = bases();
    let base = u.choose(bases)?;
    let mut j = base.json.clone();
    let what = u.int_in_range(0u8..=10)?;
    let expect = match what {
        0 => {
            let v = j["verdict"].as_str().unwrap();
            let sw = if v == "HOLDS" { "FAILS" } else { "HOLDS" };
            j["verdict"] = Value::String(sw.into());
            Expect::Reject(format!("{}: verdict -> {sw}", base.name))
        }
        1 => {
            let m = q(&j["conclusion"]["margin"]);
            let d = delta(u, &m)?;
            j["conclusion"]["margin"] = fmt(&(&m + &d));
            Expect::Reject(format!("{}: margin += {d}", base.name))
        }
        2 | 3 => {
            let eig = claims_of(&j, &["eigenvalue"]);
            if eig.is_empty() {
                return Ok(None);
            }
            let i = *u.choose(&eig)?;
            let c = &mut j["claims"][i];
            let (lo, hi) = (q(&c["lo"]), q(&c["hi"]));
            let sub = u.int_in_range(0u8..=3)?;
            let (nlo, nhi, why) = match sub {
                0 if lo == hi => {
                    let d = delta(u, &lo)?;
                    (&lo + &d, &hi + &d, format!("point claim moved by {d}"))
                }
                0 | 1 => {
                    let d = positive_delta(u, &hi)?;
                    let p = &hi + &d;
                    (p.clone(), p, format!("collapsed to hi + {d}"))
                }
                2 => {
                    let d = positive_delta(u, &lo)?;
                    let p = &lo - &d;
                    (p.clone(), p, format!("collapsed to lo - {d}"))
                }
                _ => {
                    let d = positive_delta(u, &hi)?;
                    (&hi + &d, hi.clone(), format!("lo set to hi + {d}"))
                }
            };
            if what == 3 {
                // completeness: widen (never narrow) a claim the conclusion does not use
                let dl = positive_delta(u, &lo)?;
                let dh = positive_delta(u, &hi)?;
                c["lo"] = fmt(&(&lo - &dl));
                c["hi"] = fmt(&(&hi + &dh));
                if conclusion_claims(&j).contains(&i) {
                    Expect::Anything
                } else {
                    Expect::Accept(format!("{}: claim {i} widened by {dl}, {dh}", base.name))
                }
            } else {
                c["lo"] = fmt(&nlo);
                c["hi"] = fmt(&nhi);
                Expect::Reject(format!("{}: claim {i} {why}", base.name))
            }
        }
        4 => {
            let ine = claims_of(&j, &["inertia"]);
            if ine.is_empty() {
                return Ok(None);
            }
            let i = *u.choose(&ine)?;
            let c = &mut j["claims"][i];
            let mut t = [
                c["neg"].as_u64().unwrap(),
                c["zero"].as_u64().unwrap(),
                c["pos"].as_u64().unwrap(),
            ];
            let old = t;
            let a = u.int_in_range(0usize..=2)?;
            let b = u.int_in_range(0usize..=2)?;
            if a != b && t[a] > 0 && u.arbitrary::<bool>()? {
                // keep the sum (a plausible-looking wrong inertia)
                t[a] -= 1;
                t[b] += 1;
            } else {
                t[a] += u.int_in_range(1u64..=3)?;
            }
            c["neg"] = t[0].into();
            c["zero"] = t[1].into();
            c["pos"] = t[2].into();
            Expect::Reject(format!("{}: claim {i} inertia {old:?} -> {t:?}", base.name))
        }
        5 => {
            let tc = claims_of(&j, &["trace", "entry"]);
            if tc.is_empty() {
                return Ok(None);
            }
            let i = *u.choose(&tc)?;
            let c = &mut j["claims"][i];
            let field = if c["kind"] == "trace" { "value" } else { "re" };
            let field = if u.arbitrary::<bool>()? { field } else { "im" };
            let v = match c.get(field) {
                Some(Value::String(_)) => q(&c[field]),
                _ => BigRational::zero(),
            };
            let d = delta(u, &v)?;
            c[field] = fmt(&(&v + &d));
            Expect::Reject(format!("{}: claim {i} {field} += {d}", base.name))
        }
        6 | 7 => {
            let kinds: &[&str] = if what == 6 {
                &["unit_diagonal"]
            } else {
                &["psd", "pd"]
            };
            let cs = claims_of(&j, kinds);
            if cs.is_empty() {
                return Ok(None);
            }
            let i = *u.choose(&cs)?;
            let kind = claims(&j)[i]["kind"].as_str().unwrap().to_string();
            let name = claims(&j)[i]["matrix"].as_str().unwrap().to_string();
            let Some(m) = input_matrix(&mut j, &name) else {
                return Ok(None); // a derived matrix: effect of an input edit not known
            };
            let (n, _) = dims(m);
            let k = u.int_in_range(0..=n - 1)?;
            let one = BigRational::from_integer(1.into());
            let new = if kind == "unit_diagonal" {
                &one + &delta(u, &one)?
            } else {
                let d = positive_delta(u, &one)?;
                if kind == "pd" && u.arbitrary::<bool>()? {
                    BigRational::zero()
                } else {
                    -d
                }
            };
            m["re"][k * n + k] = fmt(&new);
            Expect::Reject(format!(
                "{}: {kind} matrix {name}[{k},{k}] = {new}",
                base.name
            ))
        }
        8 => {
            let cs = claims_of(&j, &["hermitian", "psd", "pd", "eigenvalue", "inertia"]);
            if cs.is_empty() {
                return Ok(None);
            }
            let i = *u.choose(&cs)?;
            let name = claims(&j)[i]["matrix"].as_str().unwrap().to_string();
            let Some(m) = input_matrix(&mut j, &name) else {
                return Ok(None);
            };
            let (n, _) = dims(m);
            if n < 2 {
                return Ok(None);
            }
            let r = u.int_in_range(0..=n - 1)?;
            let mut c = u.int_in_range(0..=n - 2)?;
            if c >= r {
                c += 1;
            }
            let part = if m["im"].is_array() && u.arbitrary::<bool>()? {
                "im"
            } else {
                "re"
            };
            // Hermitian: re[c,r] = re[r,c] and im[c,r] = -im[r,c]; break it at (r, c).
            let mirror = q(&m[part][c * n + r]);
            let target = if part == "re" { mirror } else { -mirror };
            let d = delta(u, &target)?;
            m[part][r * n + c] = fmt(&(&target + &d));
            Expect::Reject(format!(
                "{}: {name}.{part}[{r},{c}] made non-Hermitian by {d}",
                base.name
            ))
        }
        _ => {
            // unknown effect: random entry of a random input matrix
            let names: Vec<String> = j["matrices"].as_object().unwrap().keys().cloned().collect();
            let name = u.choose(&names)?.clone();
            let m = input_matrix(&mut j, &name).unwrap();
            let len = m["re"].as_array().unwrap().len();
            let k = u.int_in_range(0..=len - 1)?;
            let v = q(&m["re"][k]);
            let d = delta(u, &v)?;
            m["re"][k] = fmt(&(&v + &d));
            Expect::Anything
        }
    };
    Ok(Some((j.to_string(), expect)))
}

/// `PESPECTRA_FUZZ_TRACE=1` prints every structured mutation and the checker's answer.
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("PESPECTRA_FUZZ_TRACE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            let limits = Limits {
                max_work: 50_000_000,
                max_seconds: 2.0,
            };
            let t = Instant::now();
            let r = verify_str_with(text, &limits);
            let s = t.elapsed().as_secs_f64();
            // the guard polls once per row: allow one slow row beyond the limit, never a hang
            if s > 3.0 * limits.max_seconds {
                panic!("the cost guard let a check run {s:.1} s: {r:?}");
            }
            if let Err(CertError::TooCostly(m)) = &r {
                assert!(!m.is_empty());
            }
        }
        return;
    }
    let mut u = Unstructured::new(rest);
    let Ok(Some((text, expect))) = mutate(&mut u) else {
        return;
    };
    let got = verify_str(&text);
    if trace() {
        let (kind, why) = match &expect {
            Expect::Reject(w) => ("reject", w.as_str()),
            Expect::Accept(w) => ("accept", w.as_str()),
            Expect::Anything => ("any", ""),
        };
        eprintln!(
            "expect {kind} [{why}] -> {}",
            match &got {
                Ok(_) => "VALID".to_string(),
                Err(e) => e.to_string().chars().take(100).collect(),
            }
        );
    }
    match expect {
        Expect::Reject(why) => {
            if let Ok(r) = got {
                panic!("ACCEPTED a false certificate ({why}): {r}\n{text}");
            }
        }
        Expect::Accept(why) => {
            if let Err(e) = got {
                panic!("rejected a valid certificate ({why}): {e}\n{text}");
            }
        }
        Expect::Anything => {}
    }
});
