#!/usr/bin/env bash
# The live variant of the multi-venue run: starts one local venue per venue on fixed loopback
# ports, each playing its bundled recording in its own protocol from the first subscription on
# (Binance spot on 127.0.0.1:9443, OKX on :9444, Kraken v2 on :9445, Bybit linear on :9446),
# then runs Pulse against all four in one process with configs/multi-venue-live.toml. Ctrl-C
# (or the end of SECONDS) stops Pulse cleanly and prints its summary; the venues stop with it.
#
#   scripts/multi-venue-live.sh            # until Ctrl-C
#   scripts/multi-venue-live.sh 40         # stop after 40 s (every recording has played by then)
#
# PULSE=/path/to/pulse uses that binary; otherwise the release build is made first.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-}
if [[ -z "${PULSE:-}" ]]; then
  cargo build --release --quiet -p pulse-engine --bin pulse
  PULSE="${CARGO_TARGET_DIR:-target}/release/pulse"
fi
logs=$(mktemp -d)
pids=()
stop_venues() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logs"
}
trap stop_venues EXIT

# protocol, port, recording, pace (times the recorded one: each plays for 2 to 35 s).
venue() {
  "$PULSE" venue --protocol "$1" --listen "127.0.0.1:$2" --capture "$3" --speed "$4" \
    --wait-for-client --ping-interval-ms 5000 >"$logs/$1.log" 2>&1 &
  pids+=($!)
}
venue binance 9443 data/binance_spot_btcusdt_2024-08-08.cap.gz 10
venue okx 9444 data/okx_books_2022-05-13.cap 1
venue kraken 9445 data/kraken_v2_book_generated.cap 0.25
venue bybit-linear 9446 data/bybit_linear_generated.cap 2

# Each venue says where it listens once it does; one that cannot start (a port taken) ends.
for protocol in binance okx kraken bybit-linear; do
  for _ in $(seq 100); do
    grep -q "listening on" "$logs/$protocol.log" && break
    sleep 0.1
  done
  if ! grep -q "listening on" "$logs/$protocol.log"; then
    echo "multi-venue-live: the $protocol venue did not start:" >&2
    cat "$logs/$protocol.log" >&2
    exit 1
  fi
  echo "multi-venue-live: $protocol venue on $(sed -n 's/.*listening on //p' "$logs/$protocol.log")"
done

if [[ -n "$seconds" ]]; then
  timeout --preserve-status -s TERM "$seconds" "$PULSE" run --config configs/multi-venue-live.toml
else
  "$PULSE" run --config configs/multi-venue-live.toml
fi
