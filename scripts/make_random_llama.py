"""A random-weight llama checkpoint of any size in bf16, written with NumPy only, for measuring
pespectra's memory and time on models larger than memory-in-f32 (README, "Memory").

    python3 scripts/make_random_llama.py /tmp/llama1b            # ≈ 1.04 B parameters, 2.1 GB
    /usr/bin/time -v pespectra capture /tmp/llama1b --token-ids @ids.txt --n 256 --layers 0 --out caps

Weights are N(0, 0.02²) (norm weights 1 + N(0, 0.1²)); nothing about them is meaningful except
their shapes, dtype and layout, which are those transformers' LlamaForCausalLM saves.
"""

import argparse
import json
import os

import numpy as np


def bf16(x: np.ndarray) -> bytes:
    """Round-to-nearest-even float32 → bfloat16 bits, little-endian."""
    u = x.astype(np.float32).view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype("<u2").tobytes()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--intermediate", type=int, default=8192)
    ap.add_argument("--vocab", type=int, default=32000)
    a = ap.parse_args()
    hd = a.hidden // a.heads
    shapes = {"model.embed_tokens.weight": (a.vocab, a.hidden), "model.norm.weight": (a.hidden,)}
    for l in range(a.layers):
        p = f"model.layers.{l}"
        shapes.update({
            f"{p}.input_layernorm.weight": (a.hidden,),
            f"{p}.post_attention_layernorm.weight": (a.hidden,),
            f"{p}.self_attn.q_proj.weight": (a.heads * hd, a.hidden),
            f"{p}.self_attn.k_proj.weight": (a.kv_heads * hd, a.hidden),
            f"{p}.self_attn.v_proj.weight": (a.kv_heads * hd, a.hidden),
            f"{p}.self_attn.o_proj.weight": (a.hidden, a.heads * hd),
            f"{p}.mlp.gate_proj.weight": (a.intermediate, a.hidden),
            f"{p}.mlp.up_proj.weight": (a.intermediate, a.hidden),
            f"{p}.mlp.down_proj.weight": (a.hidden, a.intermediate),
        })
    header, offset = {}, 0
    for name in sorted(shapes):
        size = 2 * int(np.prod(shapes[name]))
        header[name] = {"dtype": "BF16", "shape": list(shapes[name]), "data_offsets": [offset, offset + size]}
        offset += size
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(0)
    with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for name in sorted(shapes):
            shape = shapes[name]
            if len(shape) == 1:
                f.write(bf16(1 + 0.1 * rng.standard_normal(shape, dtype=np.float32)))
                continue
            for r in range(0, shape[0], 1024):  # a few MB at a time
                rows = min(1024, shape[0] - r)
                f.write(bf16(0.02 * rng.standard_normal((rows, shape[1]), dtype=np.float32)))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": a.hidden,
        "num_hidden_layers": a.layers, "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads,
        "intermediate_size": a.intermediate, "vocab_size": a.vocab, "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": True, "hidden_act": "silu",
        "torch_dtype": "bfloat16",
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    params = sum(int(np.prod(s)) for s in shapes.values())
    print(f"{a.out}: {params / 1e9:.3f} B parameters, {offset / 1e9:.2f} GB of bf16 weights")


if __name__ == "__main__":
    main()
