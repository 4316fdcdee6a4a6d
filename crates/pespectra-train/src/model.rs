//! The encoder of docs/E4_MODEL_FORMAT.md on candle, with named parameters in the format's
//! tensor names so export is a plain save.

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{Arch, AttentionPe, InputPe, ModelConfig, Rotation};
use crate::ops;
use crate::TrainError;

/// A model: its config, its parameters by tensor name, and the position tables it uses.
pub struct E4 {
    /// The `config.json` it is saved with.
    pub config: ModelConfig,
    params: BTreeMap<String, Var>,
    /// Input PE table `[L, d]` for the fixed sinusoids.
    input_table: Option<Tensor>,
    /// Sine/cosine tables of the rotary map.
    rotary: Option<(Tensor, Tensor)>,
    /// Fixed ALiBi bias `[H, L, L]`.
    alibi: Option<Tensor>,
    /// Row indices of the learned bias tables.
    bias_rows: Option<Tensor>,
    dtype: DType,
}

/// Parameter shapes and initialisers (PyTorch's defaults, as the authors use them).
enum Init {
    /// U(−1/√fan_in, 1/√fan_in), `nn.Linear`'s weight and bias.
    Uniform(usize),
    /// N(0, σ²).
    Normal(f64),
    Ones,
    Zeros,
}

impl E4 {
    /// A freshly initialised model; the same `seed` gives the same weights.
    pub fn new(config: ModelConfig, seed: u64, dtype: DType) -> Result<Self, TrainError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = BTreeMap::new();
        for (name, shape, init) in parameter_list(&config) {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = match init {
                Init::Uniform(fan_in) => {
                    let b = 1.0 / (fan_in as f32).sqrt();
                    (0..n).map(|_| rng.gen_range(-b..b)).collect()
                }
                Init::Normal(sd) => (0..n)
                    .map(|_| {
                        // Box–Muller from two uniforms of the seeded stream
                        let (u, v): (f64, f64) = (rng.gen(), rng.gen());
                        (sd * (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos())
                            as f32
                    })
                    .collect(),
                Init::Ones => vec![1.0; n],
                Init::Zeros => vec![0.0; n],
            };
            let t = Tensor::from_vec(v, shape, &Device::Cpu)?.to_dtype(dtype)?;
            params.insert(name, Var::from_tensor(&t)?);
        }
        Self::with_params(config, params, dtype)
    }

