#!/usr/bin/env bash
# Every test: formatting, lints, and the whole workspace's tests (including the Arb cross-check,
# whose python-flint oracle, and the gguf package the GGUF reader is checked against, are
# installed here into .venv from PyPI).
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
