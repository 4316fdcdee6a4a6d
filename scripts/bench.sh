#!/usr/bin/env bash
# One command for the performance report (issue 13): criterion benches (HTML under
# target/criterion/report/) and the paired peer comparisons — attention vs ONNX Runtime, verified
# eig vs NumPy/OpenBLAS eigh, verified eig vs Arb — written as a dated Markdown file with the CPU
# model and ISA into benches/results/. `--quick` runs the short versions (a few minutes);
# without it, the full tables (about an hour on 2 cores). Quote ratios, not absolute times: the
# machines are shared (benches/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
. scripts/prereqs.sh
if ! .venv-attn/bin/python -c "import onnxruntime, numpy" >/dev/null 2>&1; then
  python3 -m venv .venv-attn
  .venv-attn/bin/pip install -q numpy onnx onnxruntime==1.32.0
fi
oracle_venv
cargo build --release -q -p pespectra-cli -p pespectra-attention --example bench_quick
target=${CARGO_TARGET_DIR:-target}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -m1 '^flags' /proc/cpuinfo)
isa="AVX2+FMA"
case " $flags " in *" avx512f "*) isa="AVX-512F (+AVX2+FMA)";; esac
case " $flags " in *" avx2 "*) ;; *) isa="no AVX2";; esac
cores=$(nproc)
mkdir -p benches/results
out="benches/results/$(date -u +%Y-%m-%d-%H%M)-$(echo "$cpu" | tr -cs 'A-Za-z0-9' '-' | sed 's/-$//').md"
{
  echo "# pespectra performance report, $(date -u +'%Y-%m-%d %H:%M UTC')"
  echo
  echo "- CPU: $cpu, $cores cores; ISA used by the kernels: $isa"
  echo "- build: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)'), $(rustc --version)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- mode: $([ $quick = 1 ] && echo quick || echo full)"
  echo
  echo "## Attention: pespectra flash path vs ONNX Runtime MultiHeadAttention (paired)"
  echo
  if [ $quick = 1 ]; then
    .venv-attn/bin/python benches/attention_paired.py --bin "$target/release/examples/bench_quick" --threads 2 --rounds 2 --quick
  else
    .venv-attn/bin/python benches/attention_paired.py --bin "$target/release/examples/bench_quick" --threads 1 2 --rounds 2
  fi
  echo
  echo "## Verified eig vs NumPy eigh (paired whole processes)"
  echo
  if [ $quick = 1 ]; then
    .venv/bin/python benches/eig_vs_numpy.py --bin "$target/release/pespectra" --n 1024 2048 --rounds 2
  else
    .venv/bin/python benches/eig_vs_numpy.py --bin "$target/release/pespectra" --n 1024 2048 --rounds 3
  fi
  echo
  echo "## Verified eig vs Arb acb_mat.eig (same run)"
  echo
  echo '```'
  PESPECTRA_EXE="$target/release/pespectra" .venv/bin/python benches/arb_vs_pespectra.py "$([ $quick = 1 ] && echo 64 || echo 256)" 53 128
  echo '```'
} 2>/dev/null | tee "$out"
if [ $quick = 1 ]; then
  PESPECTRA_BENCH_QUICK=1 cargo bench -q -p pespectra-attention --bench attention -- --warm-up-time 1 --measurement-time 2 >/dev/null
else
  cargo bench -q --workspace >/dev/null
fi
{
  echo
  echo "Criterion HTML reports: $target/criterion/report/index.html"
} | tee -a "$out"
echo "wrote $out" >&2
