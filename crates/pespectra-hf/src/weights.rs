//! Memory-mapped safetensors weights, single-file or sharded (`model.safetensors.index.json`),
//! converted to f32 one tensor at a time, so a model larger than its f32 size in memory can
//! still run: only the pages of the tensors actually used are touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use safetensors::tensor::Metadata;
use safetensors::{Dtype, SafeTensors};

use crate::error::HfError;
use crate::source::{gather_rows, TensorSource};

struct Shard {
    path: PathBuf,
    map: Mmap,
    header: usize,
    meta: Metadata,
}

/// Every tensor of a checkpoint, by name.
pub struct Weights {
    shards: Vec<Shard>,
    /// tensor name → shard index
    index: HashMap<String, usize>,
    /// the file a missing tensor is reported against
    listing: PathBuf,
}

fn open(path: &Path) -> Result<Shard, HfError> {
    let file = std::fs::File::open(path).map_err(|source| HfError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: the mapping is read-only; a checkpoint modified while pespectra runs would give
    // wrong numbers, like any reader of a file changing underneath it, but no unsoundness in
    // this process beyond what reading the bytes as f32/f16/bf16 (any bit pattern) allows.
    let map = unsafe { Mmap::map(&file) }.map_err(|source| HfError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (header, meta) = SafeTensors::read_metadata(&map).map_err(|e| HfError::Weights {
        path: path.to_path_buf(),
        message: format!("not a readable safetensors file: {e}"),
    })?;
    Ok(Shard {
        path: path.to_path_buf(),
        map,
        header,
        meta,
    })
}

impl Weights {
    /// Opens `dir/model.safetensors`, or the shards `dir/model.safetensors.index.json` lists.
    pub fn open(dir: &Path) -> Result<Self, HfError> {
        let single = dir.join("model.safetensors");
        let index_path = dir.join("model.safetensors.index.json");
        if index_path.exists() {
            let text = std::fs::read_to_string(&index_path).map_err(|source| HfError::Io {
                path: index_path.clone(),
                source,
            })?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| HfError::Weights {
                    path: index_path.clone(),
                    message: format!("not JSON: {e}"),
                })?;
            let map = v["weight_map"]
                .as_object()
                .ok_or_else(|| HfError::Weights {
                    path: index_path.clone(),
                    message: "weight_map: missing or not an object".into(),
                })?;
            let mut files: Vec<String> = Vec::new();
            let mut index = HashMap::new();
            for (name, file) in map {
                let file = file
                    .as_str()
                    .filter(|f| !f.contains('/') && !f.contains(".."))
                    .ok_or_else(|| HfError::Weights {
                        path: index_path.clone(),
                        message: format!("weight_map.{name}: not a file name in this directory"),
                    })?;
                let k = match files.iter().position(|f| f == file) {
                    Some(k) => k,
                    None => {
                        files.push(file.to_string());
                        files.len() - 1
                    }
                };
                index.insert(name.clone(), k);
            }
            let shards = files
                .iter()
                .map(|f| open(&dir.join(f)))
                .collect::<Result<Vec<_>, _>>()?;
            for (name, &k) in &index {
                if shards[k].meta.info(name).is_none() {
                    return Err(HfError::Tensor {
                        path: shards[k].path.clone(),
                        name: name.clone(),
                        message: format!(
                            "listed in {} but absent from this shard",
                            index_path.display()
                        ),
                    });
                }
            }
            Ok(Self {
                shards,
                index,
                listing: index_path,
            })
        } else if single.exists() {
            let shard = open(&single)?;
            let index = shard.meta.tensors().into_keys().map(|n| (n, 0)).collect();
            Ok(Self {
                shards: vec![shard],
                index,
                listing: single,
            })
        } else {
            Err(HfError::Weights {
                path: dir.to_path_buf(),
                message: "no model.safetensors or model.safetensors.index.json".into(),
            })
        }
    }

    /// Lets the kernel drop the resident pages of `bytes` (a slice of one of the maps) once
    /// they are converted: a model larger than memory then costs one converted layer plus the
    /// pages being read, not every page ever touched. Best effort: a refusal changes nothing
    /// but the peak RSS.
    fn release(&self, bytes: &[u8]) {
        #[cfg(unix)]
        for s in &self.shards {
            let base = s.map.as_ptr() as usize;
            let start = bytes.as_ptr() as usize;
            if start < base || start + bytes.len() > base + s.map.len() {
                continue;
            }
            const PAGE: usize = 4096;
            let (from, to) = (
                (start - base).div_ceil(PAGE) * PAGE,
                (start - base + bytes.len()) / PAGE * PAGE,
            );
            if to > from {
                // SAFETY: the map is a read-only shared mapping of a file; MADV_DONTNEED on it
                // only drops resident pages, which later reads fault in again from the file
                // (no data of this process is lost, unlike on private writable maps), and the
                // range lies inside the map on page boundaries.
                let _ = unsafe {
                    s.map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        from,
                        to - from,
                    )
                };
            }
        }
    }

    fn locate(&self, name: &str, shape: &[usize]) -> Result<(&[u8], Dtype, &Path), HfError> {
        let bad = |path: &Path, message: String| HfError::Tensor {
            path: path.to_path_buf(),
            name: name.to_string(),
            message,
        };
        let k = *self
            .index
            .get(name)
            .ok_or_else(|| bad(&self.listing, "missing".into()))?;
        let s = &self.shards[k];
        let info = s
            .meta
            .info(name)
            .ok_or_else(|| bad(&s.path, "missing".into()))?;
        if info.shape != shape {
            return Err(bad(
                &s.path,
                format!("shape {:?}, expected {shape:?}", info.shape),
            ));
        }
        if !matches!(info.dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16) {
            return Err(bad(
                &s.path,
                format!("dtype {:?} is not supported (F32, F16, BF16)", info.dtype),
            ));
        }
        let (a, b) = info.data_offsets;
        Ok((
            &s.map[8 + s.header + a..8 + s.header + b],
            info.dtype,
            &s.path,
        ))
    }
}

