//! D1 (RoPE = Σ_f Re(G^f ∘ E^f)) and D2 (additive = four Gram terms + B) decompositions.

use num_complex::Complex64;

use crate::bound::{check_agreement, AgreementCheck, Approx, ErrorBounded};
use crate::error::{check_param, PeError};
use crate::logits::{check_qk, logits_with_bound, rotary_layout, PositionalEncoding};
use crate::matrix::{ComplexMatrix, RealMatrix};
use crate::rope::{RopeConfig, RotaryLayout};

/// RoPE kernel E_ij = exp(i(j − i)θ): Hermitian, Toeplitz, rank one, PSD, unit diagonal.
pub fn rope_kernel(n: usize, theta: f64) -> ComplexMatrix {
    ComplexMatrix::from_fn(n, n, |i, j| {
        let (s, c) = ((j as f64 - i as f64) * theta).sin_cos();
        Complex64::new(c, s)
    })
}

/// D1 for one head: logits = scale · (a² · Σ_f Re(G^f ∘ E^f) + passthrough), a = attention factor.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeDecomposition {
    /// θ_f of each frequency.
    pub theta: Vec<f64>,
    /// cos/sin factor a (YaRN); the rotary part of the logits carries a².
    pub attention_factor: f64,
    /// Multiplier of the dot products (see [`crate::logits()`]).
    pub scale: f64,
    /// a_i^f = q_{i,re} + i·q_{i,im}, indexed `[f][i]`.
    pub query_pairs: Vec<Vec<Complex64>>,
    /// b_j^f, indexed `[f][j]`.
    pub key_pairs: Vec<Vec<Complex64>>,
    /// Unrotated dims (partial rotary tail, MLA nope block): their Gram matrix, a NoPE term.
    pub passthrough: Option<ErrorBounded>,
}

impl RopeDecomposition {
    /// Sequence length n.
    pub fn len(&self) -> usize {
        self.query_pairs.first().map_or_else(
            || self.passthrough.as_ref().map_or(0, |p| p.value.rows()),
            Vec::len,
        )
    }

    /// Never true for a decomposition built by this crate (n = 0 is refused).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of rotary frequencies F.
    pub fn num_frequencies(&self) -> usize {
        self.theta.len()
    }

    /// Content matrix G^f_ij = conj(a_i^f)·b_j^f (rank one), or `None` past the last frequency.
    /// Built on demand: F dense n × n complex matrices would dominate memory for long sequences.
    pub fn content(&self, f: usize) -> Option<ComplexMatrix> {
        let (a, b) = (self.query_pairs.get(f)?, &self.key_pairs[f]);
        Some(ComplexMatrix::from_fn(a.len(), b.len(), |i, j| {
            a[i].conj() * b[j]
        }))
    }

    /// Kernel E^f of frequency `f`, or `None` past the last frequency.
    pub fn kernel(&self, f: usize) -> Option<ComplexMatrix> {
        self.theta.get(f).map(|&t| rope_kernel(self.len(), t))
    }

    /// Σ_f Re(G^f ∘ E^f), scaled and with the pass-through term: equals the RoPE logits (D1).
    pub fn reconstruct(&self) -> RealMatrix {
        self.reconstruct_with_bound().value
    }

    /// [`Self::reconstruct`] with a rigorous entrywise error bound (angles (j − i)·θ_f rounded
    /// once; cos/sin under the libm assumption of [`crate::bound`]).
    pub fn reconstruct_with_bound(&self) -> ErrorBounded {
        let n = self.len();
        let a = self.attention_factor;
        let gain = Approx::exact(a).mul(Approx::exact(a));
        // E^f depends on j − i only: one cos/sin per (offset, f) instead of per entry.
        let trig: Vec<Vec<(Approx, Approx)>> = self
            .theta
            .iter()
            .map(|&t| {
                (0..2 * n)
                    .map(|o| {
                        let offset = o as f64 - n as f64; // o = j − i + n
                        Approx::cos_sin(Approx::exact(offset).mul(Approx::exact(t)))
                    })
                    .collect()
            })
            .collect();
        ErrorBounded::from_fn(n, n, |i, j| {
            let mut acc: Option<Approx> = None;
            for (f, cs) in trig.iter().enumerate() {
                let (x, y) = (self.query_pairs[f][i], self.key_pairs[f][j]);
                let (xr, xi) = (Approx::exact(x.re), Approx::exact(x.im));
                let (yr, yi) = (Approx::exact(y.re), Approx::exact(y.im));
                let g_re = xr.mul(yr).add(xi.mul(yi));
                let g_im = xr.mul(yi).sub(xi.mul(yr));
                let (c, s) = cs[j + n - i];
                let term = g_re.mul(c).sub(g_im.mul(s));
                acc = Some(acc.map_or(term, |s| s.add(term)));
            }
            let rot = acc.map(|r| if a == 1.0 { r } else { r.mul(gain) });
            let pass = self.passthrough.as_ref().map(|p| p.at(i, j));
            let total = match (rot, pass) {
                (Some(r), Some(p)) => r.add(p),
                (Some(r), None) => r,
                (None, Some(p)) => p,
                (None, None) => Approx::exact(0.0),
            };
            total.scale(self.scale)
        })
    }

