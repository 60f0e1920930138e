#!/usr/bin/env bash
# A full benchmark run: every pulse-bench scenario with --json and --plot, then a dated
# Markdown report beside the raw results, labelled with the machine it ran on.
#
#   scripts/bench-report.sh [SECONDS_PER_CASE] [OUT_DIR]   # defaults: 2, reports/<date>
#
# Each scenario reports Pulse beside its baseline measured in the same run; compare ratios,
# and distributions between runs of the same build on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-2}
out=${2:-reports/$(date -u +%Y-%m-%d)}
mkdir -p "$out"
cargo build --release --quiet -p pulse-bench
scripts/host-tuning.sh > "$out/host.txt" 2>&1 || true
for scenario in ring parse book risk journal tick-to-trade throughput wire-to-wire; do
  echo "== $scenario" >&2
  target/release/pulse-bench "$scenario" --duration "$duration" --json \
    --plot "$out/$scenario.svg" --hgrm "$out/hgrm" > "$out/$scenario.json" 2> "$out/$scenario.log"
done
python3 - "$out" <<'PY'
import json, pathlib, sys, datetime
out = pathlib.Path(sys.argv[1])
lines = [f"# Pulse benchmark report, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC", ""]
env = None
for f in sorted(out.glob("*.json")):
    v = json.loads(f.read_text())
    env = env or v["env"]
    lines += [f"## {v['scenario']}", "", "| name | case | count | p50 | p90 | p99 | p99.9 | max | extra |",
              "|---|---|---|---|---|---|---|---|---|"]
    keys = {"name", "case", "unit", "count", "mean", "p50", "p90", "p99", "p999", "p9999", "max"}
    for r in v["results"]:
        extra = ", ".join(f"{k} {r[k]:g}" for k in sorted(r) if k not in keys)
        lines.append(f"| {r['name']} | {r.get('case', '')} | {r['count']} | {r['p50']} | {r['p90']} | "
                     f"{r['p99']} | {r['p999']} | {r['max']} | {extra} |")
    lines += ["", f"![{v['scenario']}]({v['scenario']}.svg)", ""]
if env:
    lines.insert(1, "")
    lines.insert(2, "Machine: " + ", ".join(f"{k} {env[k]}" for k in sorted(env)) + "; host settings in host.txt.")
(out / "report.md").write_text("\n".join(lines) + "\n")
print(out / "report.md")
PY
