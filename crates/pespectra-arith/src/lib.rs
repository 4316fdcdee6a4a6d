//! Rigorous arithmetic for pespectra.
//!
//! - [`round`]: directed rounding of single f64 operations by error-free transformations;
//! - [`interval`]: f64 intervals built on it;
//! - [`gemm`]: enclosures of dense matrix products from fast round-to-nearest GEMMs plus
//!   a priori error bounds (two GEMMs per product);
//! - [`mp`]: MPFR intervals at any precision (rug), and outward decimal formatting;
//! - [`exact`]: exact rationals (num-rational) from f64.
//!
//! ```
//! use pespectra_arith::interval::Interval;
//! let s = Interval::point(0.1) + Interval::point(0.2);
//! assert!(s.lo() < s.hi()); // 0.1 + 0.2 is not a double: the enclosure has width one ulp
//! ```

#![warn(missing_docs)]
pub mod exact;
pub mod gemm;
pub mod interval;
pub mod mp;
pub mod round;
