//! A memory-mapped GGUF reader: header, metadata, tensor table, and dequantization to f32.
//!
//! Hand-written rather than taken from candle: the format is small (a header, typed key/values,
//! a tensor table, aligned raw data) and the block layouts below are a few lines each, while
//! candle-core costs minutes of compile time for far more than we need. Every read is bounds
//! checked, so a truncated or malformed file is a [`GgufError`], never a panic. Block layouts
//! follow ggml (`ggml-quants.c`, `dequantize_row_*`); the tests compare them with the `gguf`
//! Python package.

mod dequant;
mod types;

pub use dequant::dequantize;
pub use types::GgmlType;
use types::{type_name, SUPPORTED};

use memmap2::Mmap;
use std::fmt;
use std::fs::File;
use std::path::Path;

/// Why a GGUF file cannot be read. `Display` is one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GgufError {
    /// Opening or mapping the file failed.
    #[error("cannot read GGUF file: {0}")]
    Io(String),
    /// Not a GGUF file.
    #[error("not a GGUF file (bad magic)")]
    BadMagic,
    /// GGUF version other than 2 or 3.
    #[error("unsupported GGUF version {0} (2 and 3 are read)")]
    UnsupportedVersion(u32),
    /// The file ends inside the named structure.
    #[error("truncated GGUF file: ends inside {0}")]
    Truncated(String),
    /// Structurally invalid (unknown value type, non-UTF-8 key, bad shape, …).
    #[error("malformed GGUF file: {0}")]
    Malformed(String),
    /// A tensor type this reader does not dequantize.
    #[error(
        "tensor {tensor} has unsupported quantization type {} (supported: {})",
        type_name(*type_id),
        SUPPORTED.map(|t| t.name()).join(", ")
    )]
    UnsupportedType {
        /// Tensor name.
        tensor: String,
        /// ggml type id.
        type_id: u32,
    },
    /// A tensor's data range lies outside the file.
    #[error("tensor {0} lies outside the file (truncated?)")]
    OutOfBounds(String),
    /// A metadata key or tensor the caller needs is absent or has another type.
    #[error("GGUF file lacks {0}")]
    Missing(String),
}

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Any unsigned integer type (u8/u16/u32/u64).
    U64(u64),
    /// Any signed integer type (i8/i16/i32/i64).
    I64(i64),
    /// f32 or f64.
    F64(f64),
    /// bool.
    Bool(bool),
    /// UTF-8 string (invalid UTF-8 is replaced, as tokenizer vocabularies may hold raw bytes).
    Str(String),
    /// Array of values (possibly nested).
    Array(Vec<Value>),
}

impl Value {
    /// As an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(v) => Some(v),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// As a float (integers convert).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F64(v) => Some(v),
            Value::U64(v) => Some(v as f64),
            Value::I64(v) => Some(v as f64),
            _ => None,
        }
    }

    /// As a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// As an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }
}

/// One entry of the tensor table.
#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// Tensor name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` varies fastest (so a `[rows, cols]` row-major matrix
    /// has `dims = [cols, rows]`).
    pub dims: Vec<u64>,
    /// ggml type id (see [`GgmlType`]).
    pub type_id: u32,
    /// Absolute byte range of the data in the file.
    pub start: usize,
    /// Length of the data in bytes.
    pub len: usize,
}

impl TensorInfo {
    /// Number of elements.
    pub fn n_elements(&self) -> usize {
        self.dims.iter().map(|&d| d as usize).product()
    }
}

