//! T5 relative-position buckets (`T5Attention._relative_position_bucket`).

use crate::error::PeError;

/// Bucketing parameters of a T5-style relative bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct T5Buckets {
    /// Encoder style: separate buckets for keys before and after the query.
    pub bidirectional: bool,
    /// Number of buckets (32 in T5 and MPNet).
    pub num_buckets: usize,
    /// Distance at which the logarithmic buckets saturate (128 in T5 and MPNet).
    pub max_distance: usize,
}

impl T5Buckets {
    /// T5 encoder / MPNet defaults: bidirectional, 32 buckets, max distance 128.
    pub const ENCODER: T5Buckets = T5Buckets {
        bidirectional: true,
        num_buckets: 32,
        max_distance: 128,
    };
    /// T5 decoder defaults: unidirectional, 32 buckets, max distance 128.
    pub const DECODER: T5Buckets = T5Buckets {
        bidirectional: false,
        num_buckets: 32,
        max_distance: 128,
    };

    /// Half of the (per-direction) buckets are exact; errors for configurations where
    /// transformers would divide by zero or take the log of a ratio ≤ 1.
    fn max_exact(&self) -> Result<(usize, usize), PeError> {
        let nb = if self.bidirectional {
            self.num_buckets / 2
        } else {
            self.num_buckets
        };
        let max_exact = nb / 2;
        if max_exact == 0 || self.max_distance <= max_exact {
            return Err(PeError::InvalidParameter(format!(
                "T5 buckets need max_exact = {max_exact} ≥ 1 and max_distance = {} > max_exact \
                 (num_buckets = {}, bidirectional = {})",
                self.max_distance, self.num_buckets, self.bidirectional
            )));
        }
        Ok((nb, max_exact))
    }

    /// Bucket of `relative_position` = key position − query position.
    ///
    /// The logarithmic branch is evaluated in f32 as transformers does
    /// (`log(float(r)/max_exact) / log(max_distance/max_exact) · (nb − max_exact)`, truncated):
    /// bucket edges are where that expression crosses an integer, so the evaluation precision is
    /// part of the convention. (An f64 evaluation gave identical buckets on 9 configurations for
    /// |r| ≤ 200000 when this was written; the f32 form is kept because it is the definition.)
    pub fn bucket(&self, relative_position: i64) -> Result<usize, PeError> {
        let (nb, max_exact) = self.max_exact()?;
        let mut bucket = 0usize;
        let r: u64 = if self.bidirectional {
            if relative_position > 0 {
                bucket += nb;
            }
            relative_position.unsigned_abs()
        } else {
            relative_position.min(0).unsigned_abs()
        };
        if r < max_exact as u64 {
            return Ok(bucket + r as usize);
        }
        let ratio = (r as f32) / (max_exact as f32);
        let denom = (self.max_distance as f64 / max_exact as f64).ln() as f32;
        let large = max_exact + (ratio.ln() / denom * (nb - max_exact) as f32) as usize;
        Ok(bucket + large.min(nb - 1))
    }
}
