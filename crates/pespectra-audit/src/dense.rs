//! Head-level checks on the dense n × n matrices of a capture, with verified eigenvalues.
//!
//! Captured matrices are f32; every f32 is an exact f64, so the symmetric part
//! `(M + Mᵀ)/2` and differences `L − L_content` are enclosed entrywise with outward-rounded
//! intervals and handed to the verified engine as balls.

use crate::check::{le, Check, Fold};
use crate::rope::sym_ball_eigs;
use crate::AuditError;
use pespectra_arith::interval::Interval;
use pespectra_capture::{HeadCapture, Pairing};
use rug::float::Round;
use rug::Float;

fn at(m: &[f32], n: usize, i: usize, j: usize) -> Interval {
    Interval::point(m[i * n + j] as f64)
}

/// Verified eigenvalues (decreasing) of the symmetric part of an n × n f32 matrix, or of the
/// symmetric part of `m − minus` when given.
pub fn sym_eigs(m: &[f32], minus: Option<&[f32]>, n: usize) -> Result<Vec<Interval>, AuditError> {
    let x = |i, j| match minus {
        Some(c) => at(m, n, i, j) - at(c, n, i, j),
        None => at(m, n, i, j),
    };
    sym_ball_eigs(n, |i, j| (x(i, j) + x(j, i)) * Interval::point(0.5))
}

/// f64 RoPE logits of the capture's q/k (rotate rows with libm cos/sin, then one GEMM): the
/// reference the captured logits are compared with (measured, not certified).
fn rope_reference(c: &HeadCapture, pairing: Pairing, inv_freq: &[f64]) -> faer::Mat<f64> {
    let (n, d, nf) = (c.n, c.head_dim, inv_freq.len());
    let rotate = |x: &[f32]| {
        faer::Mat::from_fn(n, d, |i, t| {
            let v = |t: usize| x[i * d + t] as f64;
            let (f, first) = match pairing {
                _ if t >= 2 * nf => return v(t),
                Pairing::Interleaved => (t / 2, t % 2 == 0),
                Pairing::HalfSplit => (t % nf, t < nf),
            };
            let (r, m) = match pairing {
                Pairing::Interleaved => (2 * f, 2 * f + 1),
                Pairing::HalfSplit => (f, f + nf),
            };
            let (s, co) = (i as f64 * inv_freq[f]).sin_cos();
            if first {
                v(r) * co - v(m) * s
            } else {
                v(r) * s + v(m) * co
            }
        })
    };
    let (q, k) = (rotate(&c.q), rotate(&c.k));
    (q * k.transpose()) * faer::Scale(c.scale)
}

/// D1 on the head's real q/k: the direct RoPE logits and Σ_f Re(G^f∘E^f) agree within their
/// rigorous rounding bounds (pespectra-pe; assumes libm cos/sin within 4 ulps). Also returns
/// the largest |captured − reference| relative to max |reference| (a measured consistency
/// figure of the forward pass: a wrong pairing or frequency shows here, not a verdict).
pub fn d1_check(
    c: &HeadCapture,
    pairing: Pairing,
    inv_freq: &[f64],
) -> Result<(Check, f64), AuditError> {
    use pespectra_pe::{check_d1, PositionalEncoding, RealMatrix, RopeConfig};
    let (n, d) = (c.n, c.head_dim);
    let m = |x: &[f32]| RealMatrix::new(n, d, x.iter().map(|&v| v as f64).collect());
    let (q, k) = (
        m(&c.q).map_err(AuditError::Pe)?,
        m(&c.k).map_err(AuditError::Pe)?,
    );
    let rot = 2 * inv_freq.len();
    let cfg = RopeConfig::explicit(d, inv_freq.to_vec(), 1.0, pairing)
        .with_partial_rotary_factor(rot as f64 / d as f64);
    let a = check_d1(&q, &k, &PositionalEncoding::Rope(cfg), c.scale).map_err(AuditError::Pe)?;
    let reference = rope_reference(c, pairing, inv_freq);
    let (mut dev, mut big) = (0.0f64, 0.0f64);
    for i in 0..n {
        for j in 0..n {
            let r = reference[(i, j)];
            dev = dev.max((c.logits[i * n + j] as f64 - r).abs());
            big = big.max(r.abs());
        }
    }
    let rel = dev / big.max(f64::MIN_POSITIVE);
    let detail = format!("direct RoPE logits = Σ_f Re(G^f∘E^f) on the head's q/k within rigorous bounds (budget used {:.3}); captured logits deviate from the f64 reference by ≤ {rel:.2e} relative (measured)", a.max_budget_used);
    let check = if a.holds {
        Check::from_margin("D1", 1.0 - a.max_budget_used, 0.0, detail)
    } else {
        Check::from_margin("D1", -1.0, a.max_discrepancy, detail)
    };
    Ok((check, rel))
}

