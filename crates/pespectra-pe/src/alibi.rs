//! ALiBi slopes (BLOOM, MPT, llama.cpp, closed form) and bias forms.

use crate::error::{check_param, PeError};

/// How the bias of slope m is laid out; all four differ only by a per-row constant on the
/// causal (j ≤ i) part, which softmax ignores but raw logit spectra do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlibiForm {
    /// −m·|i − j|: bidirectional, symmetric Toeplitz.
    Symmetric,
    /// −m·(i − j) (Press et al., causal). Above the diagonal this is the linear extension
    /// m·(j − i); the caller masks it (see `RealMatrix::causal_mask`). Toeplitz, not symmetric.
    Causal,
    /// m·j: BLOOM's `build_alibi_tensor` without padding (= `Causal` + m·i per row).
    BloomRowOffset,
    /// m·(j − (n − 1)): MPT's `build_mpt_alibi_tensor` sliced to n keys (= `Causal` + m·(i − n + 1)).
    MptOffset,
}

impl AlibiForm {
    /// The integer t with bias_ij = m·t for an n-token sequence (exact in f64 for n < 2^53).
    pub(crate) fn offset(self, i: usize, j: usize, n: usize) -> f64 {
        let (i, j, n) = (i as f64, j as f64, n as f64);
        match self {
            AlibiForm::Symmetric => -(i - j).abs(),
            AlibiForm::Causal => j - i,
            AlibiForm::BloomRowOffset => j,
            AlibiForm::MptOffset => j - (n - 1.0),
        }
    }
}

fn check_heads(num_heads: usize) -> Result<(), PeError> {
    if num_heads == 0 {
        Err(PeError::Empty("ALiBi needs at least one head".into()))
    } else {
        Ok(())
    }
}

fn floor_pow2(h: usize) -> usize {
    1 << (usize::BITS - 1 - h.leading_zeros())
}

/// Closed form 2^(−8k/H), k = 1..H (Press et al. for power-of-two H).
pub fn alibi_slopes_geometric(num_heads: usize) -> Result<Vec<f64>, PeError> {
    check_heads(num_heads)?;
    let h = num_heads as f64;
    Ok((1..=num_heads)
        .map(|k| (-8.0 * k as f64 / h).exp2())
        .collect())
}

/// BLOOM (`_get_alibi_slopes`): 2^(−8k/P), k = 1..P with P the largest power of two ≤ H, then
/// 2^(−4(2t+1)/P) for the H − P extra heads.
pub fn alibi_slopes_bloom(num_heads: usize) -> Result<Vec<f64>, PeError> {
    check_heads(num_heads)?;
    let p = floor_pow2(num_heads);
    let pf = p as f64;
    let mut s: Vec<f64> = (1..=p).map(|k| (-8.0 * k as f64 / pf).exp2()).collect();
    let extra = (num_heads - p).min(p);
    s.extend((0..extra).map(|t| (-4.0 * (2 * t + 1) as f64 / pf).exp2()));
    Ok(s)
}

/// MPT (`build_mpt_alibi_tensor`): 2^(−k·max/P), k = 1..P with P the smallest power of two
/// ≥ H; for H < P the odd-k slopes come first, then the even-k ones, truncated to H.
pub fn alibi_slopes_mpt(num_heads: usize, alibi_bias_max: f64) -> Result<Vec<f64>, PeError> {
    check_heads(num_heads)?;
    check_param("alibi_bias_max", alibi_bias_max, alibi_bias_max > 0.0)?;
    let p = num_heads.next_power_of_two();
    let s: Vec<f64> = (1..=p)
        .map(|k| (-(k as f64) * alibi_bias_max / p as f64).exp2())
        .collect();
    if p == num_heads {
        return Ok(s);
    }
    // torch.concat([slopes[1::2], slopes[::2]])[:H]
    let reordered = s.iter().skip(1).step_by(2).chain(s.iter().step_by(2));
    Ok(reordered.take(num_heads).copied().collect())
}

/// llama.cpp: head h gets m0^(h+1) for h < P, else m1^(2(h−P)+1), with P = largest power of
/// two ≤ H, m0 = 2^(−max_bias/P), m1 = 2^(−max_bias/(2P)). Equals BLOOM for max_bias = 8.
pub fn alibi_slopes_llama_cpp(num_heads: usize, max_bias: f64) -> Result<Vec<f64>, PeError> {
    check_heads(num_heads)?;
    check_param("max_bias", max_bias, max_bias > 0.0)?;
    let p = floor_pow2(num_heads);
    let pf = p as f64;
    Ok((0..num_heads)
        .map(|h| {
            if h < p {
                (-max_bias * (h + 1) as f64 / pf).exp2()
            } else {
                (-max_bias / 2.0 * (2 * (h - p) + 1) as f64 / pf).exp2()
            }
        })
        .collect())
}
