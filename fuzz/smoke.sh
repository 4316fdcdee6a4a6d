#!/usr/bin/env bash
# CI smoke test of the fuzz targets: build them all, then run each for a fixed number of
# iterations from the committed seed corpus (fixed libFuzzer seed, so runs are repeatable).
# Exits non-zero on a build failure, a crash, a failed assertion, a timeout or an OOM.
#
# Environment:
#   CARGO_TARGET_DIR   where to build (default: fuzz/target, which is gitignored)
#   FUZZ_SMOKE_SCALE   multiplies every iteration count (default 1; 0.1 for a quicker check)
set -euo pipefail

cd "$(dirname "$0")"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
scale="${FUZZ_SMOKE_SCALE:-1}"

# target:iterations. From the seeds the differential target runs ~200 inputs/s, the
# certificate checker ~600/s, the .npy reader ~200,000/s (long runs with larger inputs are
# much slower: the exact rational oracle and the checker are O(n^3) in big rationals).
targets=(
  "npy_reader:200000"
  "certificate_checker:5000"
  "differential_soundness:2000"
)

command -v cargo-fuzz >/dev/null || {
  echo "fuzz/smoke.sh: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
  exit 2
}

start=$(date +%s)
# -s none: no sanitizer. ASan (the default) needs -Zsanitizer, i.e. nightly; the code under
# test is safe Rust apart from faer/GMP, so libFuzzer's coverage guidance is what matters here.
# 16 codegen units: a much faster cold build than cargo-fuzz's default of 1, at some cost in
# executions per second, which a fixed-count smoke run does not need.
cargo fuzz build -s none --codegen-units 16 --target-dir "$target_dir"
echo "fuzz/smoke.sh: build took $(( $(date +%s) - start )) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for entry in "${targets[@]}"; do
  t="${entry%%:*}"
  runs="$(awk -v n="${entry##*:}" -v s="$scale" 'BEGIN { r = int(n * s); print (r < 1 ? 1 : r) }')"
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  t0=$(date +%s)
  # New inputs go to the temporary corpus (first directory); the committed seeds are read only.
  if RAYON_NUM_THREADS=1 cargo fuzz run -s none --codegen-units 16 --target-dir "$target_dir" "$t" \
      "$work/corpus/$t" "corpus/$t" -- \
      -runs="$runs" -seed=1 -timeout=60 -rss_limit_mb=2048 \
      -artifact_prefix="$work/artifacts/$t/" >"$work/$t.log" 2>&1; then
    echo "fuzz/smoke.sh: $t: $runs runs OK in $(( $(date +%s) - t0 )) s ($(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$work/$t.log" | tail -1))"
  else
    status=1
    echo "fuzz/smoke.sh: $t FAILED after $(( $(date +%s) - t0 )) s; log tail:" >&2
    tail -n 40 "$work/$t.log" >&2
    for a in "$work/artifacts/$t"/*; do
      [ -e "$a" ] || continue
      mkdir -p artifacts/"$t"
      cp "$a" artifacts/"$t"/
      echo "fuzz/smoke.sh: reproducer saved as fuzz/artifacts/$t/$(basename "$a")" >&2
    done
  fi
done
echo "fuzz/smoke.sh: total $(( $(date +%s) - start )) s"
exit "$status"
