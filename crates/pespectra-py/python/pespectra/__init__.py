"""pespectra: proves, rather than plots, what positional encodings do to attention.

NumPy arrays in, certified verdicts out. Every function calls the same Rust library functions
as the ``pespectra`` command line; long calls release the GIL, honour Ctrl-C and show a
progress bar (tqdm, when installed) on campaigns and audits.

>>> import numpy as np, pespectra
>>> d = np.abs(np.subtract.outer(np.arange(4.0), np.arange(4.0)))  # ALiBi distances |i - j|
>>> e = pespectra.eig(d)
>>> bool(e.lo[0] > 0 and e.hi[1] < 0)   # one positive eigenvalue, three negative
True
>>> r = pespectra.check("T3")
>>> r.verdict, bool(r)
('HOLDS', True)
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from . import _native
from ._native import TooCostlyError, VerificationError

__version__ = _native.__version__

__all__ = [
    "AuditReport",
    "CampaignReport",
    "CheckResult",
    "Enclosure",
    "HeadAudit",
    "Theorem",
    "TooCostlyError",
    "VerificationError",
    "VerifyReport",
    "attention",
    "audit",
    "audit_head",
    "campaign",
    "check",
    "eig",
    "logits",
    "svd",
    "theorems",
    "verify",
]

# ---------------------------------------------------------------------------------------------
# inputs


def _matrix(a: Any, name: str) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Real and imaginary float64 parts of a 2-D array-like (TypeError for non-numeric input)."""
    if a is None:
        raise TypeError(f"{name} must be a 2-D array, got None")
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric 2-D array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got {arr.ndim}-D with shape {arr.shape}")
    if arr.dtype.kind == "c":
        arr = arr.astype(np.complex128, copy=False)
        return np.ascontiguousarray(arr.real), np.ascontiguousarray(arr.imag)
    return arr.astype(np.float64, copy=False), None


def _f32(a: Any, name: str, ndim: int) -> np.ndarray:
    if a is None:
        raise TypeError(f"{name} must be an array, got None")
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {arr.ndim}-D with shape {arr.shape}")
    with np.errstate(over="raise", invalid="ignore"):
        try:
            return arr.astype(np.float32, copy=False)
        except FloatingPointError:
            raise ValueError(f"{name} has values outside the float32 range") from None


def _precision(p: Union[int, str]) -> int:
    if isinstance(p, str):
        if p == "auto":
            return 0
        if p == "f64":
            return 53
        raise ValueError(f"precision must be 53, a number of bits ≥ 54, or 'auto'; got {p!r}")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"precision must be an int or 'auto', got {type(p).__name__}")
    if p <= 0 or p > 2**32 - 1:
        raise ValueError(f"precision must be 53, a number of bits ≥ 54, or 'auto'; got {p}")
    return int(p)


class _Bar:
    """A tqdm bar per stage when tqdm is installed and ``show`` is true; else silent."""

    def __init__(self, show: bool):
        self.bars: dict[str, Any] = {}
        self.tqdm = None
        if show:
            try:
                from tqdm.auto import tqdm

                self.tqdm = tqdm
            except ImportError:
                pass

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total == 0:  # a log line (e.g. a model being fetched)
            if self.tqdm is not None:
                self.tqdm.write(stage, file=sys.stderr)
            return
        if self.tqdm is None:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = self.tqdm(total=total, desc=stage, leave=False)
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for b in self.bars.values():
            b.close()


# ---------------------------------------------------------------------------------------------
# spectra


class Enclosure:
    """Verified enclosures ``lo[k] ≤ λ_k ≤ hi[k]`` of every eigenvalue (or singular value),
    largest first. ``lo``/``hi`` are float64 rounded outward, so the inequalities hold for the
    floats themselves; ``decimal`` has the enclosures at the working precision."""

    def __init__(self, parts: tuple, kind: str):
        self.lo, self.hi, self.decimal, self.precision_bits, self.met_width, self.max_width = parts
        self.decimal = [tuple(p) for p in self.decimal]
        self.kind = kind

    def __len__(self) -> int:
        return len(self.lo)

    def to_arb(self) -> list:
        """The enclosures as python-flint ``arb`` balls (each contains the exact interval).

        >>> import numpy as np, pespectra
        >>> balls = pespectra.eig(np.diag([2.0, 1.0])).to_arb()
        >>> balls[0].contains(2), balls[1].contains(1)
        (True, True)
        """
        try:
            import flint
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("to_arb() needs python-flint: pip install python-flint") from e
        old = flint.ctx.prec
        flint.ctx.prec = max(old, self.precision_bits + 16)
        try:
            return [flint.arb(lo).union(flint.arb(hi)) for lo, hi in self.decimal]
        finally:
            flint.ctx.prec = old

    def __repr__(self) -> str:
        head = ", ".join(f"[{lo}, {hi}]" for lo, hi in self.decimal[:3])
        more = f", … ({len(self)} in all)" if len(self) > 3 else ""
        return (
            f"Enclosure({self.kind}: {head}{more}; precision {self.precision_bits} bits, "
            f"max width ≤ {self.max_width:.3e}, width {'met' if self.met_width else 'NOT met'})"
        )