    /// The model saved in `dir` (`config.json` + `model.safetensors`).
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let text =
            std::fs::read_to_string(dir.join("config.json")).map_err(|e| TrainError::Io {
                path: dir.join("config.json"),
                source: e,
            })?;
        let config: ModelConfig = serde_json::from_str(&text)
            .map_err(|e| TrainError::Config(format!("config.json: {e}")))?;
        let mut stored =
            candle_core::safetensors::load(dir.join("model.safetensors"), &Device::Cpu)?;
        let mut params = BTreeMap::new();
        for (name, shape, _) in parameter_list(&config) {
            let t = stored
                .remove(&name)
                .ok_or_else(|| TrainError::Config(format!("model.safetensors lacks {name}")))?;
            if t.dims() != shape.as_slice() {
                return Err(TrainError::Config(format!(
                    "{name} has shape {:?}, the config implies {shape:?}",
                    t.dims()
                )));
            }
            params.insert(name, Var::from_tensor(&t.to_dtype(DType::F32)?)?);
        }
        Self::with_params(config, params, DType::F32)
    }

    fn with_params(
        config: ModelConfig,
        params: BTreeMap<String, Var>,
        dtype: DType,
    ) -> Result<Self, TrainError> {
        let dev = Device::Cpu;
        let (l, d) = (config.max_len, config.d_model);
        let input_table = match config.input_pe {
            InputPe::Sinusoidal | InputPe::SinusoidalConcat => {
                let mut v = vec![0f64; l * d];
                for i in 0..l {
                    for m in 0..d / 2 {
                        let a = i as f64 * 10000f64.powf(-2.0 * m as f64 / d as f64);
                        let (s, c) = if config.input_pe == InputPe::Sinusoidal {
                            (2 * m, 2 * m + 1)
                        } else {
                            (m, d / 2 + m)
                        };
                        v[i * d + s] = a.sin();
                        v[i * d + c] = a.cos();
                    }
                }
                Some(Tensor::from_vec(v, (l, d), &dev)?.to_dtype(dtype)?)
            }
            _ => None,
        };
        let rotary = if let Some(m) = config.mla {
            Some(ops::rotary_tables(
                l,
                m.rope_dim,
                config.rope_theta,
                m.rotation,
                dtype,
                &dev,
            )?)
        } else if config.attention_pe == AttentionPe::Rope && config.rope_heads > 0 {
            Some(ops::rotary_tables(
                l,
                config.head_dim(),
                config.rope_theta,
                Rotation::Rope,
                dtype,
                &dev,
            )?)
        } else {
            None
        };
        let alibi = if config.mla.is_none() && config.attention_pe == AttentionPe::Alibi {
            let slopes: Vec<f64> = (0..config.heads).map(|h| config.alibi_slope(h)).collect();
            Some(ops::alibi_bias(&slopes, l, dtype, &dev)?)
        } else {
            None
        };
        let bias_rows = match (config.mla, config.attention_pe) {
            (None, AttentionPe::Relative) => {
                Some(ops::bias_indices(l, |r| (r + l as i64 - 1) as usize, &dev)?)
            }
            (None, AttentionPe::T5) => {
                let (b, m) = (config.t5_buckets, config.t5_max_distance);
                Some(ops::bias_indices(l, |r| ops::t5_bucket(r, b, m), &dev)?)
            }
            _ => None,
        };
        Ok(Self {
            config,
            params,
            input_table,
            rotary,
            alibi,
            bias_rows,
            dtype,
        })
    }

    /// Every trainable parameter, for the optimiser.
    pub fn vars(&self) -> Vec<Var> {
        self.params.values().cloned().collect()
    }

    /// Every parameter with its tensor name, in name order.
    pub fn named_vars(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.params.values().map(|v| v.elem_count()).sum()
    }

    fn p(&self, name: &str) -> &Tensor {
        self.params
            .get(name)
            .unwrap_or_else(|| panic!("parameter {name} is in parameter_list"))
            .as_tensor()
    }

    fn linear(&self, x: &Tensor, name: &str, bias: bool) -> candle_core::Result<Tensor> {
        let w = self.p(&format!("{name}.weight"));
        let dims = x.dims().to_vec();
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let mut y = x.reshape((rows, dims[dims.len() - 1]))?.matmul(&w.t()?)?;
        if bias {
            y = y.broadcast_add(self.p(&format!("{name}.bias")))?;
        }
        let mut out = dims;
        *out.last_mut().expect("rank ≥ 1") = w.dim(0)?;
        y.reshape(out)
    }

    fn norm(&self, x: &Tensor, name: &str) -> candle_core::Result<Tensor> {
        ops::layer_norm(
            x,
            self.p(&format!("{name}.weight")),
            self.p(&format!("{name}.bias")),
            self.config.layer_norm_eps,
        )
    }

    /// `[B, n, H·w]` → `[B, H, n, w]`.
    fn heads(x: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
        let (b, n, hw) = x.dims3()?;
        x.reshape((b, n, heads, hw / heads))?
            .transpose(1, 2)?
            .contiguous()
    }

    fn rotate(&self, x: &Tensor, n: usize) -> candle_core::Result<Tensor> {
        let (s, c) = self
            .rotary
            .as_ref()
            .expect("rotary tables exist for rotating models");
        ops::rotate_pairs(x, &s.narrow(0, 0, n)?, &c.narrow(0, 0, n)?)
    }

    /// Class logits `[B, C]` of token ids `[B, n]`. `words` (`[B, n]`, 1 for a word, 0 for
    /// padding) is used by the standard architecture only. `ablate[l][h]` removes head h of
    /// layer l.
    pub fn forward(
        &self,
        ids: &Tensor,
        words: Option<&Tensor>,
        ablate: &[(usize, usize)],
    ) -> candle_core::Result<Tensor> {
        let c = &self.config;
        let (b, n) = ids.dims2()?;
        let (d, hh) = (c.d_model, c.heads);
        let mut x0 = self
            .p("embed.weight")
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, n, d))?;
        match c.input_pe {
            InputPe::None => {}
            InputPe::Learned => {
                x0 = x0.broadcast_add(&self.p("pos_embed.weight").narrow(0, 0, n)?)?
            }
            _ => {
                let t = self.input_table.as_ref().expect("sinusoid table");
                x0 = x0.broadcast_add(&t.narrow(0, 0, n)?)?
            }
        }
        let standard = c.arch == Arch::Standard;
        let words = match (standard, words) {
            (true, Some(w)) => Some(w.to_dtype(self.dtype)?),
            (true, None) => Some(Tensor::ones((b, n), self.dtype, ids.device())?),
            _ => None,
        };
        let key_mask = match &words {
            Some(w) => Some(((w - 1.0)? * 1e9)?.reshape((b, 1, 1, n))?),
            None => None,
        };
        let mut x = x0.clone();
        for l in 0..c.layers {
            let pre = format!("layers.{l}");
            let sq = self.norm(&x, &format!("{pre}.norm1"))?;
            let skv = if standard { sq.clone() } else { x0.clone() };
            let a = format!("{pre}.attn");
            let (q, k, v, scale) = if let Some(m) = c.mla {
                let cq = self.linear(&sq, &format!("{a}.dq"), false)?;
                let qc = Self::heads(&self.linear(&cq, &format!("{a}.uq"), false)?, hh)?;
                let hq = if m.shared_q_rope { 1 } else { hh };
                let qr = Self::heads(&self.linear(&cq, &format!("{a}.qr"), false)?, hq)?;
                let qr = self.rotate(&qr, n)?.broadcast_as((b, hh, n, m.rope_dim))?;
                let ckv = self.linear(&skv, &format!("{a}.dkv"), false)?;
                let kc = Self::heads(&self.linear(&ckv, &format!("{a}.uk"), false)?, hh)?;
                let v = Self::heads(&self.linear(&ckv, &format!("{a}.uv"), false)?, hh)?;
                let kr = Self::heads(&self.linear(&skv, &format!("{a}.kr"), false)?, 1)?;
                let kr = self.rotate(&kr, n)?.broadcast_as((b, hh, n, m.rope_dim))?;
                let q = Tensor::cat(&[qc, qr.contiguous()?], D::Minus1)?;
                let k = Tensor::cat(&[kc, kr.contiguous()?], D::Minus1)?;
                let scale = 1.0 / ((c.head_dim() + m.rope_dim) as f64).sqrt();
                (q, k, v, scale)
            } else {
                let mut q = Self::heads(&self.linear(&sq, &format!("{a}.q"), true)?, hh)?;
                let mut k = Self::heads(&self.linear(&skv, &format!("{a}.k"), true)?, hh)?;
                let v = Self::heads(&self.linear(&skv, &format!("{a}.v"), true)?, hh)?;
                if c.attention_pe == AttentionPe::Rope && c.rope_heads > 0 {
                    let r = c.rope_heads;
                    let rot = |t: &Tensor| -> candle_core::Result<Tensor> {
                        if r == hh {
                            self.rotate(t, n)
                        } else {
                            Tensor::cat(
                                &[
                                    self.rotate(&t.narrow(1, 0, r)?, n)?,
                                    t.narrow(1, r, hh - r)?,
                                ],
                                1,
                            )
                        }
                    };
                    q = rot(&q)?;
                    k = rot(&k)?;
                }
                (q, k, v, 1.0 / (c.head_dim() as f64).sqrt())
            };
            // the scale goes on q ([B, H, n, w]) rather than on the n × n scores
            let mut s = (q * scale)?.matmul(&k.transpose(2, 3)?)?;
            if let Some(al) = &self.alibi {
                s = s.broadcast_add(&al.narrow(1, 0, n)?.narrow(2, 0, n)?)?;
            }
            if let Some(rows) = &self.bias_rows {
                let rows = if n == c.max_len {
                    rows.clone()
                } else {
                    // offsets of an n-token input: the top-left block of the L × L index grid
                    rows.reshape((c.max_len, c.max_len))?
                        .narrow(0, 0, n)?
                        .narrow(1, 0, n)?
                        .flatten_all()?
                };
                s = s.broadcast_add(&ops::table_bias(
                    self.p(&format!("{a}.rel_bias")),
                    &rows,
                    n,
                )?)?;
            }
            if let Some(m) = &key_mask {
                s = s.broadcast_add(m)?;
            }
            let mut o = ops::softmax(&s)?.matmul(&v)?;
            let removed: Vec<usize> = ablate.iter().filter(|p| p.0 == l).map(|p| p.1).collect();
            if !removed.is_empty() {
                let keep: Vec<f32> = (0..hh)
                    .map(|h| if removed.contains(&h) { 0.0 } else { 1.0 })
                    .collect();
                let keep =
                    Tensor::from_vec(keep, (1, hh, 1, 1), ids.device())?.to_dtype(self.dtype)?;
                o = o.broadcast_mul(&keep)?;
            }
            let o = o
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, n, o.dim(1)? * o.dim(3)?))?;
            x = (x + self.linear(&o, &format!("{a}.o"), c.mla.is_none())?)?;
            let h = self.linear(
                &self.norm(&x, &format!("{pre}.norm2"))?,
                &format!("{pre}.ffn.up"),
                true,
            )?;
            let h = if standard { h.gelu_erf()? } else { h.relu()? };
            x = (x + self.linear(&h, &format!("{pre}.ffn.down"), true)?)?;
        }
        let pooled = match &words {
            None => x.mean(1)?,
            Some(w) => {
                let x = self.norm(&x, "final_norm")?;
                x.broadcast_mul(&w.unsqueeze(2)?)?
                    .sum(1)?
                    .broadcast_div(&w.sum_keepdim(1)?)?
            }
        };
        self.linear(&pooled, "head", true)
    }

    /// Writes `config.json` and `model.safetensors` (f32) into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let json = serde_json::to_string_pretty(&self.config).expect("config serialises");
        crate::write_atomic(&dir.join("config.json"), json.as_bytes())?;
        let tensors: std::collections::HashMap<String, Tensor> = self
            .params
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_tensor().to_dtype(DType::F32)?)))
            .collect::<candle_core::Result<_>>()?;
        let tmp = dir.join("model.safetensors.tmp");
        candle_core::safetensors::save(&tensors, &tmp)?;
        std::fs::rename(&tmp, dir.join("model.safetensors")).map_err(|e| TrainError::Io {
            path: dir.join("model.safetensors"),
            source: e,
        })
    }
}

