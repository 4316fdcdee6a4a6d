#!/usr/bin/env python3
"""Independent NumPy (float64) reference for pespectra-attention.

Writes tests/golden/golden.json: small random problems (inputs stored as float32 values)
with the attention output and pre-mask logits computed here, following the transformers
conventions written out below, independently of the Rust code:

- RoPE: inv_freq = 1/base**(arange(0, r, 2)/r); rotate_half (HalfSplit) or (2i, 2i+1)
  pairs (Interleaved); partial rotary rotates the first r = int(D*fraction) dims;
  scaling as in transformers' _compute_{linear,dynamic,yarn,llama3}_parameters.
- ALiBi: BLOOM slopes, bias = -slope*|i-j| (llama.cpp form).
- T5: _relative_position_bucket with float32 log, bias = table[bucket, h], scale = 1.
- Sliding window w: keep i - j < w (and j - i < w when not causal).
- GQA: kv head = h // (H // KV) (repeat_kv).
- MLA: logit = scale*(q_nope.k_nope + RoPE(q_rope).RoPE(k_rope_shared)).

Run: python3 make_golden.py  (numpy only; re-run after changing a convention).
"""
import json
import math
import os

import numpy as np

RNG = np.random.default_rng(20261128)


def inv_freq(rope, r, seq):
    base = rope["base"]
    sc = rope.get("scaling", {"kind": "none"})
    plain = lambda b: 1.0 / b ** (np.arange(0, r, 2, dtype=np.float64) / r)
    att = 1.0
    k = sc["kind"]
    if k == "none":
        f = plain(base)
    elif k == "linear":
        f = plain(base) / sc["factor"]
    elif k == "dynamic":
        fac, orig = sc["factor"], sc["orig"]
        b = base
        if seq > orig:
            b = base * ((fac * seq / orig) - (fac - 1)) ** (r / (r - 2))
        f = plain(b)
    elif k == "yarn":
        fac, orig = sc["factor"], sc["orig"]
        bf, bs = sc["beta_fast"], sc["beta_slow"]
        att = 0.1 * math.log(fac) + 1.0 if fac > 1 else 1.0

        def corr(rot):
            return (r * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low = max(math.floor(corr(bf)), 0)
        high = min(math.ceil(corr(bs)), r - 1)
        if low == high:
            high += 0.001
        ramp = np.clip((np.arange(r // 2, dtype=np.float64) - low) / (high - low), 0, 1)
        ext = 1 - ramp
        pf = plain(base)
        f = (pf / fac) * (1 - ext) + pf * ext
    elif k == "llama3":
        fac, lo, hi, orig = sc["factor"], sc["low"], sc["high"], sc["orig"]
        pf = plain(base)
        wl = 2 * math.pi / pf
        f = np.where(wl > orig / lo, pf / fac, pf)
        smooth = (orig / wl - lo) / (hi - lo)
        sm = (1 - smooth) * f / fac + smooth * f
        med = ~(wl < orig / hi) & ~(wl > orig / lo)
        f = np.where(med, sm, f)
    else:
        raise ValueError(k)
    return f, att


def rotate(x, rope, offset, r, seq):
    """x: [..., S, D] float64; rotates dims offset..offset+r."""
    f, att = inv_freq(rope, r, seq)
    ang = np.arange(seq, dtype=np.float64)[:, None] * f[None, :]
    c, s = np.cos(ang) * att, np.sin(ang) * att
    y = x.copy()
    seg = x[..., offset:offset + r]
    if rope["pairing"] == "half":
        a, b = seg[..., : r // 2], seg[..., r // 2:]
        y[..., offset:offset + r // 2] = a * c - b * s
        y[..., offset + r // 2:offset + r] = b * c + a * s
    else:
        a, b = seg[..., 0::2], seg[..., 1::2]
        y[..., offset:offset + r:2] = a * c - b * s
        y[..., offset + 1:offset + r:2] = a * s + b * c
    return y


def alibi_slopes(h):
    n = 2 ** int(math.floor(math.log2(h)))
    base = 2 ** (-(2 ** -(math.log2(n) - 3)))
    s = [base ** k for k in range(1, n + 1)]
    if n != h:
        eb = 2 ** (-(2 ** -(math.log2(2 * n) - 3)))
        s += [eb ** k for k in range(1, 2 * (h - n), 2)]
    return np.array(s)


def t5_bucket(rel, bidirectional, nb, maxd):
    rel = np.asarray(rel, dtype=np.int64)
    out = np.zeros_like(rel)
    if bidirectional:
        nb //= 2
        out += (rel > 0).astype(np.int64) * nb
        n = np.abs(rel)
    else:
        n = -np.minimum(rel, 0)
    me = nb // 2
    small = n < me
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.log(n.astype(np.float32) / np.float32(me))
        large = me + (lg / np.float32(math.log(maxd / me)) * np.float32(nb - me)).astype(np.int64)
    large = np.minimum(large, nb - 1)
    return out + np.where(small, n, large)


def f32(shape):
    return RNG.uniform(-1, 1, size=shape).astype(np.float32)


def short(a):
    """Shortest decimal that round-trips the float32 values (keeps the file small)."""
    return [float(np.format_float_positional(x, unique=True)) for x in np.asarray(a, np.float32).ravel()]


def solve(case):
    B, H, KV, S, D, DV = (case[k] for k in ("batch", "heads", "kv_heads", "seq", "head_dim", "value_dim"))
    pe = case["pe"]
    kd = pe["nope_dim"] if pe["kind"] == "mla" else D
    q = f32((B, H, S, D))
    k = f32((B, KV, S, kd))
    v = f32((B, KV, S, DV))
    case["q"], case["k"], case["v"] = short(q), short(k), short(v)
    Q, K = q.astype(np.float64), k.astype(np.float64)
    if pe["kind"] == "mla":
        rk = f32((B, S, pe["rope_dim"]))
        case["rope_key"] = short(rk)
        K = np.concatenate([K, np.broadcast_to(rk.astype(np.float64)[:, None], (B, KV, S, pe["rope_dim"]))], -1)
        Q = rotate(Q, pe["rope"], pe["nope_dim"], pe["rope_dim"], S)
        K = rotate(K, pe["rope"], pe["nope_dim"], pe["rope_dim"], S)
    if pe["kind"] == "rope":
        r = int(D * pe["rope"]["fraction"])
        Q = rotate(Q, pe["rope"], 0, r, S)
        K = rotate(K, pe["rope"], 0, r, S)
    if pe["kind"] == "absolute":
        qt, kt = f32((S, D)), f32((S, D))
        pe["q_table"], pe["k_table"] = short(qt), short(kt)
        Q, K = Q + qt.astype(np.float64), K + kt.astype(np.float64)
    rel = np.arange(S)[None, :] - np.arange(S)[:, None]  # j - i
    bias = np.zeros((H, S, S))
    if pe["kind"] == "alibi":
        bias = -alibi_slopes(H)[:, None, None] * np.abs(rel)[None]
    if pe["kind"] == "t5":
        tab = f32((pe["num_buckets"], H))
        pe["table"] = short(tab)
        bk = t5_bucket(rel, pe["bidirectional"], pe["num_buckets"], pe["max_distance"])
        bias = np.transpose(tab.astype(np.float64)[bk], (2, 0, 1))
    Kh = np.repeat(K, H // KV, axis=1)
    Vh = np.repeat(v.astype(np.float64), H // KV, axis=1)
    logits = case["scale"] * np.einsum("bhid,bhjd->bhij", Q, Kh) + bias[None]
    i, j = np.arange(S)[:, None], np.arange(S)[None, :]
    allowed = np.ones((B, S, S), dtype=bool)
    if case["causal"]:
        allowed &= (j <= i)[None]
    w = case.get("window")
    if w is not None:
        allowed &= (i - j < w)[None]
        if not case["causal"]:
            allowed &= (j - i < w)[None]
    if case.get("key_lengths") is not None:
        allowed &= (j[None] < np.array(case["key_lengths"])[:, None, None])
    masked = np.where(allowed[:, None], logits, -np.inf)
    m = masked.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    p = np.exp(masked - m)
    ssum = p.sum(-1, keepdims=True)
    out = np.einsum("bhij,bhjd->bhid", p, Vh) / np.where(ssum > 0, ssum, 1.0)
    case["out"] = out.ravel().tolist()
    case["pre_mask"] = logits.ravel().tolist()
    return case


def base(name, **kw):
    c = dict(name=name, batch=1, heads=2, kv_heads=2, seq=7, head_dim=16, value_dim=16,
             causal=False, window=None, key_lengths=None, pe={"kind": "nope"})
    c.update(kw)
    c.setdefault("scale", 1 / math.sqrt(c["head_dim"]))
    return c


def main():
    rope = lambda pairing, **kw: {"pairing": pairing, "base": 10000.0, "fraction": 1.0, **kw}
    cases = [
        base("nope_mha"),
        base("nope_causal_gqa_odd", heads=4, kv_heads=2, seq=9, head_dim=24, value_dim=8, causal=True),
        base("nope_mqa_seq1", heads=3, kv_heads=1, seq=1),
        base("rope_half", pe={"kind": "rope", "rope": rope("half")}, causal=True, seq=11),
        base("rope_interleaved_partial", pe={"kind": "rope", "rope": rope("interleaved", fraction=0.5)}, seq=10),
        base("rope_linear", pe={"kind": "rope", "rope": rope("half", scaling={"kind": "linear", "factor": 4.0})}),
        base("rope_dynamic_ntk", seq=12, pe={"kind": "rope", "rope": rope("half", scaling={"kind": "dynamic", "factor": 2.0, "orig": 8})}),
        base("rope_yarn", seq=12, pe={"kind": "rope", "rope": rope("interleaved", scaling={"kind": "yarn", "factor": 4.0, "orig": 8, "beta_fast": 32.0, "beta_slow": 1.0})}),
        base("rope_llama3", seq=12, head_dim=32, value_dim=32, pe={"kind": "rope", "rope": {"pairing": "half", "base": 500000.0, "fraction": 1.0, "scaling": {"kind": "llama3", "factor": 8.0, "low": 1.0, "high": 4.0, "orig": 16}}}),
        base("alibi_causal", heads=4, kv_heads=4, causal=True, pe={"kind": "alibi"}),
        base("alibi_12_heads", heads=12, kv_heads=4, seq=5, pe={"kind": "alibi"}),
        base("t5_encoder", seq=40, scale=1.0, pe={"kind": "t5", "num_buckets": 32, "max_distance": 128, "bidirectional": True}),
        base("t5_decoder", seq=30, scale=1.0, causal=True, pe={"kind": "t5", "num_buckets": 32, "max_distance": 128, "bidirectional": False}),
        base("absolute", pe={"kind": "absolute"}),
        base("mla", heads=4, kv_heads=4, head_dim=24, value_dim=16, scale=24 ** -0.5,
             pe={"kind": "mla", "nope_dim": 16, "rope_dim": 8, "rope": rope("interleaved")}),
        base("window_padding", batch=2, seq=13, causal=True, window=3, key_lengths=[13, 6]),
        base("window_bidirectional", seq=13, window=4, pe={"kind": "rope", "rope": rope("half")}),
    ]
    for c in cases:
        solve(c)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
    with open(path, "w") as fh:
        json.dump({"generator": "make_golden.py (numpy %s)" % np.__version__, "cases": cases}, fh)
    print("wrote", path, os.path.getsize(path), "bytes,", len(cases), "cases")


if __name__ == "__main__":
    main()
