#!/usr/bin/env bash
# A picture of the Grafana dashboard (configs/grafana/pulse-dashboard.json) without Grafana:
# replays configs/portfolio.toml at recorded pace (about 30 s) with /metrics on loopback, has a
# real Prometheus scrape it every second, then draws every panel from Prometheus's data as a
# static HTML page (scripts/dashboard_html.py) and screenshots it in headless Chromium.
#
#   scripts/dashboard_png.sh [OUT.png]     # default: docs/dashboard.png
#
# Needs Debian's prometheus, chromium and python3. PULSE names the pulse binary (default: a
# release build made here).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-docs/dashboard.png}
case $out in /*) png=$out ;; *) png=$root/$out ;; esac
if [ -z "${PULSE:-}" ]; then
  cargo build --release --quiet -p pulse-engine --bin pulse
  PULSE=$root/target/release/pulse
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
engine_port=$(free_port)
prom_port=$(free_port)

sed -e "s|^path = \"../data/\(.*\)\"|path = \"$root/data/\1\"\nspeed = \"1\"|" \
    -e "s|^stats = true$|stats = true\nprometheus_listen = \"127.0.0.1:$engine_port\"|" \
    configs/portfolio.toml > "$tmp/portfolio.toml"
printf '\n[journal]\ndir = "%s/journal"\nsegment_mb = 4\n' "$tmp" >> "$tmp/portfolio.toml"
cat > "$tmp/prometheus.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ['$root/configs/prometheus/pulse.rules.yml']
scrape_configs:
  - job_name: pulse
    static_configs: [{targets: ['127.0.0.1:$engine_port']}]
YML
mkdir -m 700 "$tmp/run"

prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$tmp/prometheus.log" 2>&1 &
pids+=($!)
sleep 2
start=$(date +%s)
"$PULSE" run --config "$tmp/portfolio.toml" --name "dashboard-$$" --run-dir "$tmp/run" \
  > "$tmp/engine.log" 2>&1 &
engine=$!
pids+=("$engine")
echo "replaying configs/portfolio.toml at recorded pace (about 30 s)" >&2
wait "$engine" || { cat "$tmp/engine.log" >&2; exit 1; }
end=$(date +%s)
sleep 2

python3 scripts/dashboard_html.py configs/grafana/pulse-dashboard.json \
  "http://127.0.0.1:$prom_port" "$start" "$end" > "$tmp/dashboard.html"
height=$(python3 -c "import json; d=json.load(open('configs/grafana/pulse-dashboard.json')); print(max(p['gridPos']['y']+p['gridPos']['h'] for p in d['panels'])*34+80)")
mkdir -p "$(dirname "$out")"
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars \
  --window-size="1820,$height" --screenshot="$png" "file://$tmp/dashboard.html" 2> "$tmp/chromium.log" \
  || { cat "$tmp/chromium.log" >&2; exit 1; }
echo "wrote $out" >&2
