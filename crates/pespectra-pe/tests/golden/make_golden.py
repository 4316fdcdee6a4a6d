"""Golden values for pespectra-pe, computed with transformers' own functions.

Run once (torch from PyPI is a ~5.6 GB CUDA install, too heavy for CI); the JSON files it
writes are committed next to this script and read by ../golden.rs:

    python3 -m venv .venv-pe && .venv-pe/bin/pip install torch transformers numpy
    .venv-pe/bin/python crates/pespectra-pe/tests/golden/make_golden.py

Produced with torch 2.15.0, transformers 5.24.0, numpy 2.4.6. Random inputs use a fixed seed.
Where a transformers function accepts float64 we run it in float64 (tight Rust tolerances);
where it hard-codes float32 (inv_freq, BLOOM/MPT slopes, rotary forward cos/sin) the JSON
says so and the Rust tests use f32 tolerances.
"""

import json
import math
import os

import numpy as np
import torch
import transformers
from transformers import DeepseekV3Config, GPTNeoXConfig, LlamaConfig
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
from transformers.modeling_utils import AttentionInterface
from transformers.models.bloom.modeling_bloom import build_alibi_tensor
from transformers.models.deepseek_v3.modeling_deepseek_v3 import (
    DeepseekV3Attention,
    DeepseekV3RotaryEmbedding,
    apply_rotary_pos_emb_interleave,
)
from transformers.models.gpt_neox.modeling_gpt_neox import GPTNeoXRotaryEmbedding
from transformers.models.gpt_neox.modeling_gpt_neox import apply_rotary_pos_emb as neox_apply
from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb as gptj_apply
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
from transformers.models.marian.modeling_marian import MarianSinusoidalPositionalEmbedding
from transformers.models.xlm.modeling_xlm import create_sinusoidal_embeddings
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb as llama_apply
from transformers.models.mpt.modeling_mpt import build_mpt_alibi_tensor
from transformers.models.t5.modeling_t5 import T5Attention

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261128)
torch.manual_seed(20261128)


def mat(x):
    return [[float(v) for v in row] for row in np.asarray(x, dtype=np.float64)]