/// Every parameter of `c`: name, shape, initialiser.
fn parameter_list(c: &ModelConfig) -> Vec<(String, Vec<usize>, Init)> {
    let (d, hh, f, l) = (c.d_model, c.heads, c.d_ff, c.max_len);
    let mut out = Vec::new();
    let lin = |out: &mut Vec<_>, name: String, o: usize, i: usize, bias: bool| {
        out.push((format!("{name}.weight"), vec![o, i], Init::Uniform(i)));
        if bias {
            out.push((format!("{name}.bias"), vec![o], Init::Uniform(i)));
        }
    };
    let norm = |out: &mut Vec<_>, name: String| {
        out.push((format!("{name}.weight"), vec![d], Init::Ones));
        out.push((format!("{name}.bias"), vec![d], Init::Zeros));
    };
    out.push((
        "embed.weight".into(),
        vec![c.vocab_size, d],
        Init::Normal(1.0),
    ));
    if c.input_pe == InputPe::Learned {
        // the authors' nn.Embedding N(0, 1), or mla.py's zero-initialised table
        let init = if c.mla.is_some() {
            Init::Zeros
        } else {
            Init::Normal(1.0)
        };
        out.push(("pos_embed.weight".into(), vec![l, d], init));
    }
    for layer in 0..c.layers {
        let p = format!("layers.{layer}");
        norm(&mut out, format!("{p}.norm1"));
        norm(&mut out, format!("{p}.norm2"));
        let a = format!("{p}.attn");
        if let Some(m) = c.mla {
            let (dc, dr, dh) = (m.d_compress, m.rope_dim, c.head_dim());
            let hq = if m.shared_q_rope { 1 } else { hh };
            lin(&mut out, format!("{a}.dq"), dc, d, false);
            lin(&mut out, format!("{a}.uq"), hh * dh, dc, false);
            lin(&mut out, format!("{a}.qr"), hq * dr, dc, false);
            lin(&mut out, format!("{a}.dkv"), dc, d, false);
            lin(&mut out, format!("{a}.uk"), hh * dh, dc, false);
            lin(&mut out, format!("{a}.uv"), hh * dh, dc, false);
            lin(&mut out, format!("{a}.kr"), dr, d, false);
            lin(&mut out, format!("{a}.o"), d, hh * dh, false);
        } else {
            for m in ["q", "k", "v", "o"] {
                lin(&mut out, format!("{a}.{m}"), d, d, true);
            }
            match c.attention_pe {
                AttentionPe::Relative => out.push((
                    format!("{a}.rel_bias"),
                    vec![2 * l - 1, hh],
                    Init::Normal(0.02),
                )),
                AttentionPe::T5 => out.push((
                    format!("{a}.rel_bias"),
                    vec![c.t5_buckets, hh],
                    Init::Normal(0.02),
                )),
                _ => {}
            }
        }
        lin(&mut out, format!("{p}.ffn.up"), f, d, true);
        lin(&mut out, format!("{p}.ffn.down"), d, f, true);
    }
    if c.arch == Arch::Standard {
        norm(&mut out, "final_norm".into());
    }
    lin(&mut out, "head".into(), c.num_classes, d, true);
    out
}
