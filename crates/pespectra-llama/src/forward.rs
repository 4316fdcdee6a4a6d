//! The forward pass: attention (captured when asked) and the SwiGLU MLP per layer, the
//! next-token logits and loss, head ablations and greedy generation.

use crate::{Ablation, ForwardOptions, ForwardOutput, Llama, LlamaError};
use pespectra_attention::{attention_logits, flash_attention, AttentionInputs, LogitsRequest};
use pespectra_capture::{HeadCapture, Pairing, Positional};
use pespectra_layers::{
    cross_entropy_sum, from_heads, rms_norm, swiglu_in_place, to_heads, Linear,
};

/// Rows of the output projection computed at once when forming the loss (bounds memory).
const LOSS_CHUNK: usize = 128;

impl Llama {
    /// The attention half of layer `l` on the residuals `x` of `batch` sequences of `n` tokens:
    /// the per-head outputs, token-major `[batch, n, heads·hd]` (before the output projection).
    /// Sends captures to `sink` if given (only used with `batch = 1`).
    fn attention<'s>(
        &self,
        l: usize,
        x: &[f32],
        (batch, n): (usize, usize),
        sink: Option<&mut (dyn FnMut(HeadCapture) + 's)>,
    ) -> Result<Vec<f32>, LlamaError> {
        let (c, layer) = (&self.config, &self.layers[l]);
        let h = rms_norm(x, &layer.attn_norm, c.rms_eps);
        let (hd, rows) = (c.head_dim, batch * n);
        let q = to_heads(&layer.wq.forward(&h, rows), n, c.n_heads, hd);
        let k = to_heads(&layer.wk.forward(&h, rows), n, c.n_kv_heads, hd);
        let v = to_heads(&layer.wv.forward(&h, rows), n, c.n_kv_heads, hd);
        let cfg = self.attention_config(batch, n);
        let inp = AttentionInputs {
            q: &q,
            k: &k,
            v: &v,
            rope_key: None,
        };
        if let Some(sink) = sink.filter(|_| batch == 1) {
            let req = LogitsRequest {
                pre_mask: true,
                content: true,
                per_frequency: false,
            };
            let lg = attention_logits(&cfg, &inp, req)?;
            let (pre, content) = (
                lg.pre_mask.unwrap_or_default(),
                lg.content.unwrap_or_default(),
            );
            let inv_freq = self.inv_freq();
            let group = c.n_heads / c.n_kv_heads;
            for head in 0..c.n_heads {
                let kvh = head / group;
                sink(HeadCapture {
                    layer: l,
                    head,
                    kv_head: kvh,
                    n,
                    head_dim: hd,
                    scale: cfg.scale,
                    causal: true,
                    window: None,
                    softcap: None,
                    q: q[head * n * hd..(head + 1) * n * hd].to_vec(),
                    k: k[kvh * n * hd..(kvh + 1) * n * hd].to_vec(),
                    logits: pre[head * n * n..(head + 1) * n * n].to_vec(),
                    content_logits: content[head * n * n..(head + 1) * n * n].to_vec(),
                    positional: Positional::Rope {
                        pairing: Pairing::Interleaved,
                        inv_freq: inv_freq.clone(),
                    },
                });
            }
        }
        let o = flash_attention(&cfg, &inp)?;
        Ok(from_heads(&o, n, c.n_heads, hd))
    }

    /// The rest of layer `l` on `rows` token rows: output projection of `attn` into `x`, then
    /// the SwiGLU MLP.
    fn finish_layer(&self, l: usize, x: &mut [f32], attn: &[f32], rows: usize) {
        let (c, layer) = (&self.config, &self.layers[l]);
        layer.wo.add_forward(attn, rows, x);
        let h = rms_norm(x, &layer.ffn_norm, c.rms_eps);
        let mut g = layer.gate.forward(&h, rows);
        let u = layer.up.forward(&h, rows);
        swiglu_in_place(&mut g, &u);
        layer.down.add_forward(&g, rows, x);
    }

    fn output(&self) -> &Linear {
        self.lm_head.as_ref().unwrap_or(&self.embed)
    }

    /// Next-token logits of the rows of the final residual `x` (`rows × vocab`).
    fn logits(&self, x: &[f32], rows: usize) -> Vec<f32> {
        let h = rms_norm(x, &self.out_norm, self.config.rms_eps);
        self.output().forward(&h, rows)
    }

    /// Last-position logits and (optionally) the mean next-token loss of the final residual.
    fn head_outputs(&self, x: &[f32], tokens: &[u32], loss: bool) -> ForwardOutput {
        let (d, n) = (self.config.d_model, tokens.len());
        let last_logits = self.logits(&x[(n - 1) * d..], 1);
        let loss = (loss && n >= 2).then(|| {
            let mut total = 0.0;
            for start in (0..n - 1).step_by(LOSS_CHUNK) {
                let end = (start + LOSS_CHUNK).min(n - 1);
                let lg = self.logits(&x[start * d..end * d], end - start);
                total += cross_entropy_sum(&lg, self.config.vocab, &tokens[start + 1..end + 1]);
            }
            total / (n - 1) as f64
        });
        ForwardOutput { last_logits, loss }
    }

