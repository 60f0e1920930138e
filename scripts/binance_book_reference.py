#!/usr/bin/env python3
"""An independent reference for `pulse replay`: the expected figures in
engine/tests/replay_cmd.rs come from this script, not from Pulse.

It rebuilds every Binance book in a capture with plain dicts and Python's Decimal, following
Binance's documented procedures:

  spot (data/binance_spot_how_to_manage_local_order_book.md): drop buffered events with
    u <= lastUpdateId; the first applied one must have U <= lastUpdateId + 1 <= u; then each
    event's U must be the previous u + 1.
  USD-M futures: drop events with u < lastUpdateId; the first applied one must have
    U <= lastUpdateId <= u; then each event's pu must be the previous u.

After the bridge an event with u <= the book's id is counted as a duplicate; any other break is a
gap (the book waits for a new snapshot). A snapshot older than the first buffered event (its
lastUpdateId < that U) is ignored. Every bookTicker whose u is the id of a commit (a snapshot or
an applied diff) is compared with the book's best bid and ask, price and quantity, right after
that commit.

    scripts/binance_book_reference.py CAPTURE

prints one JSON object per instrument (in order of first appearance), then one with the counts
of frames it skipped.
"""
import gzip
import json
import sys
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

DEPTH = 5
SCALE = Decimal("0.00000001")


def open_capture(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def dec(x):
    return str(Decimal(x).quantize(SCALE))


class Book:
    def __init__(self, venue, symbol):
        self.venue, self.symbol = venue, symbol
        self.futures = venue == "binance-usdm"
        self.bids, self.asks = {}, {}
        self.buffer = []
        self.last = None  # the book's update id; None while awaiting a snapshot
        self.bridged = False
        self.count = dict(messages=0, applied=0, dropped=0, duplicates=0, gaps=0,
                          snapshots=0, stale_snapshots=0, crossed=0, tickers=0)
        self.tops = {}  # commit id -> (best bid px, qty, best ask px, qty)

    def set_levels(self, book, levels):
        for px, qty in levels:
            px, qty = Decimal(px), Decimal(qty)
            if qty == 0:
                book.pop(px, None)
            else:
                book[px] = qty

    def commit(self, update_id):
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        if bid is not None and ask is not None and bid >= ask:
            self.count["crossed"] += 1
        self.tops[update_id] = (bid, self.bids.get(bid), ask, self.asks.get(ask))

    def snapshot(self, body):
        last = body["lastUpdateId"]
        if self.buffer and last < self.buffer[0]["U"]:
            self.count["stale_snapshots"] += 1
            return
        self.bids, self.asks = {}, {}
        self.set_levels(self.bids, body["bids"])
        self.set_levels(self.asks, body["asks"])
        self.last, self.bridged = last, False
        self.count["snapshots"] += 1
        self.commit(last)
        buffered, self.buffer = self.buffer, []
        for event in buffered:
            self.diff(event)

    def diff(self, event):
        if self.last is None:
            self.buffer.append(event)
            return
        first, final, last = event["U"], event["u"], self.last
        if self.bridged:
            if final <= last:
                self.count["duplicates"] += 1
                return
            ok = event["pu"] == last if self.futures else first == last + 1
        else:
            covered = final < last if self.futures else final <= last
            if covered:
                self.count["dropped"] += 1
                return
            ok = first <= last if self.futures else first <= last + 1
        if not ok:
            self.count["gaps"] += 1
            self.last, self.buffer = None, [event]
            return
        self.set_levels(self.bids, event["b"])
        self.set_levels(self.asks, event["a"])
        self.last, self.bridged = final, True
        self.count["applied"] += 1
        self.commit(final)


def main(path):
    books, tickers, skipped = {}, [], {}

    def book(venue, symbol):
        key = (venue, symbol.upper())
        return books.setdefault(key, Book(*key))

    with open_capture(path) as f:
        for raw in f:
            _, source, payload = raw.rstrip(b"\r\n").split(b"\t", 2)
            venue, kind = source.decode().split(":", 1)
            msg = json.loads(payload)
            if kind.startswith("rest:"):
                b = book(venue, parse_qs(urlsplit(kind[5:]).query)["symbol"][0])
                b.count["messages"] += 1
                b.snapshot(msg)
                continue
            data = msg["data"] if "stream" in msg else msg
            e = data.get("e")
            if e == "depthUpdate":
                b = book(venue, data["s"])
                b.count["messages"] += 1
                b.diff(data)
            elif e in ("trade", "aggTrade"):
                book(venue, data["s"]).count["messages"] += 1
            elif e == "bookTicker" or (e is None and "u" in data and "b" in data):
                b = book(venue, data["s"])
                b.count["messages"] += 1
                b.count["tickers"] += 1
                tickers.append((b, data["u"], (Decimal(data["b"]), Decimal(data["B"]),
                                               Decimal(data["a"]), Decimal(data["A"]))))
            else:
                skipped[e] = skipped.get(e, 0) + 1

    checks = {key: [0, 0] for key in books}
    for b, u, top in tickers:
        if u in b.tops:
            checks[(b.venue, b.symbol)][b.tops[u] != top] += 1
    for key, b in books.items():
        bids = sorted(b.bids.items(), reverse=True)[:DEPTH]
        asks = sorted(b.asks.items())[:DEPTH]
        print(json.dumps(dict(
            venue=b.venue, symbol=b.symbol, **b.count, last_update_id=b.last,
            ticker_check=dict(ok=checks[key][0], mismatch=checks[key][1]),
            top=dict(bids=[[dec(p), dec(q)] for p, q in bids],
                     asks=[[dec(p), dec(q)] for p, q in asks]))))
    print(json.dumps({"skipped_events": skipped}))


if __name__ == "__main__":
    main(sys.argv[1])
