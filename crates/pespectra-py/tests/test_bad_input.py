"""Bad input raises the exception a Python user expects, with the CLI's one-line message, and
no Rust panic ever crosses into Python (PanicException derives from BaseException, so the
`except Exception` below would not catch it and the test would fail)."""

import numpy as np
import pytest

import pespectra


def test_classes_of_bad_matrices():
    with pytest.raises(ValueError, match="not finite|NaN|non-finite"):
        pespectra.eig(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        pespectra.eig(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Hermitian"):
        pespectra.eig(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="2-D"):
        pespectra.eig(np.ones(3))
    with pytest.raises(TypeError):
        pespectra.eig("not a matrix")
    with pytest.raises(TypeError):
        pespectra.eig(None)
    with pytest.raises(ValueError, match="precision"):
        pespectra.eig(np.eye(2), precision=7)
    with pytest.raises(ValueError):
        pespectra.eig(np.eye(2), precision=4294967295)
    with pytest.raises(ValueError, match="budget"):
        pespectra.eig(np.eye(2), precision="auto", budget_seconds=1e308)
    with pytest.raises(ValueError, match="width"):
        pespectra.eig(np.eye(2), width=-1.0)


def test_bad_checks():
    with pytest.raises(ValueError, match="unknown theorem id"):
        pespectra.check("T99")
    with pytest.raises(ValueError, match="n must be"):
        pespectra.check("T3", n=1)
    with pytest.raises(TypeError, match="second matrix"):
        pespectra.check("T3", a=np.eye(3))
    with pytest.raises(ValueError, match="not supported"):
        pespectra.check("R1", a=np.eye(3))
    with pytest.raises(ValueError, match="A is 3×3 but B is 2×2"):
        pespectra.check("T3", a=np.eye(3), b=np.eye(2))
    with pytest.raises(ValueError, match="B: "):
        pespectra.check("T3", a=np.eye(2), b=np.array([[np.inf, 0], [0, 1.0]]))


def test_bad_attention_and_heads():
    q = np.ones((1, 1, 4, 8), np.float32)
    with pytest.raises(ValueError, match="4-D"):
        pespectra.attention(q[0], q, q)
    with pytest.raises(ValueError, match="pe must be"):
        pespectra.attention(q, q, q, pe="magic")
    bad = q.copy()
    bad[0, 0, 1, 2] = np.nan
    with pytest.raises(ValueError, match="finite|NaN"):
        pespectra.attention(bad, q, q)
    with pytest.raises(ValueError, match="float32 range"):
        pespectra.attention(np.full((1, 1, 2, 2), 1e300), q, q)
    with pytest.raises(ValueError, match="q is"):
        pespectra.audit_head(np.ones((4, 2)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="slope"):
        pespectra.audit_head(np.ones((4, 2)), np.ones((4, 2)), positional="alibi")
    with pytest.raises(ValueError, match="unknown model|not in the registry|unknown"):
        pespectra.audit("no-such-model", progress=False)
    with pytest.raises(ValueError):
        pespectra.campaign("T3", 10, shard="3/2", progress=False)


JUNK = [
    None, 0, 1.5, "x", b"\x00", [], [[]], [[1, 2], [3]], {"a": 1}, np.array([]),
    np.zeros((0, 0)), np.full((3, 3), np.inf), np.ones((2, 2, 2)), np.array([["a", "b"], ["c", "d"]]),
    np.array([[1e308, -1e308], [-1e308, 1e308]]), np.eye(3, dtype=np.int8), np.eye(2, dtype=bool),
    np.array([[1 + 1j, 0], [0, 1]]), np.zeros((1, 70000)),
]


def test_random_bad_inputs_never_panic(rng):
    calls = [
        lambda x: pespectra.eig(x),
        lambda x: pespectra.svd(x),
        lambda x: pespectra.eig(x, precision=int(rng.integers(1, 5000))),
        lambda x: pespectra.check("T3", a=x, b=x),
        lambda x: pespectra.check("T7", a=x, b=x),
        lambda x: pespectra.audit_head(x, x),
        lambda x: pespectra.attention(x, x, x),
        lambda x: pespectra.verify(x if isinstance(x, (str, dict)) else "{}"),
    ]
    for _ in range(300):
        x = JUNK[int(rng.integers(len(JUNK)))]
        f = calls[int(rng.integers(len(calls)))]
        try:
            f(x)
        except Exception:
            pass  # a Python exception is the contract; a PanicException would escape
