#!/usr/bin/env python3
"""An independent reference for `pulse replay` on Coinbase Exchange `level2` captures: the
expected figures in engine/tests/coinbase_replay.rs come from this script, not from Pulse.

It rebuilds every product's book with plain dicts and Python's Decimal, following Coinbase's
"Exchange WebSocket channels" document (level2): a `snapshot` is the whole book (`bids`,
`asks` as [price, size]); each `l2update` change [side, price, size] sets the level's size,
and a size of 0 removes it. An update before the product's first snapshot is dropped. After
every snapshot and update it checks that the book is not crossed (best bid < best ask).

    scripts/coinbase_book_reference.py CAPTURE

prints one JSON object per product (in order of first appearance) with its counts and the top
five levels per side at the end, prices and sizes at 8 decimals as `pulse replay` reports them.
"""
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from binance_book_reference import DEPTH, SCALE, open_capture  # noqa: E402


def fmt(d):
    return str(d.quantize(SCALE))


def main(path):
    books = {}
    for raw in open_capture(path):
        parts = raw.rstrip(b"\n").split(b"\t", 2)
        if len(parts) != 3 or parts[1] != b"coinbase-exchange:ws":
            continue
        msg = json.loads(parts[2])
        kind = msg.get("type")
        if kind not in ("snapshot", "l2update", "ticker", "match"):
            continue
        product = msg["product_id"]
        b = books.setdefault(product, {
            "product": product, "snapshots": 0, "applied": 0, "dropped": 0,
            "crossed": 0, "tickers": 0, "trades": 0, "bids": {}, "asks": {}, "synced": False,
        })
        if kind == "ticker":
            b["tickers"] += 1
            continue
        if kind == "match":
            b["trades"] += 1
            continue
        if kind == "snapshot":
            b["bids"] = {Decimal(p): Decimal(q) for p, q in msg["bids"]}
            b["asks"] = {Decimal(p): Decimal(q) for p, q in msg["asks"]}
            for side in ("bids", "asks"):
                b[side] = {p: q for p, q in b[side].items() if q != 0}
            b["snapshots"] += 1
            b["synced"] = True
        else:
            if not b["synced"]:
                b["dropped"] += 1
                continue
            for side, p, q in msg["changes"]:
                levels = b["bids"] if side == "buy" else b["asks"]
                p, q = Decimal(p), Decimal(q)
                if q == 0:
                    levels.pop(p, None)
                else:
                    levels[p] = q
            b["applied"] += 1
        if b["bids"] and b["asks"] and max(b["bids"]) >= min(b["asks"]):
            b["crossed"] += 1
    for b in books.values():
        bids = sorted(b.pop("bids").items(), reverse=True)[:DEPTH]
        asks = sorted(b.pop("asks").items())[:DEPTH]
        b.pop("synced")
        b["top"] = {
            "bids": [[fmt(p), fmt(q)] for p, q in bids],
            "asks": [[fmt(p), fmt(q)] for p, q in asks],
        }
        print(json.dumps(b, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
