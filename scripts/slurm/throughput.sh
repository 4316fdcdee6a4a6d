#!/usr/bin/env bash
# Campaign throughput on the local cluster with 1, 2 and 4 shards (docs/slurm.md): wall time from
# submission to the merged report, cases/s of each shard, and the merge's own time.
#   scripts/slurm/throughput.sh [CASES] [MAX_N]      (defaults 4000, 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"; exe="$root/target/release/pespectra"; cases="${1:-4000}"; max_n="${2:-64}"
scripts/slurm/local-cluster.sh start >/dev/null
trap '"$root"/scripts/slurm/local-cluster.sh stop >/dev/null' EXIT
eval "$(scripts/slurm/local-cluster.sh env)"
export PESPECTRA="$exe"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), 2 one-CPU nodes; T3, $cases cases, max-n $max_n"
echo "| shards | wall s (submit → merged) | cases/s per shard (min–max) | merge s |"
echo "|---:|---:|---|---:|"
for shards in 1 2 4; do
  w="$(mktemp -d)"
  t0=$(date +%s.%N)
  jid=$(sbatch --parsable --array=0-$((shards - 1)) --export=ALL,PROPERTY=T3,CASES="$cases",MAX_N="$max_n",OUT="$w" \
    -o "$w/%a.out" scripts/slurm/campaign.sbatch)
  sbatch --parsable --dependency=afterok:"$jid" --export=ALL,MODE=merge,OUT="$w" -o "$w/m.out" \
    scripts/slurm/campaign.sbatch >/dev/null
  # poll (sbatch --wait backs off to tens of seconds, which would quantise the figure)
  until [ -s "$w/merged.json" ]; do sleep 0.1; done
  t1=$(date +%s.%N)
  rates=$(for f in "$w"/reports/shard-*.json; do python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['cases_per_second'])" "$f"; done | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.0f–%.0f", lo, hi}')
  m0=$(date +%s.%N); "$exe" campaign merge "$w"/reports/shard-*.json --json >/dev/null; m1=$(date +%s.%N)
  printf "| %d | %.1f | %s | %.3f |\n" "$shards" "$(echo "$t1 - $t0" | bc)" "$rates" "$(echo "$m1 - $m0" | bc)"
  rm -rf "$w"
done
