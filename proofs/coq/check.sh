#!/usr/bin/env bash
# Prints `Print Assumptions` of every theorem listed in THEOREMS.txt and fails when one depends
# on an axiom outside ALLOWED_AXIOMS.txt, or when any theory contains Admitted, admit, Axiom,
# Parameter, Hypothesis/Variable outside a section, or Conjecture. Run after `make` (the .vo files).
set -euo pipefail
cd "$(dirname "$0")"
fail=0
if grep -nwE 'Admitted|admit|Axiom|Axioms|Parameter|Parameters|Conjecture' theories/*.v; then
  echo "check.sh: the lines above use an escape hatch" >&2; fail=1
fi
mapfile -t allowed < <(grep -v '^#' ALLOWED_AXIOMS.txt | sed '/^$/d')
mapfile -t theorems < <(grep -v '^#' THEOREMS.txt | sed '/^$/d')
[ "${#theorems[@]}" -gt 0 ] || { echo "check.sh: THEOREMS.txt lists no theorem" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
{
  for t in "${theorems[@]}"; do
    file=${t#Pespectra.}; file=${file%%.*}
    echo "Require Pespectra.$file."
    echo "Print Assumptions $t."
  done
} > "$tmp/Assumptions.v"
coqc -R theories Pespectra "$tmp/Assumptions.v" > "$tmp/out.txt"
cat "$tmp/out.txt"
# Axiom names start the unindented lines after an "Axioms:" header (types are indented).
mapfile -t used < <(awk '/^Axioms:/ {ax=1; next} /^Closed under the global context/ {ax=0} ax && /^[A-Za-z_]/ {print $1}' "$tmp/out.txt" | sort -u)
for a in "${used[@]}"; do
  ok=0
  for b in "${allowed[@]}"; do [ "$a" = "$b" ] && ok=1; done
  if [ "$ok" = 0 ]; then echo "check.sh: axiom not allowed: $a" >&2; fail=1; fi
done
n_closed=$(grep -c '^Closed under the global context' "$tmp/out.txt" || true)
echo "check.sh: ${#theorems[@]} theorems; $n_closed closed under the global context; axioms used: ${used[*]:-none}"
exit $fail