    /// The same content without rotation: scale · (Σ_f Re G^f + passthrough) (NoPE logits).
    pub fn nope_logits(&self) -> RealMatrix {
        let n = self.len();
        RealMatrix::from_fn(n, n, |i, j| {
            let rot: f64 = (0..self.theta.len())
                .map(|f| (self.query_pairs[f][i].conj() * self.key_pairs[f][j]).re)
                .sum();
            let pass = self.passthrough.as_ref().map_or(0.0, |p| p.value.get(i, j));
            self.scale * (rot + pass)
        })
    }
}

/// D1 for a RoPE head (full or partial rotary; the tail is the NoPE pass-through term).
pub fn rope_decomposition(
    q: &RealMatrix,
    k: &RealMatrix,
    rope: &RopeConfig,
    scale: f64,
) -> Result<RopeDecomposition, PeError> {
    check_qk(q, k, scale)?;
    let layout = rotary_layout(rope, 0, q.cols())?;
    decompose(q, k, rope, &layout, scale)
}

/// D1 for one DeepSeek MLA head: rows [nope (d_nope) | rope]; the nope block is the pass-through.
pub fn mla_decomposition(
    q: &RealMatrix,
    k: &RealMatrix,
    d_nope: usize,
    rope: &RopeConfig,
    scale: f64,
) -> Result<RopeDecomposition, PeError> {
    check_qk(q, k, scale)?;
    let layout = rotary_layout(rope, d_nope, q.cols())?;
    if layout.dim != rope.head_dim {
        return Err(PeError::InvalidParameter(
            "MLA rotates its whole rope block: partial_rotary_factor must be 1".into(),
        ));
    }
    decompose(q, k, rope, &layout, scale)
}

fn decompose(
    q: &RealMatrix,
    k: &RealMatrix,
    rope: &RopeConfig,
    layout: &RotaryLayout,
    scale: f64,
) -> Result<RopeDecomposition, PeError> {
    let fr = rope.frequencies()?;
    let n = q.rows();
    let pairs = |x: &RealMatrix| -> Vec<Vec<Complex64>> {
        (0..fr.theta.len())
            .map(|f| {
                let (r, i) = layout.pair(f);
                (0..n)
                    .map(|p| Complex64::new(x.get(p, r), x.get(p, i)))
                    .collect()
            })
            .collect()
    };
    let (query_pairs, key_pairs) = (pairs(q), pairs(k));
    let pass_cols: Vec<usize> = (0..q.cols()).filter(|&c| !layout.contains(c)).collect();
    let passthrough = (!pass_cols.is_empty()).then(|| {
        let sub = |x: &RealMatrix| {
            ErrorBounded::exact(RealMatrix::from_fn(n, pass_cols.len(), |i, c| {
                x.get(i, pass_cols[c])
            }))
        };
        sub(q).mul_transpose(&sub(k))
    });
    Ok(RopeDecomposition {
        theta: fr.theta,
        attention_factor: fr.attention_factor,
        scale,
        query_pairs,
        key_pairs,
        passthrough,
    })
}

/// D2: with x_i = c_i + p_i, q = x·W_Q, k = x·W_K, the logits are
/// scale · (G_{qc,kc} + G_{qc,kp} + G_{qp,kc} + G_{qp,kp}) + B.
#[derive(Debug, Clone, PartialEq)]
pub struct AdditiveDecomposition {
    /// G_{qc,kc} = (C W_Q)(C W_K)ᵀ.
    pub content_content: ErrorBounded,
    /// G_{qc,kp} = (C W_Q)(P W_K)ᵀ.
    pub content_position: ErrorBounded,
    /// G_{qp,kc} = (P W_Q)(C W_K)ᵀ.
    pub position_content: ErrorBounded,
    /// G_{qp,kp} = (P W_Q)(P W_K)ᵀ: Toeplitz for sinusoidal P only if W_Q W_Kᵀ commutes with
    /// the rotations (R6).
    pub position_position: ErrorBounded,
    /// Additive bias B (unscaled), if any.
    pub bias: Option<ErrorBounded>,
    /// Multiplier of the Gram terms.
    pub scale: f64,
}

impl AdditiveDecomposition {
    /// scale · (G_cc + G_cp + G_pc + G_pp) + B with a rigorous bound.
    pub fn reconstruct_with_bound(&self) -> ErrorBounded {
        let sum = self
            .content_content
            .zip(&self.content_position, Approx::add)
            .zip(&self.position_content, Approx::add)
            .zip(&self.position_position, Approx::add)
            .map(|x| x.scale(self.scale));
        match &self.bias {
            Some(b) => sum.zip(b, Approx::add),
            None => sum,
        }
    }

    /// The reconstructed logits (D2).
    pub fn reconstruct(&self) -> RealMatrix {
        self.reconstruct_with_bound().value
    }
}

