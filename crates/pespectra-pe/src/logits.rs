//! Direct (pre-mask) attention logits for every positional encoding, with error bounds.

use crate::alibi::AlibiForm;
use crate::bound::{Approx, ErrorBounded};
use crate::error::{check_finite, check_param, PeError};
use crate::matrix::RealMatrix;
use crate::rope::{RopeConfig, RotaryLayout};
use crate::t5::T5Buckets;

/// One attention head's positional encoding. Positions are 0..n for both queries and keys.
#[derive(Debug, Clone, PartialEq)]
pub enum PositionalEncoding {
    /// NoPE: logits are the content Gram matrix.
    None,
    /// Rotary encoding of the query/key rows (full or partial).
    Rope(RopeConfig),
    /// Linear bias of slope `slope` (any finite value, e.g. 2^(−8k/H) or exp(−h/16)).
    Alibi {
        /// Slope m of this head.
        slope: f64,
        /// Layout of the bias.
        form: AlibiForm,
    },
    /// T5 bucketed relative bias: bias_ij = `table[bucket(j − i)]`.
    T5 {
        /// Bucketing rule.
        buckets: T5Buckets,
        /// This head's learned value per bucket (`num_buckets` entries).
        table: Vec<f64>,
    },
    /// Absolute encodings already in head space: q̃_i = q_i + query_pos_i, k̃_j = k_j + key_pos_j
    /// (query_pos = P·W_Q, key_pos = P·W_K; use `additive_decomposition` to start from P and W).
    Absolute {
        /// n × d, added to the query rows.
        query_pos: RealMatrix,
        /// n × d, added to the key rows.
        key_pos: RealMatrix,
    },
    /// DeepSeek MLA head: rows are [nope (d_nope) | rope (rope.head_dim)]; only the rope block
    /// rotates. Use `mla_logits` for several heads sharing one rope key.
    Mla {
        /// Width of the position-free content block.
        d_nope: usize,
        /// RoPE of the decoupled block (must rotate all of it).
        rope: RopeConfig,
    },
}

/// Pre-mask logits `scale · ⟨q̃_i, k̃_j⟩ + bias_ij` (q̃, k̃ = rows after the encoding).
///
/// `scale` multiplies the dot products only; additive biases are added unscaled, as in
/// BLOOM (`baddbmm(alpha = 1/√d)`), MPT and T5. Pass `1.0` for raw logits, `d^-0.5` for the
/// usual softmax input, or `mla_softmax_scale(..)` for DeepSeek. No mask is applied.
pub fn logits(
    q: &RealMatrix,
    k: &RealMatrix,
    pe: &PositionalEncoding,
    scale: f64,
) -> Result<RealMatrix, PeError> {
    Ok(logits_with_bound(q, k, pe, scale)?.value)
}

/// Shared input checks: non-empty, finite, q and k of one shape (self-attention).
pub(crate) fn check_qk(q: &RealMatrix, k: &RealMatrix, scale: f64) -> Result<(), PeError> {
    q.validate("q")?;
    k.validate("k")?;
    check_param("scale", scale, true)?;
    if q.rows() != k.rows() || q.cols() != k.cols() {
        return Err(PeError::Shape(format!(
            "q is {} x {} but k is {} x {} (positions 0..n are shared, so both must be n x d)",
            q.rows(),
            q.cols(),
            k.rows(),
            k.cols()
        )));
    }
    Ok(())
}

/// The rotated block of a RoPE or MLA head, validated against the row width `d`.
pub(crate) fn rotary_layout(
    rope: &RopeConfig,
    offset: usize,
    d: usize,
) -> Result<RotaryLayout, PeError> {
    if offset + rope.head_dim != d {
        return Err(PeError::Shape(format!(
            "rows have {d} columns but the encoding expects {offset} + {}",
            rope.head_dim
        )));
    }
    Ok(RotaryLayout {
        offset,
        dim: rope.rotary_dim()?,
        pairing: rope.pairing,
    })
}

