#!/usr/bin/env python3
"""Tiny random `pespectra_e4` checkpoints and their NumPy goldens, for crates/pespectra-hf/tests/e4.rs.

The forward pass below is written from docs/E4_MODEL_FORMAT.md alone, in float64, and shares no
code with the Rust reader (crates/pespectra-hf/src/e4.rs); the Rust side is tested against it.
Only NumPy is needed: the safetensors files are written by hand (8-byte little-endian header
length, JSON header, raw little-endian f32 data).

    .venv/bin/python scripts/make_e4_fixtures.py

writes crates/pespectra-hf/tests/fixtures/e4/<name>/{config.json, model.safetensors,
golden.json}. Every model: V = 20, d = 8, H = 2, d_ff = 12, L = 12, 2 layers, C = 7, weights
N(0, 0.5²) (LayerNorm weights 1 + N(0, 0.3²)), fixed seeds. golden.json holds:

* `ids` (unpadded; the paper arch pads them to L) and the class `logits`;
* `layer` (the captured layer, 1) and per head of it: `q`, `k` (n × head_dim, the capture
  layout: before any rotation; MLA: [q_r ; q_c,h] and [k_r ; k_c,h]), `logits` (the scores as
  the model forms them), `content_logits`, `bias` (additive heads) and `kind`
  (`rope` / `bias` / `absolute`), `inv_freq` for rope heads, `scale`;
* `ablation`: KL(clean ‖ ablated) of the class distribution (nats) for every (layer, head);
* standard arch: `padded_ids` (the ids plus trailing pad_id tokens) and their `padded_logits`
  (pad tokens masked as keys and left out of the pooling, which must equal `logits`).

content_logits: rope and bias heads, scale · q kᵀ of the same pass; absolute heads, the scores
of the pass with the input PE removed (MLA "paper": and R_i replaced by the identity in every
layer).
"""

import json
import math
import os
import shutil
import struct

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "pespectra-hf", "tests", "fixtures", "e4")

BASE = dict(
    model_type="pespectra_e4",
    task="distance",
    vocab_size=20,
    num_classes=7,
    max_len=12,
    d_model=8,
    heads=2,
    d_ff=12,
    layers=2,
    pad_id=0,
    layer_norm_eps=1e-5,
    input_pe="none",
    attention_pe="none",
    rope_theta=10000.0,
    rope_heads=2,
    alibi_slopes="exp",
    t5_buckets=32,
    t5_max_distance=128,
    mla=None,
)

MODELS = {
    "paper-nope": dict(pe="nope", arch="paper"),
    "paper-sinusoidal": dict(pe="sinusoidal", arch="paper", input_pe="sinusoidal"),
    "paper-learned": dict(pe="learned", arch="paper", input_pe="learned"),
    "paper-relative": dict(pe="relative", arch="paper", attention_pe="relative"),
    # 16 buckets / distance 32: offsets up to 11 reach the logarithmic buckets
    "paper-t5": dict(pe="t5", arch="paper", attention_pe="t5", t5_buckets=16, t5_max_distance=32),
    "paper-alibi": dict(pe="alibi", arch="paper", attention_pe="alibi", alibi_slopes="exp"),
    "standard-alibi": dict(pe="alibi-standard", arch="standard", attention_pe="alibi", alibi_slopes="pow2"),
    "paper-rope-hybrid": dict(pe="rope-hybrid", arch="paper", input_pe="sinusoidal_concat", attention_pe="rope"),
    "paper-partial-rope": dict(pe="partial-rope:1", arch="paper", attention_pe="rope", rope_heads=1, rope_theta=100.0),
    "standard-rope": dict(pe="rope", arch="standard", attention_pe="rope", task="count"),
    "standard-mla": dict(
        pe="mla", arch="standard",
        mla=dict(d_compress=6, rope_dim=4, shared_q_rope=False, rotation="rope"),
    ),
    "standard-mla-paper": dict(
        pe="mla-paper", arch="standard", input_pe="learned",
        mla=dict(d_compress=6, rope_dim=6, shared_q_rope=True, rotation="paper"),
    ),
}

CAPTURED_LAYER = 1


# ---------------------------------------------------------------- weights