fn check_additive(
    content: &RealMatrix,
    positions: &RealMatrix,
    w_q: &RealMatrix,
    w_k: &RealMatrix,
    bias: Option<&ErrorBounded>,
    scale: f64,
) -> Result<(), PeError> {
    content.validate("content")?;
    positions.validate("positions")?;
    w_q.validate("w_q")?;
    w_k.validate("w_k")?;
    check_param("scale", scale, true)?;
    let (n, dm) = (content.rows(), content.cols());
    if (positions.rows(), positions.cols()) != (n, dm) {
        return Err(PeError::Shape(format!(
            "positions is {} x {} but content is {n} x {dm}",
            positions.rows(),
            positions.cols()
        )));
    }
    if w_q.rows() != dm || w_k.rows() != dm || w_q.cols() != w_k.cols() {
        return Err(PeError::Shape(format!(
            "w_q is {} x {} and w_k is {} x {}; both must be {dm} x d_head",
            w_q.rows(),
            w_q.cols(),
            w_k.rows(),
            w_k.cols()
        )));
    }
    if let Some(b) = bias {
        b.value.validate("bias")?;
        if (b.value.rows(), b.value.cols()) != (n, n) {
            return Err(PeError::Shape(format!(
                "bias is {} x {} for n = {n}",
                b.value.rows(),
                b.value.cols()
            )));
        }
    }
    Ok(())
}

/// x·W with bounds (x rows carry their own bounds).
fn project(x: &ErrorBounded, w: &RealMatrix) -> ErrorBounded {
    x.mul_transpose(&ErrorBounded::exact(w.transpose()))
}

/// D2 decomposition from content C (n × D), positions P (n × D, sinusoidal or learned table),
/// projections W_Q, W_K (D × d) and an optional bias B (n × n; see [`crate::bias_matrix`]).
pub fn additive_decomposition(
    content: &RealMatrix,
    positions: &RealMatrix,
    w_q: &RealMatrix,
    w_k: &RealMatrix,
    bias: Option<&ErrorBounded>,
    scale: f64,
) -> Result<AdditiveDecomposition, PeError> {
    check_additive(content, positions, w_q, w_k, bias, scale)?;
    let c = ErrorBounded::exact(content.clone());
    let p = ErrorBounded::exact(positions.clone());
    let (qc, kc) = (project(&c, w_q), project(&c, w_k));
    let (qp, kp) = (project(&p, w_q), project(&p, w_k));
    Ok(AdditiveDecomposition {
        content_content: qc.mul_transpose(&kc),
        content_position: qc.mul_transpose(&kp),
        position_content: qp.mul_transpose(&kc),
        position_position: qp.mul_transpose(&kp),
        bias: bias.cloned(),
        scale,
    })
}

/// Direct D2 logits scale · ((C+P)W_Q)((C+P)W_K)ᵀ + B with a rigorous bound, for comparison
/// with [`AdditiveDecomposition::reconstruct_with_bound`].
pub fn additive_logits_with_bound(
    content: &RealMatrix,
    positions: &RealMatrix,
    w_q: &RealMatrix,
    w_k: &RealMatrix,
    bias: Option<&ErrorBounded>,
    scale: f64,
) -> Result<ErrorBounded, PeError> {
    check_additive(content, positions, w_q, w_k, bias, scale)?;
    let x = ErrorBounded::exact(content.clone())
        .zip(&ErrorBounded::exact(positions.clone()), Approx::add);
    let l = project(&x, w_q)
        .mul_transpose(&project(&x, w_k))
        .map(|v| v.scale(scale));
    Ok(match bias {
        Some(b) => l.zip(b, Approx::add),
        None => l,
    })
}

/// D1 check in one call: direct RoPE/MLA logits vs Σ_f Re(G^f ∘ E^f) (+ pass-through), each
/// with its rigorous bound. Errors for encodings without a rotary part.
pub fn check_d1(
    q: &RealMatrix,
    k: &RealMatrix,
    pe: &PositionalEncoding,
    scale: f64,
) -> Result<AgreementCheck, PeError> {
    let d1 = match pe {
        PositionalEncoding::Rope(rope) => rope_decomposition(q, k, rope, scale)?,
        PositionalEncoding::Mla { d_nope, rope } => mla_decomposition(q, k, *d_nope, rope, scale)?,
        other => {
            return Err(PeError::InvalidParameter(format!(
                "D1 applies to RoPE and MLA heads, not {other:?}"
            )))
        }
    };
    check_agreement(
        &logits_with_bound(q, k, pe, scale)?,
        &d1.reconstruct_with_bound(),
    )
}

/// D2 check in one call: direct additive logits vs the four Gram terms + B, with bounds.
pub fn check_d2(
    content: &RealMatrix,
    positions: &RealMatrix,
    w_q: &RealMatrix,
    w_k: &RealMatrix,
    bias: Option<&ErrorBounded>,
    scale: f64,
) -> Result<AgreementCheck, PeError> {
    let dec = additive_decomposition(content, positions, w_q, w_k, bias, scale)?;
    check_agreement(
        &additive_logits_with_bound(content, positions, w_q, w_k, bias, scale)?,
        &dec.reconstruct_with_bound(),
    )
}
