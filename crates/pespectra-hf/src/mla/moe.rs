//! DeepSeek's mixture-of-experts MLP as transformers runs it: a router over `n_routed_experts`
//! SwiGLU experts (V2: softmax scores, greedy or group-limited greedy top-k; V3: sigmoid scores
//! chosen with `e_score_correction_bias` inside the best groups, optionally renormalised), the
//! chosen experts' outputs weighted by their scores × `routed_scaling_factor`, plus the shared
//! experts (one SwiGLU of width `moe_intermediate_size × n_shared_experts`).

use crate::config::Fields;
use crate::error::HfError;
use crate::source::TensorSource;
use pespectra_layers::{swiglu, Linear};

/// How the router turns logits into the chosen experts and their weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Router {
    /// DeepSeek-V2 `greedy`: softmax, top-k.
    SoftmaxGreedy,
    /// DeepSeek-V2 `group_limited_greedy`: softmax, top-k inside the `topk_group` groups with
    /// the largest maximum score.
    SoftmaxGroupLimited,
    /// DeepSeek-V3: sigmoid; choice scores `s + bias`, groups ranked by the sum of their two
    /// best choice scores; weights are the chosen `s`, renormalised when `norm_topk_prob`.
    SigmoidGrouped {
        /// `norm_topk_prob`.
        normalise: bool,
    },
}

/// The MoE hyper-parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct MoeConfig {
    /// `n_routed_experts`.
    pub experts: usize,
    /// `num_experts_per_tok`.
    pub top_k: usize,
    /// `moe_intermediate_size`: one expert's width.
    pub inner: usize,
    /// `n_shared_experts` (their MLP is `inner × shared` wide).
    pub shared: usize,
    /// `n_group`.
    pub groups: usize,
    /// `topk_group`.
    pub topk_group: usize,
    /// `routed_scaling_factor`.
    pub scaling: f64,
    /// The routing rule.
    pub router: Router,
}

impl MoeConfig {
    /// The MoE section of a DeepSeek config, `None` for a dense model.
    pub(super) fn load(f: &Fields<'_>, model_type: &str) -> Result<Option<Self>, HfError> {
        let v = f.v;
        if v["n_routed_experts"].is_null() && v["num_local_experts"].is_null() {
            return Ok(None);
        }
        let experts = if v["n_routed_experts"].is_null() {
            f.uint("num_local_experts")?
        } else {
            f.uint("n_routed_experts")?
        };
        if f.uint_or("moe_layer_freq", 1)? != 1 {
            return Err(f.err(
                "moe_layer_freq",
                "only 1 (every layer after the dense ones) is supported",
            ));
        }
        let v3 = model_type == "deepseek_v3";
        let router = if v3 {
            if let Some(s) = v["scoring_func"].as_str().filter(|s| *s != "sigmoid") {
                return Err(f.err("scoring_func", format!("'{s}' is not supported (sigmoid)")));
            }
            Router::SigmoidGrouped {
                normalise: f.bool_or("norm_topk_prob", true)?,
            }
        } else {
            match v["topk_method"].as_str().unwrap_or("greedy") {
                "greedy" => Router::SoftmaxGreedy,
                "group_limited_greedy" => Router::SoftmaxGroupLimited,
                other => {
                    return Err(f.err(
                        "topk_method",
                        format!("'{other}' is not supported (greedy, group_limited_greedy)"),
                    ))
                }
            }
        };
        let top_k = f.uint("num_experts_per_tok")?;
        let groups = f.uint_or("n_group", 1)?;
        let topk_group = f.uint_or("topk_group", groups)?;
        if top_k == 0 || top_k > experts {
            return Err(f.err("num_experts_per_tok", format!("must be in 1..={experts}")));
        }
        if groups == 0 || experts % groups != 0 || topk_group == 0 || topk_group > groups {
            return Err(f.err(
                "n_group",
                format!("{groups} groups with topk_group {topk_group} do not partition {experts} experts"),
            ));
        }
        if matches!(router, Router::SigmoidGrouped { .. }) && experts / groups < 2 {
            return Err(f.err(
                "n_group",
                "V3 ranks groups by their two best experts: each needs ≥ 2",
            ));
        }
        Ok(Some(Self {
            experts,
            top_k,
            inner: f.uint("moe_intermediate_size")?,
            shared: f.uint_or("n_shared_experts", 0)?,
            groups,
            topk_group,
            scaling: f.float_or("routed_scaling_factor", 1.0)?,
            router,
        }))
    }

