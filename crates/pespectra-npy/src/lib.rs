//! NumPy `.npy` matrices: a strict reader (every malformed, truncated or unsupported file is an
//! error naming the problem, never a panic) and a small writer used by tests and scripts.
//!
//! Supported: format versions 1.0–3.0, 2-D arrays, dtypes `<f8`/`>f8` (float64) and
//! `<c16`/`>c16` (complex128), C or Fortran order.
//!
//! ```
//! let bytes = pespectra_npy::to_npy_f64(2, 2, &[1.0, 2.0, 3.0, 4.0]);
//! let m = pespectra_npy::parse(&bytes).unwrap();
//! assert_eq!((m.rows, m.cols), (2, 2));
//! assert_eq!(m.re[2], 3.0); // row-major: (1, 0)
//! ```

#![warn(missing_docs)]
use std::fmt;

/// A dense matrix read from `.npy`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyMatrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Real parts, row-major.
    pub re: Vec<f64>,
    /// Imaginary parts for complex128 input.
    pub im: Option<Vec<f64>>,
}

/// Why a file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyError(pub String);

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NpyError {}

fn err<T>(msg: impl Into<String>) -> Result<T, NpyError> {
    Err(NpyError(msg.into()))
}

/// Reads and parses a file.
pub fn read(path: &std::path::Path) -> Result<NpyMatrix, NpyError> {
    let bytes = std::fs::read(path)
        .map_err(|e| NpyError(format!("cannot read {}: {e}", path.display())))?;
    parse(&bytes).map_err(|e| NpyError(format!("{}: {e}", path.display())))
}

/// Value of `'key':` in the header dictionary (a Python literal up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let pat_single = format!("'{key}'");
    let pat_double = format!("\"{key}\"");
    let start = header
        .find(&pat_single)
        .map(|p| p + pat_single.len())
        .or_else(|| header.find(&pat_double).map(|p| p + pat_double.len()));
    let Some(start) = start else {
        return err(format!("header has no '{key}' entry"));
    };
    let rest = header[start..].trim_start();
    let Some(rest) = rest.strip_prefix(':') else {
        return err(format!("malformed '{key}' entry"));
    };
    let rest = rest.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|p| p + 1)
    } else {
        rest.find([',', '}'])
    };
    match end {
        Some(e) => Ok(rest[..e].trim()),
        None => err(format!("malformed '{key}' entry")),
    }
}

/// Parses `.npy` bytes.
pub fn parse(bytes: &[u8]) -> Result<NpyMatrix, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return err("not a .npy file (bad magic string)");
    }
    let (hlen, hstart): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return err("truncated header");
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return err(format!("unsupported .npy format version {v}")),
    };
    let Some(header) = bytes.get(hstart..hstart.saturating_add(hlen)) else {
        return err("truncated header");
    };
    let header = std::str::from_utf8(header).map_err(|_| NpyError("header is not text".into()))?;
    let descr = dict_value(header, "descr")?.trim_matches(['\'', '"']);
    let (complex, big_endian) = match descr {
        "<f8" | "=f8" => (false, false),
        ">f8" => (false, true),
        "<c16" | "=c16" => (true, false),
        ">c16" => (true, true),
        other => {
            return err(format!(
                "unsupported dtype '{other}': expected float64 ('<f8') or complex128 ('<c16')"
            ))
        }
    };
    let fortran = match dict_value(header, "fortran_order")? {
        "True" => true,
        "False" => false,
        other => return err(format!("bad fortran_order value '{other}'")),
    };
    let shape_txt = dict_value(header, "shape")?;
    let inner = shape_txt
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| NpyError(format!("bad shape '{shape_txt}'")))?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| NpyError(format!("bad shape '{shape_txt}'")))
        })
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return err(format!("expected a 2-D matrix, got shape {shape_txt}"));
    };
    let width = if complex { 16 } else { 8 };
    let count = rows
        .checked_mul(cols)
        .ok_or_else(|| NpyError("shape too large".into()))?;
    let need = count
        .checked_mul(width)
        .ok_or_else(|| NpyError("shape too large".into()))?;
    let data = &bytes[hstart + hlen..];
    if data.len() < need {
        return err(format!(
            "truncated data: expected {need} bytes for shape ({rows}, {cols}), found {}",
            data.len()
        ));
    }
    if data.len() > need {
        return err(format!(
            "{} trailing bytes after the data",
            data.len() - need
        ));
    }
    let word = |k: usize| -> f64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[8 * k..8 * k + 8]);
        if big_endian {
            f64::from_be_bytes(b)
        } else {
            f64::from_le_bytes(b)
        }
    };
    let per = if complex { 2 } else { 1 };
    // storage index of (i, j)
    let at = |i: usize, j: usize| if fortran { j * rows + i } else { i * cols + j };
    let mut re = Vec::with_capacity(count);
    let mut im = complex.then(|| Vec::with_capacity(count));
    for i in 0..rows {
        for j in 0..cols {
            let k = at(i, j) * per;
            re.push(word(k));
            if let Some(im) = im.as_mut() {
                im.push(word(k + 1));
            }
        }
    }
    Ok(NpyMatrix { rows, cols, re, im })
}

