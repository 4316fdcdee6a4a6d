//! The attention core on NumPy float32 arrays shaped (batch, heads, seq, head_dim).

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray4, PyUntypedArrayMethods};
use pespectra_attention::{
    alibi_slopes, attention_logits, flash_attention, AttentionConfig, AttentionInputs,
    LogitsRequest, Mask, PositionalEncoding, Rope, RopePairing,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::{blocking, errors};

type Arr4<'py> = Bound<'py, numpy::PyArray4<f32>>;

/// Contiguous data of a 4-D array (copied only when the layout is not C-contiguous).
fn data(a: &PyReadonlyArray4<'_, f32>) -> Vec<f32> {
    match a.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => a.as_array().iter().copied().collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn config(
    q: &PyReadonlyArray4<'_, f32>,
    k: &PyReadonlyArray4<'_, f32>,
    value_dim: usize,
    pe: &str,
    causal: bool,
    window: Option<usize>,
    scale: Option<f64>,
    base: f64,
    pairing: &str,
    rotary_fraction: f64,
    slopes: Option<Vec<f64>>,
) -> PyResult<AttentionConfig> {
    let [b, h, s, d] = *q.shape() else {
        return Err(PyValueError::new_err("q must be 4-D"));
    };
    let [kb, kh, ks, kd] = *k.shape() else {
        return Err(PyValueError::new_err("k must be 4-D"));
    };
    if kb != b || ks != s || kd != d {
        return Err(PyValueError::new_err(format!(
            "k is {kb}×{kh}×{ks}×{kd} but q is {b}×{h}×{s}×{d} (batch, seq and head_dim must agree)"
        )));
    }
    let mut cfg = AttentionConfig::new(b, h, s, d);
    cfg.kv_heads = kh;
    cfg.value_dim = value_dim;
    if let Some(sc) = scale {
        cfg.scale = sc;
    }
    cfg.mask = if causal { Mask::causal() } else { Mask::none() };
    cfg.sliding_window = window;
    cfg.pe = match pe {
        "none" | "nope" => PositionalEncoding::NoPE,
        "rope" => {
            let pairing = match pairing {
                "half" => RopePairing::HalfSplit,
                "interleaved" => RopePairing::Interleaved,
                p => {
                    return Err(PyValueError::new_err(format!(
                        "pairing must be 'half' or 'interleaved', got '{p}'"
                    )))
                }
            };
            let mut r = Rope::new(pairing, base);
            r.rotary_fraction = rotary_fraction;
            PositionalEncoding::Rope(r)
        }
        "alibi" => PositionalEncoding::Alibi {
            slopes: slopes.unwrap_or_else(|| alibi_slopes(h)),
        },
        p => {
            return Err(PyValueError::new_err(format!(
                "pe must be 'none', 'rope' or 'alibi', got '{p}'"
            )))
        }
    };
    cfg.validate().map_err(errors::attention)?;
    Ok(cfg)
}

/// softmax(scale·PE(q)PE(k)ᵀ + bias, masked)·v with the fused SIMD flash path.
#[pyfunction]
#[pyo3(signature = (q, k, v, pe, causal, window, scale, base, pairing, rotary_fraction, slopes))]
#[allow(clippy::too_many_arguments)]
pub fn attention<'py>(
    py: Python<'py>,
    q: PyReadonlyArray4<'py, f32>,
    k: PyReadonlyArray4<'py, f32>,
    v: PyReadonlyArray4<'py, f32>,
    pe: &str,
    causal: bool,
    window: Option<usize>,
    scale: Option<f64>,
    base: f64,
    pairing: &str,
    rotary_fraction: f64,
    slopes: Option<Vec<f64>>,
) -> PyResult<Arr4<'py>> {
    let vd = v.shape().get(3).copied().unwrap_or(0);
    let cfg = config(
        &q,
        &k,
        vd,
        pe,
        causal,
        window,
        scale,
        base,
        pairing,
        rotary_fraction,
        slopes,
    )?;
    let (qd, kd, vdat) = (data(&q), data(&k), data(&v));
    let shape = [cfg.batch, cfg.heads, cfg.seq, cfg.value_dim];
    let out = blocking::run(py, None, move |_| {
        let inp = AttentionInputs {
            q: &qd,
            k: &kd,
            v: &vdat,
            rope_key: None,
        };
        flash_attention(&cfg, &inp)
    })?
    .map_err(errors::attention)?;
    PyArray1::from_vec(py, out).reshape(shape)
}

/// Pre-mask logits and content-only logits, each (batch, heads, seq, seq).
#[pyfunction]
#[pyo3(signature = (q, k, pe, scale, base, pairing, rotary_fraction, slopes))]
#[allow(clippy::too_many_arguments)]
pub fn logits<'py>(
    py: Python<'py>,
    q: PyReadonlyArray4<'py, f32>,
    k: PyReadonlyArray4<'py, f32>,
    pe: &str,
    scale: Option<f64>,
    base: f64,
    pairing: &str,
    rotary_fraction: f64,
    slopes: Option<Vec<f64>>,
) -> PyResult<(Arr4<'py>, Arr4<'py>)> {
    let d = q.shape().get(3).copied().unwrap_or(0);
    let cfg = config(
        &q,
        &k,
        d,
        pe,
        false,
        None,
        scale,
        base,
        pairing,
        rotary_fraction,
        slopes,
    )?;
    let (qd, kd) = (data(&q), data(&k));
    let shape = [cfg.batch, cfg.heads, cfg.seq, cfg.seq];
    let l = blocking::run(py, None, move |_| {
        let v = vec![0f32; cfg.v_len()];
        let inp = AttentionInputs {
            q: &qd,
            k: &kd,
            v: &v,
            rope_key: None,
        };
        let req = LogitsRequest {
            pre_mask: true,
            content: true,
            per_frequency: false,
        };
        attention_logits(&cfg, &inp, req)
    })?
    .map_err(errors::attention)?;
    let pre = PyArray1::from_vec(py, l.pre_mask.unwrap_or_default()).reshape(shape)?;
    let content = PyArray1::from_vec(py, l.content.unwrap_or_default()).reshape(shape)?;
    Ok((pre, content))
}
