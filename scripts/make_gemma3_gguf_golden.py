"""Golden outputs of transformers on the gemma3-270m GGUF, for the Rust test that runs the same file
through pespectra's GGUF source and llama-family decoder (crates/pespectra-hf/tests/gguf.rs).

transformers is the independent reference here: it dequantizes the GGUF with gguf-py, undoes
llama.cpp's (1 + w) Gemma norms, fills in what the GGUF does not store (local RoPE base 10000,
5 sliding : 1 full layers, query_pre_attn_scalar) from its own Gemma 3 defaults, and builds its
tokenizer from the GGUF vocabulary. Run once by hand (torch is too heavy for CI), from the
workspace root, after `pespectra models fetch gemma3-270m`:

    python3 -m venv .venv-pe && .venv-pe/bin/pip install torch transformers gguf accelerate numpy
    .venv-pe/bin/python scripts/make_gemma3_gguf_golden.py ~/.cache/pespectra/models/gemma3-270m

It writes crates/pespectra-hf/tests/fixtures/gemma3-270m-gguf-golden.json (≈ 0.1 MB): token ids of
a few texts, and for 16 fixed ids the pre-softmax logits of every head of layers 0, 5 (full
attention) and 17, the final hidden states and the next-token loss. Loading takes ≈ 3 minutes
(tokenizer conversion of the 262k vocabulary).
"""

import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, "scripts")
from capture_transformers import capture  # noqa: E402  (same hooks as the capture example)

GGUF = "gemma-3-270m-q4_k_m.gguf"
OUT = "crates/pespectra-hf/tests/fixtures/gemma3-270m-gguf-golden.json"
TEXTS = [
    "The capital of France is Paris.",
    "  Leading spaces, tabs\tand\nnewlines;  double  spaces.",
    "Zürich, naïve café — ½ € 12345 😀 𝔘 ‰ «quotes»",
    "def f(x):\n    return x**2  # squares\n",
]
LAYERS = [0, 5, 17]


def main() -> None:
    d = sys.argv[1]
    tok = AutoTokenizer.from_pretrained(d, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    texts = [{"text": t, "ids": tok(t).input_ids} for t in TEXTS]
    ids = tok(TEXTS[0] + " " + TEXTS[3]).input_ids[:16]
    x = torch.tensor([ids])
    heads = capture(model, x, set(LAYERS))
    with torch.no_grad():
        out = model(x, labels=x, output_hidden_states=True)
    golden = {
        "gguf": GGUF,
        "transformers": __import__("transformers").__version__,
        "texts": texts,
        "ids": ids,
        "heads": [{"layer": h.layer, "head": h.head, "logits": h.logits.reshape(-1).tolist()} for h in heads],
        "final_hidden": out.hidden_states[-1][0].reshape(-1).tolist(),
        "loss": float(out.loss),
    }
    with open(OUT, "w") as f:
        json.dump(golden, f)
    print(f"wrote {OUT}: {len(heads)} heads, loss {golden['loss']:.6f}")


if __name__ == "__main__":
    main()