fn header_bytes(descr: &str, rows: usize, cols: usize) -> Vec<u8> {
    let mut h =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // pad so that magic + version + length + header + '\n' is a multiple of 64
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out
}

/// `.npy` bytes of a row-major float64 matrix.
pub fn to_npy_f64(rows: usize, cols: usize, data: &[f64]) -> Vec<u8> {
    let mut out = header_bytes("<f8", rows, cols);
    data.iter()
        .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

/// `.npy` bytes of a row-major complex128 matrix given as real and imaginary parts.
pub fn to_npy_c128(rows: usize, cols: usize, re: &[f64], im: &[f64]) -> Vec<u8> {
    let mut out = header_bytes("<c16", rows, cols);
    for (r, i) in re.iter().zip(im) {
        out.extend_from_slice(&r.to_le_bytes());
        out.extend_from_slice(&i.to_le_bytes());
    }
    out
}

/// `bytes` with the first occurrence of `from` replaced by `to` (same length keeps the header
/// length field valid); for building malformed test files.
pub fn replace_bytes(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (f, t) = (from.as_bytes(), to.as_bytes());
    match bytes.windows(f.len()).position(|w| w == f) {
        Some(p) => [&bytes[..p], t, &bytes[p + f.len()..]].concat(),
        None => bytes.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes as NumPy 2.x writes them for `np.arange(6.).reshape(2,3)` in Fortran order
    /// (header text copied from NumPy's format specification; data column-major).
    #[test]
    fn fortran_order_is_transposed_back() {
        let mut h = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }".to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        for v in [0.0f64, 3.0, 1.0, 4.0, 2.0, 5.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let m = parse(&b).unwrap();
        assert_eq!(m.re, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn complex_round_trip() {
        let b = to_npy_c128(1, 2, &[1.0, -2.0], &[0.5, 3.0]);
        let m = parse(&b).unwrap();
        assert_eq!(m.im, Some(vec![0.5, 3.0]));
    }

    #[test]
    fn malformed_files_are_refused_with_reasons() {
        let good = to_npy_f64(2, 2, &[1.0, 2.0, 3.0, 4.0]);
        assert!(parse(&good[..good.len() - 1])
            .unwrap_err()
            .0
            .contains("truncated data"));
        assert!(parse(&good[..20])
            .unwrap_err()
            .0
            .contains("truncated header"));
        assert!(parse(b"hello world, not npy")
            .unwrap_err()
            .0
            .contains("magic"));
        assert!(parse(&replace_bytes(&good, "<f8", "<f4"))
            .unwrap_err()
            .0
            .contains("unsupported dtype"));
        assert!(parse(&replace_bytes(&good, "(2, 2)", "(4,)  "))
            .unwrap_err()
            .0
            .contains("2-D"));
        assert!(parse(&replace_bytes(&good, "False", "Maybe"))
            .unwrap_err()
            .0
            .contains("fortran_order"));
        let mut extra = good.clone();
        extra.push(0);
        assert!(parse(&extra).unwrap_err().0.contains("trailing"));
        let huge = replace_bytes(&good, "(2, 2), } ", "(9999999999, 9999999999), }");
        assert!(parse(&huge).is_err());
    }
}
