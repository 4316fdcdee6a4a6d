//! F32 tensors out of a memory-mapped `.safetensors` file, checked against the shapes the
//! config implies (a wrong file fails at load with the tensor's name, not later with garbage).

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

use crate::error::EncoderError;

/// A mapped safetensors file; tensors are copied out on request.
pub(crate) struct Weights {
    map: Mmap,
}

impl Weights {
    pub(crate) fn open(path: &Path) -> Result<Self, EncoderError> {
        let io = |source| EncoderError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the file is opened read-only and only read; the cache directory is ours, so
        // nothing truncates it while mapped (a concurrent writer would be a caller bug).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let w = Self { map };
        w.tensors(path)?;
        Ok(w)
    }

    fn tensors(&self, path: &Path) -> Result<SafeTensors<'_>, EncoderError> {
        SafeTensors::deserialize(&self.map).map_err(|e| {
            EncoderError::Format(format!(
                "{} is not a valid safetensors file: {e}",
                path.display()
            ))
        })
    }

    /// Every tensor in `names` with its expected shape, as little-endian-decoded f32 vectors.
    pub(crate) fn take(
        &self,
        want: &[(String, Vec<usize>)],
    ) -> Result<Vec<Vec<f32>>, EncoderError> {
        let st = self.tensors(Path::new("model.safetensors"))?;
        want.iter()
            .map(|(name, shape)| {
                let view = st
                    .tensor(name)
                    .map_err(|_| EncoderError::MissingTensor(name.clone()))?;
                if view.dtype() != Dtype::F32 {
                    return Err(EncoderError::TensorDtype {
                        name: name.clone(),
                        dtype: format!("{:?}", view.dtype()),
                    });
                }
                if view.shape() != shape.as_slice() {
                    return Err(EncoderError::TensorShape {
                        name: name.clone(),
                        expected: shape.clone(),
                        actual: view.shape().to_vec(),
                    });
                }
                let v: Vec<f32> = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(EncoderError::Format(format!(
                        "tensor `{name}` has a non-finite value at index {i}"
                    )));
                }
                Ok(v)
            })
            .collect()
    }
}
