#!/usr/bin/env bash
# Instruction counts of the hottest paths under callgrind: a regression guard that a noisy
# shared machine cannot blur (the count is the same run after run for the same binary and
# inputs). Each case runs twice, with N and 2N iterations; the difference divided by N is the
# cost of one iteration without the setup. Compared with bench/instructions.baseline: more
# than 3% above it fails.
#
#   scripts/instructions.sh            # check against the baseline
#   scripts/instructions.sh --update   # measure and write the baseline
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed" >&2; exit 2; }
cargo build --release --quiet -p pulse-bench --bin pulse-count
bin=target/release/pulse-count
baseline=bench/instructions.baseline
tolerance_pct=3
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() { # case iterations -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/err" \
    || { cat "$tmp/err" >&2; exit 2; }
  awk '/^(summary|totals):/ { print $2; exit }' "$tmp/out"
}

status=0
results=()
printf '%-14s %12s %12s %8s\n' case per_op baseline change
for case in risk_approve book_apply decode_depth sign_order depth_frame; do
  # The whole pipeline builds itself (and calibrates its clock) once per run, which moves the
  # count by a few thousand instructions run to run: more iterations make that negligible.
  iterations=$n
  [[ "$case" == depth_frame ]] && iterations=$((5 * n))
  one=$(count "$case" "$iterations")
  two=$(count "$case" $((2 * iterations)))
  per_op=$(( (two - one) / iterations ))
  results+=("$case $per_op")
  base=$(awk -v c="$case" '$1 == c { print $2 }' "$baseline" 2>/dev/null || true)
  if [[ -z "$base" ]]; then
    printf '%-14s %12d %12s %8s\n' "$case" "$per_op" - -
    continue
  fi
  change=$(awk -v a="$per_op" -v b="$base" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')
  printf '%-14s %12d %12d %8s\n' "$case" "$per_op" "$base" "$change"
  if (( per_op * 100 > base * (100 + tolerance_pct) )); then
    echo "instructions: $case costs $per_op instructions, more than $tolerance_pct% over $base" >&2
    status=1
  fi
done
if [[ "${1:-}" == "--update" ]]; then
  {
    echo "# Instructions per iteration (callgrind, release build): scripts/instructions.sh --update"
    printf '%s\n' "${results[@]}"
  } > "$baseline"
  echo "instructions: wrote $baseline"
  exit 0
fi
exit $status