    /// Runs the model on `tokens`. Heads of `options.capture_layers` go to `options.sink` one
    /// at a time (so a caller can stream all of them without holding them).
    pub fn forward(
        &self,
        tokens: &[u32],
        options: &mut ForwardOptions<'_>,
    ) -> Result<ForwardOutput, LlamaError> {
        self.check_tokens(tokens)?;
        let nl = self.config.n_layers;
        if let Some(&l) = options.capture_layers.iter().find(|&&l| l >= nl) {
            return Err(LlamaError::BadRequest(format!(
                "layer {l} does not exist (the model has {nl} layers)"
            )));
        }
        if !options.capture_layers.is_empty() && options.sink.is_none() {
            return Err(LlamaError::BadRequest(
                "capture_layers given without a sink".into(),
            ));
        }
        let n = tokens.len();
        let mut x = self.embed(tokens);
        for l in 0..nl {
            let sink = match options.sink.as_mut() {
                Some(s) if options.capture_layers.contains(&l) => Some(&mut **s),
                _ => None,
            };
            let attn = self.attention(l, &x, (1, n), sink)?;
            self.finish_layer(l, &mut x, &attn, n);
        }
        Ok(self.head_outputs(&x, tokens, options.loss))
    }

    /// Mean next-token loss of the clean model and of the model with one head's attention
    /// output zeroed (before the output projection), for each `(layer, head)` in `heads`.
    ///
    /// The clean run keeps every layer's input residual and attention output, so ablating a
    /// head of layer ℓ recomputes only its output projection and the layers after ℓ.
    /// Ablations of the same layer run together as one batch; `progress(done, total)` is
    /// called after each batch.
    pub fn ablation_losses(
        &self,
        tokens: &[u32],
        heads: &[(usize, usize)],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Ablation, LlamaError> {
        self.check_tokens(tokens)?;
        let c = &self.config;
        if tokens.len() < 2 {
            return Err(LlamaError::BadRequest(
                "a next-token loss needs at least 2 tokens".into(),
            ));
        }
        if let Some(&(l, h)) = heads
            .iter()
            .find(|&&(l, h)| l >= c.n_layers || h >= c.n_heads)
        {
            return Err(LlamaError::BadRequest(format!(
                "head ({l}, {h}) does not exist (the model has {} layers × {} heads)",
                c.n_layers, c.n_heads
            )));
        }
        let (n, d, hd) = (tokens.len(), c.d_model, c.head_dim);
        let mut x = self.embed(tokens);
        let mut inputs = Vec::with_capacity(c.n_layers);
        let mut attns = Vec::with_capacity(c.n_layers);
        for l in 0..c.n_layers {
            let attn = self.attention(l, &x, (1, n), None)?;
            inputs.push(x.clone());
            self.finish_layer(l, &mut x, &attn, n);
            attns.push(attn);
        }
        let clean_loss = self.head_outputs(&x, tokens, true).loss.unwrap_or(f64::NAN);
        // Ablations of one layer run as one batch (one sequence per ablated head): larger GEMMs
        // amortise the weight packing and split well over the cores.
        let mut order: Vec<usize> = (0..heads.len()).collect();
        order.sort_by_key(|&i| heads[i]);
        let mut losses = vec![f64::NAN; heads.len()];
        let mut done = 0;
        for group in order.chunk_by(|&a, &b| heads[a].0 == heads[b].0) {
            for chunk in group.chunks(c.n_heads) {
                let (l, batch) = (heads[chunk[0]].0, chunk.len());
                let mut x = inputs[l].repeat(batch);
                let mut attn = attns[l].repeat(batch);
                for (b, &i) in chunk.iter().enumerate() {
                    let h = heads[i].1;
                    for row in attn[b * n * d..(b + 1) * n * d].chunks_exact_mut(d) {
                        row[h * hd..(h + 1) * hd].fill(0.0);
                    }
                }
                self.finish_layer(l, &mut x, &attn, batch * n);
                for later in l + 1..c.n_layers {
                    let attn = self.attention(later, &x, (batch, n), None)?;
                    self.finish_layer(later, &mut x, &attn, batch * n);
                }
                for (b, &i) in chunk.iter().enumerate() {
                    let xb = &x[b * n * d..(b + 1) * n * d];
                    losses[i] = self.head_outputs(xb, tokens, true).loss.unwrap_or(f64::NAN);
                }
                done += batch;
                progress(done, heads.len());
            }
        }
        Ok(Ablation { clean_loss, losses })
    }

    /// Greedy continuation of `prompt` by up to `max_new` tokens, stopping after EOS.
    pub fn generate_greedy(&self, prompt: &[u32], max_new: usize) -> Result<Vec<u32>, LlamaError> {
        let mut seq = prompt.to_vec();
        for _ in 0..max_new {
            let out = self.forward(&seq, &mut ForwardOptions::default())?;
            let next = out
                .last_logits
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 {
                        (i, v)
                    } else {
                        best
                    }
                })
                .0 as u32;
            seq.push(next);
            if next == self.tokenizer.eos {
                break;
            }
        }
        Ok(seq[prompt.len()..].to_vec())
    }
}
