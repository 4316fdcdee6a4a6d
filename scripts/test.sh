#!/usr/bin/env bash
# Every test: formatting, lints, the whole workspace's tests (including the Arb cross-check,
# whose python-flint oracle, and the gguf package the GGUF reader is checked against, are
# installed here into .venv from PyPI), the scale-out tests on a real single-host Slurm
# (scripts/slurm/test.sh installs slurm-wlm and munge, starts and stops the daemons) and the
# machine-checked Coq proofs (proofs/coq, Debian's coq + mathcomp + Flocq).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
if ! .venv/bin/python -c "import flint, gguf" >/dev/null 2>&1; then
  python3 -m venv .venv
  .venv/bin/pip install -q python-flint==0.9.0 numpy gguf==0.19.0
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
./scripts/slurm/test.sh
