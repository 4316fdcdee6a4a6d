#!/usr/bin/env bash
# Every test: formatting, lints, the whole workspace's tests (including the Arb cross-check,
# whose python-flint oracle, and the gguf package the GGUF reader is checked against, are
# installed here into .venv from PyPI), the scale-out tests on a real single-host Slurm
# (scripts/slurm/test.sh installs slurm-wlm and munge, starts and stops the daemons) and the
# machine-checked Coq proofs (proofs/coq, Debian's coq + mathcomp + Flocq), and the Python
# package's pytest suite (scripts/python_test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
oracle_venv
# Coq 8.16 with mathcomp 1.15 and Flocq 4.1, as Debian ships them (proofs/coq/README.md).
if ! command -v coqc >/dev/null 2>&1 || ! coqc -where >/dev/null 2>&1 \
  || [ ! -d "$(coqc -where)/user-contrib/Flocq" ] || [ ! -d "$(coqc -where)/user-contrib/mathcomp/algebra" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coq libcoq-mathcomp-ssreflect \
      libcoq-mathcomp-algebra libcoq-flocq >/dev/null
  else
    echo "the Coq proofs need: sudo apt-get install -y coq libcoq-mathcomp-ssreflect libcoq-mathcomp-algebra libcoq-flocq" >&2
    exit 2
  fi
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
# Library quality (issue 20): warning-free rustdoc, every crate packages and builds from its
# .crate file (dry run: nothing is uploaded), and a crate outside the workspace that depends only
# on the facade and nalgebra works.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps -q
# The dry run builds the local crates as registry crates, which cargo never rebuilds for the same
# version: build them in a fresh target directory, and drop the sources an earlier dry run
# unpacked into cargo's registry cache, so a rerun after a change checks the change.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/pespectra-*0.* "${CARGO_TARGET_DIR:-target}/publish-check"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/publish-check" cargo publish --dry-run --workspace --exclude pespectra-py --allow-dirty -q
./scripts/external_crate.sh
./scripts/python_test.sh
./scripts/slurm/test.sh
# Machine-checked proofs: coqc checks every theory, then Print Assumptions of each listed
# theorem must show no axiom beyond proofs/coq/ALLOWED_AXIOMS.txt.
make -s -C proofs/coq assumptions