impl TensorSource for Weights {
    /// The weight files (for provenance digests).
    fn files(&self) -> Vec<PathBuf> {
        self.shards.iter().map(|s| s.path.clone()).collect()
    }

    /// Bytes of every tensor once converted to f32.
    fn f32_bytes(&self) -> u64 {
        self.shards
            .iter()
            .flat_map(|s| {
                s.meta
                    .tensors()
                    .into_values()
                    .map(|t| t.shape.iter().product::<usize>() as u64 * 4)
            })
            .sum()
    }

    /// Whether the checkpoint has tensor `name`.
    fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Checks that tensor `name` exists with `shape` and a supported dtype, converting nothing.
    fn check(&self, name: &str, shape: &[usize]) -> Result<(), HfError> {
        self.locate(name, shape).map(|_| ())
    }

    /// Tensor `name` as row-major f32, checked to have `shape`.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, HfError> {
        let (bytes, dtype, path) = self.locate(name, shape)?;
        let out = convert(bytes, dtype, name, path)?;
        self.release(bytes);
        Ok(out)
    }

    /// Rows `rows` of the matrix `name` (`shape = [r, c]`) as f32, converting only those rows
    /// (an embedding lookup touches n rows of a vocab-sized table).
    fn rows(&self, name: &str, shape: [usize; 2], rows: &[usize]) -> Result<Vec<f32>, HfError> {
        let (bytes, dtype, path) = self.locate(name, &shape)?;
        let width = match dtype {
            Dtype::F32 => 4,
            _ => 2,
        } * shape[1];
        gather_rows(bytes, shape, width, rows, |b| convert(b, dtype, name, path))
    }
}

/// Little-endian f32/f16/bf16 bytes as f32, refusing non-finite values.
fn convert(bytes: &[u8], dtype: Dtype, name: &str, path: &Path) -> Result<Vec<f32>, HfError> {
    let out: Vec<f32> = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        d => {
            return Err(HfError::Tensor {
                path: path.to_path_buf(),
                name: name.to_string(),
                message: format!("dtype {d:?} is not supported (F32, F16, BF16)"),
            })
        }
    };
    if let Some(i) = out.iter().position(|x| !x.is_finite()) {
        return Err(HfError::Tensor {
            path: path.to_path_buf(),
            name: name.to_string(),
            message: format!("not finite at flat index {i}"),
        });
    }
    Ok(out)
}