enum Bytes {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

/// A parsed GGUF file. Tensor data stay in the mapping until [`Gguf::tensor_f32`] is called.
pub struct Gguf {
    bytes: Bytes,
    /// GGUF version (2 or 3).
    pub version: u32,
    /// Metadata in file order.
    pub metadata: Vec<(String, Value)>,
    /// Tensor table in file order.
    pub tensors: Vec<TensorInfo>,
}

impl fmt::Debug for Gguf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gguf")
            .field("version", &self.version)
            .field("metadata", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        if self.b.len() - self.pos < n {
            return Err(GgufError::Truncated(what()));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    /// A count that promises at least `min_bytes` each must fit in what is left of the file.
    fn count(&mut self, min_bytes: usize, what: &dyn Fn() -> String) -> Result<usize, GgufError> {
        let n = self.u64(what)?;
        if n > (self.remaining() / min_bytes.max(1)) as u64 {
            return Err(GgufError::Truncated(what()));
        }
        Ok(n as usize)
    }
    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, GgufError> {
        let n = self.count(1, what)?;
        Ok(String::from_utf8_lossy(self.take(n, what)?).into_owned())
    }

    fn value(
        &mut self,
        ty: u32,
        depth: u32,
        what: &dyn Fn() -> String,
    ) -> Result<Value, GgufError> {
        let v = match ty {
            0 => Value::U64(self.take(1, what)?[0] as u64),
            1 => Value::I64(self.take(1, what)?[0] as i8 as i64),
            2 => Value::U64(u16::from_le_bytes(self.take(2, what)?.try_into().unwrap()) as u64),
            3 => Value::I64(i16::from_le_bytes(self.take(2, what)?.try_into().unwrap()) as i64),
            4 => Value::U64(self.u32(what)? as u64),
            5 => Value::I64(self.u32(what)? as i32 as i64),
            6 => Value::F64(f32::from_bits(self.u32(what)?) as f64),
            7 => match self.take(1, what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(GgufError::Malformed(format!("{}: bool byte {b}", what()))),
            },
            8 => Value::Str(self.string(what)?),
            9 => {
                if depth > 4 {
                    return Err(GgufError::Malformed(format!(
                        "{}: arrays nested too deep",
                        what()
                    )));
                }
                let ety = self.u32(what)?;
                let n = self.count(value_min_bytes(ety), what)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.value(ety, depth + 1, what)?);
                }
                Value::Array(v)
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(self.u64(what)? as i64),
            12 => Value::F64(f64::from_bits(self.u64(what)?)),
            t => {
                return Err(GgufError::Malformed(format!(
                    "{}: unknown value type {t}",
                    what()
                )))
            }
        };
        Ok(v)
    }
}

/// Smallest encoding of one value of type `ty` (so counts can be checked before allocating).
fn value_min_bytes(ty: u32) -> usize {
    match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        8 | 10..=12 => 8,
        9 => 12,
        _ => 1,
    }
}

impl Gguf {
    /// Memory-maps and parses `path`.
    pub fn open(path: &Path) -> Result<Self, GgufError> {
        let f = File::open(path).map_err(|e| GgufError::Io(format!("{}: {e}", path.display())))?;
        // SAFETY: the mapping is read-only; the cache files are never modified in place (they are
        // installed by rename), so nothing changes the bytes under us.
        let m = unsafe { Mmap::map(&f) }
            .map_err(|e| GgufError::Io(format!("{}: {e}", path.display())))?;
        Self::parse(Bytes::Mapped(m))
    }