def eig(
    a: Any,
    *,
    precision: Union[int, str] = 53,
    width: Optional[float] = None,
    hermitian_part: bool = False,
    max_bits: int = 2048,
    budget_seconds: float = 120.0,
) -> Enclosure:
    """Verified enclosures of every eigenvalue of a real symmetric or complex Hermitian matrix.

    ``precision``: 53 (f64 with verified GEMMs), bits ≥ 54 (MPFR) or ``"auto"`` (escalate until
    ``width`` is met or ``budget_seconds`` run out). ``hermitian_part=True`` analyses
    (A + Aᴴ)/2 of a non-Hermitian input.

    >>> import numpy as np, pespectra
    >>> e = pespectra.eig(np.array([[2.0, 1.0], [1.0, 2.0]]), precision=128)
    >>> bool(e.lo[0] <= 3.0 <= e.hi[0] and e.lo[1] <= 1.0 <= e.hi[1])
    True
    >>> pespectra.eig([[0.0, 1.0], [0.0, 0.0]])
    Traceback (most recent call last):
    ...
    ValueError: matrix is not Hermitian: entry (1, 0) differs from the conjugate of (0, 1) (its Hermitian part (A + Aᴴ)/2 can be analysed instead); pass hermitian_part=True to do so
    """
    re, im = _matrix(a, "a")
    parts = _native.eig(
        re, im, _precision(precision), width, hermitian_part, max_bits, budget_seconds
    )
    return Enclosure(parts, "eigenvalues")


def svd(
    a: Any,
    *,
    precision: Union[int, str] = 53,
    width: Optional[float] = None,
    max_bits: int = 2048,
    budget_seconds: float = 120.0,
) -> Enclosure:
    """Verified enclosures of every singular value of a square matrix, largest first.

    >>> import numpy as np, pespectra
    >>> s = pespectra.svd(np.array([[0.0, 3.0], [-4.0, 0.0]]))
    >>> bool(s.lo[0] <= 4.0 <= s.hi[0] and s.lo[1] <= 3.0 <= s.hi[1])
    True
    """
    re, im = _matrix(a, "a")
    return Enclosure(
        _native.svd(re, im, _precision(precision), width, max_bits, budget_seconds),
        "singular values",
    )


# ---------------------------------------------------------------------------------------------
# theorems and certificates


class Theorem:
    """One catalogue entry: ``id``, ``statement`` and the ``expected`` verdict."""

    def __init__(self, id: str, statement: str, expected: str):
        self.id, self.statement, self.expected = id, statement, expected

    def __repr__(self) -> str:
        return f"Theorem({self.id}: {self.statement} — expected {self.expected})"


def theorems() -> list[Theorem]:
    """The catalogue, in THEOREMS.md order.

    >>> import pespectra
    >>> [t.id for t in pespectra.theorems()][:3]
    ['D1', 'D2', 'T1']
    """
    return [Theorem(*t) for t in _native.theorems()]


class CheckResult:
    """A theorem check's outcome. ``bool(result)`` is true only for HOLDS; ``margin`` is a
    certified lower bound of the slack (HOLDS) or of the violation (FAILS), as a decimal string
    rounded toward −∞, or None when nothing was certified."""

    def __init__(self, parts: tuple):
        (
            self.id,
            self.verdict,
            self.margin,
            self.detail,
            self.seconds,
            cert,
            self.expected,
            self.statement,
        ) = parts
        self.certificate = json.loads(cert) if cert is not None else None

    def __bool__(self) -> bool:
        return self.verdict == "HOLDS"

    def __repr__(self) -> str:
        m = f", margin ≥ {self.margin}" if self.margin is not None else ""
        return f"CheckResult({self.id}: {self.verdict}{m})"