/// R1 on a head: does RoPE lower λmax of the symmetric logits relative to NoPE on the same
/// content? FAILS (the reading refuted) when λmax(sym L) > λmax(sym L_content) is certified.
pub fn r1_check(logits: &[Interval], content: &[Interval]) -> Check {
    let (lowered, raised) = le(logits[0], content[0]);
    let detail = format!(
        "λmax(sym L) ∈ [{:.6e}, {:.6e}] vs λmax(sym L_content) ∈ [{:.6e}, {:.6e}]",
        logits[0].lo(),
        logits[0].hi(),
        content[0].lo(),
        content[0].hi()
    );
    Check::from_margin("R1", lowered, raised, detail)
}

/// T7 (Weyl) with G = sym(L_content), B = sym(L − L_content) and G + B = sym(L):
/// λ_k(G) + λmin(B) ≤ λ_k(G + B) ≤ λ_k(G) + λmax(B) for every k, and
/// spread(G + B) ≥ spread(B) − spread(G).
pub fn t7_check(g: &[Interval], b: &[Interval], gb: &[Interval], what: &str) -> Check {
    use pespectra_theorems::decide::{spread_added, weyl};
    let n = g.len();
    let mut fold = Fold::default();
    let (m, v) = weyl(g, b, gb);
    fold.push(0, m, v);
    let (m, v) = spread_added(g, b, gb);
    fold.push(1, m, v);
    let spread = |e: &[Interval]| e[0] - e[n - 1];
    fold.finish(
        "T7",
        format!("G = sym(L_content), B = sym({what}), G + B = sym(L): Weyl for all {n} eigenvalues and spread(G+B) ≥ spread(B) − spread(G); spread(B) ≥ {:.4e}, spread(G) ≤ {:.4e}", spread(b).lo(), spread(g).hi()),
    )
}

/// `s(ω) = t_0 + 2 Σ t_k cos(kω)` enclosed at a point ω (f64, exact), with MPFR cosines.
fn symbol_at(t: &[Interval], w: f64) -> Interval {
    let wf = Float::with_val(128, w);
    let mut s = t[0];
    for (k, tk) in t.iter().enumerate().skip(1) {
        let a = Float::with_val(128, &wf * k as u64); // exact in 128 bits
        let lo = Float::with_val_round(128, a.cos_ref(), Round::Down)
            .0
            .to_f64_round(Round::Down);
        let hi = Float::with_val_round(128, a.cos_ref(), Round::Up)
            .0
            .to_f64_round(Round::Up);
        let c = Interval::new(lo.max(-1.0), hi.min(1.0)).expect("ordered");
        s = s + Interval::point(2.0) * *tk * c;
    }
    s
}

/// The ω on a grid (refined by golden sections) where the float symbol is largest or smallest.
fn symbol_extreme(t: &[f64], largest: bool) -> f64 {
    let s = |w: f64| {
        t[0] + 2.0
            * t.iter()
                .enumerate()
                .skip(1)
                .map(|(k, v)| v * (k as f64 * w).cos())
                .sum::<f64>()
    };
    let key = |w: f64| if largest { s(w) } else { -s(w) };
    let m = (8 * t.len()).max(4096);
    let h = std::f64::consts::PI / m as f64;
    let best = (0..=m)
        .max_by(|&a, &b| key(a as f64 * h).total_cmp(&key(b as f64 * h)))
        .expect("non-empty grid");
    let (mut lo, mut hi) = (
        ((best as f64) - 1.0).max(0.0) * h,
        ((best as f64 + 1.0) * h).min(std::f64::consts::PI),
    );
    for _ in 0..60 {
        let (a, b) = (lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo));
        if key(a) < key(b) {
            lo = a;
        } else {
            hi = b;
        }
    }
    let w = 0.5 * (lo + hi);
    if key(w) >= key(best as f64 * h) {
        w
    } else {
        best as f64 * h
    }
}