    /// `(name, shape)` of every tensor of the MoE MLP under `prefix` (`model.layers.{l}.mlp`).
    pub(super) fn names(&self, prefix: &str, hidden: usize) -> Vec<(String, Vec<usize>)> {
        let mut v = vec![(format!("{prefix}.gate.weight"), vec![self.experts, hidden])];
        if matches!(self.router, Router::SigmoidGrouped { .. }) {
            v.push((
                format!("{prefix}.gate.e_score_correction_bias"),
                vec![self.experts],
            ));
        }
        let swiglu_names = |p: String, inner: usize| {
            [
                (format!("{p}.gate_proj.weight"), vec![inner, hidden]),
                (format!("{p}.up_proj.weight"), vec![inner, hidden]),
                (format!("{p}.down_proj.weight"), vec![hidden, inner]),
            ]
        };
        for e in 0..self.experts {
            v.extend(swiglu_names(format!("{prefix}.experts.{e}"), self.inner));
        }
        if self.shared > 0 {
            v.extend(swiglu_names(
                format!("{prefix}.shared_experts"),
                self.inner * self.shared,
            ));
        }
        v
    }
}

/// A SwiGLU MLP: `down(silu(gate·x) ⊙ up·x)`.
pub(super) struct SwiGlu {
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl SwiGlu {
    pub(super) fn load(
        w: &dyn TensorSource,
        p: &str,
        inner: usize,
        hidden: usize,
    ) -> Result<Self, HfError> {
        let lin = |n: &str, out: usize, inp: usize| -> Result<Linear, HfError> {
            Linear::new(
                w.get(&format!("{p}.{n}.weight"), &[out, inp])?,
                None,
                out,
                inp,
            )
            .ok_or_else(|| HfError::Request(format!("{p}.{n}: inconsistent sizes")))
        };
        Ok(Self {
            gate: lin("gate_proj", inner, hidden)?,
            up: lin("up_proj", inner, hidden)?,
            down: lin("down_proj", hidden, inner)?,
        })
    }

    pub(super) fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        self.down
            .forward(&swiglu(&self.gate.forward(x, n), &self.up.forward(x, n)), n)
    }
}

/// One MoE MLP in f32.
pub(super) struct MoeLayer {
    config: MoeConfig,
    router: Linear,
    bias: Option<Vec<f32>>,
    experts: Vec<SwiGlu>,
    shared: Option<SwiGlu>,
}

impl MoeLayer {
    pub(super) fn load(
        w: &dyn TensorSource,
        c: &MoeConfig,
        prefix: &str,
        hidden: usize,
    ) -> Result<Self, HfError> {
        let router = Linear::new(
            w.get(&format!("{prefix}.gate.weight"), &[c.experts, hidden])?,
            None,
            c.experts,
            hidden,
        )
        .ok_or_else(|| HfError::Request(format!("{prefix}.gate: inconsistent sizes")))?;
        let bias = match c.router {
            Router::SigmoidGrouped { .. } => Some(w.get(
                &format!("{prefix}.gate.e_score_correction_bias"),
                &[c.experts],
            )?),
            _ => None,
        };
        let experts = (0..c.experts)
            .map(|e| SwiGlu::load(w, &format!("{prefix}.experts.{e}"), c.inner, hidden))
            .collect::<Result<_, _>>()?;
        let shared = (c.shared > 0)
            .then(|| {
                SwiGlu::load(
                    w,
                    &format!("{prefix}.shared_experts"),
                    c.inner * c.shared,
                    hidden,
                )
            })
            .transpose()?;
        Ok(Self {
            config: c.clone(),
            router,
            bias,
            experts,
            shared,
        })
    }

