"""Reference values for SmolLM2's GGUF in pespectra-hf (crates/pespectra-hf/tests/gguf.rs),
produced once with transformers from the same GGUF file.

transformers dequantizes the GGUF to f32 and un-permutes Q/K (so it applies rotate-half RoPE),
as pespectra-hf's GGUF source does; the two must agree on logits, losses and tokens.

Run from the workspace root (needs torch, transformers, gguf, accelerate; e.g. .venv-pe):
  .venv-pe/bin/python scripts/make_smollm2_gguf_golden.py \
      $PESPECTRA_CACHE/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf \
      > crates/pespectra-hf/tests/fixtures/smollm2-gguf-golden.json
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

torch.manual_seed(0)
path = sys.argv[1]
d, f = os.path.dirname(path), os.path.basename(path)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager")
model.eval()

TOKENIZE = [
    "The capital of France is",
    "Hello, world!",
    " leading space and trailing space ",
    "multiple   spaces\n\nnewlines\r\n\ttab",
    "numbers 12345 and 3.14159, year 2026",
    "Unicode: café, naïve, 日本語, emoji 🤖!",
    'code: fn main() { println!("hi {}", x_1); }',
    "don't can't I'm we'll they've HE'S",
    "<|im_start|>user\nHi<|im_end|>",
    "",
]
tokenized = [{"text": t, "ids": tok(t, add_special_tokens=True)["input_ids"]} for t in TOKENIZE]

# Greedy continuation of the plain prompt.
prompt = "The capital of France is"
ids = tok(prompt, return_tensors="pt")["input_ids"]
with torch.no_grad():
    gen = model.generate(ids, max_new_tokens=8, do_sample=False)
greedy = {"prompt": prompt, "prompt_ids": ids[0].tolist(), "new_ids": gen[0, ids.shape[1]:].tolist(),
          "new_text": tok.decode(gen[0, ids.shape[1]:])}

# Pre-mask logits of a few heads, recomputed from the attention inputs as eager attention forms them.
TEXT = ("The quick brown fox jumps over the lazy dog because it was late for dinner. "
        "Meanwhile, the cat watched from the window, wondering why anyone would run so fast "
        "when there was a warm sunny spot right here on the sill.")
text_ids = tok(TEXT, return_tensors="pt")["input_ids"]
n_logits = 16
captured = {}


def pre_hook(layer):
    def hook(module, args, kwargs):
        captured[layer] = (kwargs["hidden_states"] if "hidden_states" in kwargs else args[0], kwargs["position_embeddings"])
    return hook


from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

HEADS = {0: [0, 4, 8], 14: [2], 29: [0, 8]}
hooks = [model.model.layers[l].self_attn.register_forward_pre_hook(pre_hook(l), with_kwargs=True) for l in HEADS]
with torch.no_grad():
    out = model(text_ids[:, :n_logits])
for h in hooks:
    h.remove()
heads = []
with torch.no_grad():
    for l, hs in HEADS.items():
        attn = model.model.layers[l].self_attn
        x, (cos, sin) = captured[l]
        shape = (1, n_logits, -1, attn.head_dim)
        q = attn.q_proj(x).view(shape).transpose(1, 2)
        k = attn.k_proj(x).view(shape).transpose(1, 2)
        qr, kr = apply_rotary_pos_emb(q, k, cos, sin)
        group = q.shape[1] // k.shape[1]
        for h in hs:
            s = (qr[0, h] @ kr[0, h // group].T) * attn.scaling
            c = (q[0, h] @ k[0, h // group].T) * attn.scaling
            heads.append({"layer": l, "head": h, "logits": s.flatten().tolist(), "content_logits": c.flatten().tolist()})
last = out.logits[0, -1]
top = torch.topk(last, 5)

# Mean next-token cross-entropy over the whole text, clean and with one head's attention output zeroed
# (the o_proj input slice of that head).
n_loss = text_ids.shape[1]


def loss_of(ablate=None):
    hook = None
    if ablate is not None:
        l, h = ablate
        hd = model.config.hidden_size // model.config.num_attention_heads

        def zero(module, args):
            x = args[0].clone()
            x[..., h * hd:(h + 1) * hd] = 0
            return (x,)
        hook = model.model.layers[l].self_attn.o_proj.register_forward_pre_hook(zero)
    with torch.no_grad():
        lg = model(text_ids).logits[0, :-1].double()
    if hook:
        hook.remove()
    return torch.nn.functional.cross_entropy(lg, text_ids[0, 1:]).item()


ablations = [{"layer": l, "head": h, "loss": loss_of((l, h))} for (l, h) in [(0, 0), (3, 5), (15, 2), (29, 8)]]

json.dump({
    "source": "transformers " + __import__("transformers").__version__ + ", torch " + torch.__version__ + ", float32, eager",
    "tokenize": tokenized,
    "greedy": greedy,
    "text": TEXT,
    "text_ids": text_ids[0].tolist(),
    "n_logits": n_logits,
    "heads": heads,
    "last_logits_top5": {"ids": top.indices.tolist(), "values": top.values.tolist()},
    "loss": loss_of(),
    "ablations": ablations,
}, sys.stdout)
