#!/usr/bin/env bash
# The main job on built-in defaults (or any pespectra arguments): builds and runs the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
if [ $# -eq 0 ]; then
  set -- check
fi
cargo run --quiet --release -p pespectra-cli -- "$@"
