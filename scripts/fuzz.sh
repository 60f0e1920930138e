#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one after another, and
# prints a table of executions and crashes. Installs cargo-fuzz from crates.io when it is missing.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo-fuzz passes nightly-only flags to rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them, so no nightly is needed. FUZZ_SANITIZER=none runs without AddressSanitizer.
# Each target starts from the committed seeds in fuzz/corpus/<target> (read only) and keeps
# what it learns in fuzz/work/<target> (not committed). A crash leaves its input in
# fuzz/artifacts/<target>/; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/crash-...
# Exit status: 0 when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
sanitizer=${FUZZ_SANITIZER:-address}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build -s "$sanitizer"

failed=0
summary=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/work/$target" "fuzz/corpus/$target"
  log="fuzz/work/$target.log"
  echo "fuzz: $target for ${seconds}s (sanitizer $sanitizer), log in $log" >&2
  status=ok
  if ! cargo fuzz run -s "$sanitizer" "$target" "fuzz/work/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    status=CRASH
    failed=1
  fi
  runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log" | tail -n 1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
  corpus=$(find "fuzz/work/$target" -type f | wc -l)
  summary+=("$(printf '%-16s %8s %12s %8s %8s' "$target" "$status" "${runs:-?}" "${cov:-?}" "$corpus")")
  if [ "$status" = CRASH ]; then
    grep -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)|Test unit written to' "$log" >&2 || true
  fi
done

printf '%-16s %8s %12s %8s %8s\n' target status executions cov corpus
printf '%s\n' "${summary[@]}"
exit "$failed"
