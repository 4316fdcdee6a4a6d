"""audit_head on synthetic heads with known answers, and a small model audit (skipped when
the registry models cannot be fetched, as the Rust model tests are)."""

import math
import os

import numpy as np
import pytest

import pespectra


def test_alibi_head_t7_t9_hold(rng):
    q, k = rng.standard_normal((2, 24, 8)).astype(np.float32)
    h = pespectra.audit_head(q, k, positional="alibi", slope=0.25)
    assert h.family == "additive"
    assert h.verdict("T7") == "HOLDS" and h.verdict("T9") == "HOLDS"


def test_rope_head_gets_per_frequency_checks(rng):
    q, k = rng.standard_normal((2, 32, 16)).astype(np.float32)
    h = pespectra.audit_head(q, k, positional="rope", base=10000.0)
    assert h.family.startswith("rope")
    for t in ("D1", "T1", "T2", "T3", "T4"):
        assert h.verdict(t) == "HOLDS", (t, h.checks[t])
    assert h.record["rope"]["frequencies"] == 8


def test_bias_head_equals_content_plus_bias(rng):
    n = 10
    q = rng.standard_normal((n, 4)).astype(np.float32)
    bias = -0.5 * np.abs(np.subtract.outer(np.arange(n), np.arange(n))).astype(np.float32)
    a = pespectra.audit_head(q, q, positional="bias", bias=bias, scale=1.0)
    b = pespectra.audit_head(q, q, positional="alibi", slope=0.5, scale=1.0)
    assert a.checks["T7"][0] == b.checks["T7"][0] == "HOLDS"
    assert math.isclose(a.e2["norm_ratio"], b.e2["norm_ratio"], rel_tol=1e-6)


def test_model_audit_minilm_small():
    if os.environ.get("PESPECTRA_SKIP_MODEL_TESTS") == "1":
        pytest.skip("PESPECTRA_SKIP_MODEL_TESTS=1")
    try:
        r = pespectra.audit("minilm-l6", n=32, layers=[0], ablation=True, progress=False)
    except OSError as e:  # no network and no cached model
        pytest.skip(f"minilm-l6 unavailable: {e}")
    assert r.model == "minilm-l6" and r.n == 32 and len(r.heads) == 12
    assert r.document["provenance"]["model"]["id"] == "minilm-l6"
    for h in r.heads:
        assert h.verdict("T7") == "HOLDS"
        assert h.e3["ablation"] is not None and h.e3["ablation"] >= 0
    csv = r.to_csv().splitlines()
    assert len(csv) == 1 + 12


def test_head_record_round_trips_through_json(rng):
    import json

    q, k = rng.standard_normal((2, 12, 4)).astype(np.float32)
    h = pespectra.audit_head(q, k, positional="rope", base=500.0, pairing="interleaved", causal=True)
    again = json.loads(h.to_json())
    assert again["checks"] == h.record["checks"] and again["n"] == 12
    assert "HOLDS" in repr(h)


def test_hf_checkpoint_directory_with_token_ids_and_its_tokenizer():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "pespectra-hf" / "tests" / "fixtures"
    ids = [1, 17, 200, 45, 3, 99, 128, 7, 255, 64, 12, 180]
    r = pespectra.audit(str(root / "qwen3"), token_ids=ids, n=12, progress=False)
    assert r.n == 12 and len(r.heads) == 8
    assert all(h.verdict("T3") == "HOLDS" for h in r.heads)
    files = [f["path"] for f in r.document["provenance"]["model"]["files"]]
    assert "config.json" in files and "model.safetensors" in files
    r = pespectra.audit(root / "llama", n=16, ablation=False, progress=False)  # text via tokenizer.json
    assert r.n == 16
    with pytest.raises(ValueError, match="tokenizer.json"):
        pespectra.audit(str(root / "qwen3"), n=8, progress=False)
    with pytest.raises(FileNotFoundError):
        pespectra.audit("/nonexistent/checkpoint", progress=False)
