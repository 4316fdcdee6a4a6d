//! nalgebra interop (feature `nalgebra`): attention inputs borrowed from nalgebra matrices.
//!
//! The kernels read row-major `[batch, heads, seq, dim]` tensors. A nalgebra matrix is stored
//! column by column, so a contiguous `dim × tokens` matrix — one token vector per column, heads
//! and batches as consecutive column blocks — already *is* that layout and is borrowed without a
//! copy. A `tokens × dim` matrix (one token per row) is not; transpose it into an owned matrix
//! first (`m.transpose()`), which is the one copy the layout requires.
//!
//! ```
//! use nalgebra::DMatrix;
//! use pespectra_attention::{flash_attention, AttentionConfig, AttentionInputs};
//! let (seq, d) = (8, 4);
//! let q = DMatrix::<f32>::from_fn(d, seq, |i, j| ((i + 2 * j) % 5) as f32 / 5.0);
//! let cfg = AttentionConfig::new(1, 1, seq, d);
//! let out = flash_attention(&cfg, &AttentionInputs::from_token_columns(&q, &q, &q))?;
//! assert_eq!(out.len(), seq * d);
//! # Ok::<(), pespectra_attention::Error>(())
//! ```

use crate::config::AttentionInputs;
use nalgebra::{Dim, IsContiguous, Matrix, RawStorage};

impl<'a> AttentionInputs<'a> {
    /// Queries, keys and values from contiguous `dim × tokens` nalgebra matrices, borrowed
    /// (`as_slice`: column-major storage is the row-major `[tokens, dim]` layout); shapes are checked against the configuration by every attention call, as for slices.
    pub fn from_token_columns<Sq, Sk, Sv, R1, C1, R2, C2, R3, C3>(
        q: &'a Matrix<f32, R1, C1, Sq>,
        k: &'a Matrix<f32, R2, C2, Sk>,
        v: &'a Matrix<f32, R3, C3, Sv>,
    ) -> Self
    where
        R1: Dim,
        C1: Dim,
        R2: Dim,
        C2: Dim,
        R3: Dim,
        C3: Dim,
        Sq: RawStorage<f32, R1, C1> + IsContiguous,
        Sk: RawStorage<f32, R2, C2> + IsContiguous,
        Sv: RawStorage<f32, R3, C3> + IsContiguous,
    {
        Self {
            q: q.as_slice(),
            k: k.as_slice(),
            v: v.as_slice(),
            rope_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference_attention, AttentionConfig};
    use nalgebra::DMatrix;

    #[test]
    fn token_columns_match_row_major_slices() {
        let (seq, d) = (12, 8);
        let rows: Vec<f32> = (0..seq * d)
            .map(|x| ((x * 7) % 11) as f32 / 11.0 - 0.5)
            .collect();
        // row-major [seq, d] data read column by column is the d × seq matrix
        let m = DMatrix::from_column_slice(d, seq, &rows);
        assert_eq!(m.as_slice(), &rows[..]);
        let cfg = AttentionConfig::new(1, 1, seq, d);
        let from_slices = AttentionInputs {
            q: &rows,
            k: &rows,
            v: &rows,
            rope_key: None,
        };
        let a = reference_attention(&cfg, &from_slices).unwrap();
        let b =
            reference_attention(&cfg, &AttentionInputs::from_token_columns(&m, &m, &m)).unwrap();
        assert_eq!(a, b);
        // a wrong shape is the usual typed error, not a panic
        let short = DMatrix::<f32>::zeros(d, seq - 1);
        assert!(
            reference_attention(&cfg, &AttentionInputs::from_token_columns(&short, &m, &m))
                .is_err()
        );
    }
}
