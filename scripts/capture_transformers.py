"""Write a pespectra capture directory (docs/CAPTURE_FORMAT.md) from a transformers model with
forward hooks, then audit it with `pespectra audit --captures DIR` or `pespectra.audit(DIR)`.

This is a documented example, not run in CI (torch is a multi-GB install). It handles the
llama family as transformers implements it (Llama, Mistral, Qwen2, Qwen3, SmolLM2: RoPE inside
attention with `rotate_half`); other families need their own hook points, see the comments.

    python3 -m venv .venv-pe && .venv-pe/bin/pip install torch transformers numpy
    .venv-pe/bin/pip install ./crates/pespectra-py          # for pespectra.captures
    .venv-pe/bin/python scripts/capture_transformers.py HuggingFaceTB/SmolLM2-135M caps --n 128 --layers 0,3
    pespectra audit --captures caps --out audit-caps

What is captured, per head (the format's conventions):
  q, k            the q/k projections' outputs after any q/k norm (Qwen3), before RoPE and scale,
                  taken from forward hooks on q_proj/k_proj (or q_norm/k_norm when present);
  logits          scale · RoPE(q)·RoPE(k)ᵀ with the model's own inv_freq, attention_scaling folded
                  into q/k's rotated dimensions (rotary_emb buffers), i.e. the pre-mask scores
                  transformers forms;
  content_logits  scale · q kᵀ.
"""

import argparse
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from pespectra.captures import Head, write_captures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="hub id or local checkpoint directory")
    ap.add_argument("out", help="new capture directory")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--layers", default="0", help="comma-separated layer indices")
    ap.add_argument("--text", default=None, help="text file (default: a fixed English sentence, repeated)")
    a = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    cfg = model.config
    if cfg.model_type not in ("llama", "mistral", "qwen2", "qwen3"):
        sys.exit(f"model_type {cfg.model_type}: this example handles the llama family only")
    text = open(a.text).read() if a.text else "The quick brown fox jumps over the lazy dog. " * 64
    ids = tok(text, return_tensors="pt").input_ids[:, : a.n]
    if ids.shape[1] < a.n:
        sys.exit(f"the text has only {ids.shape[1]} tokens")
    layers = [int(x) for x in a.layers.split(",")]
    heads, kv = cfg.num_attention_heads, cfg.num_key_value_heads
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    grab = {}
    hooks = []
    for l in layers:
        att = model.model.layers[l].self_attn
        qmod = getattr(att, "q_norm", None) or att.q_proj  # Qwen3: after the per-head norm
        kmod = getattr(att, "k_norm", None) or att.k_proj
        hooks.append(qmod.register_forward_hook(lambda m, i, o, l=l: grab.__setitem__((l, "q"), o.detach())))
        hooks.append(kmod.register_forward_hook(lambda m, i, o, l=l: grab.__setitem__((l, "k"), o.detach())))
    with torch.no_grad():
        model(ids)
    for h in hooks:
        h.remove()
    rot = model.model.rotary_emb
    inv_freq = rot.inv_freq.double().numpy()  # after any scaling
    # YaRN/LongRoPE multiply cos and sin by a: the format folds a into the rotated dimensions
    att = float(getattr(rot, "attention_scaling", 1.0))
    rot_dims = 2 * len(inv_freq)
    scale = hd**-0.5
    out = []
    for l in layers:
        q = grab[(l, "q")].reshape(a.n, heads, hd).numpy().copy()
        k = grab[(l, "k")].reshape(a.n, kv, hd).numpy().copy()
        q[..., :rot_dims] *= att
        k[..., :rot_dims] *= att
        for h in range(heads):
            out.append(Head.rope(l, h, q[:, h], k[:, h // (heads // kv)], inv_freq=inv_freq,
                                 pairing="half", scale=scale, causal=True, kv_head=h // (heads // kv)))
    write_captures(a.out, out, model=a.model, token_ids=ids[0].tolist())
    print(f"wrote {len(out)} heads of {a.model} (n = {a.n}) to {a.out}")


if __name__ == "__main__":
    main()
