#!/usr/bin/env python3
"""Builds data/multi_venue_30s.cap.gz: one capture in which every venue's bundled recording
plays side by side, for `configs/multi-venue.toml` and the multi-venue tests.

The recordings were made on different days (Binance 2024-08-08, OKX 2022-05-13, Kraken and
Coinbase Exchange 2021-04-17; the Kraken v2 and Bybit files are generated), so their clocks do
not overlap. Each is re-timed: every receive time is shifted by one constant per file so that
the file's first line falls on the first line of the Binance recording. A real recording keeps
the gaps between its lines exactly as recorded; a generated file (whose clock is made up) is
also scaled so that it spans WINDOW_S seconds (Kraken v2's 0.5 s stretched, Bybit's 55 s
compressed), keeping its order. The lines are then merged in receive-time order (ties keep the
order of FILES, then each file's own order). Binance contributes its first WINDOW_S seconds
(its REST snapshot comes 0.27 s in), the other recordings all of theirs (11 to 31 s).
Payloads are untouched, byte for byte.

Deterministic: the same inputs give the same bytes (gzip with no name and mtime 0); a test
regenerates the file and compares.

    python3 scripts/multi_venue_capture.py [OUT]
"""
import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
WINDOW_S = 30
# (file, seconds of it to keep: None for all, whether it is scaled to span WINDOW_S)
FILES = [
    ("binance_spot_btcusdt_2024-08-08.cap.gz", WINDOW_S, False),
    ("okx_books_2022-05-13.cap", None, False),
    ("kraken_v1_book1000_2021-04-17.cap", None, False),
    ("kraken_v2_book_generated.cap", None, True),
    ("coinbase_exchange_level2_2021-04-17.cap", None, False),
    ("bybit_spot_generated.cap", None, True),
    ("bybit_linear_generated.cap", None, True),
]


def read_lines(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n")
            if not line:
                continue
            ts, rest = line.split(b"\t", 1)
            yield int(ts), rest


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(DATA, "multi_venue_30s.cap.gz")
    merged = []
    t0 = None
    for order, (name, window, scaled) in enumerate(FILES):
        lines = list(read_lines(name))
        first = lines[0][0]
        span = max(lines[-1][0] - first, 1)
        if t0 is None:
            t0 = first
        for seq, (ts, rest) in enumerate(lines):
            if window is not None and ts - first >= window * 1_000_000_000:
                break
            offset = ts - first
            if scaled:
                offset = offset * WINDOW_S * 1_000_000_000 // span
            merged.append((offset + t0, order, seq, rest))
    merged.sort()
    body = b"".join(b"%d\t%s\n" % (ts, rest) for ts, _, _, rest in merged)
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as z:
            z.write(body)
    print(f"{out}: {len(merged)} lines from {len(FILES)} recordings", file=sys.stderr)


if __name__ == "__main__":
    main()
