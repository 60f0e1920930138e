#!/usr/bin/env python3
"""Market-data latency samples from a capture, for the simulated venue's
`market_data_latency_file`.

Each capture line holds the time the recording machine received a message (ns) and the
message itself; Binance stamps its events with the venue's time `E` (ms). Their difference
is the latency plus the offset between the two clocks, which is unknown (the recording's
clock ran about 1.27 s behind the venue's). So the samples written are the latency above
the fastest message of the recording: its jitter, in microseconds, one per line, in the
recording's order. The fastest path's own latency is not in them: they understate the
latency by that much.

    python3 scripts/latency_from_capture.py data/binance_spot_btcusdt_2024-08-08.cap.gz \
        > data/latency/binance-spot-md-jitter-2024-08-08.txt
"""

import gzip
import json
import sys


def main(path):
    opener = gzip.open if path.endswith(".gz") else open
    samples = []
    with opener(path, "rt") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or '"E":' not in parts[2]:
                continue
            try:
                message = json.loads(parts[2])
            except ValueError:
                continue
            event = message.get("data", message)
            if not isinstance(event, dict) or "E" not in event:
                continue
            samples.append(int(parts[0]) - int(event["E"]) * 1_000_000)
    if not samples:
        sys.exit(f"{path}: no message with an event time")
    fastest = min(samples)
    print(f"# market-data latency above the fastest message of {path.split('/')[-1]}, in us")
    print(f"# {len(samples)} samples (the clocks' offset is unknown: jitter, not absolute)")
    for ns in samples:
        print(f"{(ns - fastest) / 1000:.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: latency_from_capture.py CAPTURE")
    main(sys.argv[1])
