"""Writing capture directories (``docs/CAPTURE_FORMAT.md``) from NumPy arrays, with nothing
but NumPy: a safetensors file is an 8-byte little-endian header length, a JSON header and the
raw little-endian tensor bytes.

>>> import numpy as np, tempfile, os, pespectra
>>> from pespectra.captures import Head, write_captures
>>> rng = np.random.default_rng(0)
>>> q, k = rng.standard_normal((2, 16, 8)).astype(np.float32)
>>> d = os.path.join(tempfile.mkdtemp(), "caps")
>>> write_captures(d, [Head.alibi(0, 0, q, k, slope=0.5)], model="toy")
>>> pespectra.audit(d).heads[0].verdict("T7")
'HOLDS'
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

FORMAT = "pespectra-captures/1"


def _rope(x: np.ndarray, inv_freq: np.ndarray, pairing: str) -> np.ndarray:
    """RoPE of the rows of x (n × d) at positions 0..n-1, in float64."""
    n = x.shape[0]
    f = len(inv_freq)
    ang = np.arange(n, dtype=np.float64)[:, None] * np.asarray(inv_freq, np.float64)[None, :]
    c, s = np.cos(ang), np.sin(ang)
    y = x.astype(np.float64).copy()
    if pairing == "half":
        a, b = y[:, :f].copy(), y[:, f : 2 * f].copy()
        y[:, :f], y[:, f : 2 * f] = a * c - b * s, a * s + b * c
    elif pairing == "interleaved":
        a, b = y[:, 0 : 2 * f : 2].copy(), y[:, 1 : 2 * f : 2].copy()
        y[:, 0 : 2 * f : 2], y[:, 1 : 2 * f : 2] = a * c - b * s, a * s + b * c
    else:
        raise ValueError(f"pairing must be 'half' or 'interleaved', got {pairing!r}")
    return y


@dataclass
class Head:
    """One head's record. :meth:`rope`, :meth:`alibi` and :meth:`additive` form the logits
    from q/k with the format's conventions; for an absolute-position head, construct it
    directly with the model's logits and the position-free counterfactual's as
    ``content_logits`` and ``positional={"kind": "absolute"}``."""

    layer: int
    head: int
    q: np.ndarray
    k: np.ndarray
    logits: np.ndarray
    content_logits: np.ndarray
    positional: dict
    scale: float
    causal: bool = False
    kv_head: Optional[int] = None
    bias: Optional[np.ndarray] = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def rope(cls, layer, head, q, k, *, inv_freq, pairing="half", scale=None, causal=True, kv_head=None):
        q, k = np.asarray(q, np.float32), np.asarray(k, np.float32)
        sc = q.shape[1] ** -0.5 if scale is None else scale
        inv = np.asarray(inv_freq, np.float64)
        logits = sc * _rope(q, inv, pairing) @ _rope(k, inv, pairing).T
        content = sc * q.astype(np.float64) @ k.astype(np.float64).T
        pos = {"kind": "rope", "pairing": pairing, "inv_freq": [float(x) for x in inv]}
        return cls(layer, head, q, k, logits, content, pos, sc, causal, kv_head)

    @classmethod
    def additive(cls, layer, head, q, k, *, bias, scale=None, causal=False, kv_head=None):
        q, k = np.asarray(q, np.float32), np.asarray(k, np.float32)
        sc = q.shape[1] ** -0.5 if scale is None else scale
        content = (sc * q.astype(np.float64) @ k.astype(np.float64).T).astype(np.float32)
        b = np.asarray(bias, np.float32)
        return cls(layer, head, q, k, content + b, content, {"kind": "additive"}, sc, causal, kv_head, b)

    @classmethod
    def alibi(cls, layer, head, q, k, *, slope, scale=None, causal=False, kv_head=None):
        n = np.asarray(q).shape[0]
        dist = np.abs(np.subtract.outer(np.arange(n), np.arange(n))).astype(np.float64)
        return cls.additive(layer, head, q, k, bias=-slope * dist, scale=scale, causal=causal, kv_head=kv_head)


def _safetensors(path: pathlib.Path, tensors: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # align the data section to 8 bytes
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_captures(
    out: os.PathLike | str,
    heads: Sequence[Head],
    *,
    model: str = "captured",
    token_ids: Optional[Sequence[int]] = None,
) -> None:
    """Writes ``heads`` (all of the same n) as the new capture directory ``out``; the files go
    into a temporary sibling that is renamed into place once complete."""
    out = pathlib.Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists already (choose a new directory)")
    if not heads:
        raise ValueError("no heads to write")
    n = heads[0].q.shape[0]
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors, records = {}, []
    for h in heads:
        if h.q.shape[0] != n:
            raise ValueError(f"layer {h.layer} head {h.head} has {h.q.shape[0]} tokens, not {n}")
        key = f"layer.{h.layer}.head.{h.head}"
        tensors[f"{key}.q"], tensors[f"{key}.k"] = h.q, h.k
        tensors[f"{key}.logits"], tensors[f"{key}.content_logits"] = h.logits, h.content_logits
        if h.bias is not None:
            tensors[f"{key}.bias"] = h.bias
        records.append({
            "layer": h.layer, "head": h.head, "kv_head": h.head if h.kv_head is None else h.kv_head,
            "head_dim": int(h.q.shape[1]), "scale": float(h.scale), "causal": bool(h.causal),
            "positional": h.positional, **h.extra,
        })
    manifest = {"format": FORMAT, "model": model, "n": int(n),
                "token_ids": None if token_ids is None else [int(t) for t in token_ids], "heads": records}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    _safetensors(tmp / "captures.safetensors", tensors)
    tmp.rename(out)