def make_weights(cfg, rng):
    d, H, L, V, F, C = (cfg[k] for k in ("d_model", "heads", "max_len", "vocab_size", "d_ff", "num_classes"))
    dh = d // H
    w = {}

    def r(*shape, std=0.5):
        return rng.normal(0.0, std, size=shape)

    def norm(name):
        w[f"{name}.weight"] = 1.0 + r(d, std=0.3)
        w[f"{name}.bias"] = r(d, std=0.3)

    def linear(name, out, inp, bias=True):
        w[f"{name}.weight"] = r(out, inp)
        if bias:
            w[f"{name}.bias"] = r(out, std=0.3)

    w["embed.weight"] = r(V, d)
    if cfg["input_pe"] == "learned":
        w["pos_embed.weight"] = r(L, d)
    for l in range(cfg["layers"]):
        p = f"layers.{l}"
        norm(f"{p}.norm1")
        norm(f"{p}.norm2")
        m = cfg["mla"]
        if m is None:
            for t in "qkvo":
                linear(f"{p}.attn.{t}", d, d)
        else:
            dc, dr = m["d_compress"], m["rope_dim"]
            hq = 1 if m["shared_q_rope"] else H
            linear(f"{p}.attn.dq", dc, d, bias=False)
            linear(f"{p}.attn.uq", H * dh, dc, bias=False)
            linear(f"{p}.attn.qr", hq * dr, dc, bias=False)
            linear(f"{p}.attn.dkv", dc, d, bias=False)
            linear(f"{p}.attn.uk", H * dh, dc, bias=False)
            linear(f"{p}.attn.uv", H * dh, dc, bias=False)
            linear(f"{p}.attn.kr", dr, d, bias=False)
            linear(f"{p}.attn.o", d, H * dh, bias=False)
        if cfg["attention_pe"] == "relative":
            w[f"{p}.attn.rel_bias"] = r(2 * L - 1, H, std=1.0)
        if cfg["attention_pe"] == "t5":
            w[f"{p}.attn.rel_bias"] = r(cfg["t5_buckets"], H, std=1.0)
        linear(f"{p}.ffn.up", F, d)
        linear(f"{p}.ffn.down", d, F)
    if cfg["arch"] == "standard":
        norm("final_norm")
    linear("head", C, d)
    # the stored values are f32; the reference computes in f64 from exactly those values
    return {k: v.astype("<f4") for k, v in w.items()}


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- the forward pass (spec)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def lin(W, name, x, bias=True):
    y = x @ W[f"{name}.weight"].T
    return y + W[f"{name}.bias"] if bias else y


