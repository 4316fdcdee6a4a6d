"""Reference values for pespectra-encoders' tests, produced once with transformers (float64).

Usage (run once, offline, from the repo root; the model directories are what
`pespectra models fetch minilm-l6` / `mpnet-base` extract, i.e. the folders holding
config.json, model.safetensors and tokenizer.json):

    .venv-pe/bin/python crates/pespectra-encoders/tests/golden/make_reference.py \
        minilm-l6 <minilm dir> crates/pespectra-encoders/tests/golden/minilm-l6.json
    .venv-pe/bin/python crates/pespectra-encoders/tests/golden/make_reference.py \
        mpnet-base <mpnet dir> crates/pespectra-encoders/tests/golden/mpnet-base.json

Everything is computed by transformers' own modules (AutoTokenizer, AutoModel) in float64 on
the same safetensors, with sentence-transformers' pipeline (mean pooling over the attention
mask, then L2 normalisation) written out here so that the package itself is not needed.
The Rust code under test plays no part in producing these numbers.
"""

import json
import sys

import torch
from transformers import AutoModel, AutoTokenizer

# Tokenizer cases: accents, case, punctuation, CJK, digits, apostrophes, control characters,
# an emoji (not in the vocabulary), an over-long word, a literal special token.
TOKENIZER_TEXTS = [
    "Hello, world!",
    "Héllo WORLD naïve café résumé",
    "The unaffable bureaucrat's e-mail (sent 3.14159 seconds later) said: 'no'.",
    "中文字符 and 日本語",
    "tabs\tand\nnewlines\r\n  spaces",
    "emoji 🙂 here",
    "x" * 120 + " after",
    "a literal <mask> and [MASK] token",
]

# Embedding cases (batched with padding, as sentence-transformers does).
SENTENCES = [
    "A cat sits on the mat.",
    "A feline rests on a rug.",
    "The stock market fell sharply today.",
    "Quantum computers use qubits to perform calculations.",
]

# The sentence whose layer-0 logits are recorded.
LOGIT_SENTENCE = "Positional encodings shape attention."

# A longer input (about 300 tokens) for positions far apart: MPNet's logarithmic buckets start
# at |i - j| = 8 and saturate at 128, MiniLM's table rows run to the end. Only the logits at
# LONG_PAIRS (query, key) are recorded, to keep the file small.
LONG_TEXT = " ".join(
    f"Sentence number {i} of the long input talks about attention, positions and spectra."
    for i in range(20)
)
LONG_PAIRS = [(0, 0), (0, 7), (7, 0), (3, 11), (11, 3), (20, 60), (60, 20), (5, 140),
              (140, 5), (10, 250), (250, 10), (0, 290), (290, 0), (150, 151), (289, 288)]

# One head ablation: zero this head's attention output, report 1 - cos on SENTENCES.
ABLATE = (1, 3)


def rounded(x):
    """Floats to 10 significant digits: far below every tolerance, a third of the file size."""
    if isinstance(x, float):
        return float(f"{x:.10g}")
    if isinstance(x, list):
        return [rounded(v) for v in x]
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return x


def mean_pool_normalize(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def layer0_logits(model, kind, hidden0):
    """Pre-mask logits of layer 0, [heads, n, n], from the layer's own q/k modules."""
    if kind == "minilm-l6":
        att = model.encoder.layer[0].attention.self
        q, k = att.query(hidden0), att.key(hidden0)
    else:
        att = model.encoder.layer[0].attention.attn
        q, k = att.q(hidden0), att.k(hidden0)
    heads = model.config.num_attention_heads
    d = model.config.hidden_size // heads
    n = hidden0.shape[1]
    q = q.view(1, n, heads, d).transpose(1, 2)
    k = k.view(1, n, heads, d).transpose(1, 2)
    scores = q @ k.transpose(-1, -2) / d**0.5
    if kind == "mpnet-base":
        scores = scores + model.encoder.compute_position_bias(hidden0)
    return scores[0]


def main():
    kind, model_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
    assert kind in ("minilm-l6", "mpnet-base"), kind
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float64).eval()

    ref = {"model": kind, "dtype": "float64", "tokenizer": [], "sentences": SENTENCES}
    for t in TOKENIZER_TEXTS:
        ref["tokenizer"].append({"text": t, "ids": tok(t, truncation=False)["input_ids"]})

    with torch.no_grad():
        batch = tok(SENTENCES, padding=True, truncation=False, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        emb = mean_pool_normalize(hidden, batch["attention_mask"])
        ref["input_ids"] = [
            ids[: int(m.sum())].tolist() for ids, m in zip(batch["input_ids"], batch["attention_mask"])
        ]
        ref["embeddings"] = emb.tolist()
        ref["cosine"] = (emb @ emb.T).tolist()

        one = tok(LOGIT_SENTENCE, return_tensors="pt")
        h0 = model(**one, output_hidden_states=True).hidden_states[0]
        ref["logit_sentence"] = LOGIT_SENTENCE
        ref["logit_ids"] = one["input_ids"][0].tolist()
        ref["layer0_logits"] = layer0_logits(model, kind, h0).tolist()
        if kind == "minilm-l6":
            # Position-free counterfactual: the same forward with the position table zeroed.
            saved = model.embeddings.position_embeddings.weight.clone()
            model.embeddings.position_embeddings.weight.zero_()
            h0c = model(**one, output_hidden_states=True).hidden_states[0]
            ref["layer0_content_logits"] = layer0_logits(model, kind, h0c).tolist()
            model.embeddings.position_embeddings.weight.copy_(saved)

        long = tok(LONG_TEXT, truncation=False, return_tensors="pt")
        h0 = model(**long, output_hidden_states=True).hidden_states[0]
        full = layer0_logits(model, kind, h0)
        ref["long_text"] = LONG_TEXT
        ref["long_ids"] = long["input_ids"][0].tolist()
        ref["long_pairs"] = LONG_PAIRS
        ref["long_layer0_logits"] = [[full[h, i, j].item() for (i, j) in LONG_PAIRS]
                                     for h in range(full.shape[0])]
        if kind == "mpnet-base":
            rel = torch.arange(-300, 301)
            ref["bucket_rel"] = [-300, 300]
            ref["buckets"] = model.encoder.relative_position_bucket(rel).tolist()

        # Head ablation: zero the head's slice of the context vector entering the output
        # projection (attention.output.dense for BERT, attention.attn.o for MPNet).
        layer, head = ABLATE
        d = model.config.hidden_size // model.config.num_attention_heads
        proj = (
            model.encoder.layer[layer].attention.output.dense
            if kind == "minilm-l6"
            else model.encoder.layer[layer].attention.attn.o
        )

        def zero_head(_module, args):
            x = args[0].clone()
            x[..., head * d : (head + 1) * d] = 0
            return (x,)

        handle = proj.register_forward_pre_hook(zero_head)
        ablated = mean_pool_normalize(model(**batch).last_hidden_state, batch["attention_mask"])
        handle.remove()
        effect = (1 - (ablated * emb).sum(1)).mean().item()
        ref["ablation"] = {"layer": layer, "head": head, "mean_one_minus_cos": effect}

    with open(out, "w") as f:
        json.dump(rounded(ref), f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