    /// The chosen experts of one token and their weights, from its router logits.
    fn route(&self, logits: &[f32]) -> Vec<(usize, f32)> {
        let c = &self.config;
        let per_group = c.experts / c.groups;
        // indices of the k largest values (ties: the lower index first)
        let top = |vals: &[f32], k: usize| -> Vec<usize> {
            let mut idx: Vec<usize> = (0..vals.len()).collect();
            idx.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
            idx.truncate(k);
            idx
        };
        let keep_groups = |group_score: &dyn Fn(&[f32]) -> f32, vals: &[f32]| -> Vec<bool> {
            let gs: Vec<f32> = vals.chunks(per_group).map(group_score).collect();
            let mut keep = vec![false; c.groups];
            for g in top(&gs, c.topk_group) {
                keep[g] = true;
            }
            keep
        };
        let chosen: Vec<(usize, f32)> = match c.router {
            Router::SoftmaxGreedy | Router::SoftmaxGroupLimited => {
                let m = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f32> = logits.iter().map(|x| (x - m).exp()).collect();
                let z: f32 = e.iter().sum();
                let mut s: Vec<f32> = e.iter().map(|x| x / z).collect();
                if c.router == Router::SoftmaxGroupLimited {
                    let keep =
                        keep_groups(&|g| g.iter().cloned().fold(f32::NEG_INFINITY, f32::max), &s);
                    for (i, x) in s.iter_mut().enumerate() {
                        if !keep[i / per_group] {
                            *x = 0.0;
                        }
                    }
                }
                top(&s, c.top_k).into_iter().map(|i| (i, s[i])).collect()
            }
            Router::SigmoidGrouped { normalise } => {
                let s: Vec<f32> = logits.iter().map(|x| 1.0 / (1.0 + (-x).exp())).collect();
                let bias = self.bias.as_deref().unwrap_or_default();
                let mut choice: Vec<f32> = s.iter().zip(bias).map(|(a, b)| a + b).collect();
                let keep = keep_groups(
                    &|g| {
                        let t = top(g, 2);
                        g[t[0]] + g[t[1]]
                    },
                    &choice,
                );
                for (i, x) in choice.iter_mut().enumerate() {
                    if !keep[i / per_group] {
                        *x = f32::NEG_INFINITY;
                    }
                }
                let mut w: Vec<(usize, f32)> = top(&choice, c.top_k)
                    .into_iter()
                    .map(|i| (i, s[i]))
                    .collect();
                if normalise {
                    let z: f32 = w.iter().map(|(_, x)| x).sum::<f32>() + 1e-20;
                    w.iter_mut().for_each(|(_, x)| *x /= z);
                }
                w
            }
        };
        chosen
            .into_iter()
            .map(|(i, x)| (i, (f64::from(x) * c.scaling) as f32))
            .collect()
    }

    /// `[n, hidden]` → `[n, hidden]`: the routed experts' weighted sum plus the shared experts.
    /// Tokens are grouped by expert, so each expert runs one `[m, hidden]` product over the `m`
    /// tokens routed to it rather than `m` single-row ones; each token then adds its experts'
    /// weighted outputs in routing order.
    pub(super) fn forward(&self, x: &[f32], n: usize) -> Vec<f32> {
        let hidden = x.len() / n.max(1);
        let logits = self.router.forward(x, n);
        let mut out = match &self.shared {
            Some(s) => s.forward(x, n),
            None => vec![0f32; x.len()],
        };
        let ne = self.config.experts;
        let routes: Vec<Vec<(usize, f32)>> = (0..n)
            .map(|t| self.route(&logits[t * ne..(t + 1) * ne]))
            .collect();
        // per expert: the (token, routing slot) pairs it serves
        let mut served: Vec<Vec<(usize, usize)>> = vec![Vec::new(); ne];
        for (t, r) in routes.iter().enumerate() {
            for (k, &(e, _)) in r.iter().enumerate() {
                served[e].push((t, k));
            }
        }
        let slots = self.config.top_k;
        let mut y = vec![0f32; n * slots * hidden];
        for (e, who) in served.iter().enumerate().filter(|(_, w)| !w.is_empty()) {
            let rows: Vec<f32> = who
                .iter()
                .flat_map(|&(t, _)| x[t * hidden..(t + 1) * hidden].iter().copied())
                .collect();
            let ye = self.experts[e].forward(&rows, who.len());
            for (&(t, k), yr) in who.iter().zip(ye.chunks(hidden)) {
                y[(t * slots + k) * hidden..][..hidden].copy_from_slice(yr);
            }
        }
        let mut acc = vec![0f32; hidden];
        for (t, r) in routes.iter().enumerate() {
            acc.fill(0.0);
            for (k, &(_, w)) in r.iter().enumerate() {
                let yk = &y[(t * slots + k) * hidden..][..hidden];
                acc.iter_mut().zip(yk).for_each(|(a, v)| *a += w * v);
            }
            out[t * hidden..(t + 1) * hidden]
                .iter_mut()
                .zip(&acc)
                .for_each(|(o, a)| *o += a);
        }
        out
    }
}
