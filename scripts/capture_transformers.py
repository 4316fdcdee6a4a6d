"""Write a pespectra capture directory (docs/CAPTURE_FORMAT.md) from a transformers model, then
audit it with `pespectra audit --captures DIR` or `pespectra.audit(DIR)`.

This is a documented example, not run in CI (torch is a multi-GB install); its output was checked
against `pespectra capture` on the tiny checkpoints in crates/pespectra-hf/tests/fixtures (see
scripts/check_capture_transformers.py). It handles every family whose attention applies RoPE with
transformers' `rotate_half` to a leading slice of each head and then calls the modeling module's
`eager_attention_forward`: Llama, Mistral, Qwen2, Qwen3, SmolLM2, Gemma 2, Gemma 3, Phi-3
(LongRoPE included), StableLM (partial rotary, q/k LayerNorms), GPT-NeoX, Falcon with RoPE
(multi-query, new_decoder_architecture, multi-head). Additive-bias families
(BLOOM, MPT, Falcon-ALiBi, T5) and MLA (DeepSeek) form their scores elsewhere:
`pespectra capture` covers them.

    python3 -m venv .venv-pe && .venv-pe/bin/pip install torch transformers numpy
    .venv-pe/bin/pip install ./crates/pespectra-py          # for pespectra.captures
    .venv-pe/bin/python scripts/capture_transformers.py HuggingFaceTB/SmolLM2-135M caps --n 128 --layers 0,3
    pespectra audit --captures caps --out audit-caps

How: the model runs with attn_implementation="eager" while two functions of its modeling module,
which the attention classes look up at call time, are wrapped to record their arguments:
`apply_rotary_pos_emb` (q/k before RoPE, and cos/sin, which carry the attention factor a of
YaRN/LongRoPE) and `eager_attention_forward` (q/k after RoPE, the scaling, the sliding window and
the soft-cap). Per head, with the format's conventions:
  q, k            before RoPE and before the scale, after any q/k norm; a folded into the rotated
                  dimensions (a = cos at position 0);
  logits          scaling · q_rot k_rotᵀ from the post-RoPE q/k transformers hands to attention,
                  in float64: the pre-mask (and, for Gemma 2, pre-cap) scores;
  content_logits  scaling · q kᵀ;
  positional      rope, pairing "half", inv_freq from the model's rotary module (the one of the
                  layer's type for Gemma 3), checked against the recorded cos/sin.
"""

import argparse
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

from pespectra.captures import Head, write_captures

RECORD = {"rope": [], "attn": []}


def wrap(module):
    """Wraps the modeling module's apply_rotary_pos_emb and eager_attention_forward."""
    rope, eager = module.apply_rotary_pos_emb, module.eager_attention_forward

    def apply_rotary_pos_emb(q, k, cos, sin, *args, **kw):
        RECORD["rope"].append((q.detach().clone(), k.detach().clone(), cos.detach().clone()))
        return rope(q, k, cos, sin, *args, **kw)

    def eager_attention_forward(mod, query, key, value, attention_mask, *args, **kw):
        scaling = kw.get("scaling", args[0] if args else None)
        RECORD["attn"].append(dict(layer=mod.layer_idx, q=query.detach().clone(), k=key.detach().clone(),
                                   scaling=scaling, window=kw.get("sliding_window"), softcap=kw.get("softcap")))
        return eager(mod, query, key, value, attention_mask, *args, **kw)

    module.apply_rotary_pos_emb = apply_rotary_pos_emb
    module.eager_attention_forward = eager_attention_forward


def inv_freq_of(model, layer):
    """The layer's RoPE frequencies after any scaling, from the model's rotary module."""
    rot = model.base_model.rotary_emb  # model.model, gpt_neox, transformer, …
    if hasattr(rot, "inv_freq"):
        return rot.inv_freq
    kind = model.config.layer_types[layer]
    return getattr(rot, f"{kind}_inv_freq")


def capture(model, ids, layers):
    """The format's head records of `layers` for one forward pass over `ids` (1 × n)."""
    wrap(sys.modules[type(model).__module__])
    with torch.no_grad():
        model(ids)
    if len(RECORD["rope"]) != len(RECORD["attn"]):
        sys.exit(f"{model.config.model_type}: RoPE and attention calls do not pair up; "
                 "this family forms its scores another way (try `pespectra capture`)")
    n = ids.shape[1]
    heads_out = []
    for (pre_q, pre_k, cos), rec in zip(RECORD["rope"], RECORD["attn"]):
        l = rec["layer"]
        if l not in layers:
            continue
        q, k = rec["q"][0].double(), rec["k"][0].double()  # heads × n × head_dim, after RoPE
        heads, kv, hd = q.shape[0], k.shape[0], q.shape[2]
        cos = cos.reshape(-1, n, cos.shape[-1])[0].double()  # n × rot
        rot = cos.shape[1]
        a = float(cos[0, 0])  # cos(0)·a
        inv = inv_freq_of(model, l).double()
        want = a * torch.cos(torch.arange(n, dtype=torch.float64)[:, None] * torch.cat([inv, inv])[None, :])
        if 2 * len(inv) != rot or float((want - cos).abs().max()) > 1e-5 * max(1.0, abs(a)):
            sys.exit(f"layer {l}: the rotary module's inv_freq does not match the cos the model used")
        # before RoPE, a folded into the rotated dimensions; the pass-through part is untouched
        cq, ck = q.clone(), k.clone()
        cq[..., :rot] = a * pre_q[0].double()[..., :rot]
        ck[..., :rot] = a * pre_k[0].double()[..., :rot]
        sc = float(rec["scaling"])
        extra = {}
        if rec["window"] is not None:
            extra["window"] = int(rec["window"])
        if rec["softcap"] is not None:
            extra["softcap"] = float(rec["softcap"])
        pos = {"kind": "rope", "pairing": "half", "inv_freq": [float(x) for x in inv]}
        for h in range(heads):
            g = h // (heads // kv)
            heads_out.append(Head(
                layer=l, head=h, q=cq[h].float().numpy(), k=ck[g].float().numpy(),
                logits=(sc * q[h] @ k[g].T).numpy(), content_logits=(sc * cq[h] @ ck[g].T).numpy(),
                positional=pos, scale=sc, causal=True, kv_head=g, extra=extra))
    return heads_out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="hub id or local checkpoint directory")
    ap.add_argument("out", help="new capture directory")
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--layers", default="0", help="comma-separated layer indices")
    ap.add_argument("--text", default=None, help="text file (default: a fixed English sentence, repeated)")
    ap.add_argument("--token-ids", default=None, help="comma-separated token ids instead of text")
    a = ap.parse_args()

    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="eager").eval()
    if a.token_ids:
        ids = torch.tensor([[int(x) for x in a.token_ids.split(",")]])
    else:
        from transformers import AutoTokenizer

        text = open(a.text).read() if a.text else "The quick brown fox jumps over the lazy dog. " * 64
        ids = AutoTokenizer.from_pretrained(a.model)(text, return_tensors="pt").input_ids[:, : a.n]
        if ids.shape[1] < a.n:
            sys.exit(f"the text has only {ids.shape[1]} tokens")
    layers = {int(x) for x in a.layers.split(",")}
    heads = capture(model, ids, layers)
    if not heads:
        sys.exit(f"no attention call of layers {sorted(layers)} was recorded")
    write_captures(a.out, heads, model=a.model, token_ids=ids[0].tolist())
    print(f"wrote {len(heads)} heads of {a.model} (n = {ids.shape[1]}) to {a.out}")


if __name__ == "__main__":
    main()
