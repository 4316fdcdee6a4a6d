#!/usr/bin/env bash
# The Python package (crates/pespectra-py, issue 15): `pip install ./crates/pespectra-py` into
# .venv-py exactly as a user does (maturin builds the abi3 extension in release mode, reusing
# target/), then its pytest suite: Arb (python-flint) and NumPy oracles, certificates through
# the independent checker, every bad-input class, GIL release, Ctrl-C and the doctests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-py
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q pytest "python-flint>=0.6" numpy
"$VENV/bin/pip" install -q --force-reinstall --no-deps ./crates/pespectra-py
cd crates/pespectra-py
"../../$VENV/bin/python" -m pytest -q tests
