//! What a certificate states: the claims the checker re-decides and the operations that derive
//! matrices from its inputs.

use super::scalars::{f64_scalar, scalar};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use pespectra_arith::interval::Interval;
use serde::Serialize;

/// How a derived matrix is computed from earlier ones (`proofs/CERTIFICATE_FORMAT.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Entrywise product of two.
    Hadamard,
    /// Matrix product of two.
    Matmul,
    /// Sum of two.
    Add,
    /// Difference of two.
    Sub,
    /// Entrywise real part of one.
    RealPart,
    /// Conjugate transpose of one.
    Adjoint,
    /// `[[0, M], [Mᴴ, 0]]` of one (eigenvalues ±σ).
    JordanWielandt,
    /// The lower triangle (with the diagonal) of one; zeros above.
    MaskLower,
    /// One matrix times the exact scalar.
    Scale(String),
}

impl Op {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Hadamard => "hadamard",
            Self::Matmul => "matmul",
            Self::Add => "add",
            Self::Sub => "sub",
            Self::RealPart => "real_part",
            Self::Adjoint => "adjoint",
            Self::JordanWielandt => "jordan_wielandt",
            Self::MaskLower => "mask_lower",
            Self::Scale(_) => "scale",
        }
    }
}

/// A statement about one matrix that the checker re-decides exactly.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Claim {
    /// The matrix is Hermitian.
    Hermitian {
        /// Matrix name.
        matrix: String,
    },
    /// Every diagonal entry is exactly 1.
    UnitDiagonal {
        /// Matrix name.
        matrix: String,
    },
    /// Positive semidefinite.
    Psd {
        /// Matrix name.
        matrix: String,
    },
    /// The `index`-th largest eigenvalue (1-based) lies in `[lo, hi]`.
    Eigenvalue {
        /// Matrix name.
        matrix: String,
        /// 1-based, decreasing order.
        index: usize,
        /// Exact lower end.
        lo: String,
        /// Exact upper end.
        hi: String,
    },
    /// The numbers of eigenvalues below, at and above `shift`.
    Inertia {
        /// Matrix name.
        matrix: String,
        /// Exact shift.
        shift: String,
        /// Count below the shift.
        neg: usize,
        /// Count equal to it.
        zero: usize,
        /// Count above it.
        pos: usize,
    },
    /// The entry at (`row`, `col`) equals `re + i·im` exactly.
    Entry {
        /// Matrix name.
        matrix: String,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// Exact real part.
        re: String,
        /// Exact imaginary part.
        im: String,
    },
}

impl Claim {
    /// The matrix the claim is about.
    pub(super) fn matrix(&self) -> &str {
        match self {
            Self::Hermitian { matrix }
            | Self::UnitDiagonal { matrix }
            | Self::Psd { matrix }
            | Self::Eigenvalue { matrix, .. }
            | Self::Inertia { matrix, .. }
            | Self::Entry { matrix, .. } => matrix,
        }
    }

    /// `matrix` has unit diagonal.
    pub fn unit_diagonal(matrix: &str) -> Self {
        Self::UnitDiagonal {
            matrix: matrix.into(),
        }
    }

    /// `matrix` is PSD.
    pub fn psd(matrix: &str) -> Self {
        Self::Psd {
            matrix: matrix.into(),
        }
    }

    /// The k-th largest (1-based) eigenvalue of `matrix` lies in the f64 enclosure `iv`.
    pub fn eigenvalue(matrix: &str, k: usize, iv: Interval) -> Self {
        Self::eigenvalue_exact(matrix, k, &f64_scalar(iv.lo()), &f64_scalar(iv.hi()))
    }

    /// The k-th largest (1-based) eigenvalue of `matrix` lies in `[lo, hi]` (exact scalars).
    pub fn eigenvalue_exact(matrix: &str, k: usize, lo: &str, hi: &str) -> Self {
        Self::Eigenvalue {
            matrix: matrix.into(),
            index: k,
            lo: lo.into(),
            hi: hi.into(),
        }
    }

    /// The top eigenvalue of `jw`, the Jordan–Wielandt matrix of a real matrix D with the given
    /// exact entries, lies in `[max |d_ij|, Σ |d_ij|]`: `|d_ij| = |e_iᵀ D e_j| ≤ σ₁(D)` and
    /// `σ₁(D) ≤ ‖D‖_F ≤ Σ |d_ij|`, and the top eigenvalue of `[[0, D], [Dᵀ, 0]]` is σ₁(D).
    /// A positive lower end certifies `D ≠ 0` (the checker re-decides both ends by exact
    /// inertia). Returns the claim and its lower end.
    pub fn top_singular_value(jw: &str, entries: &[BigRational]) -> (Self, BigRational) {
        let abs: Vec<BigRational> = entries.iter().map(|x| x.abs()).collect();
        let lo = abs.iter().max().cloned().unwrap_or_else(BigRational::zero);
        let hi = abs.iter().fold(BigRational::zero(), |s, x| s + x);
        (
            Self::eigenvalue_exact(jw, 1, &scalar(&lo), &scalar(&hi)),
            lo,
        )
    }
}
