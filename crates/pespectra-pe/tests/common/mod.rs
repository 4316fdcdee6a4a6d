//! Test helpers: a seeded generator and plain reference linear algebra written independently
//! of the crate under test.
#![allow(dead_code)] // each test binary uses a different subset

use pespectra_pe::{Complex64, ComplexMatrix, RealMatrix};

/// SplitMix64 with Box–Muller normals: deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    pub fn matrix(&mut self, rows: usize, cols: usize) -> RealMatrix {
        RealMatrix::from_fn(rows, cols, |_, _| self.normal())
    }
}

/// a · bᵀ for real matrices (rows dotted with rows).
pub fn mul_t(a: &RealMatrix, b: &RealMatrix) -> RealMatrix {
    RealMatrix::from_fn(a.rows(), b.rows(), |i, j| {
        a.row(i).iter().zip(b.row(j)).map(|(x, y)| x * y).sum()
    })
}

/// a · b for real matrices.
pub fn mul(a: &RealMatrix, b: &RealMatrix) -> RealMatrix {
    mul_t(a, &b.transpose())
}

/// a · b for complex matrices.
pub fn cmul(a: &ComplexMatrix, b: &ComplexMatrix) -> ComplexMatrix {
    ComplexMatrix::from_fn(a.rows(), b.cols(), |i, j| {
        (0..a.cols()).map(|k| a.get(i, k) * b.get(k, j)).sum()
    })
}

pub fn adjoint(a: &ComplexMatrix) -> ComplexMatrix {
    ComplexMatrix::from_fn(a.cols(), a.rows(), |i, j| a.get(j, i).conj())
}

pub fn trace(a: &ComplexMatrix) -> Complex64 {
    (0..a.rows()).map(|i| a.get(i, i)).sum()
}

pub fn max_abs(m: &RealMatrix) -> f64 {
    m.data().iter().fold(0.0, |a, x| a.max(x.abs()))
}

/// Largest deviation from Toeplitz structure: max |M[i+1][j+1] − M[i][j]|.
pub fn toeplitz_defect(m: &RealMatrix) -> f64 {
    let mut worst: f64 = 0.0;
    for i in 0..m.rows() - 1 {
        for j in 0..m.cols() - 1 {
            worst = worst.max((m.get(i + 1, j + 1) - m.get(i, j)).abs());
        }
    }
    worst
}
