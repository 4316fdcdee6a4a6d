"""Shared by the eig peer comparisons: the test matrix and one timed `pespectra eig` process."""
import json
import subprocess
import time

import numpy as np


def symmetric(n, seed):
    """Random symmetric n×n matrix, entries uniform in [-1, 1) (upper triangle mirrored)."""
    m = np.random.default_rng(seed).uniform(-1, 1, (n, n))
    return np.triu(m) + np.triu(m, 1).T


def general(n, seed):
    """Random general n×n matrix, entries uniform in [-1, 1)."""
    return np.random.default_rng(seed).uniform(-1, 1, (n, n))


def run_eig(exe, path, command="eig"):
    """Wall seconds of one whole `pespectra eig --input path --json` process (or `svd`, with
    `command="svd"`) and the largest enclosure width it reports (display-rounded to float);
    `run_eig.gemm` keeps the library its report says computed the verification products."""
    t = time.perf_counter()
    out = subprocess.run([exe, command, "--input", path, "--json"], check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - t
    doc = json.loads(out)
    key = "singular_values" if command == "svd" else "eigenvalues"
    width = max(float(e["hi"]) - float(e["lo"]) for e in doc[key])
    run_eig.gemm = doc.get("provenance", {}).get("gemm", "unknown")
    return seconds, width