/// T9 on the symmetric part of an exactly Toeplitz bias: spec ⊂ [min s, max s]. HOLDS from
/// point values: λmax ≤ s(ω⁺) ≤ max s and λmin ≥ s(ω⁻) ≥ min s with ω± found in floats and
/// s enclosed there. (A FAILS would need the Lipschitz sweep; T9 is a theorem, so a result
/// other than HOLDS is reported INCONCLUSIVE.)
pub fn t9_check(bias: &[f32], n: usize) -> Result<Check, AuditError> {
    // hypothesis: bias_ij depends on j − i only (checked bit for bit)
    for i in 0..n {
        for j in 0..n {
            let (r, c) = if j >= i { (0, j - i) } else { (i - j, 0) };
            if bias[i * n + j].to_bits() != bias[r * n + c].to_bits() {
                return Ok(Check::inconclusive(
                    "T9",
                    format!("hypothesis not met: the bias is not exactly Toeplitz at ({i}, {j})"),
                ));
            }
        }
    }
    let t: Vec<Interval> = (0..n)
        .map(|k| (at(bias, n, 0, k) + at(bias, n, k, 0)) * Interval::point(0.5))
        .collect();
    let e = sym_ball_eigs(n, |i, j| t[j - i])?;
    let tf: Vec<f64> = t.iter().map(|v| v.mid_rad().0).collect();
    let (wmax, wmin) = (symbol_extreme(&tf, true), symbol_extreme(&tf, false));
    let (smax, smin) = (symbol_at(&t, wmax), symbol_at(&t, wmin));
    let (m1, _) = le(e[0], smax);
    let (m2, _) = le(smin, e[n - 1]);
    let margin = m1.min(m2);
    let detail = format!("sym(bias), n = {n}: spec ⊂ [{:.6}, {:.6}], s(ω⁻ = {wmin:.6}) ≤ {:.6}, s(ω⁺ = {wmax:.6}) ≥ {:.6}", e[n - 1].lo(), e[0].hi(), smin.hi(), smax.lo());
    Ok(if margin >= 0.0 {
        Check::from_margin("T9", margin, 0.0, detail)
    } else {
        Check::inconclusive("T9", detail)
    })
}

/// R6 on an absolute-position head: is the positional part Δ = L − L_content Toeplitz? FAILS
/// (the reading refuted) with two entries of one diagonal whose enclosures are disjoint.
pub fn r6_check(logits: &[f32], content: &[f32], n: usize) -> Check {
    let delta = |i, j| at(logits, n, i, j) - at(content, n, i, j);
    let mut best = (0.0f64, (0, 0, 0));
    for k in 0..n {
        let (mut lo, mut hi) = (delta(k, 0), delta(k, 0));
        let (mut ilo, mut ihi) = (k, k);
        for i in k..n {
            let v = delta(i, i - k);
            if v.hi() < lo.hi() {
                lo = v;
                ilo = i;
            }
            if v.lo() > hi.lo() {
                hi = v;
                ihi = i;
            }
        }
        let gap = (hi - lo).lo();
        if gap > best.0 {
            best = (gap, (k, ilo, ihi));
        }
    }
    let (gap, (k, a, b)) = best;
    let detail = if gap > 0.0 {
        format!("Δ = L − L_content is not Toeplitz: on diagonal i − j = {k}, Δ({b}, {}) − Δ({a}, {}) ≥ {gap:.4e}", b - k, a - k)
    } else {
        "Δ = L − L_content: no diagonal with certified distinct entries".to_string()
    };
    Check::from_margin("R6", -1.0, gap, detail)
}

/// Midpoints of eigenvalue enclosures (for measured figures and plots).
pub fn midpoints(e: &[Interval]) -> Vec<f64> {
    e.iter().map(|v| v.mid_rad().0).collect()
}