def dump(name, obj):
    obj["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


# ---------------------------------------------------------------- RoPE frequencies (fp32)
def llama_cfg(head_dim, rope_parameters, max_pos=4096):
    return LlamaConfig(hidden_size=4 * head_dim, num_attention_heads=4, head_dim=head_dim,
                       max_position_embeddings=max_pos, rope_parameters=rope_parameters)


theta_cases = []


def theta_case(name, head_dim, params, rust, inv_freq, attention_factor):
    theta_cases.append({"name": name, "head_dim": head_dim, "params": params, "rust": rust,
                        "inv_freq_f32": [float(v) for v in inv_freq.double()],
                        "attention_factor": float(attention_factor)})


for base, hd in [(10000.0, 64), (500000.0, 128), (1e6, 16)]:
    p = {"rope_type": "default", "rope_theta": base}
    inv, a = LlamaRotaryEmbedding.compute_default_rope_parameters(llama_cfg(hd, p))
    theta_case(f"default_{base:g}_{hd}", hd, p, {"kind": "none", "base": base, "partial": 1.0}, inv, a)

neox = GPTNeoXConfig(hidden_size=256, num_attention_heads=4, rope_parameters={
    "rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25})
inv, a = GPTNeoXRotaryEmbedding.compute_default_rope_parameters(neox)
theta_case("neox_partial_0.25", 64, neox.rope_parameters,
           {"kind": "none", "base": 10000.0, "partial": 0.25}, inv, a)

p = {"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}
inv, a = ROPE_INIT_FUNCTIONS["linear"](llama_cfg(64, p))
theta_case("linear_4", 64, p, {"kind": "linear", "base": 10000.0, "factor": 4.0}, inv, a)

p = {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}
inv, a = ROPE_INIT_FUNCTIONS["dynamic"](llama_cfg(64, p, max_pos=2048), seq_len=5000)
theta_case("dynamic_2_seq5000", 64, p, {"kind": "dynamic", "base": 10000.0, "factor": 2.0,
                                        "max_pos": 2048, "seq_len": 5000}, inv, a)

p = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
     "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
inv, a = ROPE_INIT_FUNCTIONS["llama3"](llama_cfg(128, p, max_pos=131072))
theta_case("llama3_8", 128, p, {"kind": "llama3", "base": 500000.0, "factor": 8.0, "low": 1.0,
                                "high": 4.0, "orig": 8192}, inv, a)

yarn_cases = [
    ("yarn_4", 64, 10000.0, {"factor": 4.0, "original_max_position_embeddings": 2048}),
    ("yarn_deepseek_v3", 64, 10000.0, {"factor": 40.0, "original_max_position_embeddings": 4096,
                                       "beta_fast": 32.0, "beta_slow": 1.0, "mscale": 1.0,
                                       "mscale_all_dim": 1.0}),
    ("yarn_mscale_ratio", 32, 10000.0, {"factor": 16.0, "original_max_position_embeddings": 1024,
                                        "mscale": 0.707, "mscale_all_dim": 1.0}),
    ("yarn_no_truncate", 64, 500000.0, {"factor": 8.0, "original_max_position_embeddings": 8192,
                                        "beta_fast": 16.0, "beta_slow": 2.0, "truncate": False}),
    ("yarn_explicit_factor", 64, 10000.0, {"factor": 4.0, "original_max_position_embeddings": 2048,
                                           "attention_factor": 1.25}),
]
for name, hd, base, extra in yarn_cases:
    p = {"rope_type": "yarn", "rope_theta": base, **extra}
    max_pos = int(extra["original_max_position_embeddings"] * extra["factor"])
    inv, a = ROPE_INIT_FUNCTIONS["yarn"](llama_cfg(hd, p, max_pos=max_pos))
    theta_case(name, hd, p, {"kind": "yarn", "base": base, **extra}, inv, a)

dump("rope_theta.json", {"dtype": "float32 (transformers computes inv_freq in float32)",
                         "cases": theta_cases})

# ---------------------------------------------------------------- RoPE logits (float64)
n = 8


def cos_sin(theta, dim_rot):
    # LlamaRotaryEmbedding.forward in float64: freqs = pos * inv_freq, emb = cat(freqs, freqs)
    freqs = torch.arange(n, dtype=torch.float64)[:, None] * theta[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return freqs, emb.cos()[None], emb.sin()[None]


rope_logit_cases = []
for d, base, partial in [(8, 10000.0, 1.0), (16, 100.0, 1.0), (16, 10000.0, 0.5)]:
    rd = int(d * partial)
    theta = 1.0 / (base ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd))
    q = torch.tensor(rng.standard_normal((n, d)))
    k = torch.tensor(rng.standard_normal((n, d)))
    freqs, cos, sin = cos_sin(theta, rd)
    # half-split: GPT-NeoX apply_rotary_pos_emb (rotate_half; partial rotary = first rd dims)
    qh, kh = neox_apply(q[None, None], k[None, None], cos, sin)
    if partial == 1.0:
        ql, kl = llama_apply(q[None, None], k[None, None], cos, sin)
        assert torch.equal(ql, qh) and torch.equal(kl, kh)
    half = (qh[0, 0] @ kh[0, 0].T).numpy()
    # interleaved: GPT-J apply_rotary_pos_emb on the first rd dims, rest passed through
    # (GPTJAttention.forward splits rot/pass the same way)
    qg = torch.cat([gptj_apply(q[None, :, None, :rd], freqs.sin()[None], freqs.cos()[None])[0, :, 0],
                    q[:, rd:]], dim=-1)
    kg = torch.cat([gptj_apply(k[None, :, None, :rd], freqs.sin()[None], freqs.cos()[None])[0, :, 0],
                    k[:, rd:]], dim=-1)
    inter = (qg @ kg.T).numpy()
    if partial == 1.0:
        # DeepSeek-V3's interleave (outputs de-interleaved order; dot products unchanged)
        qd, kd = apply_rotary_pos_emb_interleave(q[None, None], k[None, None], cos, sin)
        assert np.allclose((qd[0, 0] @ kd[0, 0].T).numpy(), inter, rtol=0, atol=1e-12)
    rope_logit_cases.append({"d": d, "base": base, "partial": partial, "theta": [float(t) for t in theta],
                             "q": mat(q), "k": mat(k), "half_split": mat(half), "interleaved": mat(inter)})

# YaRN end to end: the real LlamaRotaryEmbedding forward (float32 cos/sin incl. attention_scaling)
p = {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 2048,
     "attention_factor": 1.25}
emb = LlamaRotaryEmbedding(llama_cfg(8, p, max_pos=8192))
q = torch.tensor(rng.standard_normal((n, 8)))
k = torch.tensor(rng.standard_normal((n, 8)))
cos, sin = emb(q[None].float(), torch.arange(n)[None])
ql, kl = llama_apply(q[None, None], k[None, None], cos.double(), sin.double())
yarn_logits = {"inv_freq_f32": [float(v) for v in emb.inv_freq.double()],
               "attention_factor": float(emb.attention_scaling), "q": mat(q), "k": mat(k),
               "half_split": mat((ql[0, 0] @ kl[0, 0].T).numpy())}
dump("rope_logits.json", {"n": n, "dtype": "float64 except yarn (float32 cos/sin)",
                          "cases": rope_logit_cases, "yarn": yarn_logits})

# ---------------------------------------------------------------- ALiBi
n_alibi = 6
alibi = {"n": n_alibi, "bloom": [], "mpt": []}
for h in [1, 4, 5, 8, 12, 16, 24]:
    bias = build_alibi_tensor(torch.ones(1, n_alibi), h, torch.float64)  # [h, 1, n]: slope * j
    slopes = bias[:, 0, 1].tolist()  # key position 1 -> the slope itself (float32 slopes)
    d = 4
    q = torch.tensor(rng.standard_normal((h, n_alibi, d)))
    k = torch.tensor(rng.standard_normal((h, n_alibi, d)))
    # BloomAttention: alibi.baddbmm(batch1=q, batch2=k^T, beta=1, alpha=1/sqrt(head_dim))
    scores = bias.baddbmm(batch1=q, batch2=k.transpose(1, 2), beta=1.0, alpha=1.0 / math.sqrt(d))
    alibi["bloom"].append({"heads": h, "slopes_f32": slopes, "bias_row": mat(bias[:, 0, :]),
                           "q": [mat(x) for x in q], "k": [mat(x) for x in k],
                           "logits": [mat(x) for x in scores]})
for h, bias_max in [(5, 8.0), (8, 8.0), (12, 8.0), (16, 16.0)]:
    t = build_mpt_alibi_tensor(h, 16, alibi_bias_max=bias_max)  # [h, 1, 16] = slope * (j - 15)
    # MptAttention slices the last key_length columns: n keys -> slope * (j - (n - 1))
    sl = t[:, :, -n_alibi:]
    alibi["mpt"].append({"heads": h, "alibi_bias_max": bias_max,
                         "slopes_f32": (-t[:, 0, -2]).tolist(), "bias_row": mat(sl[:, 0, :])})
dump("alibi.json", alibi)

# ---------------------------------------------------------------- T5 buckets (int64)
rel = torch.arange(-300, 301)
t5 = {"relative_positions": rel.tolist(), "cases": []}
for bidir, nb, md in [(True, 32, 128), (False, 32, 128), (True, 64, 256), (False, 16, 64), (True, 8, 20)]:
    b = T5Attention._relative_position_bucket(rel, bidirectional=bidir, num_buckets=nb, max_distance=md)
    t5["cases"].append({"bidirectional": bidir, "num_buckets": nb, "max_distance": md, "buckets": b.tolist()})
dump("t5_buckets.json", t5)

# ---------------------------------------------------------------- MLA (tiny DeepseekV3Attention)
captured = {}


def capture_attention(module, query, key, value, attention_mask, scaling, dropout=0.0, **kw):
    captured["logits"] = (query @ key.transpose(2, 3)) * scaling  # pre-mask, as eager
    captured["scaling"] = scaling
    return torch.zeros_like(query[..., : value.shape[-1]]).transpose(1, 2), None


AttentionInterface.register("pespectra_capture", capture_attention)
n_mla = 7
for interleave in [True, False]:
    cfg = DeepseekV3Config(hidden_size=32, num_attention_heads=3, num_key_value_heads=3, q_lora_rank=None,
                           kv_lora_rank=16, qk_nope_head_dim=6, qk_rope_head_dim=4, v_head_dim=5,
                           head_dim=4, max_position_embeddings=163840, rope_interleave=interleave,
                           rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 40.0,
                                            "original_max_position_embeddings": 4096, "beta_fast": 32.0,
                                            "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0},
                           attn_implementation="pespectra_capture")
    attn = DeepseekV3Attention(cfg, layer_idx=0).double()
    rot = DeepseekV3RotaryEmbedding(cfg)
    outs = {}
    attn.q_proj.register_forward_hook(lambda m, i, o: outs.__setitem__("q", o))
    attn.kv_a_proj_with_mqa.register_forward_hook(lambda m, i, o: outs.__setitem__("kv_a", o))
    attn.kv_b_proj.register_forward_hook(lambda m, i, o: outs.__setitem__("kv_b", o))
    x = torch.tensor(rng.standard_normal((1, n_mla, 32)))
    cos, sin = rot(x.float(), torch.arange(n_mla)[None])  # float32, as in the model
    attn(x, (cos.double(), sin.double()), None)
    H, dn, dr = 3, 6, 4
    q = outs["q"].view(n_mla, H, dn + dr).transpose(0, 1)  # [H, n, dn + dr] = [q_nope | q_rope]
    k_rope = outs["kv_a"][0, :, 16:]  # shared, pre-rotation
    k_nope = outs["kv_b"].view(n_mla, H, dn + 5)[..., :dn].transpose(0, 1)
    key = "interleaved" if interleave else "half_split"
    captured_logits = captured["logits"][0]
    globals().setdefault("mla", {"n": n_mla, "heads": H, "d_nope": dn, "d_rope": dr,
                                 "inv_freq_f32": [float(v) for v in rot.inv_freq.double()],
                                 "attention_factor": float(rot.attention_scaling),
                                 "scaling": float(captured["scaling"]), "cases": {}})
    mla["cases"][key] = {"q": [mat(t) for t in q.detach()], "k_nope": [mat(t) for t in k_nope.detach()],
                         "k_rope": mat(k_rope.detach()), "logits": [mat(t) for t in captured_logits.detach()]}
dump("mla.json", mla)

# ---------------------------------------------------------------- sinusoidal tables (float32)
n_pos, dim = 12, 16
xlm = create_sinusoidal_embeddings(n_pos, dim, torch.empty(n_pos, dim))  # Vaswani interleaved
marian = MarianSinusoidalPositionalEmbedding(n_pos, dim).create_weight()  # sin half | cos half
dump("sinusoidal.json", {"dtype": "float32", "interleaved_xlm": mat(xlm), "split_marian": mat(marian)})
print("ok")
