# Type stubs of the Rust extension (the public API is in __init__.py, which wraps these).
from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULT_MAX_WORK: int
DEFAULT_MAX_SECONDS: float

class VerificationError(ArithmeticError): ...
class TooCostlyError(RuntimeError): ...

_F64 = npt.NDArray[np.float64]
_F32 = npt.NDArray[np.float32]
_Enclosure = tuple[_F64, _F64, list[tuple[str, str]], int, bool, float]
_Progress = Optional[Callable[[str, int, int], None]]

def eig(
    re: _F64, im: Optional[_F64], precision: int, width: Optional[float],
    hermitian_part: bool, max_bits: int, budget_seconds: float,
) -> _Enclosure: ...
def svd(
    re: _F64, im: Optional[_F64], precision: int, width: Optional[float],
    max_bits: int, budget_seconds: float,
) -> _Enclosure: ...
def theorems() -> list[tuple[str, str, str]]: ...
def check(
    id: str, a_re: Optional[_F64], a_im: Optional[_F64], b_re: Optional[_F64],
    b_im: Optional[_F64], n: int, seed: int, certificates: bool,
) -> tuple[str, str, Optional[str], str, float, Optional[str], str, str]: ...
def verify(
    text: str, max_work: int, max_seconds: float,
) -> tuple[bool, str, str, str, str, int, list[str], int, str]: ...
def audit_head(
    q: _F32, k: _F32, positional: str, scale: Optional[float], causal: bool, base: float,
    pairing: str, rotary_fraction: float, slope: Optional[float], bias: Optional[_F32],
) -> str: ...

class AuditRun:
    def to_json(self) -> str: ...
    def to_csv(self) -> str: ...
    def write(self, out: str) -> None: ...

def audit(
    model: str, text: Optional[str], token_ids: Optional[list[int]], n: int,
    layers: Optional[list[int]], ablation: bool,
    growth: bool, shard: Optional[tuple[int, int]], progress: _Progress,
) -> AuditRun: ...
def audit_captures(dir: str, progress: _Progress) -> AuditRun: ...
def attention(
    q: _F32, k: _F32, v: _F32, pe: str, causal: bool, window: Optional[int],
    scale: Optional[float], base: float, pairing: str, rotary_fraction: float,
    slopes: Optional[list[float]],
) -> _F32: ...
def logits(
    q: _F32, k: _F32, pe: str, scale: Optional[float], base: float, pairing: str,
    rotary_fraction: float, slopes: Optional[list[float]],
) -> tuple[_F32, _F32]: ...
def campaign(
    property: str, cases: int, seed: int, max_n: int, jobs: Optional[int],
    shard: Optional[str], out: Optional[str], progress: _Progress,
) -> str: ...
