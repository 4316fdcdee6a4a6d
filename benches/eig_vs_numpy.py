#!/usr/bin/env python3
"""Paired whole-process comparison of `pespectra eig` (verified enclosures of every eigenvalue)
with NumPy `eigh` (LAPACK dsyevd through NumPy's OpenBLAS, eigenvectors included), same matrix.

Each round runs one process of each, back to back (alternating which goes first), so both see the
same load; the best wall time of each over the rounds is kept. The NumPy process loads the same
.npy and calls `numpy.linalg.eigh`; OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are removed from its
environment so OpenBLAS picks its own kernels. Prints a Markdown table and the GEMM pespectra's reports name
(`PESPECTRA_BLAS=faer` in the environment pins faer). With `--svd`: `pespectra svd` against
`numpy.linalg.svd` (LAPACK dgesdd, singular vectors included) on a general matrix instead.

Run: .venv/bin/python benches/eig_vs_numpy.py [--bin target/release/pespectra] [--n 1024 2048] [--rounds 3] [--svd]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eig_common import general, run_eig, symmetric  # noqa: E402

EIGH = "import sys, numpy as np; a = np.load(sys.argv[1]); w, v = np.linalg.eigh(a); print(w[0])"
SVD = "import sys, numpy as np; a = np.load(sys.argv[1]); u, s, vh = np.linalg.svd(a); print(s[0])"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("PESPECTRA_EXE", "target/release/pespectra"))
    ap.add_argument("--n", type=int, nargs="+", default=[1024, 2048])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--svd", action="store_true", help="singular values: pespectra svd vs numpy.linalg.svd")
    args = ap.parse_args()
    command, peer, label = ("svd", SVD, "svd") if args.svd else ("eig", EIGH, "eigh")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            a = general(n, 1) if args.svd else symmetric(n, 1)
            path = os.path.join(tmp, f"a{n}.npy")
            np.save(path, a)
            best_p, best_np, width = float("inf"), float("inf"), None
            for r in range(args.rounds):
                order = [0, 1] if r % 2 == 0 else [1, 0]
                for which in order:
                    if which == 0:
                        t, width = run_eig(args.bin, path, command)
                        best_p = min(best_p, t)
                    else:
                        t = time.perf_counter()
                        subprocess.run([sys.executable, "-c", peer, path], check=True, capture_output=True, env=env)
                        best_np = min(best_np, time.perf_counter() - t)
                print(f"n={n} round {r}: pespectra {best_p:.3f} s, numpy {label} {best_np:.3f} s", file=sys.stderr)
            rows.append((n, best_p, best_np, width))
    print(f"Best of {args.rounds} paired rounds, whole processes (NumPy {np.__version__}; widths are display-rounded)")
    print(f"| n | pespectra {command} (verified) | NumPy {label} | ratio | max width |")
    print("|---|---|---|---|---|")
    for n, p, q, w in rows:
        print(f"| {n} | {p:.3f} s | {q:.3f} s | {p / q:.2f}× | {w:.2e} |")
    print(f"\nVerification GEMM (report provenance): {getattr(run_eig, 'gemm', 'unknown')}")


if __name__ == "__main__":
    main()
