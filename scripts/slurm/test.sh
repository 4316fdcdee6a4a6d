#!/usr/bin/env bash
# Scale-out on a real Slurm (issue 16), run by scripts/test.sh: brings up the single-host cluster
# of local-cluster.sh, submits the user scripts (campaign.sbatch, audit.sbatch) as job arrays with
# their merge jobs, and checks that
#   1. a 4-shard T3 campaign merged by its afterok job equals the unsharded run (timing aside);
#   2. a 2-shard SmolLM2 audit merged by its job writes the audit.json and heads.csv of one run;
#   3. a failing shard makes the merge job, and so `sbatch --wait`, fail with a clear message.
# Stops every daemon again (trap). Skips with a printed reason only where Slurm cannot be had.
# Needs target/release/pespectra (cargo test --release builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
exe="$root/target/release/pespectra"
[ -x "$exe" ] || { echo "slurm test: $exe is missing (cargo build --release -p pespectra-cli)" >&2; exit 2; }

rc=0
scripts/slurm/local-cluster.sh start || rc=$?
if [ "$rc" = 3 ]; then
  echo "SKIPPED: slurm test (Slurm cannot be installed here)"
  exit 0
elif [ "$rc" != 0 ]; then
  exit "$rc"
fi
trap '"$root"/scripts/slurm/local-cluster.sh stop >/dev/null' EXIT
eval "$(scripts/slurm/local-cluster.sh env)"
export PESPECTRA="$exe"
work="$(mktemp -d /tmp/pespectra-slurm-test.XXXXXX)"
cd "$work"
t0=$(date +%s)

# `sbatch --wait` exits 0 for a job cancelled because its dependency failed: read the state
state() { scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
merge_job() { # merge_job ARRAY_ID SCRIPT OUT LOG → waits; prints the merge job's final state
  local mid
  mid=$(sbatch --parsable --wait --dependency=afterok:"$1" --kill-on-invalid-dep=yes \
    --export=ALL,MODE=merge,OUT="$3" -o "$4" "$2" 2>/dev/null) || true
  state "${mid%%;*}"
}

same_json() { # same_json A B KEYS_TO_IGNORE…  (top level, and inside "heads" records)
  python3 - "$@" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
skip = set(sys.argv[3:])
def strip(d):
    d = {k: v for k, v in d.items() if k not in skip}
    if isinstance(d.get("report"), dict):
        d["report"] = {k: v for k, v in d["report"].items() if k not in skip}
    if isinstance(d.get("heads"), list):
        d["heads"] = [{k: v for k, v in h.items() if k not in skip} for h in d["heads"]]
    return d
a, b = strip(a), strip(b)
bad = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
if bad:
    sys.exit(f"differ in {bad}")
EOF
}

# 1. campaign: 4 shards + merge job
jid=$(sbatch --parsable --array=0-3 --export=ALL,PROPERTY=T3,CASES=400,MAX_N=16,OUT="$work/t3" \
  -o "$work/c-%a.out" "$root/scripts/slurm/campaign.sbatch")
st=$(merge_job "$jid" "$root/scripts/slurm/campaign.sbatch" "$work/t3" "$work/c-merge.out")
[ "$st" = COMPLETED ] || { echo "slurm test: campaign merge job $st" >&2; cat "$work"/c-*.out >&2; exit 1; }
"$exe" campaign T3 --cases 400 --max-n 16 --json > "$work/t3-whole.json" 2>/dev/null
same_json "$work/t3/merged.json" "$work/t3-whole.json" \
  seconds cases_per_second seconds_to_first_counterexample provenance digest
echo "slurm test: 4-shard campaign merged by its afterok job equals the unsharded run ($(( $(date +%s) - t0 )) s)"

# 2. audit: 2 shards of SmolLM2 (two layers, ablations included) + merge job
"$exe" models fetch smollm2-135m >/dev/null
args="--n 24 --layers 28..30"
jid=$(sbatch --parsable --array=0-1 --export=ALL,MODEL=smollm2-135m,OUT="$work/a",AUDIT_ARGS="$args" \
  -o "$work/a-%a.out" "$root/scripts/slurm/audit.sbatch")
st=$(merge_job "$jid" "$root/scripts/slurm/audit.sbatch" "$work/a" "$work/a-merge.out")
[ "$st" = COMPLETED ] || { echo "slurm test: audit merge job $st" >&2; cat "$work"/a-*.out >&2; exit 1; }
# shellcheck disable=SC2086
"$exe" audit smollm2-135m $args --out "$work/a-whole" >/dev/null 2>&1
same_json "$work/a/merged/audit.json" "$work/a-whole/audit.json" provenance timing_seconds seconds
tail -n +2 "$work/a/merged/heads.csv" > "$work/m.csv"
tail -n +2 "$work/a-whole/heads.csv" > "$work/w.csv"
cmp -s "$work/m.csv" "$work/w.csv" || { echo "slurm test: heads.csv differs" >&2; exit 1; }
for f in toeplitz_share.png ablation.png spectra_top3.png; do
  [ -s "$work/a/merged/$f" ] || { echo "slurm test: merged $f missing" >&2; exit 1; }
done
echo "slurm test: 2-shard audit merged by its job equals the unsharded audit.json and heads.csv ($(( $(date +%s) - t0 )) s)"

# 3. a failing shard: shard 1's state directory cannot be created
mkdir -p "$work/bad/state"
touch "$work/bad/state/shard-1"
jid=$(sbatch --parsable --array=0-1 --export=ALL,PROPERTY=T3,CASES=40,MAX_N=8,OUT="$work/bad" \
  -o "$work/b-%a.out" "$root/scripts/slurm/campaign.sbatch")
st=$(merge_job "$jid" "$root/scripts/slurm/campaign.sbatch" "$work/bad" "$work/b-merge.out")
[ "$st" != COMPLETED ] || { echo "slurm test: the merge job completed although shard 1 failed" >&2; exit 1; }
[ ! -e "$work/bad/merged.json" ] || { echo "slurm test: a merged report was written" >&2; exit 1; }
grep -q "error:" "$work/b-1.out" || { echo "slurm test: the failing shard left no error message" >&2; exit 1; }
echo "slurm test: a failing shard leaves the merge job $st: $(grep -m1 'error:' "$work/b-1.out")"
# and merging what is there names the missing shard
out=$("$exe" campaign merge "$work"/bad/reports/shard-*.json 2>&1) && { echo "slurm test: merge of an incomplete set succeeded" >&2; exit 1; }
echo "$out" | grep -q "missing shard(s) 1/2" || { echo "slurm test: unexpected merge message: $out" >&2; exit 1; }
echo "slurm test: merging the incomplete set says: $out"
cd "$root"
rm -rf "$work"
echo "slurm test: all 3 checks passed in $(( $(date +%s) - t0 )) s"
