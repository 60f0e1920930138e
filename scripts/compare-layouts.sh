#!/usr/bin/env bash
# Runs the demo replay in both thread layouts, alternating, N times each (default 5), and prints
# every run's per-stage latency table (ns from ingress to the end of each stage) under its layout,
# so the two distributions are compared on the same build, machine and moment.
#   scripts/compare-layouts.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet -p pulse-engine
for i in $(seq 1 "$runs"); do
  for config in configs/imbalance.toml configs/pinned.toml; do
    echo "== run $i: $config"
    target/release/pulse run --config "$config" | sed -n '/^  thread/p;/^latency/,$p'
  done
done
