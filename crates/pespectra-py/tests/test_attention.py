"""attention/logits against a float64 NumPy reference written here from the definitions.

Bound used: |out − ref| ≤ 1e-5·(1 + max|v|) and |logit − ref| ≤ (D + 8)·2⁻²⁴·scale·‖q‖‖k‖
+ 4·2⁻²⁴·|bias| per entry (pespectra-attention's documented f32 bounds, loosened to the max
norms), with D = head_dim."""

import numpy as np
import pytest

import pespectra

U = 2.0**-24


def rope_np(x, base, pairing):
    s, d = x.shape[-2], x.shape[-1]
    inv = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    ang = np.arange(s)[:, None] * inv[None, :]
    c, si = np.cos(ang), np.sin(ang)
    x = x.astype(np.float64)
    out = np.empty_like(x)
    if pairing == "half":
        h = d // 2
        a, b = x[..., :h], x[..., h:]
        out[..., :h] = a * c - b * si
        out[..., h:] = a * si + b * c
    else:
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = a * c - b * si
        out[..., 1::2] = a * si + b * c
    return out


def ref(q, k, v, pe, causal, slopes=None, base=10000.0, pairing="half"):
    b, h, s, d = q.shape
    scale = d**-0.5
    qq, kk = q.astype(np.float64), k.astype(np.float64)
    if pe == "rope":
        qq, kk = rope_np(qq, base, pairing), rope_np(kk, base, pairing)
    l = scale * qq @ np.swapaxes(kk, -1, -2)
    if pe == "alibi":
        dist = np.abs(np.subtract.outer(np.arange(s), np.arange(s)))
        l = l - np.asarray(slopes)[None, :, None, None] * dist
    if causal:
        l = np.where(np.tril(np.ones((s, s), bool)), l, -np.inf)
    p = np.exp(l - l.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p @ v.astype(np.float64), l


@pytest.mark.parametrize("pe", ["none", "rope", "alibi"])
@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_numpy(rng, pe, causal):
    b, h, s, d = 2, 4, 37, 16
    q, k, v = (rng.standard_normal((b, h, s, d)).astype(np.float32) for _ in range(3))
    slopes = [2.0 ** (-(i + 1)) for i in range(h)]
    out = pespectra.attention(q, k, v, pe=pe, causal=causal, slopes=slopes if pe == "alibi" else None)
    want, _ = ref(q, k, v, pe, causal, slopes)
    assert out.shape == (b, h, s, d) and out.dtype == np.float32
    assert np.max(np.abs(out - want)) <= 1e-5 * (1 + np.max(np.abs(v)))


def test_interleaved_rope_and_non_contiguous_inputs(rng):
    b, h, s, d = 1, 2, 20, 8
    q = rng.standard_normal((b, s, h, d)).astype(np.float32).transpose(0, 2, 1, 3)  # strided view
    k = rng.standard_normal((b, h, s, d)).astype(np.float32)
    v = rng.standard_normal((b, h, s, d)).astype(np.float32)
    out = pespectra.attention(q, k, v, pe="rope", pairing="interleaved")
    want, _ = ref(np.ascontiguousarray(q), k, v, "rope", False, pairing="interleaved")
    assert np.max(np.abs(out - want)) <= 1e-5 * (1 + np.max(np.abs(v)))


def test_logits_within_the_stated_bound(rng):
    b, h, s, d = 1, 2, 24, 32
    q, k = (rng.standard_normal((b, h, s, d)).astype(np.float32) for _ in range(2))
    pre, content = pespectra.logits(q, k, pe="rope", base=500.0)
    _, want = ref(q, k, k, "rope", False, base=500.0)
    scale = d**-0.5
    nq = np.linalg.norm(q.astype(np.float64), axis=-1)[..., :, None]
    nk = np.linalg.norm(k.astype(np.float64), axis=-1)[..., None, :]
    bound = (d + 8) * U * scale * nq * nk
    assert np.all(np.abs(pre - want) <= bound)
    plain = scale * q.astype(np.float64) @ np.swapaxes(k.astype(np.float64), -1, -2)
    assert np.all(np.abs(content - plain) <= bound)


def test_gqa_and_window(rng):
    b, h, kvh, s, d = 1, 4, 2, 16, 8
    q = rng.standard_normal((b, h, s, d)).astype(np.float32)
    k, v = (rng.standard_normal((b, kvh, s, d)).astype(np.float32) for _ in range(2))
    out = pespectra.attention(q, k, v, causal=True, window=4)
    rep = lambda x: np.repeat(x, h // kvh, axis=1)
    # reference: causal and i − j < 4
    l = (d**-0.5) * q.astype(np.float64) @ np.swapaxes(rep(k).astype(np.float64), -1, -2)
    i, j = np.indices((s, s))
    l = np.where((j <= i) & (i - j < 4), l, -np.inf)
    p = np.exp(l - l.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = p @ rep(v).astype(np.float64)
    assert np.max(np.abs(out - want)) <= 1e-5 * (1 + np.max(np.abs(v)))
