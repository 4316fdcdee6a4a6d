#!/usr/bin/env python3
"""Same-run comparison of Arb's acb_mat.eig (python-flint 0.9.0 / FLINT 3.6) with `pespectra eig`.

Usage: .venv/bin/python benches/arb_vs_pespectra.py [n] [arb_prec ...]
Writes a random symmetric n×n matrix (seed 0) to a temporary .npy, times `pespectra eig --json`
(release build at target/release/pespectra, or $PESPECTRA_EXE) and Arb at each precision, and
prints the time ratio and the largest enclosure widths of both.
"""
import os
import sys
import tempfile
import time

import numpy as np
from flint import acb, acb_mat, ctx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eig_common import run_eig, symmetric  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
precs = [int(p) for p in sys.argv[2:]] or [53, 128]
a = symmetric(n, 0)
path = os.path.join(tempfile.mkdtemp(), "a.npy")
np.save(path, a)
exe = os.environ.get("PESPECTRA_EXE") or os.path.join(os.path.dirname(__file__), "..", "target", "release", "pespectra")

runs = [run_eig(exe, path) for _ in range(3)]
best, width = min(r[0] for r in runs), runs[-1][1]
print(f"n = {n}: pespectra f64 path {best:.3f} s (whole process), max width {width:.2e}")

for prec in precs:
    ctx.prec = prec
    am = acb_mat(n, n, [acb(float(v)) for v in a.ravel()])
    t = time.perf_counter()
    try:
        eig = am.eig(multiple=True)
        el = time.perf_counter() - t
        w = max(float(2 * z.real.rad()) for z in eig)
        print(f"  Arb acb_mat.eig(multiple=True) at {prec} bits: {el:.2f} s, max width {w:.2e}; ratio Arb/pespectra = {el / best:.0f}x")
    except Exception as e:  # Arb signals failure to converge by raising
        el = time.perf_counter() - t
        print(f"  Arb at {prec} bits failed after {el:.2f} s: {e}")