def input_positions(cfg, W, n):
    d, kind = cfg["d_model"], cfg["input_pe"]
    p = np.zeros((n, d))
    i = np.arange(n)[:, None].astype(np.float64)
    m = np.arange(d // 2)[None, :]
    om = 10000.0 ** (-2.0 * m / d)
    if kind == "sinusoidal":
        p[:, 0::2] = np.sin(i * om)
        p[:, 1::2] = np.cos(i * om)
    elif kind == "sinusoidal_concat":
        p[:, : d // 2] = np.sin(i * om)
        p[:, d // 2 :] = np.cos(i * om)
    elif kind == "learned":
        p = W["pos_embed.weight"][:n]
    return p


def rope_inv_freq(theta, dim):
    return np.array([theta ** (-2.0 * f / dim) for f in range(dim // 2)])


def rope(x, inv_freq):
    """Adjacent pairs (2f, 2f+1) rotated by angle i·θ_f."""
    n = x.shape[0]
    y = x.copy()
    for i in range(n):
        for f, th in enumerate(inv_freq):
            a, b = x[i, 2 * f], x[i, 2 * f + 1]
            c, s = math.cos(i * th), math.sin(i * th)
            y[i, 2 * f] = a * c - b * s
            y[i, 2 * f + 1] = a * s + b * c
    return y


def mla_r(x, inv_freq, rotation):
    """R_i: [x_2f c_f − x_2f+1 s_f]_f ++ [x_2f s_f + x_2f+1 c_f]_f, rows i = 0…n−1."""
    n, dr = x.shape
    half = dr // 2
    y = np.zeros_like(x)
    for i in range(n):
        if rotation == "identity":
            s, c = np.zeros(half), np.ones(half)
        elif rotation == "rope":
            s, c = np.sin(i * inv_freq), np.cos(i * inv_freq)
        else:  # "paper": e = [sin iθ ; cos iθ], s_f = e[2f], c_f = e[2f+1]
            e = np.concatenate([np.sin(i * inv_freq), np.cos(i * inv_freq)])
            s, c = e[0::2], e[1::2]
        ev, od = x[i, 0::2], x[i, 1::2]
        y[i, :half] = ev * c - od * s
        y[i, half:] = ev * s + od * c
    return y


def t5_bucket(r, buckets, max_distance):
    half = buckets // 2
    base = half if r > 0 else 0
    a = abs(r)
    exact = half // 2
    if a < exact:
        return base + a
    return base + min(half - 1, exact + math.floor(math.log(a / exact) / math.log(max_distance / exact) * (half - exact)))


def alibi_slope(cfg, h):
    H = cfg["heads"]
    if cfg["alibi_slopes"] == "exp":
        return math.exp(-h / H)
    return 2.0 ** (-8.0 * (h + 1) / H)


def head_bias(cfg, W, l, h, n):
    kind, L = cfg["attention_pe"], cfg["max_len"]
    B = np.zeros((n, n))
    if cfg["mla"] is not None or kind in ("none", "rope"):
        return None
    for i in range(n):
        for j in range(n):
            if kind == "relative":
                B[i, j] = W[f"layers.{l}.attn.rel_bias"][(j - i) + L - 1, h]
            elif kind == "t5":
                B[i, j] = W[f"layers.{l}.attn.rel_bias"][t5_bucket(j - i, cfg["t5_buckets"], cfg["t5_max_distance"]), h]
            elif kind == "alibi":
                B[i, j] = -alibi_slope(cfg, h) * abs(i - j)
    return B


def softmax_rows(S, key_ok):
    S = np.where(key_ok[None, :], S, -np.inf)
    S = S - S.max(-1, keepdims=True)
    e = np.exp(S)
    return e / e.sum(-1, keepdims=True)


def forward(cfg, W, ids, with_pe=True, identity_r=False, ablate=None):
    """Class logits and per layer, per head: (q_cap, k_cap, scores, bias, scale)."""
    d, H, L, pad = cfg["d_model"], cfg["heads"], cfg["max_len"], cfg["pad_id"]
    dh = d // H
    ids = list(ids)
    if cfg["arch"] == "paper":
        ids = ids + [pad] * (L - len(ids))
        key_ok = np.ones(len(ids), dtype=bool)
    else:
        key_ok = np.array(ids) != pad
    n = len(ids)
    x0 = W["embed.weight"][ids].astype(np.float64)
    if with_pe:
        x0 = x0 + input_positions(cfg, W, n)
    x = x0
    eps = cfg["layer_norm_eps"]
    records = []
    for l in range(cfg["layers"]):
        p = f"layers.{l}"
        sq = layer_norm(x, W[f"{p}.norm1.weight"], W[f"{p}.norm1.bias"], eps)
        skv = x0 if cfg["arch"] == "paper" else sq
        heads, values = [], []
        m = cfg["mla"]
        if m is None:
            Q, K, V = (lin(W, f"{p}.attn.{t}", s) for t, s in (("q", sq), ("k", skv), ("v", skv)))
            scale = 1.0 / math.sqrt(dh)
            inv = rope_inv_freq(cfg["rope_theta"], dh)
            for h in range(H):
                qh, kh = Q[:, h * dh : (h + 1) * dh], K[:, h * dh : (h + 1) * dh]
                if cfg["attention_pe"] == "rope" and h < cfg["rope_heads"]:
                    qd, kd = rope(qh, inv), rope(kh, inv)
                else:
                    qd, kd = qh, kh
                B = head_bias(cfg, W, l, h, n)
                S = qd @ kd.T * scale + (B if B is not None else 0.0)
                heads.append((qh, kh, S, B, scale))
                values.append(V[:, h * dh : (h + 1) * dh])
        else:
            dr = m["rope_dim"]
            rotation = "identity" if identity_r else m["rotation"]
            inv = rope_inv_freq(cfg["rope_theta"], dr)
            cq = lin(W, f"{p}.attn.dq", sq, bias=False)
            qc = lin(W, f"{p}.attn.uq", cq, bias=False)
            qr = lin(W, f"{p}.attn.qr", cq, bias=False)
            ckv = lin(W, f"{p}.attn.dkv", skv, bias=False)
            kc = lin(W, f"{p}.attn.uk", ckv, bias=False)
            V = lin(W, f"{p}.attn.uv", ckv, bias=False)
            kr = lin(W, f"{p}.attn.kr", skv, bias=False)
            scale = 1.0 / math.sqrt(dh + dr)
            rk = mla_r(kr, inv, rotation)
            for h in range(H):
                hq = 0 if m["shared_q_rope"] else h
                qrh = qr[:, hq * dr : (hq + 1) * dr]
                qch, kch = qc[:, h * dh : (h + 1) * dh], kc[:, h * dh : (h + 1) * dh]
                qd = np.concatenate([qch, mla_r(qrh, inv, rotation)], axis=1)
                kd = np.concatenate([kch, rk], axis=1)
                S = qd @ kd.T * scale
                heads.append((np.concatenate([qrh, qch], 1), np.concatenate([kr, kch], 1), S, None, scale))
                values.append(V[:, h * dh : (h + 1) * dh])
        outs = []
        for h, ((_, _, S, _, _), Vh) in enumerate(zip(heads, values)):
            O = softmax_rows(S, key_ok) @ Vh
            if ablate == (l, h):
                O = np.zeros_like(O)
            outs.append(O)
        bias_o = m is None
        x = x + lin(W, f"{p}.attn.o", np.concatenate(outs, axis=1), bias=bias_o)
        hdn = lin(W, f"{p}.ffn.up", layer_norm(x, W[f"{p}.norm2.weight"], W[f"{p}.norm2.bias"], eps))
        if cfg["arch"] == "paper":
            act = np.maximum(hdn, 0.0)
        else:
            act = 0.5 * hdn * (1.0 + np.vectorize(math.erf)(hdn / math.sqrt(2.0)))
        x = x + lin(W, f"{p}.ffn.down", act)
        records.append(heads)
    if cfg["arch"] == "paper":
        pooled = x.mean(0)
    else:
        x = layer_norm(x, W["final_norm.weight"], W["final_norm.bias"], eps)
        pooled = x[key_ok].mean(0)
    return lin(W, "head", pooled), records


def log_softmax(z):
    z = z - z.max()
    return z - math.log(np.exp(z).sum())


def head_kind(cfg, h):
    m = cfg["mla"]
    if m is not None:
        return "rope" if m["rotation"] == "rope" else "absolute"
    a = cfg["attention_pe"]
    if a == "rope":
        return "rope" if h < cfg["rope_heads"] else "absolute"
    if a in ("relative", "t5", "alibi"):
        return "bias"
    return "absolute"


def golden(cfg, W, ids):
    logits, rec = forward(cfg, W, ids)
    counterfactual = None
    if any(head_kind(cfg, h) == "absolute" for h in range(cfg["heads"])):
        mla_paper = cfg["mla"] is not None and cfg["mla"]["rotation"] == "paper"
        _, counterfactual = forward(cfg, W, ids, with_pe=False, identity_r=mla_paper)
    l = CAPTURED_LAYER
    heads = []
    for h, (q, k, S, B, scale) in enumerate(rec[l]):
        kind = head_kind(cfg, h)
        if kind == "absolute":
            content = counterfactual[l][h][2]
        else:
            content = q @ k.T * scale
        if B is not None:
            assert np.allclose(S, content + B)
        e = dict(kind=kind, scale=scale, q=q.ravel().tolist(), k=k.ravel().tolist(),
                 logits=S.ravel().tolist(), content_logits=content.ravel().tolist())
        if B is not None:
            e["bias"] = B.ravel().tolist()
        if kind == "rope":
            dim = cfg["mla"]["rope_dim"] if cfg["mla"] is not None else cfg["d_model"] // cfg["heads"]
            e["inv_freq"] = rope_inv_freq(cfg["rope_theta"], dim).tolist()
        heads.append(e)
    lp = log_softmax(logits)
    ablation = []
    for al in range(cfg["layers"]):
        for h in range(cfg["heads"]):
            z, _ = forward(cfg, W, ids, ablate=(al, h))
            ablation.append(dict(layer=al, head=h, kl=float(np.sum(np.exp(lp) * (lp - log_softmax(z))))))
    g = dict(ids=list(ids), logits=logits.tolist(), layer=l, n=len(rec[l][0][2]), heads=heads, ablation=ablation)
    if cfg["arch"] == "standard":
        padded = list(ids) + [cfg["pad_id"]] * 2
        pl, _ = forward(cfg, W, padded)
        assert np.allclose(pl, logits, atol=1e-12), "padding must not change the standard arch"
        g["padded_ids"] = padded
        g["padded_logits"] = pl.tolist()
    return g


def rounded(v):
    """JSON floats at 7 significant digits (a relative rounding of ≤ 5e-8, far inside the 1e-5 bound), to keep the files small."""
    if isinstance(v, float):
        return float(f"{v:.7g}")
    if isinstance(v, list):
        return [rounded(x) for x in v]
    if isinstance(v, dict):
        return {k: rounded(x) for k, x in v.items()}
    return v


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for seed, (name, over) in enumerate(sorted(MODELS.items())):
        cfg = dict(BASE, **over)
        rng = np.random.default_rng(1000 + seed)
        W = make_weights(cfg, rng)
        Wd = {k: v.astype(np.float64) for k, v in W.items()}
        n_ids = 9 if cfg["arch"] == "paper" else 10
        ids = [int(t) for t in rng.integers(1, cfg["vocab_size"], size=n_ids)]
        d = os.path.join(OUT, name)
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        write_safetensors(os.path.join(d, "model.safetensors"), W)
        with open(os.path.join(d, "golden.json"), "w") as f:
            json.dump(rounded(golden(cfg, Wd, ids)), f, separators=(",", ":"))
            f.write("\n")
        print(name)


if __name__ == "__main__":
    main()
