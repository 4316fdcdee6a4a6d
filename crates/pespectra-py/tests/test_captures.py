"""Capture directories written with NumPy only (pespectra.captures) are read by the Rust
reader and audited: the verdicts equal those of audit_head on the same q/k, and malformed
directories raise ValueError / FileNotFoundError naming the file and field."""

import json

import numpy as np
import pytest

import pespectra
from pespectra.captures import Head, write_captures


def heads(rng, n=20, d=8):
    inv = 10000.0 ** (-np.arange(0, d, 2) / d)
    out = []
    for h in range(3):
        q, k = rng.standard_normal((2, n, d)).astype(np.float32)
        if h < 2:
            out.append(Head.rope(0, h, q, k, inv_freq=inv, pairing="half" if h == 0 else "interleaved"))
        else:
            out.append(Head.alibi(1, 0, q, k, slope=0.25))
    return out


def test_numpy_written_directory_audits_like_audit_head(rng, tmp_path):
    hs = heads(rng)
    d = tmp_path / "caps"
    write_captures(d, hs, model="numpy-toy", token_ids=range(20))
    assert sorted(p.name for p in d.iterdir()) == ["captures.safetensors", "manifest.json"]
    r = pespectra.audit(d, progress=False)
    assert r.model == "numpy-toy" and r.n == 20 and len(r.heads) == 3
    for h, rec in zip(hs, r.heads):
        kind = h.positional["kind"]
        if kind == "rope":
            want = pespectra.audit_head(h.q, h.k, positional="rope", pairing=h.positional["pairing"], causal=True)
            # the audit recomputes RoPE logits from q/k: the NumPy-formed ones agree
            assert rec.record["rope"]["capture_deviation"] < 1e-5
        else:
            want = pespectra.audit_head(h.q, h.k, positional="alibi", slope=0.25)
        assert {i: v[0] for i, v in rec.checks.items()} == {i: v[0] for i, v in want.checks.items()}
    assert r.document["provenance"]["input"]["manifest.json"]["sha256"]
    with pytest.raises(FileExistsError):
        write_captures(d, hs)


def test_a_wrong_pairing_shows_as_a_capture_deviation(rng, tmp_path):
    h = heads(rng)[0]
    h.positional = dict(h.positional, pairing="interleaved")  # logits were formed with "half"
    write_captures(tmp_path / "c", [h])
    rec = pespectra.audit(tmp_path / "c", progress=False).heads[0]
    assert rec.record["rope"]["capture_deviation"] > 1e-2


def test_malformed_directories(rng, tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        pespectra.audit(tmp_path, progress=False)
    d = tmp_path / "c"
    write_captures(d, heads(rng))
    m = json.loads((d / "manifest.json").read_text())
    m["heads"][1]["head_dim"] = 10
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match=r"layer.0.head.1.q.*shape"):
        pespectra.audit(d, progress=False)
    t = d / "captures.safetensors"
    t.write_bytes(t.read_bytes()[:100])
    with pytest.raises(ValueError, match="not a readable safetensors"):
        pespectra.audit(d, progress=False)