def check(
    id: str,
    *,
    a: Any = None,
    b: Any = None,
    n: int = 64,
    seed: int = 42,
    certificate: Union[bool, str, os.PathLike, None] = None,
) -> CheckResult:
    """Runs catalogue entry ``id`` on its seeded instance of size ``n``, or on user matrices
    ``a`` (and ``b``) for T2, T3, T4, T5, T7, T9 and T10 (every hypothesis is verified, never
    assumed). ``certificate=True`` asks for a certificate (instances with n ≤ 16), a path also
    writes it there.

    >>> import pespectra
    >>> r = pespectra.check("R1", n=8, certificate=True)
    >>> r.verdict, r.certificate["format"]
    ('FAILS', 'pespectra-certificate/1')
    >>> bool(pespectra.verify(r.certificate))
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be between 2 and 1024, got {n}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2^64), got {seed}")
    a_re = a_im = b_re = b_im = None
    if a is not None:
        a_re, a_im = _matrix(a, "a")
    if b is not None:
        if a is None:
            raise TypeError("b needs a as well")
        b_re, b_im = _matrix(b, "b")
    want = certificate is not None and certificate is not False
    r = CheckResult(_native.check(id, a_re, a_im, b_re, b_im, int(n), int(seed), want))
    if want and not isinstance(certificate, bool) and r.certificate is not None:
        pathlib.Path(certificate).write_text(json.dumps(r.certificate, indent=1))
    return r


class VerifyReport:
    """The independent checker's verdict on a certificate. ``bool(report)`` is ``valid``;
    for an invalid certificate ``message`` says which claim is false."""

    def __init__(self, parts: tuple):
        (
            self.valid,
            self.id,
            self.statement,
            self.verdict,
            self.margin,
            self.claims_checked,
            self.claim_summaries,
            self.work,
            self.message,
        ) = parts

    def __bool__(self) -> bool:
        return bool(self.valid)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        if self.valid:
            return f"VerifyReport(valid: {self.id} {self.verdict}, {self.claims_checked} claims)"
        return f"VerifyReport(INVALID: {self.message})"


def verify(
    cert: Union[str, os.PathLike, dict],
    *,
    max_work: Optional[int] = None,
    max_seconds: Optional[float] = None,
) -> VerifyReport:
    """Re-verifies a ``pespectra-certificate/1`` document (a dict, JSON text, or a path) with
    the exact-rational checker that shares no code with the producer. Unreadable documents
    raise ``ValueError``; ones estimated above ``max_work`` raise ``TooCostlyError``.
    """
    if isinstance(cert, dict):
        text = json.dumps(cert)
    elif isinstance(cert, os.PathLike):
        text = pathlib.Path(cert).read_text()
    elif isinstance(cert, str):
        text = cert if cert.lstrip().startswith("{") else pathlib.Path(cert).read_text()
    else:
        raise TypeError(f"cert must be a dict, JSON text or a path, got {type(cert).__name__}")
    max_work = _native.DEFAULT_MAX_WORK if max_work is None else max_work
    max_seconds = _native.DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds
    if isinstance(max_work, bool) or not isinstance(max_work, (int, np.integer)) or max_work < 0:
        raise ValueError(f"max_work must be a non-negative integer, got {max_work}")
    return VerifyReport(_native.verify(text, int(max_work), float(max_seconds)))


# ---------------------------------------------------------------------------------------------
# audits


class HeadAudit:
    """One audited head: ``checks`` (id → (verdict, margin, detail)), ``family``, the E2/E3
    figures and the spectra; ``record`` is its ``audit.json`` record."""

    def __init__(self, record: dict):
        self.record = record
        self.family = record["family"]
        self.checks = {c["id"]: (c["verdict"], c["margin"], c["detail"]) for c in record["checks"]}
        self.e2 = record["e2"]
        self.e3 = record["e3"]

    def verdict(self, id: str) -> str:
        """The verdict of check ``id`` on this head."""
        return self.checks[id][0]

    def to_json(self) -> str:
        return json.dumps(self.record, indent=1)

    def __repr__(self) -> str:
        v = ", ".join(f"{k} {c[0]}" for k, c in self.checks.items())
        return f"HeadAudit({self.family}: {v})"


def audit_head(
    q: Any,
    k: Any,
    *,
    positional: str = "rope",
    scale: Optional[float] = None,
    causal: bool = False,
    base: float = 10000.0,
    pairing: str = "half",
    rotary_fraction: float = 1.0,
    slope: Optional[float] = None,
    bias: Any = None,
) -> HeadAudit:
    """Audits one head from its content ``q`` and ``k`` (n × head_dim, as they enter the
    positional step: after projection and norms, before RoPE and the scale). ``positional``:
    ``"rope"`` (``base``, ``pairing`` "half" = rotate_half or "interleaved",
    ``rotary_fraction``), ``"alibi"`` (``slope``) or ``"bias"`` (an n × n additive ``bias``).
    ``scale`` defaults to head_dim^-1/2.

    >>> import numpy as np, pespectra
    >>> rng = np.random.default_rng(0)
    >>> q, k = rng.standard_normal((2, 16, 8)).astype(np.float32)
    >>> h = pespectra.audit_head(q, k, positional="alibi", slope=0.5)
    >>> h.family, h.verdict("T7")
    ('additive', 'HOLDS')
    """
    qq, kk = _f32(q, "q", 2), _f32(k, "k", 2)
    bb = _f32(bias, "bias", 2) if bias is not None else None
    rec = _native.audit_head(
        qq, kk, positional, scale, causal, base, pairing, rotary_fraction, slope, bb
    )
    return HeadAudit(json.loads(rec))


class AuditReport:
    """A model audit: the same ``audit.json`` the CLI writes (``document``, with provenance),
    its heads, ``to_json()``, ``to_pandas()`` (one row per head, as heads.csv) and
    ``write(dir)`` (audit.json, heads.csv, PNG plots)."""

    def __init__(self, run: Any):
        self._run = run
        self.document = json.loads(run.to_json())
        self.model = self.document.get("model")
        self.n = self.document.get("n")
        self.heads = [HeadAudit(h) for h in self.document.get("heads", [])]

    def to_json(self) -> str:
        return self._run.to_json()

    def to_csv(self) -> str:
        return self._run.to_csv()

    def to_pandas(self):
        """heads.csv as a pandas DataFrame (needs pandas)."""
        import io

        import pandas as pd

        return pd.read_csv(io.StringIO(self.to_csv()))

    def write(self, out: Union[str, os.PathLike]) -> None:
        self._run.write(os.fspath(out))

    def __repr__(self) -> str:
        return f"AuditReport({self.model}: {len(self.heads)} heads at n = {self.n})"


def audit(
    model: Union[str, os.PathLike],
    *,
    n: int = 256,
    text: Optional[str] = None,
    token_ids: Optional[Sequence[int]] = None,
    layers: Optional[Iterable[int]] = None,
    ablation: bool = True,
    growth: bool = False,
    shard: Optional[tuple[int, int]] = None,
    progress: bool = True,
) -> AuditReport:
    """Audits a registered model (``pespectra models list``; fetched and hash-verified when
    needed) or a HuggingFace checkpoint directory (config.json + safetensors; llama, mistral,
    qwen2, qwen3, phi3, stablelm, gemma2, gemma3_text, gpt_neox, gpt2, bloom, falcon, mpt, t5, deepseek_v2/v3) on
    the first ``n`` tokens of ``text`` (default: the built-in English text) or of
    ``token_ids`` (for a checkpoint without tokenizer.json):
    certified theorem checks per head, E2 contraction figures, Toeplitz shares and ablation
    effects. The same library call as ``pespectra audit MODEL``.

    ``model`` may also be a capture directory (``docs/CAPTURE_FORMAT.md``, written by
    ``pespectra capture``, :func:`pespectra.captures.write_captures` or any other tool): its
    heads are audited as stored (``n``, ``text``, ``layers``, ``ablation``, ``growth`` and
    ``shard`` do not apply), as by ``pespectra audit --captures DIR``."""
    path = os.fspath(model) if isinstance(model, os.PathLike) else str(model)
    if os.path.isfile(os.path.join(path, "manifest.json")):
        bar = _Bar(progress)
        try:
            return AuditReport(_native.audit_captures(path, bar))
        finally:
            bar.close()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be at least 2, got {n}")
    ids = None if token_ids is None else [int(t) for t in token_ids]
    if ids is not None and (text is not None or any(t < 0 or t >= 2**32 for t in ids)):
        raise ValueError("token_ids: give text or token ids (each in 0..2^32), not both")
    lay = None if layers is None else [int(x) for x in layers]
    if lay is not None and any(x < 0 for x in lay):
        raise ValueError("layers must be non-negative")
    bar = _Bar(progress)
    try:
        run = _native.audit(path, text, ids, int(n), lay, ablation, growth, shard, bar)
    finally:
        bar.close()
    return AuditReport(run)


# ---------------------------------------------------------------------------------------------
# attention


def attention(
    q: Any,
    k: Any,
    v: Any,
    *,
    pe: str = "none",
    causal: bool = False,
    window: Optional[int] = None,
    scale: Optional[float] = None,
    base: float = 10000.0,
    pairing: str = "half",
    rotary_fraction: float = 1.0,
    slopes: Optional[Sequence[float]] = None,
) -> np.ndarray:
    """softmax(scale·PE(q)PE(k)ᵀ [+ ALiBi], masked)·v on float32 (batch, heads, seq, head_dim)
    arrays with the fused SIMD flash path (k/v may have fewer heads: GQA). ``pe``: "none",
    "rope" or "alibi" (``slopes`` per head, default BLOOM's). Each output is within the
    documented f32 bound of the f64 reference.

    >>> import numpy as np, pespectra
    >>> q = np.ones((1, 1, 3, 4), np.float32); v = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    >>> pespectra.attention(q, q, v)[0, 0, 0].tolist()   # equal scores: the mean of v's rows
    [4.0, 5.0, 6.0, 7.0]
    """
    qq, kk, vv = _f32(q, "q", 4), _f32(k, "k", 4), _f32(v, "v", 4)
    sl = None if slopes is None else [float(s) for s in slopes]
    return _native.attention(
        qq, kk, vv, pe, causal, window, scale, base, pairing, rotary_fraction, sl
    )


def logits(
    q: Any,
    k: Any,
    *,
    pe: str = "none",
    scale: Optional[float] = None,
    base: float = 10000.0,
    pairing: str = "half",
    rotary_fraction: float = 1.0,
    slopes: Optional[Sequence[float]] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-mask logits with the positional encoding and content-only logits, each float32
    (batch, heads, seq, seq)."""
    qq, kk = _f32(q, "q", 4), _f32(k, "k", 4)
    sl = None if slopes is None else [float(s) for s in slopes]
    return _native.logits(qq, kk, pe, scale, base, pairing, rotary_fraction, sl)


# ---------------------------------------------------------------------------------------------
# campaigns


class CampaignReport:
    """A campaign's mergeable report (the CLI's ``campaign --json`` document)."""

    def __init__(self, document: dict):
        self.document = document
        for key in ("property", "cases", "holds", "fails", "inconclusive", "errors"):
            setattr(self, key, document.get(key))

    @property
    def ok(self) -> bool:
        """Every verdict as expected: HOLDS on every case for T*/D*, a FAILS for R*."""
        if self.property and self.property.startswith("R"):
            return bool(self.fails) and not self.errors
        return self.holds == self.cases and not self.errors

    def to_json(self) -> str:
        return json.dumps(self.document, indent=1)

    def __repr__(self) -> str:
        return (
            f"CampaignReport({self.property}: {self.cases} cases, HOLDS {self.holds}, "
            f"FAILS {self.fails}, INCONCLUSIVE {self.inconclusive})"
        )


def campaign(
    property: str,
    cases: int = 1000,
    *,
    seed: int = 42,
    max_n: int = 64,
    jobs: Optional[int] = None,
    shard: Union[str, tuple[int, int], None] = None,
    out: Union[str, os.PathLike, None] = None,
    progress: bool = True,
) -> CampaignReport:
    """Runs ``property`` on ``cases`` seeded instances (case k of seed s is reproducible) on all
    cores; ``shard=(i, N)`` runs the cases k ≡ i (mod N), whose reports merge exactly
    (``pespectra campaign merge``).

    >>> import pespectra
    >>> r = pespectra.campaign("T3", 20, max_n=8, progress=False)
    >>> r.holds, r.ok
    (20, True)
    """
    sh = f"{shard[0]}/{shard[1]}" if isinstance(shard, tuple) else shard
    bar = _Bar(progress)
    try:
        doc = _native.campaign(
            property, int(cases), int(seed), int(max_n), jobs, sh,
            None if out is None else os.fspath(out), bar,
        )
    finally:
        bar.close()
    return CampaignReport(json.loads(doc))