    /// Parses a GGUF image held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, GgufError> {
        Self::parse(Bytes::Owned(bytes))
    }

    fn data(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }

    fn parse(bytes: Bytes) -> Result<Self, GgufError> {
        let b: &[u8] = match &bytes {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        };
        let mut c = Cursor { b, pos: 0 };
        let hdr = || "the header".to_string();
        if c.take(4, &hdr)? != b"GGUF" {
            return Err(GgufError::BadMagic);
        }
        let version = c.u32(&hdr)?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion(version));
        }
        let n_tensors = c.count(24, &|| "the tensor count".into())?;
        let n_kv = c.count(12, &|| "the metadata count".into())?;
        let mut metadata = Vec::with_capacity(n_kv);
        for i in 0..n_kv {
            let key = c.string(&|| format!("metadata key #{i}"))?;
            let what = || format!("metadata value {key}");
            let ty = c.u32(&what)?;
            let v = c.value(ty, 0, &what)?;
            metadata.push((key, v));
        }
        let mut raw = Vec::with_capacity(n_tensors);
        for i in 0..n_tensors {
            let name = c.string(&|| format!("tensor info #{i}"))?;
            let what = || format!("tensor info {name}");
            let nd = c.u32(&what)? as usize;
            if nd == 0 || nd > 4 {
                return Err(GgufError::Malformed(format!(
                    "tensor {name} has {nd} dimensions"
                )));
            }
            let mut dims = Vec::with_capacity(nd);
            for _ in 0..nd {
                dims.push(c.u64(&what)?);
            }
            let type_id = c.u32(&what)?;
            let offset = c.u64(&what)?;
            raw.push((name, dims, type_id, offset));
        }
        let alignment = metadata
            .iter()
            .find(|(k, _)| k == "general.alignment")
            .map_or(Some(32), |(_, v)| v.as_u64())
            .filter(|&a| a > 0 && a.is_power_of_two() && a <= 1 << 20)
            .ok_or_else(|| GgufError::Malformed("general.alignment is not a power of two".into()))?
            as usize;
        let data_start = c.pos.div_ceil(alignment) * alignment;
        let mut tensors = Vec::with_capacity(raw.len());
        for (name, dims, type_id, offset) in raw {
            let oob = || GgufError::OutOfBounds(name.clone());
            let n = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .filter(|&n| n <= 1 << 40)
                .ok_or_else(|| GgufError::Malformed(format!("tensor {name} is too large")))?
                as usize;
            // Unsupported types keep len 0 here; reading them reports the type, not the bounds.
            let len = match GgmlType::from_id(type_id) {
                Some(t) => {
                    let (be, bb) = t.block();
                    if !(dims[0] as usize).is_multiple_of(be) {
                        return Err(GgufError::Malformed(format!(
                            "tensor {name}: row length {} is not a multiple of the {} block {be}",
                            dims[0],
                            t.name()
                        )));
                    }
                    n / be * bb
                }
                None => 0,
            };
            let start = (offset as usize).checked_add(data_start).ok_or_else(oob)?;
            if start.checked_add(len).is_none_or(|end| end > b.len()) {
                return Err(oob());
            }
            tensors.push(TensorInfo {
                name,
                dims,
                type_id,
                start,
                len,
            });
        }
        Ok(Gguf {
            bytes,
            version,
            metadata,
            tensors,
        })
    }

    /// Metadata value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Unsigned integer metadata, or [`GgufError::Missing`].
    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| GgufError::Missing(format!("integer metadata {key}")))
    }

    /// Float metadata, or [`GgufError::Missing`].
    pub fn get_f64(&self, key: &str) -> Result<f64, GgufError> {
        self.get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| GgufError::Missing(format!("numeric metadata {key}")))
    }

    /// String metadata, or [`GgufError::Missing`].
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        self.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| GgufError::Missing(format!("string metadata {key}")))
    }

    /// Array-of-strings metadata, or [`GgufError::Missing`].
    pub fn get_str_array(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        let missing = || GgufError::Missing(format!("string-array metadata {key}"));
        self.get(key)
            .and_then(Value::as_array)
            .ok_or_else(missing)?
            .iter()
            .map(|v| v.as_str().ok_or_else(missing))
            .collect()
    }

    /// Table entry of tensor `name`.
    pub fn tensor(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| GgufError::Missing(format!("tensor {name}")))
    }

    /// Raw bytes of tensor `name`.
    pub fn tensor_bytes(&self, name: &str) -> Result<&[u8], GgufError> {
        let t = self.tensor(name)?;
        Ok(&self.data()[t.start..t.start + t.len])
    }

    /// Tensor `name` dequantized to f32, in ggml element order (`dims[0]` fastest).
    pub fn tensor_f32(&self, name: &str) -> Result<Vec<f32>, GgufError> {
        let t = self.tensor(name)?;
        let ty = GgmlType::from_id(t.type_id).ok_or_else(|| GgufError::UnsupportedType {
            tensor: name.to_string(),
            type_id: t.type_id,
        })?;
        dequantize(ty, &self.data()[t.start..t.start + t.len])
    }
}

#[cfg(test)]
mod tests;