fn rotate_all(x: &RealMatrix, layout: &RotaryLayout, theta: &[f64], gain: f64) -> ErrorBounded {
    let rows: Vec<Vec<Approx>> = (0..x.rows())
        .map(|p| layout.rotate(x.row(p), p, theta, gain))
        .collect();
    ErrorBounded::from_fn(x.rows(), x.cols(), |i, j| rows[i][j])
}

/// [`logits`] together with a rigorous entrywise bound on its distance from the exact value
/// (rounding model in [`crate::bound`]).
pub fn logits_with_bound(
    q: &RealMatrix,
    k: &RealMatrix,
    pe: &PositionalEncoding,
    scale: f64,
) -> Result<ErrorBounded, PeError> {
    check_qk(q, k, scale)?;
    let (n, d) = (q.rows(), q.cols());
    let rotated = |rope: &RopeConfig, offset: usize| -> Result<_, PeError> {
        let layout = rotary_layout(rope, offset, d)?;
        let fr = rope.frequencies()?;
        Ok((
            rotate_all(q, &layout, &fr.theta, fr.attention_factor),
            rotate_all(k, &layout, &fr.theta, fr.attention_factor),
        ))
    };
    let (qe, ke) = match pe {
        PositionalEncoding::Rope(rope) => rotated(rope, 0)?,
        PositionalEncoding::Mla { d_nope, rope } => {
            if rope.rotary_dim()? != rope.head_dim {
                return Err(PeError::InvalidParameter(
                    "MLA rotates its whole rope block: partial_rotary_factor must be 1".into(),
                ));
            }
            rotated(rope, *d_nope)?
        }
        PositionalEncoding::Absolute { query_pos, key_pos } => {
            for (name, p) in [("query_pos", query_pos), ("key_pos", key_pos)] {
                p.validate(name)?;
                if (p.rows(), p.cols()) != (n, d) {
                    return Err(PeError::Shape(format!(
                        "{name} is {} x {} but q is {n} x {d}",
                        p.rows(),
                        p.cols()
                    )));
                }
            }
            let add = |x: &RealMatrix, p: &RealMatrix| {
                ErrorBounded::from_fn(n, d, |i, j| {
                    Approx::exact(x.get(i, j)).add(Approx::exact(p.get(i, j)))
                })
            };
            (add(q, query_pos), add(k, key_pos))
        }
        _ => (
            ErrorBounded::exact(q.clone()),
            ErrorBounded::exact(k.clone()),
        ),
    };
    let scaled = qe.mul_transpose(&ke).map(|x| x.scale(scale));
    Ok(match bias_matrix(n, pe)? {
        Some(b) => scaled.zip(&b, Approx::add),
        None => scaled,
    })
}

/// The additive Toeplitz bias B of ALiBi or T5 for n tokens, with rounding bounds
/// (ALiBi entries m·t are rounded once; T5 entries are exact lookups). `None` for encodings
/// without an additive bias.
pub fn bias_matrix(n: usize, pe: &PositionalEncoding) -> Result<Option<ErrorBounded>, PeError> {
    if n == 0 {
        return Err(PeError::Empty("bias for n = 0 tokens".into()));
    }
    match pe {
        PositionalEncoding::Alibi { slope, form } => {
            check_param("ALiBi slope", *slope, true)?;
            Ok(Some(ErrorBounded::from_fn(n, n, |i, j| {
                Approx::exact(*slope).mul(Approx::exact(form.offset(i, j, n)))
            })))
        }
        PositionalEncoding::T5 { buckets, table } => {
            if table.len() != buckets.num_buckets {
                return Err(PeError::Shape(format!(
                    "T5 table has {} entries for {} buckets",
                    table.len(),
                    buckets.num_buckets
                )));
            }
            check_finite("T5 table", table)?;
            let mut m = RealMatrix::zeros(n, n);
            for i in 0..n {
                for j in 0..n {
                    let b = buckets.bucket(j as i64 - i as i64)?;
                    m.data_mut()[i * n + j] = table[b];
                }
            }
            Ok(Some(ErrorBounded::exact(m)))
        }
        _ => Ok(None),
    }
}
